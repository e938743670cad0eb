//! A device over HTTP for the sync tests: a `tern_domain::client::Replica` that
//! pushes its outbox and pulls pages from a running server, as the browser does.

#![allow(dead_code)]

use tern_domain::client::Replica;
use tern_domain::record::RecordId;
use tern_domain::sync::{
    self, DeviceId, PullQuery, PullResponse, PushRequest, PushResponse, MAX_PUSH_BYTES, PUSH_PATH,
};
use tern_tests::TestApp;

pub fn record_id(n: u8) -> RecordId {
    RecordId::v7(1_760_000_000_000 + u64::from(n), [n; 10])
}

pub fn device(n: u8) -> Replica {
    Replica::new(DeviceId([n; 16]), u64::from(n) * 1_000 + 1)
}

pub async fn push_request(app: &TestApp, request: &PushRequest) -> PushResponse {
    let response = app
        .client
        .post(app.url(PUSH_PATH))
        .header("content-type", sync::CONTENT_TYPE)
        .body(sync::encode(request))
        .send()
        .await
        .expect("push sent");
    assert_eq!(response.status(), 200, "push refused");
    sync::decode(&response.bytes().await.expect("body")).expect("a push response")
}

/// Pulls one page; `device: None` pulls as an anonymous client (no cursor kept).
pub async fn pull_query(app: &TestApp, query: PullQuery) -> PullResponse {
    let response = app.get(&query.path()).await;
    assert_eq!(response.status(), 200, "pull refused");
    sync::decode(&response.bytes().await.expect("body")).expect("a pull response")
}

pub async fn pull_anonymous(app: &TestApp, since: u64, limit: u32) -> PullResponse {
    pull_query(
        app,
        PullQuery {
            since: sync::Seq(since),
            limit,
            device: None,
            kinds: Some(tern_domain::record::RecordKind::ALL.to_vec()),
        },
    )
    .await
}

/// Pushes the whole outbox, in requests no larger than the server takes.
pub async fn push_all(app: &TestApp, replica: &mut Replica) {
    while let Some(request) = replica.next_push(MAX_PUSH_BYTES - 4_096) {
        let answer = push_request(app, &request).await;
        let acknowledged = replica.acknowledge(&answer);
        assert!(
            acknowledged.rejected.is_empty(),
            "{:?}",
            acknowledged.rejected
        );
    }
}

/// Pushes the outbox one op per request, as a device online sends keystrokes:
/// each op gets a log row of its own.
pub async fn push_one_by_one(app: &TestApp, replica: &mut Replica) {
    while let Some(request) = replica.next_push(1) {
        assert_eq!(request.ops.len(), 1);
        let answer = push_request(app, &request).await;
        replica.acknowledge(&answer);
    }
}

/// Pulls pages of at most `limit` changes until the server says complete;
/// returns how many pages it took.
pub async fn pull_all(app: &TestApp, replica: &mut Replica, limit: u32) -> usize {
    let mut pages = 0;
    loop {
        let mut query = replica.next_pull();
        query.limit = limit;
        let page = pull_query(app, query.clone()).await;
        pages += 1;
        let pulled = replica
            .apply_pull(query.since, &page)
            .expect("pages applied in order");
        assert!(pulled.unmergeable.is_empty(), "{:?}", pulled.unmergeable);
        if page.complete {
            return pages;
        }
        assert!(pages < 10_000, "pull never completes");
    }
}

pub async fn sync(app: &TestApp, replica: &mut Replica) {
    push_all(app, replica).await;
    pull_all(app, replica, 1_000).await;
}

pub fn title(replica: &Replica, id: RecordId) -> Option<String> {
    replica
        .copy_of(id)?
        .text(&tern_domain::record::FieldPath::top("title"))
}

pub fn summary_text(replica: &Replica, id: RecordId) -> Option<String> {
    replica
        .copy_of(id)?
        .text(&tern_domain::record::FieldPath::top("summary"))
}

/// Every record of `replica` as plain data, in id order.
pub fn documents(replica: &Replica) -> Vec<(RecordId, Option<tern_domain::record::Projection>)> {
    replica
        .ids()
        .into_iter()
        .map(|id| {
            (
                id,
                replica.copy_of(id).and_then(|record| record.projection()),
            )
        })
        .collect()
}
