//! The sync API over HTTP: push with op ids, paged pull by server sequence, and
//! what bad input does (nothing, with a clear reason).

use std::time::Duration;
use tern_domain::api::ErrorBody;
use tern_domain::record::{FieldPath, Record, RecordId, RecordKind, Update};
use tern_domain::sync::{
    self, Change, OpId, OpOutcome, PullResponse, PushOp, PushRequest, PushResponse, Seq,
    EVENTS_PATH, MAX_PUSH_BYTES, PULL_PATH, PUSH_PATH, RECORDS_PATH,
};
use tern_server::Config;
use tern_tests::{spawn_app, spawn_app_with, TestApp};

fn record_id(n: u8) -> RecordId {
    RecordId::v7(1_760_000_000_000 + u64::from(n), [n; 10])
}

fn op(n: u16, record: RecordId, kind: RecordKind, update: &Update) -> PushOp {
    let mut id = [0u8; 16];
    id[..2].copy_from_slice(&n.to_be_bytes());
    PushOp {
        op: OpId(id),
        record,
        kind,
        update: update.0.clone(),
    }
}

/// One op per update, with op ids 0, 1, 2, …
fn numbered_ops(record: &Record, kind: RecordKind, updates: &[Update]) -> Vec<PushOp> {
    (0u16..)
        .zip(updates)
        .map(|(n, update)| op(n, record.id(), kind, update))
        .collect()
}

async fn push(app: &TestApp, ops: Vec<PushOp>) -> PushResponse {
    let response = push_raw(app, sync::encode(&PushRequest { ops })).await;
    assert_eq!(response.status(), 200);
    sync::decode(&response.bytes().await.expect("body")).expect("a push response")
}

async fn push_raw(app: &TestApp, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(PUSH_PATH))
        .header("content-type", sync::CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn pull(app: &TestApp, since: u64, limit: u32) -> PullResponse {
    let response = app
        .get(&format!("{PULL_PATH}?since={since}&limit={limit}"))
        .await;
    assert_eq!(response.status(), 200);
    sync::decode(&response.bytes().await.expect("body")).expect("a pull response")
}

/// A recommendation with a title, as three ops from one device.
fn drafted(title: &str) -> (Record, Vec<Update>) {
    let (record, created) = Record::create(record_id(1), RecordKind::Recommendation, 7);
    let titled = record.set_text("title", title).expect("title");
    (record, vec![created, titled])
}

#[tokio::test]
async fn pushed_edits_come_back_from_pull_and_rebuild_the_record() {
    let app = spawn_app().await;
    let (record, updates) = drafted("Child participation");
    let ops = numbered_ops(&record, RecordKind::Recommendation, &updates);
    let response = push(&app, ops).await;
    assert_eq!(
        response
            .outcomes
            .iter()
            .map(|(_, o)| o.clone())
            .collect::<Vec<_>>(),
        [OpOutcome::Applied(Seq(1)), OpOutcome::Applied(Seq(2))]
    );

    let page = pull(&app, 0, 100).await;
    assert!(page.complete);
    assert_eq!(page.cursor, Seq(2));
    let replica = Record::empty(record.id(), 8);
    for change in &page.changes {
        replica.apply_update(&change.update).expect("applies");
    }
    assert_eq!(replica.projection(), record.projection());
}

#[tokio::test]
async fn a_retried_push_is_applied_once() {
    let app = spawn_app().await;
    let (record, updates) = drafted("Once");
    let ops = numbered_ops(&record, RecordKind::Recommendation, &updates);
    push(&app, ops.clone()).await;
    let again = push(&app, ops).await;
    // A retried op changes nothing; it is answered with the record's latest seq.
    assert_eq!(
        again
            .outcomes
            .iter()
            .map(|(_, o)| o.clone())
            .collect::<Vec<_>>(),
        [
            OpOutcome::AlreadyApplied(Seq(2)),
            OpOutcome::AlreadyApplied(Seq(2))
        ]
    );
    // The log did not grow: one row (the first push, merged), nothing after seq 2.
    let page = pull(&app, 0, 100).await;
    assert_eq!((page.changes.len(), page.cursor), (1, Seq(2)));
    assert!(pull(&app, 2, 100).await.changes.is_empty());
}

#[tokio::test]
async fn pulls_come_in_pages_and_resume_from_the_cursor() {
    let app = spawn_app().await;
    let (record, created) = Record::create(record_id(2), RecordKind::Project, 3);
    // One push per edit, as a device online sends them: one log row each.
    push(
        &app,
        vec![op(0, record.id(), RecordKind::Project, &created)],
    )
    .await;
    for n in 1..25u16 {
        let update = record
            .set_text("title", &format!("Project draft {n}"))
            .expect("title");
        push(&app, vec![op(n, record.id(), RecordKind::Project, &update)]).await;
    }

    let mut cursor = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = pull(&app, cursor, 10).await;
        pages += 1;
        seen.extend(page.changes.iter().map(|c| c.seq.0));
        cursor = page.cursor.0;
        if page.complete {
            break;
        }
        assert_eq!(page.changes.len(), 10);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (1..=25).collect::<Vec<u64>>());
    // Nothing new after the end: an empty, complete page at the same cursor.
    let after = pull(&app, cursor, 10).await;
    assert!(after.changes.is_empty() && after.complete && after.cursor == Seq(25));
}

