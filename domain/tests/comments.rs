//! Comments anchored to a passage: they stay on its words while others edit
//! around them, on every replica alike; a passage whose words are gone says
//! so and keeps its quote; threads, replies, resolving and hiding; and the
//! server's rule that only an author writes their comment.

mod common;

use common::*;
use tern_domain::auth::{check_comments, Access, Denied, Role, UserId};
use tern_domain::record::{
    Anchor, CommentError, FieldEdit, FieldPath, Record, RecordKind, Stamp, Thread,
};

fn anna() -> Stamp {
    Stamp {
        user: "u-anna".into(),
        name: "Anna Berg".into(),
        at: 1_000,
    }
}

fn jonas() -> Stamp {
    Stamp {
        user: "u-jonas".into(),
        name: "Jonas Lind".into(),
        at: 2_000,
    }
}

fn summary() -> FieldPath {
    top("summary")
}

fn set(record: &Record, text: &str) -> tern_domain::record::Update {
    record.set_text_at(&summary(), text).expect("text")
}

fn utf16(text: &str, part: &str) -> (u32, u32) {
    let start = text.find(part).expect("part is in the text");
    let before = text[..start].encode_utf16().count() as u32;
    (before, before + part.encode_utf16().count() as u32)
}

fn only(record: &Record) -> Thread {
    let threads = record.threads();
    assert_eq!(threads.len(), 1, "{threads:?}");
    threads.into_iter().next().expect("one")
}

fn on(thread: &Thread) -> Option<&str> {
    match &thread.anchor {
        Anchor::Text { text, .. } => Some(text),
        _ => None,
    }
}

#[test]
fn a_comment_stays_on_its_words_while_others_edit_around_them_offline() {
    let (a, b) = pair(RecordKind::Recommendation);
    let text = "Every child placed in care has a guardian.";
    deliver(&[set(&a, text)], &b);
    // Both offline: Anna comments on "has a guardian", Jonas edits around it.
    let (start, end) = utf16(text, "has a guardian");
    let comment = a
        .comment_on(
            Some((&summary(), start, end)),
            "c1",
            &anna(),
            "Within a week?",
        )
        .expect("commented");
    // Typed in two places and saved together, as the app saves what was
    // typed within 300 ms: two insertions, the passage between them kept.
    let edit = set(
        &b,
        "Every unaccompanied child placed in care has a guardian appointed promptly.",
    );
    deliver(&[edit], &a);
    deliver(&[comment], &b);
    for replica in [&a, &b] {
        let thread = only(replica);
        assert_eq!(on(&thread), Some("has a guardian"), "{thread:?}");
        assert_eq!(thread.quote, "has a guardian");
        assert_eq!(thread.comments[0].text, "Within a week?");
        assert_eq!(thread.comments[0].by.name, "Anna Berg");
        assert_eq!(thread.path, Some(summary()));
    }
    // Words typed inside the passage belong to it.
    let inside = set(
        &b,
        "Every unaccompanied child placed in care has a qualified guardian appointed promptly.",
    );
    deliver(&[inside], &a);
    assert_eq!(on(&only(&a)), Some("has a qualified guardian"));
    // Offsets are UTF-16, as the browser counts: after an emoji and "ø".
    let moved = set(
        &a,
        "🙂 Hvert barn: every unaccompanied child placed in care has a qualified guardian appointed promptly.",
    );
    deliver(&[moved], &b);
    let thread = only(&b);
    let Anchor::Text { start, end, .. } = thread.anchor else {
        panic!("{thread:?}");
    };
    let now = b.text(&summary()).expect("text");
    assert_eq!((start, end), utf16(&now, "has a qualified guardian"));
}

