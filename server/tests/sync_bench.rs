//! The sync benchmark (run by `bench/sync.sh`, ignored by `cargo test`): 10,000
//! single-character edits queued offline on one device, pushed in
//! `MAX_PUSH_BYTES`-bounded requests to the real `tern` binary on loopback
//! (embedded SurrealKV on a temporary dir), then pulled into a second device.

mod support;

use std::time::{Duration, Instant};
use support::{pull_everything, push_outbox, signed_in_client, signed_in_member, Tern, Traffic};
use tern_domain::client::Replica;
use tern_domain::record::{FieldEdit, FieldPath, RecordId, RecordKind};
use tern_domain::sync::DeviceId;

const EDITS: usize = 10_000;

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run bench/sync.sh"]
async fn push_and_pull_ten_thousand_edits() {
    let edits: usize = std::env::var("TERN_BENCH_EDITS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(EDITS);
    let data = tempfile::tempdir().expect("temp dir");
    let tern = Tern::start(data.path());
    // TERN_BENCH_ROLE=member pushes as a member, whose every op is checked
    // for guarded fields (the secretariat's are not).
    let as_member = std::env::var("TERN_BENCH_ROLE").is_ok_and(|role| role == "member");
    let client = if as_member {
        signed_in_member(&tern.address).await
    } else {
        signed_in_client(&tern.address).await
    };
    let id = RecordId::v7(1_760_000_000_000, [7; 10]);

    // Offline: the edits queue up in the outbox (not timed).
    let queued = Instant::now();
    let mut anna = Replica::new(DeviceId([1; 16]), 1_001);
    anna.create(id, RecordKind::Recommendation);
    let mut text = String::new();
    for n in 0..edits {
        let letter = char::from(b'a' + (n % 26) as u8);
        text.push(letter);
        if n % 60 == 59 {
            text.push(' ');
        }
        anna.edit(id, |r| {
            r.change(&FieldPath::top("summary"), FieldEdit::Text(text.clone()))
                .ok()
        });
    }
    let ops = anna.outbox().len();
    let queue_time = queued.elapsed();

    let mut up = Traffic::default();
    let started = Instant::now();
    push_outbox(&client, &tern.address, &mut anna, &mut up).await;
    let push_time = started.elapsed();

    let mut jonas = Replica::new(DeviceId([2; 16]), 2_002);
    let mut down = Traffic::default();
    let pulling = Instant::now();
    pull_everything(&client, &tern.address, &mut jonas, &mut down).await;
    let pull_time = pulling.elapsed();
    let total = started.elapsed();

    let pulled = jonas
        .copy_of(id)
        .and_then(|r| r.text(&FieldPath::top("summary")));
    assert_eq!(pulled.as_deref(), Some(text.as_str()), "the copies differ");
    assert!(anna.outbox().is_empty());

    let profile = if cfg!(debug_assertions) {
        "debug (unoptimised)"
    } else {
        "release"
    };
    println!();
    println!("sync benchmark: {ops} ops ({edits} one-character edits + create), one record");
    println!("build profile:  {profile} (client and server)");
    println!(
        "pushed as:      {}",
        if as_member {
            "a member (every op access-checked)"
        } else {
            "the secretariat"
        }
    );
    println!(
        "queue offline:  {:>8.0} ms (not counted)",
        queue_time.as_secs_f64() * 1e3
    );
    println!(
        "push:           {:>8.0} ms  {:>6} requests  {:>9} bytes up  {:>8.0} ops/s",
        push_time.as_secs_f64() * 1e3,
        up.requests,
        up.sent,
        per_second(ops, push_time)
    );
    println!(
        "pull:           {:>8.0} ms  {:>6} requests  {:>9} bytes down  {:>6.0} ops/s",
        pull_time.as_secs_f64() * 1e3,
        down.requests,
        down.received,
        per_second(ops, pull_time)
    );
    println!(
        "total:          {:>8.0} ms  {:>8.0} ops/s end to end (goal: <= 2000 ms)",
        total.as_secs_f64() * 1e3,
        per_second(ops, total)
    );
    drop(tern);
}
