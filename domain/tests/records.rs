//! The typed record API as the app uses it, and what survives concurrent edits.

use tern_domain::record::{RecommendationStatus, Record, RecordId, RecordKind, SectionId, Update};
use tern_domain::region::FocusArea;

fn id() -> RecordId {
    RecordId::v7(1_760_000_000_000, [7; 10])
}

/// Two replicas of one new recommendation, both holding its creating update.
fn pair() -> (Record, Record) {
    let (a, created) = Record::create(id(), RecordKind::Recommendation, 1);
    let b = Record::empty(id(), 2);
    b.apply_update(&created.0).expect("applies");
    (a, b)
}

fn deliver(updates: &[Update], to: &Record) {
    for update in updates {
        to.apply_update(&update.0).expect("applies");
    }
}

fn section(n: u8) -> SectionId {
    SectionId(format!("s{n}"))
}

#[test]
fn sections_are_added_moved_edited_and_removed_in_order() {
    let (record, _) = Record::create(id(), RecordKind::Recommendation, 1);
    let rec = record.as_recommendation().expect("a recommendation");
    rec.insert_section(0, &section(1), "Background");
    rec.insert_section(1, &section(2), "Recommendations");
    rec.insert_section(1, &section(3), "Findings");
    let headings = |r: &Record| -> Vec<String> {
        r.as_recommendation()
            .expect("rec")
            .sections()
            .into_iter()
            .map(|s| s.heading)
            .collect()
    };
    assert_eq!(
        headings(&record),
        ["Background", "Findings", "Recommendations"]
    );

    rec.move_section(&section(1), 2);
    assert_eq!(
        headings(&record),
        ["Findings", "Recommendations", "Background"]
    );

    assert!(rec
        .set_section_body(&section(3), "Member states report …")
        .is_some());
    assert!(rec
        .set_section_body(&SectionId("missing".into()), "x")
        .is_none());
    rec.remove_section(&section(2));
    let sections = rec.sections();
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0].body, "Member states report …");

    rec.set_title("Recommendation on barnahus quality standards");
    rec.set_status(RecommendationStatus::MemberReview);
    rec.set_focus_area(FocusArea::SexualAbuseAndExploitation, true);
    let summary = rec.summary();
    assert_eq!(summary.status, RecommendationStatus::MemberReview);
    assert_eq!(summary.focus_areas, [FocusArea::SexualAbuseAndExploitation]);
    assert_eq!(
        summary.title,
        "Recommendation on barnahus quality standards"
    );
}

#[test]
fn two_members_editing_one_body_offline_both_keep_their_words() {
    let (a, b) = pair();
    let setup = vec![a
        .as_recommendation()
        .expect("rec")
        .insert_section(0, &section(1), "Scope")];
    deliver(&setup, &b);
    let body = "Children in care have a right to be heard.";
    let first = a
        .as_recommendation()
        .expect("rec")
        .set_section_body(&section(1), body);
    deliver(&[first.expect("section exists")], &b);

    // Offline: Tallinn adds at the start, Stockholm at the end.
    let from_a = a.as_recommendation().expect("rec").set_section_body(
        &section(1),
        "All children in care have a right to be heard.",
    );
    let from_b = b.as_recommendation().expect("rec").set_section_body(
        &section(1),
        "Children in care have a right to be heard in every decision.",
    );
    deliver(&[from_b.expect("section")], &a);
    deliver(&[from_a.expect("section")], &b);

    let merged = "All children in care have a right to be heard in every decision.";
    for replica in [&a, &b] {
        assert_eq!(
            replica.as_recommendation().expect("rec").sections()[0].body,
            merged
        );
    }
    let seen = |r: &Record| {
        use yrs::updates::decoder::Decode;
        yrs::StateVector::decode_v1(&r.state_vector()).expect("decodes")
    };
    assert_eq!(seen(&a), seen(&b));
}