#[test]
fn a_passage_whose_words_were_deleted_keeps_its_quote() {
    let (a, b) = pair(RecordKind::Recommendation);
    let text = "States should train guardians. They report yearly.";
    deliver(&[set(&a, text)], &b);
    let (start, end) = utf16(text, "train guardians");
    let comment = a
        .comment_on(
            Some((&summary(), start, end)),
            "c1",
            &anna(),
            "Who trains them?",
        )
        .expect("commented");
    deliver(&[comment], &b);
    deliver(&[set(&b, "States report yearly.")], &a);
    for replica in [&a, &b] {
        let thread = only(replica);
        assert_eq!(thread.anchor, Anchor::Deleted);
        assert_eq!(thread.quote, "train guardians");
    }
    // Words replaced by others are replaced whole, not kept where the two
    // share letters: the passage is gone, not a few letters of it.
    let text = "Each child has a guardian within a week. Review yearly.";
    deliver(&[set(&a, text)], &b);
    let (start, end) = utf16(text, "guardian within a week");
    let second = a
        .comment_on(Some((&summary(), start, end)), "c2", &anna(), "Too slow?")
        .expect("commented");
    deliver(&[second], &b);
    let replaced = set(&b, "Each child has a named person at once. Review yearly.");
    deliver(&[replaced], &a);
    let thread = a
        .threads()
        .into_iter()
        .find(|t| t.id == "c2")
        .expect("thread");
    assert_eq!(thread.anchor, Anchor::Deleted);
    // A letter typed into a word is just that letter.
    let (c, d) = pair(RecordKind::Recommendation);
    deliver(&[set(&c, "the guardian acts")], &d);
    let third = c
        .comment_on(Some((&summary(), 4, 12)), "c3", &anna(), "Which?")
        .expect("commented");
    deliver(&[third], &d);
    deliver(&[set(&d, "the guardians act")], &c);
    assert_eq!(on(&only(&c)), Some("guardian"));
}

#[test]
fn a_comment_on_a_removed_section_is_kept_and_says_so() {
    let (a, b) = pair(RecordKind::Recommendation);
    let mut updates = add_section(&a, 0, 1, "Guardianship");
    let body = FieldPath::item("sections", section(1), "body");
    updates.push(a.set_text_at(&body, "Appoint a guardian.").expect("body"));
    deliver(&updates, &b);
    let comment = b
        .comment_on(Some((&body, 0, 7)), "c1", &jonas(), "Who appoints?")
        .expect("commented");
    let removed = a
        .change(&top("sections"), FieldEdit::RemoveItem { id: section(1) })
        .expect("removed");
    deliver(&[comment], &a);
    deliver(&[removed], &b);
    for replica in [&a, &b] {
        let thread = only(replica);
        assert_eq!(thread.anchor, Anchor::Removed);
        assert_eq!(thread.quote, "Appoint");
    }
}

#[test]
fn a_passage_not_synced_yet_waits_without_failing() {
    let (a, b) = pair(RecordKind::Recommendation);
    let typed = set(&a, "Words only Anna has.");
    let comment = a
        .comment_on(Some((&summary(), 0, 5)), "c1", &anna(), "Mine")
        .expect("commented");
    // The comment arrives before the words it is on.
    deliver(&[comment], &b);
    assert_eq!(only(&b).anchor, Anchor::Waiting);
    deliver(&[typed], &b);
    assert_eq!(on(&only(&b)), Some("Words"));
}

