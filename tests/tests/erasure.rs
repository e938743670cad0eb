//! Erasing a person (GDPR): the secretariat alone, people only; afterwards
//! no table of the database holds the person's name, a colleague's device
//! that had the person holds nothing of them after its next pull, and
//! nothing is taken for the record again.

mod device;

use device::{device, push_all, push_request, sync};
use surrealdb::types::Value;
use tern_domain::api::ERASE_PATH;
use tern_domain::auth::Role;
use tern_domain::record::{FieldEdit, FieldPath, ItemId, RecordId, RecordKind};
use tern_domain::sync::OpOutcome;
use tern_tests::{spawn_app_with, TestApp};

const NAME: &str = "Zygmunt Kowalczyk-Erasetest";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn erase(app: &TestApp, client: &reqwest::Client, id: RecordId) -> u16 {
    client
        .post(app.url(&format!("{ERASE_PATH}/{id}")))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// Every string and byte string in every table, as the database holds them.
async fn traces_of(data_dir: &std::path::Path, ns: &str, db: &str, needle: &str) -> Vec<String> {
    let url = format!("surrealkv://{}", data_dir.join("db").display());
    // The stopped server's engine lets go of its lock a moment later.
    let mut attempts = 0;
    let database = loop {
        match surrealdb::engine::any::connect(url.as_str()).await {
            Err(error) if error.to_string().contains("already locked") && attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            result => break result.expect("opens"),
        }
    };
    database.use_ns(ns).use_db(db).await.expect("selects");
    let mut info = database.query("INFO FOR DB").await.expect("info");
    let info: Option<serde_json::Value> = info.take(0).expect("an object");
    let tables: Vec<String> = info
        .as_ref()
        .and_then(|info| info.get("tables"))
        .and_then(|tables| tables.as_object())
        .map(|tables| tables.keys().cloned().collect())
        .unwrap_or_default();
    assert!(
        tables.contains(&"synced_record".to_owned()),
        "{tables:?} from {info:?}"
    );
    let mut found = Vec::new();
    for table in tables {
        let mut rows = database
            .query("SELECT * FROM type::table($table)")
            .bind(("table", table.clone()))
            .await
            .expect("select");
        let rows: Vec<Value> = rows.take(0).expect("rows");
        fn walk(value: &Value, needle: &str, hit: &mut bool) {
            match value {
                Value::String(text) => *hit |= text.contains(needle),
                Value::Bytes(bytes) => *hit |= contains(bytes, needle),
                Value::Array(items) => items.iter().for_each(|v| walk(v, needle, hit)),
                Value::Object(object) => object.values().for_each(|v| walk(v, needle, hit)),
                _ => {}
            }
        }
        let mut hit = false;
        rows.iter().for_each(|row| walk(row, needle, &mut hit));
        if hit {
            found.push(table);
        }
    }
    found
}

#[tokio::test]
async fn an_erased_person_is_gone_from_every_table_and_every_device() {
    // The test holds the data folder: the database is read after the server stops.
    let data = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(tern_server::Config::for_data_dir(data.path()))
        .await
        .expect("starts");
    let person = RecordId::v7(1_765_000_000_000, [0x51; 10]);
    let consultation = RecordId::v7(1_765_000_000_001, [0x52; 10]);
    let mut anna = device(1);
    anna.create(person, RecordKind::Person);
    anna.edit(person, |r| r.set_text("name", NAME).ok());
    anna.edit(person, |r| {
        r.change(
            &FieldPath::top("email"),
            FieldEdit::Text("zygmunt@erasetest.example".into()),
        )
        .ok()
    });
    anna.edit(person, |r| {
        r.change(
            &FieldPath::top("tags"),
            FieldEdit::Include {
                value: format!("{NAME}'s tag"),
                included: true,
            },
        )
        .ok()
    });
    anna.create(consultation, RecordKind::Consultation);
    anna.edit(consultation, |r| {
        r.set_text("title", "Warsaw consultation").ok()
    });
    anna.edit(consultation, |r| {
        r.change(
            &FieldPath::top("participants"),
            FieldEdit::InsertItem {
                id: ItemId("p1".into()),
                position: 0,
            },
        )
        .ok()
    });
    anna.edit(consultation, |r| {
        r.change(
            &FieldPath::item("participants", ItemId("p1".into()), "person"),
            FieldEdit::Ref(Some((person, RecordKind::Person))),
        )
        .ok()
    });
    sync(&app, &mut anna).await;
    // A retried push: answered AlreadyApplied, from what the server keeps.
    let retried = anna.next_push(1 << 20);
    assert!(retried.is_none(), "everything was pushed");
    let mut colleague = device(2);
    sync(&app, &mut colleague).await;
    assert!(contains(&colleague.state(person).expect("synced"), NAME));

    // Only the secretariat erases, and only people.
    let member = app.create_user(Role::Member, Some("PL")).await;
    assert_eq!(erase(&app, &member.client, person).await, 403);
    assert_eq!(erase(&app, &app.client, consultation).await, 400);
    assert_eq!(
        erase(&app, &app.client, RecordId::v7(1, [0; 10])).await,
        404
    );
    assert_eq!(erase(&app, &app.client, person).await, 204);

    // The colleague's device, at its next pull, holds nothing of the person.
    sync(&app, &mut colleague).await;
    let copy = colleague.copy_of(person).expect("the tombstone");
    assert!(copy.projection().is_none() && copy.kind().is_none());
    for trace in [NAME, "zygmunt@", "Kowalczyk"] {
        assert!(!contains(&copy.state(), trace), "{trace} on the device");
    }
    assert!(
        colleague.projection(person).is_none(),
        "gone from its lists"
    );
    // The consultation still points at the id, which no longer names anyone.
    assert!(colleague
        .projection(consultation)
        .expect("kept")
        .links()
        .iter()
        .any(|link| link.target == person));

    // An edit made offline before the erasure is refused, not taken in.
    anna.edit(person, |r| {
        r.set_text("name", &format!("{NAME} again")).ok()
    });
    let late = anna.next_push(1 << 20).expect("an op");
    let answer = push_request(&app, &late).await;
    assert!(answer.outcomes.iter().all(|(_, outcome)| matches!(
        outcome,
        OpOutcome::Rejected(reason) if reason.contains("[erased:")
    )));
    anna.acknowledge(&answer);
    push_all(&app, &mut anna).await;

    let (ns, db) = (
        app.config.db_namespace.clone(),
        app.config.db_database.clone(),
    );
    let data_dir = app.config.data_dir.clone();
    app.stop().await;
    // The search finds what is there: the consultation's title, in the record
    // states and the log.
    let kept = traces_of(&data_dir, &ns, &db, "Warsaw consultation").await;
    assert!(
        kept.contains(&"synced_record".to_owned()) && kept.contains(&"sync_change".to_owned()),
        "{kept:?}"
    );
    for needle in [NAME, "Kowalczyk", "zygmunt@erasetest"] {
        assert_eq!(
            traces_of(&data_dir, &ns, &db, needle).await,
            Vec::<String>::new(),
            "tables still holding {needle}"
        );
    }
}