#[test]
fn text_typed_into_a_section_survives_a_concurrent_move() {
    let (a, b) = pair();
    let rec_a = a.as_recommendation().expect("rec");
    let setup = vec![
        rec_a.insert_section(0, &section(1), "One"),
        rec_a.insert_section(1, &section(2), "Two"),
    ];
    deliver(&setup, &b);

    let moved = rec_a.move_section(&section(1), 1);
    let typed = b
        .as_recommendation()
        .expect("rec")
        .set_section_body(&section(1), "typed while it moved")
        .expect("section");
    deliver(&[typed], &a);
    deliver(&[moved], &b);

    for replica in [&a, &b] {
        let sections = replica.as_recommendation().expect("rec").sections();
        let order: Vec<_> = sections.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(order, ["Two", "One"]);
        assert_eq!(sections[1].body, "typed while it moved");
    }
}

#[test]
fn a_section_removed_while_someone_moves_it_stays_removed_and_moves_do_not_duplicate() {
    let (a, b) = pair();
    let rec_a = a.as_recommendation().expect("rec");
    let setup = vec![
        rec_a.insert_section(0, &section(1), "One"),
        rec_a.insert_section(1, &section(2), "Two"),
        rec_a.insert_section(2, &section(3), "Three"),
    ];
    deliver(&setup, &b);

    // Both move section 3 to the top at once; then A removes section 2 while B moves it.
    let a_moves = rec_a.move_section(&section(3), 0);
    let rec_b = b.as_recommendation().expect("rec");
    let b_moves = rec_b.move_section(&section(3), 0);
    let a_removes = rec_a.remove_section(&section(2));
    let b_moves_removed = rec_b.move_section(&section(2), 0);
    deliver(&[b_moves, b_moves_removed], &a);
    deliver(&[a_moves, a_removes], &b);

    for replica in [&a, &b] {
        let headings: Vec<_> = replica
            .as_recommendation()
            .expect("rec")
            .sections()
            .into_iter()
            .map(|s| s.heading)
            .collect();
        assert_eq!(headings, ["Three", "One"]);
    }
}

#[test]
fn project_fields_validate_and_merge() {
    let (a, created) = Record::create(id(), RecordKind::Project, 1);
    let b = Record::empty(id(), 2);
    b.apply_update(&created.0).expect("applies");
    let pa = a.as_project().expect("project");
    assert!(pa
        .set_dates(Some("2026-03-01"), Some("2026-02-01"))
        .is_err());
    assert!(pa.set_dates(Some("2026-02-30"), None).is_err());
    assert!(pa.set_country("XX", true).is_err());
    let updates = vec![
        pa.set_title("Barnahus in the Baltic Sea Region"),
        pa.set_dates(Some("2026-01-15"), Some("2027-06-30"))
            .expect("valid"),
        pa.set_country("EE", true).expect("member"),
    ];
    let pb = b.as_project().expect("project");
    let from_b = vec![
        pb.set_country("LT", true).expect("member"),
        pb.set_focus_area(FocusArea::OutOfHomeCare, true),
    ];
    deliver(&updates, &b);
    deliver(&from_b, &a);
    for replica in [&a, &b] {
        let summary = replica.as_project().expect("project").summary();
        assert_eq!(summary.countries, ["EE", "LT"]);
        assert_eq!(summary.start_date.as_deref(), Some("2026-01-15"));
        assert_eq!(summary.focus_areas, [FocusArea::OutOfHomeCare]);
        assert_eq!(summary.title, "Barnahus in the Baltic Sea Region");
    }
}

#[test]
fn a_saved_state_loads_into_the_same_record() {
    let (a, _) = Record::create(id(), RecordKind::Recommendation, 1);
    let rec = a.as_recommendation().expect("rec");
    rec.set_title("Saved");
    rec.insert_section(0, &section(1), "Kept");
    let loaded = Record::load(id(), 9, &a.state()).expect("loads");
    assert_eq!(loaded.summary(), a.summary());
}