#[test]
fn threads_have_replies_resolve_and_reopen_and_hide() {
    let (a, b) = pair(RecordKind::Recommendation);
    deliver(&[set(&a, "Guardians are appointed.")], &b);
    let general = a
        .comment_on(None, "c0", &anna(), "Ready for the meeting?")
        .expect("commented");
    let first = a
        .comment_on(Some((&summary(), 0, 9)), "c1", &anna(), "Define it")
        .expect("commented");
    deliver(&[general, first], &b);
    let reply = b
        .reply("c1", "r1", &jonas(), "See the glossary")
        .expect("replied");
    let later = b
        .reply(
            "c1",
            "r2",
            &Stamp {
                at: 3_000,
                ..jonas()
            },
            "Added",
        )
        .expect("replied");
    let resolved = b.set_resolved("c1", &jonas(), true);
    deliver(&[later, reply, resolved], &a);
    let threads = a.threads();
    let thread = threads.iter().find(|t| t.id == "c1").expect("thread");
    let texts: Vec<&str> = thread.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["Define it", "See the glossary", "Added"]);
    assert_eq!(
        thread.resolved.as_ref().map(|m| m.name.as_str()),
        Some("Jonas Lind")
    );
    assert!(thread.involves("u-jonas") && thread.involves("u-anna"));
    let record_wide = threads.iter().find(|t| t.id == "c0").expect("general");
    assert_eq!(
        (record_wide.anchor.clone(), record_wide.path.clone()),
        (Anchor::Record, None)
    );
    // Reopened.
    deliver(&[a.set_resolved("c1", &anna(), false)], &b);
    assert!(b.threads().iter().all(Thread::is_open));
    // Only the author edits or deletes; a deleted comment keeps its replies.
    assert_eq!(
        b.edit_comment("c1", &jonas(), "Mine now"),
        Err(CommentError::NotYours)
    );
    deliver(
        &[a.edit_comment("c1", &anna(), "Define guardian")
            .expect("edited")],
        &b,
    );
    deliver(&[a.delete_comment("c1", &anna()).expect("deleted")], &b);
    let thread = b
        .threads()
        .into_iter()
        .find(|t| t.id == "c1")
        .expect("thread");
    assert!(thread.comments[0].deleted && thread.comments[0].text.is_empty());
    assert_eq!(thread.comments.len(), 3);
    // Hidden, by whoever the mark names (the server lets only the secretariat).
    deliver(&[a.set_hidden("r1", &anna(), true)], &b);
    let thread = b
        .threads()
        .into_iter()
        .find(|t| t.id == "c1")
        .expect("thread");
    assert!(thread.comments[1].hidden.is_some());
}

#[test]
fn bad_comments_are_refused_with_a_reason() {
    let (a, _) = pair(RecordKind::Recommendation);
    set(&a, "Some text.");
    let path = summary();
    assert_eq!(
        a.comment_on(Some((&path, 0, 4)), "c", &anna(), "   ").err(),
        Some(CommentError::Empty)
    );
    assert_eq!(
        a.comment_on(Some((&path, 3, 3)), "c", &anna(), "Hm").err(),
        Some(CommentError::NoPassage)
    );
    assert_eq!(
        a.comment_on(Some((&top("status"), 0, 3)), "c", &anna(), "Hm")
            .err(),
        Some(CommentError::NoSuchText)
    );
    let long = "x".repeat(tern_domain::record::MAX_COMMENT_CHARS + 1);
    assert!(matches!(
        a.comment_on(None, "c", &anna(), &long),
        Err(CommentError::TooLong { .. })
    ));
    assert_eq!(
        a.reply("nope", "r", &anna(), "Hi").err(),
        Some(CommentError::NoSuchComment)
    );
    assert!(a.threads().is_empty());
}

#[test]
fn only_the_author_writes_a_comment_and_only_the_secretariat_hides_one() {
    let member = Access {
        role: Role::Member,
        member_state: Some("FI".into()),
    };
    let (a, _) = pair(RecordKind::Recommendation);
    set(&a, "Text to discuss.");
    let jonas_id = UserId("u-jonas".into());
    let anna_id = UserId("u-anna".into());
    let check = |access: &Access, user: &UserId, change: &dyn Fn(&Record)| {
        let before = a.comment_entries();
        change(&a);
        check_comments(access, user, &before, &a.comment_entries())
    };
    // A comment in another's name.
    assert_eq!(
        check(&member, &jonas_id, &|r| {
            r.comment_on(None, "c1", &anna(), "Hi").expect("made");
        }),
        Err(Denied::NotYourComment)
    );
    assert_eq!(
        check(&member, &anna_id, &|r| {
            r.comment_on(None, "c2", &anna(), "Mine").expect("made");
        }),
        Ok(())
    );
    // Resolving someone's thread is anyone's; in their own name only.
    assert_eq!(
        check(&member, &jonas_id, &|r| {
            r.set_resolved("c2", &jonas(), true);
        }),
        Ok(())
    );
    assert_eq!(
        check(&member, &jonas_id, &|r| {
            r.set_resolved("c2", &anna(), false);
        }),
        Err(Denied::NotYourComment)
    );
    // Hiding is the secretariat's.
    assert_eq!(
        check(&member, &jonas_id, &|r| {
            r.set_hidden("c2", &jonas(), true);
        }),
        Err(Denied::SecretariatOnly)
    );
    assert_eq!(
        check(&Access::secretariat(), &jonas_id, &|r| {
            r.set_hidden("c2", &jonas(), true);
        }),
        Ok(())
    );
}

