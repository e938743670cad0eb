//! One-time generator (run at the commit before the record schema): writes
//! documents, push bodies and a server database made by that code.
use std::path::PathBuf;
use tern_domain::record::{ProjectStatus, RecommendationStatus, Record, RecordId, RecordKind, SectionId, Stance, Update};
use tern_domain::region::FocusArea;
use tern_domain::sync::{self, OpId, PullResponse, PushOp, PushRequest, PushResponse, PULL_PATH, PUSH_PATH};
use tern_server::Config;
use tern_tests::spawn_app_with;

fn out() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/v1")
}

fn op(n: u16, record: RecordId, kind: RecordKind, update: &Update) -> PushOp {
    let mut id = [0u8; 16];
    id[0] = 0xf1;
    id[14..].copy_from_slice(&n.to_be_bytes());
    PushOp { op: OpId(id), record, kind, update: update.0.clone() }
}

#[tokio::test]
#[ignore]
async fn write_v1_fixtures() {
    let dir = out();
    let rec_id = RecordId::v7(1_764_000_000_000, [0x11; 10]);
    let proj_id = RecordId::v7(1_764_000_100_000, [0x22; 10]);
    let empty_id = RecordId::v7(1_764_000_200_000, [0x33; 10]);
    let mut ops = Vec::new();
    let mut n = 0u16;
    let mut push = |kind, id, update: &Update, ops: &mut Vec<PushOp>| {
        ops.push(op(n, id, kind, update));
        n += 1;
    };
    // A recommendation edited on two devices, merged.
    let (anna, created) = Record::create(rec_id, RecordKind::Recommendation, 101);
    push(RecordKind::Recommendation, rec_id, &created, &mut ops);
    let rec = anna.as_recommendation().unwrap();
    for update in [
        rec.set_title("Recommendation on child-friendly justice in the Baltic Sea Region"),
        rec.set_summary_text("Member states should ensure that every child in contact with justice is heard.\nSecond line: ø, ä, š."),
        rec.set_status(RecommendationStatus::MemberReview),
        rec.set_focus_area(FocusArea::EarlyIntervention, true),
        rec.set_focus_area(FocusArea::OutOfHomeCare, true),
        rec.insert_section(0, &SectionId("s-intro".into()), "Introduction"),
        rec.insert_section(1, &SectionId("s-scope".into()), "Scope"),
        rec.insert_section(2, &SectionId("s-gone".into()), "Removed later"),
        rec.insert_section(3, &SectionId("s-measures".into()), "Measures"),
        rec.set_section_body(&SectionId("s-intro".into()), "The **Expert Group** agreed in Riga.\n\n- one\n- two").unwrap(),
        rec.set_section_body(&SectionId("s-measures".into()), "1. Hear the child.\n2. Decide quickly.").unwrap(),
        rec.move_section(&SectionId("s-measures".into()), 1),
        rec.remove_section(&SectionId("s-gone".into())),
        rec.set_position("FI", Some(Stance::Support)),
        rec.set_position("SE", Some(Stance::Reservation)),
        rec.set_position("PL", Some(Stance::Objection)),
        rec.set_position("PL", None),
    ] {
        push(RecordKind::Recommendation, rec_id, &update, &mut ops);
    }
    let jonas = Record::load(rec_id, 202, &anna.state()).unwrap();
    let jrec = jonas.as_recommendation().unwrap();
    let j1 = jrec.set_section_body(&SectionId("s-scope".into()), "Children under 18.").unwrap();
    let a1 = rec.set_section_heading(&SectionId("s-scope".into()), "Scope and definitions").unwrap();
    push(RecordKind::Recommendation, rec_id, &a1, &mut ops);
    push(RecordKind::Recommendation, rec_id, &j1, &mut ops);
    anna.apply_update(&j1.0).unwrap();
    // A project with every field.
    let (project_doc, created) = Record::create(proj_id, RecordKind::Project, 303);
    push(RecordKind::Project, proj_id, &created, &mut ops);
    let project = project_doc.as_project().unwrap();
    for update in [
        project.set_title("Safe Places for Children"),
        project.set_description("A project across the region.\nWith partners in Lithuania."),
        project.set_status(ProjectStatus::Active),
        project.set_dates(Some("2025-03-01"), Some("2027-02-28")).unwrap(),
        project.set_focus_area(FocusArea::SexualAbuseAndExploitation, true),
        project.set_country("LT", true).unwrap(),
        project.set_country("RU", true).unwrap(),
        project.set_country("EU", true).unwrap(),
    ] {
        push(RecordKind::Project, proj_id, &update, &mut ops);
    }
    // A recommendation only created.
    let (empty, created) = Record::create(empty_id, RecordKind::Recommendation, 404);
    push(RecordKind::Recommendation, empty_id, &created, &mut ops);

    for (name, record) in [("recommendation", &anna), ("project", &project_doc), ("empty-recommendation", &empty)] {
        std::fs::write(dir.join(format!("{name}.state")), record.state()).unwrap();
        let summary = serde_json::to_string_pretty(&record.summary().unwrap()).unwrap();
        std::fs::write(dir.join(format!("{name}.summary.json")), summary + "\n").unwrap();
        std::fs::write(dir.join(format!("{name}.id")), record.id().to_string() + "\n").unwrap();
    }
    let body = sync::encode(&PushRequest { ops: ops.clone() });
    std::fs::write(dir.join("push.postcard"), &body).unwrap();

    // A server database holding them, pushed as the secretariat.
    let db = dir.join("server");
    let _ = std::fs::remove_dir_all(&db);
    std::fs::create_dir_all(&db).unwrap();
    let app = spawn_app_with(Config::for_data_dir(&db)).await.unwrap();
    let member = app.create_user(tern_domain::auth::Role::Member, Some("FI")).await;
    let _ = member;
    let response = app.client.post(app.url(PUSH_PATH)).header("content-type", sync::CONTENT_TYPE).body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let answer: PushResponse = sync::decode(&response.bytes().await.unwrap()).unwrap();
    assert!(answer.outcomes.iter().all(|(_, o)| matches!(o, sync::OpOutcome::Applied(_))), "{answer:?}");
    let response = app.get(&format!("{PULL_PATH}?since=0&limit=1000")).await;
    let bytes = response.bytes().await.unwrap();
    let _: PullResponse = sync::decode(&bytes).unwrap();
    std::fs::write(dir.join("pull.postcard"), &bytes).unwrap();
    app.stop().await;
}
