//! Data written by Tern before the record schema (`tests/fixtures/v1`) on
//! today's server: a database of that build opens, its records are projected
//! into queryable objects, a device of that build still syncs (sync v1, byte
//! for byte), and new kinds never reach it.

use std::path::{Path, PathBuf};
use tern_domain::api::{FoundRecord, LinkFrom, FIND_PATH, LINKS_SUFFIX};
use tern_domain::auth::Role;
use tern_domain::record::{FieldEdit, FieldPath, Record, RecordId, RecordKind, Update};
use tern_domain::sync::{
    self, OpId, OpOutcome, PullResponse, PushOp, PushRequest, PushResponse, PULL_PATH, PUSH_PATH,
};
use tern_server::Config;
use tern_tests::{spawn_app, spawn_app_with, TestApp};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/v1")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).expect("fixture")
}

fn fixture_id(name: &str) -> RecordId {
    String::from_utf8(fixture(&format!("{name}.id")))
        .expect("text")
        .trim()
        .parse()
        .expect("an id")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copied");
        }
    }
}

/// The old build's database, copied (a test never changes the fixture).
async fn old_server() -> (TestApp, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temp dir");
    copy_dir(&fixtures().join("server"), data.path());
    let app = spawn_app_with(Config::for_data_dir(data.path()))
        .await
        .expect("the old database opens");
    (app, data)
}

async fn push(app: &TestApp, client: &reqwest::Client, ops: Vec<PushOp>) -> PushResponse {
    let response = client
        .post(app.url(PUSH_PATH))
        .header("content-type", sync::CONTENT_TYPE)
        .body(sync::encode(&PushRequest { ops }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    sync::decode(&response.bytes().await.expect("body")).expect("a push response")
}

async fn pull_bytes(app: &TestApp, query: &str) -> Vec<u8> {
    let response = app.get(&format!("{PULL_PATH}?{query}")).await;
    assert_eq!(response.status(), 200);
    response.bytes().await.expect("body").to_vec()
}

async fn find(app: &TestApp, client: &reqwest::Client, query: &str) -> Vec<FoundRecord> {
    let response = client
        .get(app.url(&format!("{FIND_PATH}?{query}")))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.expect("found records")
}

fn op(n: u8, record: RecordId, kind: RecordKind, update: &Update) -> PushOp {
    PushOp {
        op: OpId([n; 16]),
        record,
        kind,
        update: update.0.clone(),
    }
}

#[tokio::test]
async fn the_old_database_opens_projected_and_answers_old_devices_byte_for_byte() {
    let (app, _data) = old_server().await;
    // An old device's pull (no `kinds`) gets exactly what the old server sent.
    assert_eq!(
        pull_bytes(&app, "since=0&limit=1000").await,
        fixture("pull.postcard")
    );
    // Start-up projected the old rows into objects a query can use: the
    // project runs 2025-03-01 – 2027-02-28 in Lithuania, Russia and the EU.
    let project = fixture_id("project");
    let in_lithuania = find(
        &app,
        &app.client,
        "kind=project&countries=LT&from=2026-01-01&to=2026-06-30",
    )
    .await;
    assert_eq!(
        in_lithuania
            .iter()
            .map(|found| found.id)
            .collect::<Vec<_>>(),
        [project]
    );
    assert_eq!(
        in_lithuania[0].projection.title(),
        "Safe Places for Children"
    );
    for none in [
        "kind=project&countries=PL&from=2026-01-01&to=2026-06-30",
        "kind=project&countries=LT&from=2027-03-01&to=2027-12-31",
        "kind=project&status=completed",
    ] {
        assert!(find(&app, &app.client, none).await.is_empty(), "{none}");
    }
    let in_review = find(
        &app,
        &app.client,
        "kind=recommendation&status=member_review",
    )
    .await;
    assert_eq!(in_review.len(), 1);
    assert_eq!(in_review[0].id, fixture_id("recommendation"));
    // A query that names no filter field is refused with a reason.
    let response = app.get(&format!("{FIND_PATH}?kind=project&title=x")).await;
    assert_eq!(response.status(), 400);
    app.stop().await;
}

#[tokio::test]
async fn old_devices_push_as_before_and_never_meet_the_new_kinds() {
    let app = spawn_app().await;
    // The exact bytes an old device sent.
    let response = app
        .client
        .post(app.url(PUSH_PATH))
        .header("content-type", sync::CONTENT_TYPE)
        .body(fixture("push.postcard"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let answer: PushResponse =
        sync::decode(&response.bytes().await.expect("body")).expect("answer");
    assert!(answer
        .outcomes
        .iter()
        .all(|(_, outcome)| matches!(outcome, OpOutcome::Applied(_))));
    // A new device adds a consultation that informs the old recommendation.
    let recommendation = fixture_id("recommendation");
    let consultation = RecordId::v7(1_765_000_000_000, [0x44; 10]);
    let (record, created) = Record::create(consultation, RecordKind::Consultation, 9);
    let titled = record
        .set_text("title", "Riga expert consultation")
        .expect("title");
    let informs = record
        .change(
            &FieldPath::top("informs"),
            FieldEdit::IncludeRef {
                target: recommendation,
                kind: RecordKind::Recommendation,
                included: true,
            },
        )
        .expect("a link");
    let ops = [created, titled, informs]
        .iter()
        .enumerate()
        .map(|(n, update)| op(n as u8 + 1, consultation, RecordKind::Consultation, update))
        .collect();
    let answer = push(&app, &app.client, ops).await;
    assert!(answer
        .outcomes
        .iter()
        .all(|(_, outcome)| matches!(outcome, OpOutcome::Applied(_))));

    // An old device pulls as it always did: it decodes every page, meets no
    // consultation, and its cursor passes over it.
    let old: PullResponse =
        sync::decode(&pull_bytes(&app, "since=0&limit=1000").await).expect("a v1 page");
    assert!(old
        .changes
        .iter()
        .all(|change| RecordKind::V1.contains(&change.kind)));
    let new: PullResponse =
        sync::decode(&pull_bytes(&app, &format!("since=0&limit=1000&kinds={}", tags())).await)
            .expect("a page");
    assert_eq!(old.cursor, new.cursor);
    assert!(new
        .changes
        .iter()
        .any(|change| change.record == consultation && change.kind == RecordKind::Consultation));

    // The server knows the link, and shows it only to those who may see the source.
    let links = |client: reqwest::Client| {
        let url = app.url(&format!("{FIND_PATH}/{recommendation}{LINKS_SUFFIX}"));
        async move {
            let response = client.get(url).send().await.expect("request");
            assert_eq!(response.status(), 200);
            response.json::<Vec<LinkFrom>>().await.expect("links")
        }
    };
    assert_eq!(
        links(app.client.clone()).await,
        [LinkFrom {
            source: consultation,
            field: "informs".into()
        }]
    );
    let outsider = app.create_user(Role::Contributor, None).await;
    assert!(links(outsider.client.clone()).await.is_empty());
    assert!(find(&app, &outsider.client, "kind=consultation")
        .await
        .is_empty());
    app.stop().await;
}

fn tags() -> String {
    RecordKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(",")
}