/// Characters that each occur once in a passage's first text, and the
/// characters typed later (which never do).
const ORIGINAL: &[char] = &[
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S',
    'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ü', 'Ø', 'Ł', 'Š', '🙂', '🌊',
];
const TYPED: &[char] = &['a', 'b', 'c', ' ', 'ø', '🐟'];

fn random_edit(rng: &mut Rng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = rng.below(chars.len() + 1);
    let mut out = chars.clone();
    if rng.chance(60) || chars.is_empty() {
        for offset in 0..=rng.below(3) {
            out.insert(at + offset, TYPED[rng.below(TYPED.len())]);
        }
    } else {
        let until = (at + 1 + rng.below(4)).min(chars.len());
        out.drain(at.min(chars.len())..until);
    }
    out.into_iter().collect()
}

/// Replicas edit one text at random, offline and in turn, while comments are
/// made on random passages; after every replica has everything, each anchor
/// resolves alike everywhere, inside the text or as deleted, and holds
/// exactly its passage's surviving characters plus what was typed among
/// them. `TERN_SEEDS=n` runs more seeds, `TERN_SEED=s` one.
#[test]
fn anchors_resolve_alike_everywhere_under_concurrent_edits() {
    let seeds = seeds(200);
    for seed in seeds {
        let mut rng = Rng(seed);
        let (first, created) = Record::create(id(), RecordKind::Recommendation, 1);
        let replicas: Vec<Record> = std::iter::once(first)
            .chain((2..=3).map(|client| {
                let replica = Record::empty(id(), client);
                replica.apply_update(&created.0).expect("applies");
                replica
            }))
            .collect();
        let original: String = ORIGINAL.iter().collect();
        let start = set(&replicas[0], &original);
        for replica in &replicas[1..] {
            replica.apply_update(&start.0).expect("applies");
        }
        // What each comment was on: its characters, in order.
        let mut passages: Vec<(String, Vec<char>)> = Vec::new();
        let mut pending: Vec<Vec<tern_domain::record::Update>> = vec![Vec::new(); replicas.len()];
        for round in 0..20 {
            let who = rng.below(replicas.len());
            let replica = &replicas[who];
            let now = replica.text(&summary()).expect("text");
            if rng.chance(30) {
                let chars: Vec<char> = now.chars().collect();
                let from = rng.below(chars.len());
                let to = (from + 1 + rng.below(6)).min(chars.len());
                if from < to {
                    let before: String = chars[..from].iter().collect();
                    let part: String = chars[from..to].iter().collect();
                    let s = before.encode_utf16().count() as u32;
                    let e = s + part.encode_utf16().count() as u32;
                    let id = format!("c{round}");
                    let update = replica
                        .comment_on(Some((&summary(), s, e)), &id, &anna(), "On this")
                        .expect("commented");
                    passages.push((id, chars[from..to].to_vec()));
                    for (other, queue) in pending.iter_mut().enumerate() {
                        if other != who {
                            queue.push(update.clone());
                        }
                    }
                }
            } else {
                let update = set(replica, &random_edit(&mut rng, &now));
                for (other, queue) in pending.iter_mut().enumerate() {
                    if other != who {
                        queue.push(update.clone());
                    }
                }
            }
            // Sometimes a replica comes online and takes what waits for it.
            if rng.chance(25) {
                let to = rng.below(replicas.len());
                deliver(&std::mem::take(&mut pending[to]), &replicas[to]);
            }
        }
        for (to, queue) in pending.iter_mut().enumerate() {
            deliver(&std::mem::take(queue), &replicas[to]);
        }
        let text = replicas[0].text(&summary()).expect("text");
        let surviving: std::collections::HashSet<char> = text.chars().collect();
        let mut views: Vec<Vec<Thread>> = replicas
            .iter()
            .map(|replica| {
                let mut threads = replica.threads();
                threads.sort_by(|a, b| a.id.cmp(&b.id));
                threads
            })
            .collect();
        let reference = views.remove(0);
        for other in views {
            assert_eq!(other, reference, "seed {seed}: replicas disagree");
        }
        assert_eq!(reference.len(), passages.len(), "seed {seed}");
        for (id, passage) in &passages {
            let thread = reference.iter().find(|t| &t.id == id).expect("thread");
            let kept: Vec<char> = passage
                .iter()
                .copied()
                .filter(|c| ORIGINAL.contains(c) && surviving.contains(c))
                .collect();
            match &thread.anchor {
                Anchor::Text {
                    start,
                    end,
                    text: on,
                } => {
                    let units: Vec<u16> = text.encode_utf16().collect();
                    assert!(start < end && (*end as usize) <= units.len(), "seed {seed}");
                    assert_eq!(
                        String::from_utf16(&units[*start as usize..*end as usize]).ok(),
                        Some(on.clone()),
                        "seed {seed}"
                    );
                    let original: Vec<char> = on.chars().filter(|c| ORIGINAL.contains(c)).collect();
                    assert_eq!(original, kept, "seed {seed}: {id} reads {on:?}");
                }
                Anchor::Deleted => {
                    let typed_only = passage.iter().all(|c| !ORIGINAL.contains(c));
                    assert!(
                        kept.is_empty() || typed_only,
                        "seed {seed}: {id} lost {kept:?}"
                    );
                }
                other => panic!("seed {seed}: {id} is {other:?}"),
            }
        }
    }
}

