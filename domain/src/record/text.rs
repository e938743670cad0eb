//! Turning "the field now reads X" into the smallest CRDT text edit.
//!
//! Editors report whole new values; replacing the whole text would turn two
//! people's concurrent edits into one overwriting the other. Only what changed
//! is deleted and inserted, which is what character-level merging is for: a
//! value typed at two places (words before and after a passage, saved
//! together) becomes two insertions, not one splice that deletes and retypes
//! the passage between them (which would drop a colleague's comment anchored
//! there, and undo a colleague's deletion in it).

use yrs::{GetString, Text, TextRef, TransactionMut};

/// Makes `text` read `new` by deleting and inserting only the part that changed.
/// Offsets are UTF-16 code units: the documents use them, as browsers do.
pub fn splice_to(text: &TextRef, txn: &mut TransactionMut, new: &str) {
    let old = text.get_string(txn);
    if old == new {
        return;
    }
    let old: Vec<char> = old.chars().collect();
    let new: Vec<char> = new.chars().collect();
    let splice = Splice::between(&old, &new);
    // Where each old character starts, in UTF-16 units.
    let mut starts = Vec::with_capacity(old.len() + 1);
    let mut unit = 0u32;
    for ch in &old {
        starts.push(unit);
        unit += ch.len_utf16() as u32;
    }
    starts.push(unit);
    let changes = changes_within(&old, &new, &splice, true);
    // Last first: an earlier change's offsets stay as they were.
    for (old_range, new_range) in changes.into_iter().rev() {
        let at = starts[old_range.start];
        let removed = starts[old_range.end] - at;
        if removed > 0 {
            text.remove_range(txn, at, removed);
        }
        if !new_range.is_empty() {
            let inserted: String = new[new_range].iter().collect();
            text.insert(txn, at, &inserted);
        }
    }
}

/// One stretch of a text that a new version changes: UTF-16 offsets in the
/// old text, and what the new one has there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChange {
    pub start: u32,
    pub end: u32,
    pub replacement: String,
}

/// What turns `old` into `new`, stretch by stretch, as `splice_to` applies
/// it: what a user proposed while suggesting becomes one suggestion each.
pub fn text_changes(old: &str, new: &str) -> Vec<TextChange> {
    if old == new {
        return Vec::new();
    }
    let old: Vec<char> = old.chars().collect();
    let new: Vec<char> = new.chars().collect();
    let splice = whole_words(&old, &new, Splice::between(&old, &new));
    let utf16 = |chars: &[char]| chars.iter().map(|ch| ch.len_utf16() as u32).sum::<u32>();
    // Whole words: a suggestion reads "every → each", not "very → ach".
    changes_within(&old, &new, &splice, false)
        .into_iter()
        .map(|(old_range, new_range)| TextChange {
            start: utf16(&old[..old_range.start]),
            end: utf16(&old[..old_range.end]),
            replacement: new[new_range].iter().collect(),
        })
        .collect()
}

/// `splice` widened to whole words: the common start and end it leaves out
/// do not end or begin inside a word.
fn whole_words(old: &[char], new: &[char], splice: Splice) -> Splice {
    let letter = |chars: &[char], at: usize| chars.get(at).is_some_and(|ch| ch.is_alphanumeric());
    let mut at = splice.at;
    while at > 0 && letter(old, at - 1) && (letter(old, at) || letter(new, at)) {
        at -= 1;
    }
    let mut suffix = old.len() - splice.old_end;
    while suffix > 0
        && letter(old, old.len() - suffix)
        && (old.len() > suffix && letter(old, old.len() - suffix - 1)
            || new.len() > suffix && letter(new, new.len() - suffix - 1))
    {
        suffix -= 1;
    }
    Splice {
        at,
        old_end: (old.len() - suffix).max(at),
        new_end: (new.len() - suffix).max(at),
    }
}

/// A middle this long at most (old and new characters together) is diffed
/// character by character; a longer one (a paste over pages, a replaced
/// text) is one splice. Myers' diff costs up to length × differences.
const DIFF_AT_MOST: usize = 4_000;

