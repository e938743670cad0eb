//! Two people set one choice offline to different values: after sync both
//! replicas name both choices and who made them, until someone settles it.

mod common;

use common::*;
use tern_domain::record::{Claim, Conflict, FieldEdit, Record, RecordKind, Stamp};

fn author(user: &str, name: &str) -> Stamp {
    Stamp {
        user: user.into(),
        name: name.into(),
        at: 1,
    }
}

fn set_status(record: &Record, value: &str) -> tern_domain::record::Update {
    record
        .change(&top("status"), FieldEdit::Choice(Some(value.into())))
        .expect("set")
}

fn claim(value: &str, user: &str, name: &str) -> Claim {
    Claim {
        value: value.into(),
        user: user.into(),
        name: name.into(),
    }
}

#[test]
fn two_choices_made_at_once_are_both_shown_until_someone_settles_them() {
    let (anna, jonas) = pair(RecordKind::Recommendation);
    anna.set_author(Some(&author("u-anna", "Anna Berg")));
    jonas.set_author(Some(&author("u-jonas", "Jonas Lind")));
    // One after the other, each having seen the other's: no conflict.
    let first = set_status(&anna, "in_consultation");
    deliver(&[first], &jonas);
    let second = set_status(&jonas, "member_review");
    deliver(&[second], &anna);
    assert_eq!(anna.conflicts(), []);

    // Offline at the same time: both choices stay visible, on both replicas.
    let annas = set_status(&anna, "adopted");
    let jonass = set_status(&jonas, "withdrawn");
    deliver(&[jonass], &anna);
    deliver(&[annas], &jonas);
    let expected = vec![Conflict {
        field: "status".into(),
        claims: vec![
            claim("adopted", "u-anna", "Anna Berg"),
            claim("withdrawn", "u-jonas", "Jonas Lind"),
        ],
    }];
    assert_eq!(anna.conflicts(), expected);
    assert_eq!(jonas.conflicts(), expected);

    // Anna keeps Jonas's choice: settled everywhere.
    let conflict = &anna.conflicts()[0];
    let (path, keep) = conflict
        .keep(RecordKind::Recommendation.def(), &conflict.claims[1])
        .expect("an edit that keeps it");
    assert_eq!(path, top("status"));
    let settled = anna.change(&path, keep).expect("kept");
    deliver(&[settled], &jonas);
    assert_eq!(anna.conflicts(), []);
    assert_eq!(jonas.conflicts(), []);
}

#[test]
fn the_same_choice_made_twice_is_no_conflict_and_positions_conflict_per_member() {
    let (anna, jonas) = pair(RecordKind::Recommendation);
    anna.set_author(Some(&author("u-anna", "Anna Berg")));
    jonas.set_author(Some(&author("u-jonas", "Jonas Lind")));
    let a = set_status(&anna, "adopted");
    let b = set_status(&jonas, "adopted");
    let position = |record: &Record, value: &str| {
        record
            .change(
                &top("positions"),
                FieldEdit::Keyed {
                    key: "EE".into(),
                    value: Some(value.into()),
                },
            )
            .expect("position")
    };
    let c = position(&anna, "support");
    let d = position(&jonas, "reservation");
    deliver(&[b, d], &anna);
    deliver(&[a, c], &jonas);
    let conflicts = anna.conflicts();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].field, "positions.EE");
    let def = RecordKind::Recommendation.def();
    let (path, member, _) = conflicts[0].target(def).expect("a declared field");
    assert_eq!((path, member.as_deref()), (top("positions"), Some("EE")));
    // A replica without an author (the server) writes no claims.
    let (server, _) = Record::create(id(), RecordKind::Recommendation, 99);
    set_status(&server, "draft");
    assert!(server.claim_users().is_empty());
}
