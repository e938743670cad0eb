//! The sync API over HTTP: push with op ids, paged pull by server sequence, and
//! what bad input does (nothing, with a clear reason).

use tern_domain::api::ErrorBody;
use tern_domain::record::{Record, RecordId, RecordKind, Update};
use tern_domain::sync::{
    self, OpId, OpOutcome, PullResponse, PushOp, PushRequest, PushResponse, Seq, MAX_PUSH_BYTES,
    PULL_PATH, PUSH_PATH,
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
    let rec = record.as_recommendation().expect("rec");
    let titled = rec.set_title(title);
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
    assert_eq!(replica.summary(), record.summary());
}

#[tokio::test]
async fn a_retried_push_is_applied_once() {
    let app = spawn_app().await;
    let (record, updates) = drafted("Once");
    let ops = numbered_ops(&record, RecordKind::Recommendation, &updates);
    push(&app, ops.clone()).await;
    let again = push(&app, ops).await;
    assert_eq!(
        again
            .outcomes
            .iter()
            .map(|(_, o)| o.clone())
            .collect::<Vec<_>>(),
        [
            OpOutcome::AlreadyApplied(Seq(1)),
            OpOutcome::AlreadyApplied(Seq(2))
        ]
    );
    assert_eq!(pull(&app, 0, 100).await.changes.len(), 2);
}

#[tokio::test]
async fn pulls_come_in_pages_and_resume_from_the_cursor() {
    let app = spawn_app().await;
    let (record, created) = Record::create(record_id(2), RecordKind::Project, 3);
    let project = record.as_project().expect("project");
    let mut ops = vec![op(0, record.id(), RecordKind::Project, &created)];
    for n in 1..25u16 {
        let update = project.set_title(&format!("Project draft {n}"));
        ops.push(op(n, record.id(), RecordKind::Project, &update));
    }
    push(&app, ops).await;

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
    assert_eq!(page.changes.len(), 2);
    // Sequence numbers continue after a restart rather than starting over.
    let more = record
        .as_recommendation()
        .expect("rec")
        .set_title("Durable, still");
    let next = push(
        &app,
        vec![op(9, record.id(), RecordKind::Recommendation, &more)],
    )
    .await;
    assert_eq!(next.outcomes[0].1, OpOutcome::Applied(Seq(3)));
}