/// The changed stretches of the splice's middle: (old range, new range),
/// in characters. Diffed by words (runs of letters and digits, runs of
/// spaces, single other characters), so a phrase replaced by another is
/// replaced whole rather than kept letter by letter where the two happen to
/// share letters; a changed stretch keeps its own common start and end, so
/// a letter typed into a word inserts just that letter (with `within_words`).
fn changes_within(
    old: &[char],
    new: &[char],
    splice: &Splice,
    within_words: bool,
) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let (old_mid, new_mid) = (splice.at..splice.old_end, splice.at..splice.new_end);
    if old_mid.is_empty() || new_mid.is_empty() || old_mid.len() + new_mid.len() > DIFF_AT_MOST {
        return vec![(old_mid, new_mid)];
    }
    let old_words = words(old, old_mid);
    let new_words = words(new, new_mid);
    let old_tokens: Vec<&[char]> = old_words.iter().map(|r| &old[r.clone()]).collect();
    let new_tokens: Vec<&[char]> = new_words.iter().map(|r| &new[r.clone()]).collect();
    let span = |words: &[std::ops::Range<usize>], from: usize, len: usize, at: usize| {
        if len == 0 {
            // An empty stretch sits where the word at `from` starts (or after the last).
            let place = words.get(from).map_or(at, |word| word.start);
            place..place
        } else {
            words[from].start..words[from + len - 1].end
        }
    };
    let (old_end, new_end) = (splice.old_end, splice.new_end);
    // Token ranges of each op: (old from, old len, new from, new len, equal).
    // Myers alone (not `capture_diff_slices`, which carries every algorithm
    // into the wasm).
    let mut ops = Ops(Vec::new());
    let _ = similar::algorithms::myers::diff(
        &mut ops,
        &old_tokens,
        0..old_tokens.len(),
        &new_tokens,
        0..new_tokens.len(),
    );
    let ops = ops.0;
    // Changes apart only by spaces are one change: "guardian within a week"
    // replaced by "named person at once" is not four words replaced between
    // kept spaces.
    let spaces_only = |from: usize, len: usize| {
        old_tokens[from..from + len]
            .iter()
            .all(|token| token.iter().all(|ch| ch.is_whitespace()))
    };
    let mut groups: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut joinable = false;
    for (index, &(old_from, old_len, new_from, new_len, equal)) in ops.iter().enumerate() {
        if equal {
            let between = index > 0 && index + 1 < ops.len();
            joinable = between && spaces_only(old_from, old_len);
            if !joinable {
                continue;
            }
        }
        match groups.last_mut() {
            Some(group) if joinable || !equal && group.0 + group.1 == old_from => {
                group.1 = old_from + old_len - group.0;
                group.3 = new_from + new_len - group.2;
            }
            _ if equal => {}
            _ => groups.push((old_from, old_len, new_from, new_len)),
        }
        if !equal {
            joinable = false;
        }
    }
    groups
        .into_iter()
        .map(|(old_index, old_len, new_index, new_len)| {
            let old_range = span(&old_words, old_index, old_len, old_end);
            let new_range = span(&new_words, new_index, new_len, new_end);
            // Within the stretch, only what differs.
            if !within_words {
                return (old_range, new_range);
            }
            let inner = Splice::between(&old[old_range.clone()], &new[new_range.clone()]);
            (
                old_range.start + inner.at..old_range.start + inner.old_end,
                new_range.start + inner.at..new_range.start + inner.new_end,
            )
        })
        .collect()
}

/// A diff's operations as ranges of tokens: (old from, old len, new from,
/// new len, equal).
struct Ops(Vec<(usize, usize, usize, usize, bool)>);

impl similar::algorithms::DiffHook for Ops {
    type Error = std::convert::Infallible;

    fn equal(&mut self, old: usize, new: usize, len: usize) -> Result<(), Self::Error> {
        self.0.push((old, len, new, len, true));
        Ok(())
    }

    fn delete(&mut self, old: usize, old_len: usize, new: usize) -> Result<(), Self::Error> {
        self.0.push((old, old_len, new, 0, false));
        Ok(())
    }

    fn insert(&mut self, old: usize, new: usize, new_len: usize) -> Result<(), Self::Error> {
        self.0.push((old, 0, new, new_len, false));
        Ok(())
    }
}

/// The words of `chars[range]`, as character ranges.
fn words(chars: &[char], range: std::ops::Range<usize>) -> Vec<std::ops::Range<usize>> {
    let class = |ch: char| {
        if ch.is_alphanumeric() {
            0
        } else if ch.is_whitespace() {
            1
        } else {
            2
        }
    };
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for at in range {
        let kind = class(chars[at]);
        match out.last_mut() {
            Some(last) if kind != 2 && class(chars[last.start]) == kind => last.end = at + 1,
            _ => out.push(at..at + 1),
        }
    }
    out
}

