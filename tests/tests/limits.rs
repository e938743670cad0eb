//! What the server keeps of pushes that would make a record too large: two
//! members each add a long passage to one text offline, each within the
//! field's limit, together over it. The first push is kept; the second is
//! refused with a reason the app shows, and nothing of it is stored.

use tern_domain::auth::Denied;
use tern_domain::record::{FieldPath, Record, RecordId, RecordKind, Update};
use tern_domain::sync::{self, OpId, OpOutcome, PushOp, PushRequest, PUSH_PATH};
use tern_tests::{spawn_app, TestApp};

async fn push(app: &TestApp, n: u8, id: RecordId, update: &Update) -> OpOutcome {
    let op = PushOp {
        op: OpId([n; 16]),
        record: id,
        kind: RecordKind::Recommendation,
        update: update.0.clone(),
    };
    let response = app
        .client
        .post(app.url(PUSH_PATH))
        .header("content-type", sync::CONTENT_TYPE)
        .body(sync::encode(&PushRequest { ops: vec![op] }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let answer: sync::PushResponse =
        sync::decode(&response.bytes().await.expect("body")).expect("an answer");
    answer.outcomes.into_iter().next().expect("one outcome").1
}

#[tokio::test]
async fn a_push_may_not_grow_a_text_past_its_field() {
    let app = spawn_app().await;
    let id = RecordId::v7(1_760_000_000_000, [9; 10]);
    let (anna, created) = Record::create(id, RecordKind::Recommendation, 11);
    assert!(matches!(
        push(&app, 1, id, &created).await,
        OpOutcome::Applied(_)
    ));
    let jonas = Record::empty(id, 12);
    jonas.apply_update(&created.0).expect("applies");

    let preamble = FieldPath::top("preamble");
    let annas = anna
        .set_text_at(&preamble, &"a".repeat(60_000))
        .expect("fits");
    let jonass = jonas
        .set_text_at(&preamble, &"b".repeat(60_000))
        .expect("fits");
    assert!(matches!(
        push(&app, 2, id, &annas).await,
        OpOutcome::Applied(_)
    ));
    let refused = push(&app, 3, id, &jonass).await;
    assert_eq!(
        refused,
        OpOutcome::Rejected(Denied::TooLarge("preamble".into()).to_wire()),
        "together 120,000 characters, over the 100,000 a long text holds"
    );

    // An edit that keeps it within the limit goes on being kept.
    let shorter = anna
        .set_text_at(&preamble, &"a".repeat(50_000))
        .expect("fits");
    assert!(matches!(
        push(&app, 4, id, &shorter).await,
        OpOutcome::Applied(_)
    ));
}
