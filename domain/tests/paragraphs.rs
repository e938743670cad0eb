//! A recommendation's numbered paragraphs: split at the cursor, merged into
//! the one before, and what concurrent splits, merges and typing keep.

mod common;

use common::*;
use tern_domain::record::{FieldEdit, FieldError, FieldPath, ItemId, Record, RecordKind, Update};

fn list(n: u8) -> FieldPath {
    FieldPath::item("sections", section(n), "paragraphs")
}

fn text(n: u8, paragraph: &str) -> FieldPath {
    list(n).child(ItemId(paragraph.into()), "text")
}

fn add(record: &Record, n: u8, paragraph: &str, words: &str) -> Vec<Update> {
    let position = record.item_ids(&list(n)).len();
    vec![
        record
            .change(
                &list(n),
                FieldEdit::InsertItem {
                    id: ItemId(paragraph.into()),
                    position,
                },
            )
            .expect("inserted"),
        record
            .change(&text(n, paragraph), FieldEdit::Text(words.into()))
            .expect("typed"),
    ]
}

fn split(
    record: &Record,
    n: u8,
    paragraph: &str,
    new: &str,
    at: u32,
) -> Result<Update, FieldError> {
    record.change(
        &list(n),
        FieldEdit::SplitItem {
            id: ItemId(paragraph.into()),
            new_id: ItemId(new.into()),
            at,
        },
    )
}