/// The text a field should now read, when the user turned `base` (the text the
/// field showed) into `edited` while the record moved from `base` to `current`
/// (a change the field had not shown yet): the user's one splice is moved past
/// the record's change instead of undoing it. The record's new text is kept
/// whole; the user's deletion takes only text that both had.
///
/// Sync keeps fields up to date before the next keystroke, so `current` is
/// normally `base`; this is the guard that keeps a late field from deleting a
/// colleague's words.
pub fn rebase_edit(base: &str, edited: &str, current: &str) -> String {
    if current == base || edited == current {
        return edited.to_owned();
    }
    if edited == base {
        return current.to_owned();
    }
    let base: Vec<char> = base.chars().collect();
    let edited: Vec<char> = edited.chars().collect();
    let current: Vec<char> = current.chars().collect();
    let user = Splice::between(&base, &edited);
    let record = Splice::between(&base, &current);
    // Base chars from `record.at` to `record.old_end` became current chars from
    // `record.at` to `record.new_end`; the rest only shifted.
    let insert_at = record.moved(user.at);
    let inserted = &edited[user.at..user.new_end];
    let mut text = String::with_capacity(current.len() + inserted.len());
    for (index, ch) in current.iter().enumerate() {
        if index == insert_at {
            text.extend(inserted);
        }
        let from_base = if index < record.at {
            Some(index)
        } else if index >= record.new_end {
            Some(index - record.new_end + record.old_end)
        } else {
            None
        };
        let deleted_by_user =
            from_base.is_some_and(|position| (user.at..user.old_end).contains(&position));
        if !deleted_by_user {
            text.push(*ch);
        }
    }
    if insert_at >= current.len() {
        text.extend(inserted);
    }
    text
}

/// How `old` became `new` as one splice over the changed middle:
/// `old[at..old_end]` was replaced by `new[at..new_end]` (offsets in whatever
/// units the slices hold: chars here, UTF-16 units for a caret in the DOM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Splice {
    pub at: usize,
    pub old_end: usize,
    pub new_end: usize,
}