#[tokio::test]
async fn bad_bodies_get_a_reason_and_change_nothing() {
    let app = spawn_app().await;
    let garbage = push_raw(&app, b"\xff\xfe not postcard".to_vec()).await;
    assert_eq!(garbage.status(), 400);
    let body: ErrorBody = garbage.json().await.expect("JSON reason");
    assert_eq!(body.error, "malformed_body");

    // One good op and one undecodable update: the whole push is refused.
    let (record, updates) = drafted("Kept out");
    let mut bad = op(1, record.id(), RecordKind::Recommendation, &updates[1]);
    bad.update = vec![0xff; 32];
    let mixed = PushRequest {
        ops: vec![
            op(0, record.id(), RecordKind::Recommendation, &updates[0]),
            bad,
        ],
    };
    let refused = push_raw(&app, sync::encode(&mixed)).await;
    assert_eq!(refused.status(), 400);
    let body: ErrorBody = refused.json().await.expect("JSON reason");
    assert_eq!(body.error, "malformed_update");
    assert!(
        body.reason.contains(&record.id().to_string()),
        "{}",
        body.reason
    );

    let too_big = push_raw(&app, vec![0u8; MAX_PUSH_BYTES + 1]).await;
    assert_eq!(too_big.status(), 413);
    let body: ErrorBody = too_big.json().await.expect("JSON reason");
    assert_eq!(body.error, "too_large");

    let bad_query = app.get(&format!("{PULL_PATH}?since=yesterday")).await;
    assert_eq!(bad_query.status(), 400);

    assert!(pull(&app, 0, 100).await.changes.is_empty(), "state changed");
}

/// `update`, made by a replica with client id 7, as if made by `client`: yrs
/// writes the first block's client id as a var-int right after the counts.
fn as_if_from_client(update: &Update, client: u64) -> Vec<u8> {
    assert_eq!(
        &update.0[..3],
        &[1, 1, 7],
        "one client, one block, client 7"
    );
    let mut id = Vec::new();
    let mut rest = client;
    while rest >= 0x80 {
        id.push((rest as u8 & 0x7f) | 0x80);
        rest >>= 7;
    }
    id.push(rest as u8);
    [&update.0[..2], &id, &update.0[3..]].concat()
}