fn texts(record: &Record, n: u8) -> Vec<String> {
    record
        .item_ids(&list(n))
        .into_iter()
        .map(|paragraph| {
            record
                .text(&list(n).child(paragraph, "text"))
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn a_paragraph_splits_in_two_at_the_cursor_and_the_new_one_follows_it() {
    let (record, _) = Record::create(id(), RecordKind::Recommendation, 1);
    add_section(&record, 0, 1, "Guardianship");
    add(
        &record,
        1,
        "p1",
        "A guardian is appointed at once. The child is heard.",
    );
    add(&record, 1, "p2", "Training is provided.");
    split(&record, 1, "p1", "p3", 33).expect("splits");
    assert_eq!(
        texts(&record, 1),
        [
            "A guardian is appointed at once. ",
            "The child is heard.",
            "Training is provided."
        ]
    );
    // At the very end: a new empty paragraph after it; past the end counts as the end.
    split(&record, 1, "p2", "p4", 999).expect("splits");
    assert_eq!(texts(&record, 1).last().map(String::as_str), Some(""));
    // Offsets count UTF-16 units, as the browser's cursor does.
    add(&record, 1, "p5", "Ąžuolas 👧 vaikas");
    split(&record, 1, "p5", "p6", 10).expect("after the emoji's two units");
    assert_eq!(texts(&record, 1)[4..], ["Ąžuolas 👧", " vaikas"]);
    assert_eq!(
        split(&record, 1, "p6", "p3", 0),
        Err(FieldError::ItemExists)
    );
    assert_eq!(
        split(&record, 1, "nope", "p7", 0),
        Err(FieldError::NoSuchItem)
    );
    // Sections are not one flowing text: they do not split.
    assert_eq!(
        record.change(
            &top("sections"),
            FieldEdit::SplitItem {
                id: section(1),
                new_id: section(2),
                at: 0
            }
        ),
        Err(FieldError::WrongEdit)
    );
}

#[test]
fn words_typed_into_the_part_that_moved_are_kept_when_a_colleague_splits() {
    let (a, b) = pair(RecordKind::Recommendation);
    let mut updates = add_section(&a, 0, 1, "Guardianship");
    updates.extend(add(&a, 1, "p1", "First sentence. Second sentence."));
    deliver(&updates, &b);
    // Offline at the same time: A splits after "First sentence. ", B types into the second.
    let split_update = split(&a, 1, "p1", "p2", 16).expect("splits");
    let typed = b
        .change(
            &text(1, "p1"),
            FieldEdit::Text("First sentence. Second, longer sentence.".into()),
        )
        .expect("typed");
    deliver(&[typed], &a);
    deliver(&[split_update], &b);
    assert_eq!(texts(&a, 1), texts(&b, 1), "both replicas agree");
    let all = texts(&a, 1).join("|");
    assert!(all.contains(", longer"), "B's words are kept: {all}");
    assert!(all.contains("First sentence."), "{all}");
    assert_eq!(texts(&a, 1).len(), 2);
}

fn merge(record: &Record, n: u8, paragraph: &str, into: &str) -> Result<Update, FieldError> {
    record.change(
        &list(n),
        FieldEdit::MergeItem {
            id: ItemId(paragraph.into()),
            into: ItemId(into.into()),
        },
    )
}

#[test]
fn a_paragraph_merges_into_the_one_before_and_undoing_the_split_is_a_merge() {
    let (record, _) = Record::create(id(), RecordKind::Recommendation, 1);
    add_section(&record, 0, 1, "Guardianship");
    add(&record, 1, "p1", "A guardian is appointed at once.");
    add(&record, 1, "p2", "The child is heard.");
    add(&record, 1, "p3", "Training is provided.");
    merge(&record, 1, "p2", "p1").expect("merges");
    assert_eq!(
        texts(&record, 1),
        [
            "A guardian is appointed at once. The child is heard.",
            "Training is provided."
        ],
        "one space between the sentences, and the merged paragraph is gone"
    );
    // A split and a merge at the same place give the text back.
    split(&record, 1, "p1", "p4", 33).expect("splits");
    merge(&record, 1, "p4", "p1").expect("merges");
    assert_eq!(
        texts(&record, 1)[0],
        "A guardian is appointed at once. The child is heard."
    );
    assert_eq!(
        merge(&record, 1, "p2", "p1"),
        Err(FieldError::NoSuchItem),
        "merged already"
    );
    assert_eq!(merge(&record, 1, "p1", "p1"), Err(FieldError::WrongEdit));
    assert_eq!(
        record.change(
            &top("sections"),
            FieldEdit::MergeItem {
                id: section(1),
                into: section(1)
            }
        ),
        Err(FieldError::WrongEdit),
        "sections do not merge"
    );
}

#[test]
fn words_typed_into_a_paragraph_a_colleague_merged_bring_it_back() {
    let (a, b) = pair(RecordKind::Recommendation);
    let mut updates = add_section(&a, 0, 1, "Guardianship");
    updates.extend(add(&a, 1, "p1", "A guardian is appointed."));
    updates.extend(add(&a, 1, "p2", "The child is heard."));
    deliver(&updates, &b);
    // Offline at the same time: A merges p2 into p1; B adds words to p2.
    let merged = merge(&a, 1, "p2", "p1").expect("merges");
    let typed = b
        .change(
            &text(1, "p2"),
            FieldEdit::Text("The child is heard in person.".into()),
        )
        .expect("typed");
    deliver(&[typed], &a);
    deliver(&[merged], &b);
    assert_eq!(texts(&a, 1), texts(&b, 1), "both replicas agree");
    assert_eq!(
        texts(&a, 1),
        [
            "A guardian is appointed. The child is heard.",
            "The child is heard in person."
        ],
        "B's paragraph is back with B's words"
    );
    assert_eq!(
        a.merged_back(&list(1)),
        [ItemId("p2".into())],
        "and says why"
    );
}

#[test]
fn a_paragraph_merged_into_one_a_colleague_removed_comes_back() {
    let (a, b) = pair(RecordKind::Recommendation);
    let mut updates = add_section(&a, 0, 1, "Guardianship");
    updates.extend(add(&a, 1, "p1", "Old wording."));
    updates.extend(add(&a, 1, "p2", "Kept words."));
    deliver(&updates, &b);
    let merged = merge(&a, 1, "p2", "p1").expect("merges");
    let removed = b
        .change(
            &list(1),
            FieldEdit::RemoveItem {
                id: ItemId("p1".into()),
            },
        )
        .expect("removed");
    deliver(&[removed], &a);
    deliver(&[merged], &b);
    assert_eq!(texts(&a, 1), texts(&b, 1));
    assert_eq!(
        texts(&a, 1),
        ["Kept words."],
        "B removed only p1's own words"
    );
}

/// Three members offline, each moving, splitting, merging, removing and
/// typing into one section's paragraphs; then everything is delivered in a
/// random order. All agree, and every word typed (a unique token) is still
/// in a paragraph shown, unless its paragraph was removed on purpose.
#[test]
fn concurrent_moves_splits_merges_and_typing_keep_every_word() {
    for seed in 0..300u64 {
        let mut rng = Rng(seed);
        let (a, created) = Record::create(id(), RecordKind::Recommendation, 1);
        let mut base = vec![created];
        base.extend(add_section(&a, 0, 1, "Guardianship"));
        for n in 0..4 {
            base.extend(add(&a, 1, &format!("p{n}"), &format!("w{n}")));
        }
        let replicas: Vec<Record> = (0..3u64)
            .map(|n| {
                let replica = Record::empty(id(), 10 + n);
                deliver(&base, &replica);
                replica
            })
            .collect();
        let mut sent: Vec<Update> = Vec::new();
        let mut typed: Vec<String> = Vec::new();
        let mut removed_on_purpose = false;
        for step in 0..12 {
            let replica = &replicas[rng.below(3)];
            let ids = replica.item_ids(&list(1));
            let pick = |rng: &mut Rng| ids[rng.below(ids.len())].0.clone();
            let update = match rng.below(6) {
                0 if ids.len() > 1 => {
                    let at = 1 + rng.below(ids.len() - 1);
                    merge(replica, 1, &ids[at].0, &ids[at - 1].0).ok()
                }
                1 if !ids.is_empty() => {
                    // Between words (the tokens are ASCII: bytes are UTF-16 units).
                    let paragraph = pick(&mut rng);
                    let current = replica.text(&text(1, &paragraph)).unwrap_or_default();
                    let mut places: Vec<usize> =
                        current.match_indices(' ').map(|(at, _)| at + 1).collect();
                    places.extend([0, current.len()]);
                    let at = places[rng.below(places.len())] as u32;
                    split(replica, 1, &paragraph, &format!("n{seed}-{step}"), at).ok()
                }
                2 if !ids.is_empty() => replica
                    .change(
                        &list(1),
                        FieldEdit::MoveItem {
                            id: ItemId(pick(&mut rng)),
                            position: rng.below(ids.len()),
                        },
                    )
                    .ok(),
                3 if ids.len() > 3 && !removed_on_purpose => {
                    removed_on_purpose = true;
                    replica
                        .change(
                            &list(1),
                            FieldEdit::RemoveItem {
                                id: ItemId(pick(&mut rng)),
                            },
                        )
                        .ok()
                }
                _ if !ids.is_empty() => {
                    let paragraph = pick(&mut rng);
                    let token = format!("t{seed}x{step}");
                    let current = replica.text(&text(1, &paragraph)).unwrap_or_default();
                    let words = format!("{current} {token}");
                    typed.push(token);
                    replica
                        .change(&text(1, &paragraph), FieldEdit::Text(words))
                        .ok()
                }
                _ => None,
            };
            sent.extend(update);
        }
        // Everyone gets everything, each in its own order.
        for replica in &replicas {
            let mut order: Vec<&Update> = sent.iter().collect();
            for index in (1..order.len()).rev() {
                order.swap(index, rng.below(index + 1));
            }
            for update in order {
                replica.apply_update(&update.0).expect("applies");
            }
        }
        let shown = texts(&replicas[0], 1);
        for replica in &replicas[1..] {
            assert_eq!(texts(replica, 1), shown, "seed {seed}: replicas differ");
        }
        if !removed_on_purpose {
            let all = shown.join(" ");
            for token in &typed {
                assert!(
                    all.contains(token.as_str()),
                    "seed {seed}: {token} lost from {shown:?}"
                );
            }
        }
    }
}
