//! An acknowledged edit survives `kill -9`: the real binary is killed while a
//! device streams pushes at it, restarted on the same data, and every edit the
//! server acknowledged must be in the documents pulled afterwards.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{pull_everything, push, signed_in_client, Tern, Traffic};
use tern_domain::client::Replica;
use tern_domain::record::{FieldEdit, FieldPath, RecordId, RecordKind};
use tern_domain::sync::{DeviceId, OpOutcome, PushRequest};

fn record(n: u8) -> RecordId {
    RecordId::v7(1_760_000_000_000 + u64::from(n), [n; 10])
}

fn marker(n: usize) -> String {
    format!("[e{n}]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_edits_survive_kill_minus_nine() {
    let data = tempfile::tempdir().expect("temp dir");
    let tern = Tern::start(data.path());
    let base = tern.address.clone();

    // Edits whose push the server answered Applied/AlreadyApplied, by number.
    let acknowledged: Arc<Mutex<Vec<usize>>> = Arc::default();
    let writer = {
        let acknowledged = Arc::clone(&acknowledged);
        tokio::spawn(async move {
            let client = signed_in_client(&base).await;
            let mut traffic = Traffic::default();
            let mut device = Replica::new(DeviceId([1; 16]), 101);
            let records = [record(1), record(2)];
            for id in records {
                device.create(id, RecordKind::Recommendation);
            }
            let created = device.next_push(1 << 20).expect("creates");
            let answer = push(&client, &base, &created, &mut traffic)
                .await
                .expect("first push");
            device.acknowledge(&answer);
            let mut n = 0usize;
            loop {
                // Requests of one to eight edits, alternating between the records.
                let batch = 1 + n % 8;
                let mut numbers = Vec::new();
                for _ in 0..batch {
                    let id = records[n % 2];
                    device.edit(id, |r| {
                        let summary = FieldPath::top("summary");
                        let text = format!("{}{}", r.text(&summary)?, marker(n));
                        r.change(&summary, FieldEdit::Text(text)).ok()
                    });
                    numbers.push(n);
                    n += 1;
                }
                let request = PushRequest {
                    ops: device.outbox().to_vec(),
                };
                match push(&client, &base, &request, &mut traffic).await {
                    Ok(answer) => {
                        assert!(answer
                            .outcomes
                            .iter()
                            .all(|(_, outcome)| !matches!(outcome, OpOutcome::Rejected(_))));
                        device.acknowledge(&answer);
                        acknowledged.lock().expect("lock").extend(numbers);
                    }
                    // The server is gone: what was not acknowledged may be lost.
                    Err(_) => return n,
                }
            }
        })
    };

    // Let a few hundred edits through, then kill the server mid-stream.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().expect("lock").len() < 300 {
        assert!(tokio::time::Instant::now() < deadline, "too slow");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tern.kill();
    let attempted = tokio::time::timeout(Duration::from_secs(30), writer)
        .await
        .expect("the writer notices")
        .expect("writer task");
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(!acknowledged.is_empty());

    let tern = Tern::start(data.path());
    let client = signed_in_client(&tern.address).await;
    let mut reader = Replica::new(DeviceId([2; 16]), 202);
    pull_everything(&client, &tern.address, &mut reader, &mut Traffic::default()).await;
    let text: String = [record(1), record(2)]
        .iter()
        .filter_map(|id| reader.copy_of(*id)?.text(&FieldPath::top("summary")))
        .collect();
    let missing: Vec<usize> = acknowledged
        .iter()
        .copied()
        .filter(|n| !text.contains(&marker(*n)))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged edits lost: {:?}",
        missing.len(),
        acknowledged.len(),
        &missing[..missing.len().min(20)]
    );
    println!(
        "kill -9 after {} acknowledged of {} attempted edits: all present after restart",
        acknowledged.len(),
        attempted
    );
}
