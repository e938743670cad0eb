//! The record API as the app uses it (fields by path, from each kind's
//! declaration), what survives concurrent edits, and documents written before
//! the schema existed.

mod common;

use common::*;
use serde_json::json;
use tern_domain::record::schema::check_declaration;
use tern_domain::record::{
    Date, FieldEdit, FieldError, FieldPath, ItemId, Link, Record, RecordId, RecordKind, Update,
};

fn other(n: u8) -> RecordId {
    RecordId::v7(1_760_000_000_000, [n; 10])
}

fn body(n: u8) -> FieldPath {
    FieldPath::item("sections", section(n), "body")
}

fn move_section(record: &Record, n: u8, position: usize) -> Update {
    record
        .change(
            &top("sections"),
            FieldEdit::MoveItem {
                id: section(n),
                position,
            },
        )
        .expect("moved")
}

fn headings(record: &Record) -> Vec<String> {
    record
        .projection()
        .expect("kind")
        .items("sections")
        .iter()
        .map(|item| item["heading"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn every_declaration_is_consistent() {
    for kind in RecordKind::ALL {
        let def = kind.def();
        assert_eq!(def.kind, kind, "the registry is in RecordKind order");
        assert_eq!(check_declaration(def), Ok(()), "{kind:?}");
        assert_eq!(RecordKind::parse(def.tag), Some(kind));
        assert_eq!(RecordKind::from_path(def.path), Some(kind));
    }
}

#[test]
fn sections_are_added_moved_edited_and_removed_in_order() {
    let (record, _) = Record::create(id(), RecordKind::Recommendation, 1);
    add_section(&record, 0, 1, "Background");
    add_section(&record, 1, 2, "Recommendations");
    add_section(&record, 1, 3, "Findings");
    assert_eq!(
        headings(&record),
        ["Background", "Findings", "Recommendations"]
    );
    move_section(&record, 1, 2);
    assert_eq!(
        headings(&record),
        ["Findings", "Recommendations", "Background"]
    );
    record
        .change(&body(3), FieldEdit::Text("Member states report …".into()))
        .expect("the section exists");
    assert_eq!(
        record.change(&body(9), FieldEdit::Text("x".into())),
        Err(FieldError::NoSuchItem)
    );
    record
        .change(&top("sections"), FieldEdit::RemoveItem { id: section(2) })
        .expect("removed");
    // An item in a removed list refuses edits and changes nothing.
    let before = record.state();
    assert_eq!(
        record.change(&body(2), FieldEdit::Text("late".into())),
        Err(FieldError::NoSuchItem)
    );
    assert_eq!(record.state(), before);
    assert_eq!(headings(&record), ["Findings", "Background"]);
    assert_eq!(
        record.text(&body(3)).as_deref(),
        Some("Member states report …")
    );
}

#[test]
fn two_members_editing_one_body_offline_both_keep_their_words() {
    let (a, b) = pair(RecordKind::Recommendation);
    deliver(&add_section(&a, 0, 1, "Scope"), &b);
    let start = "Children in care have a right to be heard.";
    deliver(
        &[a.change(&body(1), FieldEdit::Text(start.into()))
            .expect("body")],
        &b,
    );
    // Offline: Tallinn adds at the start, Stockholm at the end.
    let from_a = a
        .change(
            &body(1),
            FieldEdit::Text("All children in care have a right to be heard.".into()),
        )
        .expect("body");
    let from_b = b
        .change(
            &body(1),
            FieldEdit::Text("Children in care have a right to be heard in every decision.".into()),
        )
        .expect("body");
    deliver(&[from_b], &a);
    deliver(&[from_a], &b);
    for replica in [&a, &b] {
        assert_eq!(
            replica.text(&body(1)).as_deref(),
            Some("All children in care have a right to be heard in every decision.")
        );
    }
}

#[test]
fn text_typed_into_a_section_survives_a_concurrent_move() {
    let (a, b) = pair(RecordKind::Recommendation);
    let mut setup = add_section(&a, 0, 1, "One");
    setup.extend(add_section(&a, 1, 2, "Two"));
    deliver(&setup, &b);
    let moved = move_section(&a, 1, 1);
    let typed = b
        .change(&body(1), FieldEdit::Text("typed while it moved".into()))
        .expect("section");
    deliver(&[typed], &a);
    deliver(&[moved], &b);
    for replica in [&a, &b] {
        assert_eq!(headings(replica), ["Two", "One"]);
        assert_eq!(
            replica.text(&body(1)).as_deref(),
            Some("typed while it moved")
        );
    }
}

#[test]
fn a_section_removed_while_someone_moves_it_stays_removed_and_moves_do_not_duplicate() {
    let (a, b) = pair(RecordKind::Recommendation);
    let mut setup = add_section(&a, 0, 1, "One");
    setup.extend(add_section(&a, 1, 2, "Two"));
    setup.extend(add_section(&a, 2, 3, "Three"));
    deliver(&setup, &b);
    // Both move section 3 to the top at once; then A removes section 2 while B moves it.
    let a_moves = move_section(&a, 3, 0);
    let b_moves = move_section(&b, 3, 0);
    let a_removes = a
        .change(&top("sections"), FieldEdit::RemoveItem { id: section(2) })
        .expect("removed");
    let b_moves_removed = move_section(&b, 2, 0);
    deliver(&[b_moves, b_moves_removed], &a);
    deliver(&[a_moves, a_removes], &b);
    for replica in [&a, &b] {
        assert_eq!(headings(replica), ["Three", "One"]);
    }
}

#[test]
fn fields_refuse_what_they_cannot_hold_and_change_nothing() {
    let (project, _) = Record::create(id(), RecordKind::Project, 1);
    let date = |text: &str| Date::parse(text).expect("a date");
    project
        .change(
            &top("start_date"),
            FieldEdit::Date(Some(date("2026-03-01"))),
        )
        .expect("start");
    let before = project.state();
    let refused = [
        (
            top("end_date"),
            FieldEdit::Date(Some(date("2026-02-01"))),
            FieldError::EndBeforeStart {
                earlier: "start_date",
                later: "end_date",
            },
        ),
        (
            top("countries"),
            FieldEdit::Include {
                value: "XX".into(),
                included: true,
            },
            FieldError::UnknownMember,
        ),
        (
            top("title"),
            FieldEdit::Text("ä".repeat(1_001)),
            FieldError::TooLong { max: 1_000 },
        ),
        (
            top("description"),
            FieldEdit::Text("Ąžuolas ".repeat(12_501)),
            FieldError::TooLong { max: 100_000 },
        ),
        (
            top("status"),
            FieldEdit::Choice(Some("finished".into())),
            FieldError::UnknownChoice,
        ),
        (
            top("implements"),
            FieldEdit::IncludeRef {
                target: other(2),
                kind: RecordKind::Person,
                included: true,
            },
            FieldError::WrongKind,
        ),
        (top("title"), FieldEdit::Date(None), FieldError::WrongEdit),
        (
            top("no_such_field"),
            FieldEdit::Text("x".into()),
            FieldError::UnknownField,
        ),
    ];
    for (path, edit, error) in refused {
        assert_eq!(project.change(&path, edit), Err(error), "{path}");
    }
    assert_eq!(project.state(), before);

    let (organisation, _) = Record::create(id(), RecordKind::Organisation, 1);
    assert_eq!(
        organisation.change(
            &top("parent"),
            FieldEdit::Ref(Some((id(), RecordKind::Organisation)))
        ),
        Err(FieldError::SelfReference)
    );
    assert_eq!(
        organisation.change(&top("website"), FieldEdit::Text("cbss dot org".into())),
        Err(FieldError::NotAUrl)
    );
    let (person, _) = Record::create(id(), RecordKind::Person, 1);
    assert_eq!(
        person.change(&top("email"), FieldEdit::Text("anna(at)sm.ee".into())),
        Err(FieldError::NotAnEmail)
    );
    assert_eq!(
        person.change(&top("phone"), FieldEdit::Text("call me".into())),
        Err(FieldError::NotAPhone)
    );
    person
        .change(&top("email"), FieldEdit::Text(" anna@sm.ee ".into()))
        .expect("an address");
    assert_eq!(person.text(&top("email")).as_deref(), Some("anna@sm.ee"));
}

#[test]
fn a_consultation_holds_participants_and_nested_follow_ups_and_links_them() {
    let (a, b) = pair(RecordKind::Consultation);
    let person = |n| other(n);
    let participant = |record: &Record, n: u8, role: &str| {
        let item = ItemId(format!("p{n}"));
        vec![
            record
                .change(
                    &top("participants"),
                    FieldEdit::InsertItem {
                        id: item.clone(),
                        position: 9,
                    },
                )
                .expect("inserted"),
            record
                .change(
                    &FieldPath::item("participants", item.clone(), "person"),
                    FieldEdit::Ref(Some((person(n), RecordKind::Person))),
                )
                .expect("person"),
            record
                .change(
                    &FieldPath::item("participants", item, "role"),
                    FieldEdit::Choice(Some(role.into())),
                )
                .expect("role"),
        ]
    };
    // Two secretariat staff add a participant each, offline.
    let from_a = participant(&a, 20, "speaker");
    let from_b = participant(&b, 21, "expert");
    deliver(&from_a, &b);
    deliver(&from_b, &a);
    let informs = a
        .change(
            &top("informs"),
            FieldEdit::IncludeRef {
                target: other(30),
                kind: RecordKind::Recommendation,
                included: true,
            },
        )
        .expect("a recommendation");
    deliver(&[informs], &b);
    // A participant who is not a person is refused.
    assert_eq!(
        a.change(
            &FieldPath::item("participants", ItemId("p20".into()), "person"),
            FieldEdit::Ref(Some((other(31), RecordKind::Organisation)))
        ),
        Err(FieldError::WrongKind)
    );
    for replica in [&a, &b] {
        let projection = replica.projection().expect("kind");
        let mut roles: Vec<&str> = projection
            .items("participants")
            .iter()
            .filter_map(|item| item["role"].as_str())
            .collect();
        roles.sort_unstable();
        assert_eq!(roles, ["expert", "speaker"]);
        let links = projection.links();
        assert_eq!(
            links,
            vec![
                Link {
                    target: person(20),
                    field: "participants.person".into()
                },
                Link {
                    target: person(21),
                    field: "participants.person".into()
                },
                Link {
                    target: other(30),
                    field: "informs".into()
                },
            ]
        );
    }
    // Follow-ups: an item list with a date and a done flag.
    let follow_up = ItemId("f1".into());
    a.change(
        &top("follow_ups"),
        FieldEdit::InsertItem {
            id: follow_up.clone(),
            position: 0,
        },
    )
    .expect("inserted");
    a.change(
        &FieldPath::item("follow_ups", follow_up.clone(), "title"),
        FieldEdit::Text("Share the Barnahus standards".into()),
    )
    .expect("title");
    a.change(
        &FieldPath::item("follow_ups", follow_up, "done"),
        FieldEdit::Flag(true),
    )
    .expect("done");
    let projection = a.projection().expect("kind");
    assert_eq!(
        projection.items("follow_ups")[0],
        json!({"id": "f1", "title": "Share the Barnahus standards", "owner": null, "due_date": null, "done": true})
    );
    assert!(projection
        .plain_text()
        .contains("Share the Barnahus standards"));
}

#[test]
fn a_saved_state_loads_into_the_same_record() {
    let (a, _) = Record::create(id(), RecordKind::Recommendation, 1);
    a.set_text("title", "Saved").expect("title");
    add_section(&a, 0, 1, "Kept");
    let loaded = Record::load(id(), 9, &a.state()).expect("loads");
    assert_eq!(loaded.projection(), a.projection());
}

/// Documents written by the code before the schema (`tests/fixtures/v1`):
/// read the same, take edits, and merge with replicas still on the old shape.
mod written_before_the_schema {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/../tests/fixtures/v1/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
    }

    fn load(name: &str) -> Record {
        let id: RecordId = String::from_utf8(fixture(&format!("{name}.id")))
            .expect("text")
            .trim()
            .parse()
            .expect("an id");
        Record::load(id, 77, &fixture(&format!("{name}.state"))).expect("loads")
    }

    #[test]
    fn a_recommendation_reads_as_it_did() {
        let record = load("recommendation");
        let old: serde_json::Value =
            serde_json::from_slice(&fixture("recommendation.summary.json")).expect("json");
        let projection = record.projection().expect("kind");
        assert_eq!(projection.kind, RecordKind::Recommendation);
        for key in ["title", "summary", "status", "focus_areas"] {
            assert_eq!(projection.get(key), old.get(key), "{key}");
        }
        // Each section as it was (heading and text), and no paragraphs: they
        // came later, and an old section's text stays its opening text.
        let sections: Vec<serde_json::Value> = projection
            .items("sections")
            .iter()
            .map(|section| {
                let mut section = section.clone();
                let paragraphs = section.as_object_mut().and_then(|s| s.remove("paragraphs"));
                assert_eq!(paragraphs, Some(serde_json::json!([])));
                section
            })
            .collect();
        assert_eq!(serde_json::Value::Array(sections), old["sections"]);
        assert_eq!(projection.text("preamble"), "");
        // The old shape listed positions as pairs; the projection keys them.
        assert_eq!(
            projection.per_member("positions"),
            [("FI", "support"), ("SE", "reservation")]
        );
        assert!(!projection.archived() && !projection.deleted());
    }

    #[test]
    fn a_project_reads_as_it_did() {
        let projection = load("project").projection().expect("kind");
        let old: serde_json::Value =
            serde_json::from_slice(&fixture("project.summary.json")).expect("json");
        for key in [
            "title",
            "description",
            "status",
            "start_date",
            "end_date",
            "focus_areas",
            "countries",
        ] {
            assert_eq!(projection.get(key), old.get(key), "{key}");
        }
        assert_eq!(projection.set("countries"), ["LT", "RU", "EU"]);
        assert_eq!(projection.refs("implements"), []);
    }

    #[test]
    fn old_documents_take_new_edits_and_merge_with_old_replicas() {
        let record = load("recommendation");
        let old_replica = load("recommendation");
        // New code edits a section the old code wrote and adds one.
        let edit = record
            .change(
                &FieldPath::item("sections", ItemId("s-scope".into()), "body"),
                FieldEdit::Text("Children under 18, and young adults leaving care.".into()),
            )
            .expect("the old section");
        let mut updates = vec![edit];
        updates.extend(add_section(&record, 0, 5, "Preamble"));
        deliver(&updates, &old_replica);
        assert_eq!(old_replica.projection(), record.projection());
        assert_eq!(
            headings(&old_replica),
            [
                "Preamble",
                "Introduction",
                "Measures",
                "Scope and definitions"
            ]
        );
        let empty = load("empty-recommendation").projection().expect("kind");
        assert_eq!(empty.choice("status"), Some("draft"));
        assert_eq!(empty.title(), "");
    }
}

/// Projections list sets, references and per-member values in one order on
/// every device, whatever order the edits came in.
#[test]
fn projections_order_sets_references_and_positions_the_same_everywhere() {
    let include = |record: &Record, key: &'static str, value: &str| {
        record
            .change(
                &FieldPath::top(key),
                FieldEdit::Include {
                    value: value.into(),
                    included: true,
                },
            )
            .expect("included");
    };
    let (practice, _) = Record::create(id(), RecordKind::GoodPractice, 1);
    for tag in ["barnahus", "Advocacy", "Child", "advocacy"] {
        include(&practice, "tags", tag);
    }
    let projection = practice.projection().expect("kind");
    assert_eq!(
        projection.set("tags"),
        ["Advocacy", "Child", "advocacy", "barnahus"],
        "by code point (screens order them for reading)"
    );

    let (recommendation, _) = Record::create(id(), RecordKind::Recommendation, 1);
    for n in [3, 1, 2] {
        recommendation
            .change(
                &FieldPath::top("cites"),
                FieldEdit::IncludeRef {
                    target: other(n),
                    kind: RecordKind::GoodPractice,
                    included: true,
                },
            )
            .expect("cited");
    }
    for (code, stance) in [
        ("SE", "support"),
        ("DK", "objection"),
        ("EE", "reservation"),
    ] {
        recommendation
            .change(
                &FieldPath::top("positions"),
                FieldEdit::Keyed {
                    key: code.into(),
                    value: Some(stance.into()),
                },
            )
            .expect("position");
    }
    let projection = recommendation.projection().expect("kind");
    let cited: Vec<RecordId> = projection.refs("cites");
    assert_eq!(cited, [other(1), other(2), other(3)]);
    assert_eq!(
        projection.per_member("positions"),
        [
            ("DK", "objection"),
            ("EE", "reservation"),
            ("SE", "support")
        ]
    );
    assert_eq!(
        projection.links(),
        [1, 2, 3]
            .map(|n| Link {
                target: other(n),
                field: "cites".into()
            })
            .to_vec(),
        "each target once, in the field's order"
    );
}

#[test]
fn an_edit_names_the_top_level_item_it_changes() {
    let title = top("title");
    assert_eq!(
        FieldEdit::Text("x".into()).top_item(&title),
        None,
        "outside every list"
    );
    let in_section = body(1);
    assert_eq!(
        FieldEdit::Text("x".into()).top_item(&in_section),
        Some(("sections", &section(1))),
        "the section whose body changes"
    );
    let list = top("sections");
    for edit in [
        FieldEdit::InsertItem {
            id: section(2),
            position: 0,
        },
        FieldEdit::MoveItem {
            id: section(2),
            position: 3,
        },
        FieldEdit::RemoveItem { id: section(2) },
    ] {
        assert_eq!(
            edit.top_item(&list),
            Some(("sections", &section(2))),
            "{edit:?}"
        );
    }
    // A list inside an item marks the outer item, where an outline points.
    let nested = FieldPath::item("sections", section(3), "notes");
    let edit = FieldEdit::InsertItem {
        id: section(4),
        position: 0,
    };
    assert_eq!(edit.top_item(&nested), Some(("sections", &section(3))));
}
