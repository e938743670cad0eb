//! Suggestions: a change proposed offline without changing the text, shown
//! with its author, accepted later by someone else as one edit; refused with
//! both versions when the passage changed meanwhile; decided once.

mod common;

use common::*;
use tern_domain::auth::{check_suggestions, Access, Denied, Role, UserId};
use tern_domain::record::{
    Anchor, Decision, FieldPath, Record, RecordKind, Stamp, Suggestion, SuggestionError,
};

fn member() -> Stamp {
    Stamp {
        user: "u-jonas".into(),
        name: "Jonas Lind".into(),
        at: 2_000,
    }
}

fn secretariat() -> Stamp {
    Stamp {
        user: "u-anna".into(),
        name: "Anna Berg".into(),
        at: 3_000,
    }
}

fn summary() -> FieldPath {
    top("summary")
}

fn text(record: &Record) -> String {
    record.text(&summary()).expect("text")
}

fn utf16(text: &str, part: &str) -> (u32, u32) {
    let start = text.find(part).expect("part is in the text");
    let before = text[..start].encode_utf16().count() as u32;
    (before, before + part.encode_utf16().count() as u32)
}

fn only(record: &Record) -> Suggestion {
    let all = record.suggestions();
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().expect("one")
}

const TEXT: &str = "A guardian is appointed within a month.";

#[test]
fn a_suggestion_made_offline_is_accepted_later_by_someone_else_as_one_edit() {
    let (a, b) = pair(RecordKind::Recommendation);
    deliver(&[a.set_text_at(&summary(), TEXT).expect("text")], &b);
    // Jonas, offline, proposes "a week" for "a month"; the text is unchanged.
    let proposed = b
        .suggest(
            &summary(),
            utf16(TEXT, "a month"),
            "s1",
            &member(),
            "a week",
        )
        .expect("suggested");
    assert_eq!(text(&b), TEXT);
    deliver(&[proposed], &a);
    let seen = only(&a);
    assert_eq!(
        (
            seen.original.as_str(),
            seen.replacement.as_str(),
            seen.by.name.as_str()
        ),
        ("a month", "a week", "Jonas Lind")
    );
    assert!(seen.applies() && seen.decision.is_none());
    // Anna accepts: the change and the decision are one edit.
    let accepted = a.accept_suggestion("s1", &secretariat()).expect("accepted");
    deliver(&[accepted], &b);
    for replica in [&a, &b] {
        assert_eq!(text(replica), "A guardian is appointed within a week.");
        assert!(
            matches!(only(replica).decision, Some(Decision::Accepted(ref by)) if by.name == "Anna Berg")
        );
    }
    assert_eq!(
        a.accept_suggestion("s1", &secretariat()).err(),
        Some(SuggestionError::Decided)
    );
}

#[test]
fn a_stale_suggestion_is_refused_with_both_versions() {
    let (a, b) = pair(RecordKind::Recommendation);
    deliver(&[a.set_text_at(&summary(), TEXT).expect("text")], &b);
    let first = b
        .suggest(
            &summary(),
            utf16(TEXT, "a month"),
            "s1",
            &member(),
            "a week",
        )
        .expect("suggested");
    let second = b
        .suggest(
            &summary(),
            utf16(TEXT, "a month"),
            "s2",
            &member(),
            "three days",
        )
        .expect("suggested");
    deliver(&[first, second], &a);
    deliver(
        &[a.accept_suggestion("s1", &secretariat()).expect("accepted")],
        &b,
    );
    assert_eq!(
        b.accept_suggestion("s2", &secretariat()).err(),
        Some(SuggestionError::Stale {
            then: "a month".into(),
            now: "…guardian is appointed within a week.".into(),
        })
    );
    // A rejection leaves the text as it is.
    let rejected = b.reject_suggestion("s2", &secretariat()).expect("rejected");
    deliver(&[rejected], &a);
    assert_eq!(text(&a), "A guardian is appointed within a week.");
}