/// The issue's budget: one comment ≤ 200 B on the wire, with its envelope
/// (op id, record id, kind, length: `sync::PushOp`).
#[test]
fn a_comment_on_a_paragraph_is_small_on_the_wire() {
    let (a, _) = pair(RecordKind::Recommendation);
    add_section(&a, 0, 1, "Guardianship");
    let list = FieldPath::item("sections", section(1), "paragraphs");
    let paragraph = tern_domain::record::ItemId("0f1e2d3c4b5a697887".into());
    a.change(
        &list,
        FieldEdit::InsertItem {
            id: paragraph.clone(),
            position: 0,
        },
    )
    .expect("paragraph");
    let body = list.child(paragraph, "text");
    a.set_text_at(
        &body,
        "Each child placed in care has a guardian within a week.",
    )
    .expect("text");
    let user = Stamp {
        user: "0f9e8d7c6b5a49382716a5b4c3d2e1f0".into(),
        name: "Anna Berg".into(),
        at: 1_765_000_000_000,
    };
    let update = a
        .comment_on(
            Some((&body, 25, 39)),
            "a1b2c3d4e5f6",
            &user,
            "Within a week, or at once?",
        )
        .expect("commented");
    let op = tern_domain::sync::PushOp {
        op: tern_domain::sync::OpId([9; 16]),
        record: id(),
        kind: RecordKind::Recommendation,
        update: update.0,
    };
    let wire = tern_domain::sync::encode(&op).len();
    println!("one comment: {wire} B on the wire");
    assert!(wire <= 200, "{wire} B");
}
