//! Undo of my own edits: a colleague's words that arrived meanwhile stay, the
//! undo is an update that syncs, redo brings the words back, and fields that
//! are not text are not undone.

use std::sync::atomic::{AtomicU64, Ordering};
use tern_domain::record::{FieldEdit, FieldPath, Record, RecordId, RecordKind, UndoHistory};

/// A clock a second apart on every reading: each edit is an undo step of its own.
fn ticking() -> u64 {
    static NOW: AtomicU64 = AtomicU64::new(0);
    NOW.fetch_add(1_000, Ordering::Relaxed)
}

fn pair() -> (Record, Record) {
    let id = RecordId::v7(1_760_000_000_000, [9; 10]);
    let (a, created) = Record::create(id, RecordKind::Recommendation, 1);
    let b = Record::empty(id, 2);
    b.apply_update(&created.0).expect("applies");
    (a, b)
}

fn summary() -> FieldPath {
    FieldPath::top("summary")
}

fn type_text(record: &Record, text: &str) -> Vec<u8> {
    record
        .change(&summary(), FieldEdit::Text(text.into()))
        .expect("typed")
        .0
}

#[test]
fn undo_takes_back_my_words_and_leaves_a_colleagues() {
    let (anna, jonas) = pair();
    let mut history = UndoHistory::new(&anna, ticking).expect("kind known");
    assert!(!history.can_undo());
    let typed = type_text(&anna, "Anna writes.");
    jonas.apply_update(&typed).expect("applies");
    // Jonas adds his sentence; it reaches Anna.
    let his = type_text(&jonas, "Anna writes. Jonas adds.");
    anna.apply_update(&his).expect("applies");
    assert!(history.can_undo(), "Anna's typing is hers to undo");

    let undo = history.undo(&anna).expect("something to undo");
    assert_eq!(anna.text(&summary()).as_deref(), Some(" Jonas adds."));
    // The undo is an edit like any other: it syncs.
    jonas.apply_update(&undo.0).expect("applies");
    assert_eq!(jonas.text(&summary()), anna.text(&summary()));
    // Nothing more of Anna's to undo: Jonas's words are not hers.
    assert!(history.undo(&anna).is_none());
    assert_eq!(anna.text(&summary()).as_deref(), Some(" Jonas adds."));

    let redo = history.redo(&anna).expect("something to redo");
    assert_eq!(
        anna.text(&summary()).as_deref(),
        Some("Anna writes. Jonas adds.")
    );
    jonas.apply_update(&redo.0).expect("applies");
    assert_eq!(jonas.text(&summary()), anna.text(&summary()));
}

#[test]
fn undo_is_scoped_to_text_and_items_not_status_or_positions() {
    let (anna, _) = pair();
    let mut history = UndoHistory::new(&anna, ticking).expect("kind known");
    type_text(&anna, "A summary.");
    anna.change(
        &FieldPath::top("status"),
        FieldEdit::Choice(Some("adopted".into())),
    )
    .expect("status");
    anna.change(
        &FieldPath::top("sections"),
        FieldEdit::InsertItem {
            id: tern_domain::record::ItemId("s1".into()),
            position: 0,
        },
    )
    .expect("section");
    // The section is undone, then the text; the status stays.
    history.undo(&anna).expect("the section");
    assert!(anna.item_ids(&FieldPath::top("sections")).is_empty());
    assert_eq!(anna.text(&summary()).as_deref(), Some("A summary."));
    history.undo(&anna).expect("the text");
    assert_eq!(anna.text(&summary()).as_deref(), Some(""));
    assert!(history.undo(&anna).is_none());
    let status = anna.read(&FieldPath::top("status"));
    assert_eq!(status, Some(serde_json::json!("adopted")));
}

#[test]
fn edits_close_in_time_are_one_step_until_the_step_is_ended() {
    fn frozen() -> u64 {
        1_000_000
    }
    let (anna, _) = pair();
    let mut history = UndoHistory::new(&anna, frozen).expect("kind known");
    anna.change(&FieldPath::top("title"), FieldEdit::Text("Title".into()))
        .expect("title");
    type_text(&anna, "One.");
    type_text(&anna, "One. Two.");
    history.undo(&anna).expect("one step");
    assert_eq!(anna.text(&FieldPath::top("title")).as_deref(), Some(""));
    assert_eq!(anna.text(&summary()).as_deref(), Some(""));
    history.redo(&anna).expect("back");
    history.end_step();
    type_text(&anna, "One. Two. Three.");
    history.undo(&anna).expect("the last step alone");
    assert_eq!(anna.text(&summary()).as_deref(), Some("One. Two."));
    assert_eq!(
        anna.text(&FieldPath::top("title")).as_deref(),
        Some("Title")
    );
}