#[tokio::test]
async fn an_update_naming_a_client_id_above_53_bits_is_refused_before_it_is_applied() {
    let app = spawn_app().await;
    let (record, updates) = drafted("From a hostile client");
    // Yjs and yrs client ids have 53 bits; yrs asserts it when it decodes one.
    let hostile = Update(as_if_from_client(&updates[0], 1 << 60));
    let request = PushRequest {
        ops: vec![op(0, record.id(), RecordKind::Recommendation, &hostile)],
    };
    let refused = push_raw(&app, sync::encode(&request)).await;
    assert_eq!(refused.status(), 400);
    let body: ErrorBody = refused.json().await.expect("JSON reason");
    assert_eq!(body.error, "malformed_update");
    assert!(
        body.reason.contains(&record.id().to_string()) && body.reason.contains("2^53"),
        "{}",
        body.reason
    );
    assert!(pull(&app, 0, 100).await.changes.is_empty(), "state changed");

    // The largest valid id goes through, so the check is the boundary.
    let largest = Update(as_if_from_client(&updates[0], (1 << 53) - 1));
    let outcomes = push(
        &app,
        vec![op(1, record.id(), RecordKind::Recommendation, &largest)],
    )
    .await
    .outcomes;
    assert!(
        matches!(outcomes[..], [(_, OpOutcome::Applied(_))]),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn an_op_that_would_change_a_records_kind_is_rejected_with_a_reason() {
    let app = spawn_app().await;
    let (record, updates) = drafted("A recommendation");
    push(
        &app,
        vec![op(0, record.id(), RecordKind::Recommendation, &updates[0])],
    )
    .await;
    let wrong = push(
        &app,
        vec![op(1, record.id(), RecordKind::Project, &updates[1])],
    )
    .await;
    match &wrong.outcomes[0].1 {
        OpOutcome::Rejected(reason) => assert!(reason.contains("not a project"), "{reason}"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(pull(&app, 0, 100).await.changes.len(), 1);
}

#[tokio::test]
async fn acknowledged_edits_survive_a_restart() {
    let data = tempfile::tempdir().expect("temp dir");
    let config = Config::for_data_dir(data.path());
    let app = spawn_app_with(config.clone()).await.expect("starts");
    let (record, updates) = drafted("Durable");
    let ops = numbered_ops(&record, RecordKind::Recommendation, &updates);
    push(&app, ops).await;
    app.stop().await;

    let app = spawn_app_with(config).await.expect("restarts");
    let page = pull(&app, 0, 100).await;
    let copy = Record::empty(record.id(), 8);
    for change in &page.changes {
        copy.apply_update(&change.update).expect("applies");
    }
    assert_eq!(
        copy.text(&FieldPath::top("title")).as_deref(),
        Some("Durable")
    );
    // Sequence numbers continue after a restart rather than starting over.
    let more = record.set_text("title", "Durable, still").expect("title");
    let next = push(
        &app,
        vec![op(9, record.id(), RecordKind::Recommendation, &more)],
    )
    .await;
    assert_eq!(next.outcomes[0].1, OpOutcome::Applied(Seq(3)));
}

/// What `deploy/backup.sh` does (archive the stopped server's data directory)
/// and its restore (unpack it elsewhere) give a server with every edit.
#[tokio::test]
async fn an_archive_of_a_stopped_servers_data_restores_elsewhere() {
    let data = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(Config::for_data_dir(data.path()))
        .await
        .expect("starts");
    let (record, updates) = drafted("Backed up");
    push(
        &app,
        numbered_ops(&record, RecordKind::Recommendation, &updates),
    )
    .await;
    app.stop().await;

    let archive = tempfile::tempdir().expect("temp dir");
    let archive = archive.path().join("tern.tar.gz");
    let restored = tempfile::tempdir().expect("temp dir");
    for (tar, args) in [
        (
            "archive",
            vec!["-C", path(data.path()), "-czf", path(&archive), "."],
        ),
        (
            "restore",
            vec!["-C", path(restored.path()), "-xzf", path(&archive)],
        ),
    ] {
        let status = std::process::Command::new("tar").args(&args).status();
        assert!(status.is_ok_and(|s| s.success()), "tar ({tar}) failed");
    }
    drop(data);

    let app = spawn_app_with(Config::for_data_dir(restored.path()))
        .await
        .expect("starts on the restored data");
    let copy = Record::empty(record.id(), 8);
    for change in &pull(&app, 0, 100).await.changes {
        copy.apply_update(&change.update).expect("applies");
    }
    assert_eq!(
        copy.text(&FieldPath::top("title")).as_deref(),
        Some("Backed up")
    );
}

fn path(path: &std::path::Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// A recommendation's title typed one letter at a time: `n` ops (create + n-1 edits).
fn typed(record_n: u8, text: &str, n: usize) -> (Record, Vec<Update>) {
    let (record, created) = Record::create(record_id(record_n), RecordKind::Recommendation, 11);
    let mut updates = vec![created];
    let chars: Vec<char> = text.chars().cycle().take(n - 1).collect();
    for end in 1..n {
        let prefix: String = chars[..end].iter().collect();
        updates.push(record.set_text("title", &prefix).expect("title"));
    }
    (record, updates)
}

#[tokio::test]
async fn a_push_of_many_ops_is_applied_in_order_in_one_request() {
    let app = spawn_app().await;
    let (one, first) = typed(1, "abc", 300);
    let (two, second) = typed(2, "xyz", 200);
    // Interleave the two records' ops; ids 0..500.
    let mut ops = Vec::new();
    for n in 0..300usize {
        ops.push(op(
            n as u16,
            one.id(),
            RecordKind::Recommendation,
            &first[n],
        ));
        if n < 200 {
            ops.push(op(
                1_000 + n as u16,
                two.id(),
                RecordKind::Recommendation,
                &second[n],
            ));
        }
    }
    let response = push(&app, ops.clone()).await;
    let seqs: Vec<u64> = response
        .outcomes
        .iter()
        .map(|(_, outcome)| match outcome {
            OpOutcome::Applied(seq) => seq.0,
            other => panic!("expected applied, got {other:?}"),
        })
        .collect();
    assert_eq!(seqs, (1..=500).collect::<Vec<_>>());
    // The log holds one row per record for the push, under the seq of the
    // record's last op, and the rows rebuild both titles.
    let page = pull(&app, 0, 1_000).await;
    assert!(page.complete);
    let rows: Vec<_> = page.changes.iter().map(|c| (c.record, c.seq)).collect();
    assert_eq!(rows, [(two.id(), Seq(400)), (one.id(), Seq(500))]);
    let pulled = page.changes;
    let copy_one = Record::empty(one.id(), 99);
    let copy_two = Record::empty(two.id(), 99);
    for change in &pulled {
        let copy = if change.record == one.id() {
            &copy_one
        } else {
            &copy_two
        };
        copy.apply_update(&change.update).expect("applies");
    }
    assert_eq!(copy_one.projection(), one.projection());
    assert_eq!(copy_two.projection(), two.projection());

    // The same request again, plus one new op: only the new one is applied.
    let more = one.set_text("title", "abc, done").expect("title");
    ops.push(op(5_000, one.id(), RecordKind::Recommendation, &more));
    let again = push(&app, ops).await;
    assert_eq!(again.outcomes.len(), 501);
    assert!(again.outcomes[..500]
        .iter()
        .all(|(_, outcome)| matches!(outcome, OpOutcome::AlreadyApplied(_))));
    assert_eq!(again.outcomes[500].1, OpOutcome::Applied(Seq(501)));
}

#[tokio::test]
async fn a_large_push_with_one_bad_update_applies_nothing() {
    let app = spawn_app().await;
    let (record, updates) = typed(1, "all or nothing ", 400);
    let mut ops = numbered_ops(&record, RecordKind::Recommendation, &updates);
    ops[399].update = vec![0xff; 8];
    let refused = push_raw(&app, sync::encode(&PushRequest { ops: ops.clone() })).await;
    assert_eq!(refused.status(), 400);
    assert!(pull(&app, 0, 1_000).await.changes.is_empty());
    // Without the bad op, the same ops go through, numbered from 1.
    ops.truncate(399);
    let response = push(&app, ops).await;
    assert_eq!(response.outcomes[0].1, OpOutcome::Applied(Seq(1)));
    assert_eq!(response.outcomes[398].1, OpOutcome::Applied(Seq(399)));
}

#[tokio::test]
async fn a_kind_mismatch_inside_a_batch_refuses_only_that_op() {
    let app = spawn_app().await;
    let (record, updates) = drafted("Mixed batch");
    let ops = vec![
        op(0, record.id(), RecordKind::Recommendation, &updates[0]),
        op(1, record.id(), RecordKind::Project, &updates[1]),
        op(2, record.id(), RecordKind::Recommendation, &updates[1]),
    ];
    let response = push(&app, ops).await;
    assert_eq!(response.outcomes[0].1, OpOutcome::Applied(Seq(1)));
    assert!(
        matches!(&response.outcomes[1].1, OpOutcome::Rejected(reason) if reason.contains("not a project"))
    );
    assert_eq!(response.outcomes[2].1, OpOutcome::Applied(Seq(2)));
}

async fn get_record(app: &TestApp, id: &str) -> reqwest::Response {
    app.get(&format!("{RECORDS_PATH}/{id}")).await
}

#[tokio::test]
async fn the_records_endpoint_returns_a_whole_state_or_a_reason() {
    let app = spawn_app().await;
    let (record, updates) = drafted("Whole state");
    push(
        &app,
        numbered_ops(&record, RecordKind::Recommendation, &updates),
    )
    .await;
    let other = record_id(5);
    let (_, created) = Record::create(other, RecordKind::Project, 4);
    push(&app, vec![op(7, other, RecordKind::Project, &created)]).await;

    let found = get_record(&app, &record.id().to_string()).await;
    assert_eq!(found.status(), 200);
    assert_eq!(
        found.headers()["content-type"].to_str().expect("ascii"),
        sync::CONTENT_TYPE
    );
    let change: Change = sync::decode(&found.bytes().await.expect("body")).expect("a change");
    assert_eq!(
        (change.record, change.kind, change.seq),
        (record.id(), RecordKind::Recommendation, Seq(2))
    );
    // A copy that has nothing rebuilds the record from it alone.
    let copy = Record::load(record.id(), 31, &change.update).expect("loads");
    assert_eq!(
        copy.text(&FieldPath::top("title")).as_deref(),
        Some("Whole state")
    );

    let unknown = get_record(&app, &record_id(6).to_string()).await;
    assert_eq!(unknown.status(), 404);
    let body: ErrorBody = unknown.json().await.expect("JSON reason");
    assert_eq!(body.error, "unknown_record");
    assert!(
        body.reason.contains(&record_id(6).to_string()),
        "{}",
        body.reason
    );

    let malformed = get_record(&app, "not-a-uuid").await;
    assert_eq!(malformed.status(), 400);
    let body: ErrorBody = malformed.json().await.expect("JSON reason");
    assert_eq!(body.error, "malformed_record_id");
}

/// Reads server-sent events until one carries `data: <seq>` with seq >= `at_least`.
async fn next_seq_event(events: &mut reqwest::Response, buffer: &mut String, at_least: u64) -> u64 {
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            for line in event.lines() {
                if let Some(data) = line.strip_prefix("data:") {
                    let seq: u64 = data.trim().parse().expect("a seq");
                    if seq >= at_least {
                        return seq;
                    }
                }
            }
        }
        let chunk = events
            .chunk()
            .await
            .expect("stream readable")
            .expect("stream still open");
        buffer.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
    }
}

#[tokio::test]
async fn events_announce_a_push_from_another_client_within_a_second() {
    let app = spawn_app().await;
    let (record, updates) = drafted("Live");
    push(
        &app,
        vec![op(0, record.id(), RecordKind::Recommendation, &updates[0])],
    )
    .await;

    let mut events = app.get(EVENTS_PATH).await;
    assert_eq!(events.status(), 200);
    assert!(events.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/event-stream"));
    let mut buffer = String::new();
    // On connect: the current last seq.
    let first = tokio::time::timeout(
        Duration::from_secs(5),
        next_seq_event(&mut events, &mut buffer, 0),
    )
    .await
    .expect("first event");
    assert_eq!(first, 1);

    let colleague = app
        .signed_in_client(tern_tests::ADMIN_EMAIL, tern_tests::ADMIN_PASSWORD)
        .await;
    let body = sync::encode(&PushRequest {
        ops: vec![op(1, record.id(), RecordKind::Recommendation, &updates[1])],
    });
    let pushed = tokio::time::Instant::now();
    let response = colleague
        .post(app.url(PUSH_PATH))
        .body(body)
        .send()
        .await
        .expect("push");
    assert_eq!(response.status(), 200);
    let seq = tokio::time::timeout(
        Duration::from_secs(1),
        next_seq_event(&mut events, &mut buffer, 2),
    )
    .await
    .expect("an event within a second of the push");
    assert_eq!(seq, 2);
    assert!(pushed.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn an_open_event_stream_does_not_hold_up_shutdown() {
    let app = spawn_app().await;
    let mut events = app.get(EVENTS_PATH).await;
    let mut buffer = String::new();
    next_seq_event(&mut events, &mut buffer, 0).await;
    tokio::time::timeout(Duration::from_secs(5), app.stop())
        .await
        .expect("stopped within 5 s with an event stream open");
    // The stream ended rather than hanging.
    let end = tokio::time::timeout(Duration::from_secs(5), events.chunk())
        .await
        .expect("stream ends");
    assert!(!matches!(end, Ok(Some(_))), "{end:?}");
}