impl Splice {
    pub fn between<T: PartialEq>(old: &[T], new: &[T]) -> Splice {
        let at = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let suffix = old[at..]
            .iter()
            .rev()
            .zip(new[at..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        Splice {
            at,
            old_end: old.len() - suffix,
            new_end: new.len() - suffix,
        }
    }

    /// Where a position in `old` is in `new`: before the splice it stays, after
    /// it it shifts, and inside the replaced stretch it moves to the new
    /// stretch's end.
    pub fn moved(&self, position: usize) -> usize {
        if position <= self.at {
            position
        } else if position >= self.old_end {
            position - self.old_end + self.new_end
        } else {
            self.new_end
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, OffsetKind, Options, Transact};

    fn doc(client: u64) -> Doc {
        Doc::with_options(Options {
            client_id: yrs::block::ClientID::new(client),
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        })
    }

    #[test]
    fn splices_keep_unicode_intact() {
        let doc = doc(1);
        let text = doc.get_or_insert_text("t");
        for value in ["Kinder", "Kinderrechte 🇪🇪 ja", "Kinder 🇪🇪 ja", "", "Ø"] {
            splice_to(&text, &mut doc.transact_mut(), value);
            assert_eq!(text.get_string(&doc.transact()), value);
        }
    }

    #[test]
    fn a_late_edit_moves_past_the_change_it_had_not_seen() {
        // Nothing changed underneath: the edit as typed.
        assert_eq!(rebase_edit("Middle.", "AMiddle.", "Middle."), "AMiddle.");
        // A colleague appended while the user typed at the start: both stay.
        assert_eq!(
            rebase_edit("Anna Middle.", "Anna wMiddle.", "Anna Middle. Jonas"),
            "Anna wMiddle. Jonas"
        );
        // The case sync once got wrong: the colleague's "a" arrived at the start
        // while the user typed at the end; the "a" must not be deleted.
        assert_eq!(
            rebase_edit(
                "first, Middle. last, a",
                "first, Middle. last, an",
                "first, aMiddle. last, a"
            ),
            "first, aMiddle. last, an"
        );
        // Typing inside text the colleague replaced goes after their new text.
        assert_eq!(rebase_edit("abcdef", "abcXdef", "abZZef"), "abZZXef");
        // A deletion takes only text both had: the colleague's insertion inside
        // the deleted stretch survives.
        assert_eq!(
            rebase_edit("one big house", "one house", "one big red house"),
            "one red house"
        );
        // Deleting what the colleague also deleted deletes it once.
        assert_eq!(rebase_edit("a b c", "a c", "a c"), "a c");
        // A user who changed nothing keeps the record's text.
        assert_eq!(rebase_edit("same", "same", "same, longer"), "same, longer");
        // Characters outside the basic plane count as one each.
        assert_eq!(rebase_edit("🇪🇪 ja", "🇪🇪 jaa", "x🇪🇪 ja"), "x🇪🇪 jaa");
    }

    /// Seeded and replayable (TERN_SEED): random texts, a user's splice and a
    /// colleague's change it had not seen. The colleague's new text and the
    /// user's typed text each survive whole.
    #[test]
    fn late_edits_never_break_either_side_s_text() {
        let seed: u64 = std::env::var("TERN_SEED")
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or(0x7e27);
        let mut state = seed | 1;
        let mut next = |below: usize| {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % below.max(1)
        };
        let splice = |text: &[char], next: &mut dyn FnMut(usize) -> usize, with: &str| {
            let at = next(text.len() + 1);
            let end = at + next(text.len() - at + 1);
            let mut out: String = text[..at].iter().collect();
            out.push_str(with);
            out.extend(&text[end..]);
            out
        };
        for round in 0..2_000 {
            let base: Vec<char> = (0..next(12))
                .map(|_| ['a', 'b', ' ', 'ø'][next(4)])
                .collect();
            let typed = ["X", "XY", "", "Xø"][next(4)];
            let theirs = ["Q", "QR", "", "🇪🇪"][next(4)];
            let edited = splice(&base, &mut next, typed);
            let current = splice(&base, &mut next, theirs);
            let base: String = base.iter().collect();
            let result = rebase_edit(&base, &edited, &current);
            let context = format!(
                "seed {seed} round {round}: {base:?} -> {edited:?} / {current:?} = {result:?}"
            );
            if current == base {
                assert_eq!(result, edited, "{context}");
            }
            let base_chars: Vec<char> = base.chars().collect();
            let current_chars: Vec<char> = current.chars().collect();
            let edited_chars: Vec<char> = edited.chars().collect();
            let record = Splice::between(&base_chars, &current_chars);
            let new_text: String = current_chars[record.at..record.new_end].iter().collect();
            assert!(result.contains(&new_text), "their text was cut: {context}");
            let user = Splice::between(&base_chars, &edited_chars);
            let typed_text: String = edited_chars[user.at..user.new_end].iter().collect();
            assert!(
                result.contains(&typed_text),
                "the typed text was cut: {context}"
            );
        }
    }

    #[test]
    fn concurrent_edits_in_different_places_both_survive() {
        use yrs::updates::decoder::Decode;
        use yrs::{ReadTxn, StateVector, Update};
        let (a, b) = (doc(1), doc(2));
        let (ta, tb) = (a.get_or_insert_text("t"), b.get_or_insert_text("t"));
        splice_to(&ta, &mut a.transact_mut(), "children at risk");
        let base = a
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        b.transact_mut()
            .apply_update(Update::decode_v1(&base).expect("decodes"))
            .expect("applies");

        splice_to(&ta, &mut a.transact_mut(), "protecting children at risk");
        splice_to(&tb, &mut b.transact_mut(), "children at risk in the region");

        let from_a = a
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let from_b = b
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        a.transact_mut()
            .apply_update(Update::decode_v1(&from_b).expect("decodes"))
            .expect("applies");
        b.transact_mut()
            .apply_update(Update::decode_v1(&from_a).expect("decodes"))
            .expect("applies");
        let merged = ta.get_string(&a.transact());
        assert_eq!(merged, "protecting children at risk in the region");
        assert_eq!(merged, tb.get_string(&b.transact()));
    }

    /// Words typed at both ends and saved together are two insertions: a
    /// colleague's deletion between them stays deleted.
    #[test]
    fn typing_at_two_places_at_once_keeps_a_deletion_between_them() {
        use yrs::updates::decoder::Decode;
        use yrs::{ReadTxn, StateVector, Update};
        let (a, b) = (doc(1), doc(2));
        let (ta, tb) = (a.get_or_insert_text("t"), b.get_or_insert_text("t"));
        splice_to(&ta, &mut a.transact_mut(), "one two three four five");
        let state = |doc: &Doc| {
            doc.transact()
                .encode_state_as_update_v1(&StateVector::default())
        };
        let apply = |doc: &Doc, update: Vec<u8>| {
            doc.transact_mut()
                .apply_update(Update::decode_v1(&update).expect("decodes"))
                .expect("applies");
        };
        apply(&b, state(&a));
        splice_to(&ta, &mut a.transact_mut(), "one two four five");
        splice_to(
            &tb,
            &mut b.transact_mut(),
            "zero one two three four five six",
        );
        apply(&a, state(&b));
        apply(&b, state(&a));
        let merged = ta.get_string(&a.transact());
        assert_eq!(merged, "zero one two four five six");
        assert_eq!(merged, tb.get_string(&b.transact()));
    }

    #[test]
    fn a_new_version_is_told_as_the_stretches_it_changes() {
        let changes = text_changes("The child is heard.", "The child 🙂 is always heard!");
        let words = text_changes("in every case", "in each case");
        assert_eq!(
            (words[0].start, words[0].end, words[0].replacement.as_str()),
            (3, 8, "each")
        );
        let shown: Vec<(u32, u32, &str)> = changes
            .iter()
            .map(|change| (change.start, change.end, change.replacement.as_str()))
            .collect();
        assert_eq!(shown, [(10, 10, "🙂 "), (12, 12, " always"), (18, 19, "!")]);
        assert!(text_changes("same", "same").is_empty());
    }
}