#[test]
fn insertions_and_deletions_are_suggestions_too() {
    let (a, b) = pair(RecordKind::Recommendation);
    deliver(&[a.set_text_at(&summary(), TEXT).expect("text")], &b);
    let at = utf16(TEXT, " within").0;
    let insert = b
        .suggest(&summary(), (at, at), "s1", &member(), " by a court")
        .expect("suggested");
    let delete = b
        .suggest(&summary(), utf16(TEXT, "A guardian "), "s2", &member(), "")
        .expect("suggested");
    deliver(&[insert, delete], &a);
    // Someone types elsewhere meanwhile: both still apply where they were made.
    deliver(
        &[b.set_text_at(&summary(), &format!("{TEXT} Always."))
            .expect("typed")],
        &a,
    );
    deliver(
        &[a.accept_suggestion("s1", &secretariat()).expect("insert")],
        &b,
    );
    deliver(
        &[b.accept_suggestion("s2", &secretariat()).expect("delete")],
        &a,
    );
    for replica in [&a, &b] {
        assert_eq!(
            text(replica),
            "is appointed by a court within a month. Always."
        );
    }
    assert_eq!(
        a.suggest(&summary(), (0, 2), "s3", &member(), "is").err(),
        Some(SuggestionError::NoChange)
    );
}

#[test]
fn a_suggestion_on_words_since_deleted_cannot_apply() {
    let (a, b) = pair(RecordKind::Recommendation);
    deliver(&[a.set_text_at(&summary(), TEXT).expect("text")], &b);
    let proposed = b
        .suggest(
            &summary(),
            utf16(TEXT, "within a month"),
            "s1",
            &member(),
            "at once",
        )
        .expect("suggested");
    deliver(&[proposed], &a);
    deliver(
        &[a.set_text_at(&summary(), "A guardian is appointed.")
            .expect("cut")],
        &b,
    );
    let seen = only(&b);
    assert_eq!(seen.anchor, Anchor::Deleted);
    assert!(!seen.applies());
    assert!(matches!(
        b.accept_suggestion("s1", &secretariat()),
        Err(SuggestionError::Stale { .. })
    ));
}

/// Two people accept one suggestion at once: the server takes the first
/// decision and refuses the second, so the change is made once.
#[test]
fn a_suggestion_is_decided_once() {
    let editor = Access {
        role: Role::Member,
        member_state: Some("FI".into()),
    };
    let (a, b) = pair(RecordKind::Recommendation);
    deliver(&[a.set_text_at(&summary(), TEXT).expect("text")], &b);
    let proposed = a
        .suggest(
            &summary(),
            utf16(TEXT, "a month"),
            "s1",
            &member(),
            "a week",
        )
        .expect("suggested");
    deliver(&[proposed], &b);
    let server = Record::empty(common::id(), 9);
    deliver(&[tern_domain::record::Update(a.state())], &server);
    let anna = UserId("u-anna".into());
    let first = a.accept_suggestion("s1", &secretariat()).expect("accepted");
    let second = b
        .accept_suggestion("s1", &secretariat())
        .expect("accepted offline too");
    let before = server.suggestion_entries();
    deliver(&[first], &server);
    let after = server.suggestion_entries();
    assert_eq!(check_suggestions(&editor, &anna, &before, &after), Ok(()));
    let before = after;
    let copy = Record::load(common::id(), 10, &server.state()).expect("loads");
    deliver(&[second], &copy);
    assert_eq!(
        check_suggestions(&editor, &anna, &before, &copy.suggestion_entries()),
        Err(Denied::Decided)
    );
    // Only the author writes a suggestion; an observer decides nothing.
    let observer = Access {
        role: Role::Observer,
        member_state: None,
    };
    let before = server.suggestion_entries();
    let forged = server
        .suggest(&summary(), (0, 1), "s2", &member(), "The")
        .expect("suggested");
    let _ = forged;
    assert_eq!(
        check_suggestions(&editor, &anna, &before, &server.suggestion_entries()),
        Err(Denied::NotYourComment)
    );
    let (c, _) = pair(RecordKind::Recommendation);
    c.set_text_at(&summary(), TEXT).expect("text");
    c.suggest(&summary(), (0, 1), "s1", &member(), "The")
        .expect("suggested");
    let before = c.suggestion_entries();
    c.reject_suggestion("s1", &secretariat()).expect("rejected");
    assert_eq!(
        check_suggestions(&observer, &anna, &before, &c.suggestion_entries()),
        Err(Denied::ReadOnly)
    );
}
