//! Suggestions: a change to a passage (replace, insert, delete) proposed
//! without changing the text, accepted or rejected later by someone who may
//! edit the record.
//!
//! Like comments (`super::comments`), a suggestion is an entry of its own
//! root, written whole by its author, anchored by two sticky indexes; it
//! keeps the passage as it read when proposed. Accepting applies the change
//! as one edit together with the decision, and only if the passage still
//! reads as it did: otherwise the accept is refused with both versions. A
//! decision is final; the server refuses a second one (`auth::check_suggestions`),
//! so a suggestion accepted by two people at once applies once.

use super::anchors::{self, Anchor};
use super::comments::{map_entries, read_mark, signed, Mark};
use super::schema::FieldType;
use super::{FieldPath, Record, Stamp, Update};
use std::collections::HashMap;
use std::sync::Arc;
use yrs::{Any, GetString, Map, Out, Text, Transact};

/// A decision's key: the suggestion's id, this, the deciding replica's id.
/// Two decisions made at once are two keys, so neither hides the other and
/// the server refuses the later (`auth::check_suggestions`).
pub const DECISION_SEPARATOR: char = '\u{1f}';

/// The longest replacement, in characters.
pub const MAX_SUGGESTION_CHARS: usize = 20_000;

mod key {
    // Who and when: as `comments::signed` writes them.
    pub const START: &str = crate::record::anchors::START;
    pub const END: &str = crate::record::anchors::END;
    /// The passage as it read when proposed.
    pub const ORIGINAL: &str = "q";
    /// What it would read.
    pub const REPLACEMENT: &str = "x";
    /// In a decision: accepted or rejected.
    pub const ACCEPTED: &str = "ok";
}

/// What became of a suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Decision {
    Accepted(Mark),
    Rejected(Mark),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Suggestion {
    pub id: String,
    pub by: Mark,
    /// The text field it is on now (`None` when that text is gone).
    pub path: Option<FieldPath>,
    /// Where the passage is now.
    pub anchor: Anchor,
    /// The passage as it read when proposed (empty for an insertion).
    pub original: String,
    /// What it would read (empty for a deletion).
    pub replacement: String,
    pub decision: Option<Decision>,
    /// Where the passage starts now, also once collapsed (an insertion's
    /// point).
    pub point: Option<u32>,
}

impl Suggestion {
    /// Whether accepting it now would apply it to the words it was made for.
    pub fn applies(&self) -> bool {
        match &self.anchor {
            Anchor::Text { text, .. } => *text == self.original,
            Anchor::Deleted => self.original.is_empty(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuggestionError {
    #[error("a suggestion changes something")]
    NoChange,
    #[error("a suggestion holds at most {max} characters")]
    TooLong { max: usize },
    #[error("the text the suggestion is on is not in this record")]
    NoSuchText,
    #[error("there is no such suggestion")]
    NoSuchSuggestion,
    #[error("the suggestion was decided already")]
    Decided,
    /// The passage reads otherwise now: both versions, for the user.
    #[error("the passage has changed since the suggestion was made")]
    Stale { then: String, now: String },
}

impl SuggestionError {
    pub fn code(&self) -> &'static str {
        match self {
            SuggestionError::NoChange => "no_change",
            SuggestionError::TooLong { .. } => "too_long",
            SuggestionError::NoSuchText => "no_such_text",
            SuggestionError::NoSuchSuggestion => "no_such_suggestion",
            SuggestionError::Decided => "decided",
            SuggestionError::Stale { .. } => "stale",
        }
    }
}

impl Record {
    /// Proposes that `start..end` (UTF-16 offsets) of the text at `path`
    /// read `replacement`: an insertion where the range is empty, a deletion
    /// where the replacement is.
    pub fn suggest(
        &self,
        path: &FieldPath,
        (start, end): (u32, u32),
        id: &str,
        by: &Stamp,
        replacement: &str,
    ) -> Result<Update, SuggestionError> {
        if super::schema::too_long(replacement, MAX_SUGGESTION_CHARS) {
            return Err(SuggestionError::TooLong {
                max: MAX_SUGGESTION_CHARS,
            });
        }
        let (resolved, top) = self.locate(path).map_err(|_| SuggestionError::NoSuchText)?;
        if !matches!(resolved.field.ty, FieldType::Text | FieldType::LongText) {
            return Err(SuggestionError::NoSuchText);
        }
        let mut made = Err(SuggestionError::NoSuchText);
        let update = self.edit(|txn, record| {
            let Some(field) = super::fields::walk(txn, &top, &resolved.lists).and_then(|item| {
                super::fields::text_at(txn, super::fields::place(&item, &top), resolved.field.key)
            }) else {
                return;
            };
            let whole = field.get_string(txn);
            let (from, to) = (
                crate::markup::utf16_to_byte(&whole, start),
                crate::markup::utf16_to_byte(&whole, end),
            );
            let original = whole[from..to].to_owned();
            if original == replacement || from > to {
                made = Err(SuggestionError::NoChange);
                return;
            }
            let Some((first, last)) = anchors::indexes(txn, &field, start, end) else {
                return;
            };
            let mut entry = signed(by);
            entry.insert(key::START.to_owned(), Any::from(first));
            entry.insert(key::END.to_owned(), Any::from(last));
            entry.insert(key::ORIGINAL.to_owned(), Any::from(original));
            entry.insert(key::REPLACEMENT.to_owned(), Any::from(replacement));
            record
                .suggestions
                .insert(txn, id.to_owned(), Any::Map(Arc::new(entry)));
            made = Ok(());
        });
        made.map(|()| update)
    }

    /// Every suggestion, with its passage as it is now.
    pub fn suggestions(&self) -> Vec<Suggestion> {
        let decisions: HashMap<String, Decision> = {
            let txn = self.doc().transact();
            self.suggestion_marks
                .iter(&txn)
                .filter_map(|(key, out)| {
                    let Out::Any(Any::Map(map)) = out else {
                        return None;
                    };
                    let id = key.split(DECISION_SEPARATOR).next()?;
                    let mark = read_mark(&map)?;
                    let decision = if map.get(key::ACCEPTED) == Some(&Any::Bool(true)) {
                        Decision::Accepted(mark)
                    } else {
                        Decision::Rejected(mark)
                    };
                    Some((id.to_owned(), decision))
                })
                // Two decisions at once, before the server refused one: the earlier.
                .fold(
                    HashMap::new(),
                    |mut all: HashMap<String, Decision>, (id, decision)| {
                        let at = |decision: &Decision| match decision {
                            Decision::Accepted(mark) | Decision::Rejected(mark) => {
                                (mark.at, mark.user.clone())
                            }
                        };
                        match all.get(&id) {
                            Some(known) if at(known) <= at(&decision) => {}
                            _ => {
                                all.insert(id, decision);
                            }
                        }
                        all
                    },
                )
        };
        let entries = map_entries(self, &self.suggestions);
        let located = self.locate_passages(entries.iter().map(|(_, map)| map.as_ref()));
        entries
            .iter()
            .zip(located)
            .filter_map(|((id, map), (path, anchor, point))| {
                let text = |name: &str| match map.get(name) {
                    Some(Any::String(text)) => text.to_string(),
                    _ => String::new(),
                };
                Some(Suggestion {
                    point,
                    id: id.clone(),
                    by: read_mark(map)?,
                    path,
                    anchor,
                    original: text(key::ORIGINAL),
                    replacement: text(key::REPLACEMENT),
                    decision: decisions.get(id).cloned(),
                })
            })
            .collect()
    }

    /// Accepts the suggestion `id`: its change is made to the text, with the
    /// decision, as one edit. Refused if it was decided, or if the passage
    /// reads otherwise now (both versions are in the error).
    pub fn accept_suggestion(&self, id: &str, by: &Stamp) -> Result<Update, SuggestionError> {
        let suggestion = self
            .suggestions()
            .into_iter()
            .find(|known| known.id == id)
            .ok_or(SuggestionError::NoSuchSuggestion)?;
        if suggestion.decision.is_some() {
            return Err(SuggestionError::Decided);
        }
        let stale = || SuggestionError::Stale {
            then: suggestion.original.clone(),
            now: match &suggestion.anchor {
                Anchor::Text { text, .. } => text.clone(),
                // Gone: the words around where it was.
                _ => match (&suggestion.path, suggestion.point) {
                    (Some(path), Some(point)) => {
                        around(&self.text(path).unwrap_or_default(), point)
                    }
                    _ => String::new(),
                },
            },
        };
        if !suggestion.applies() {
            return Err(stale());
        }
        let (Some(path), Some(point)) = (&suggestion.path, suggestion.point) else {
            return Err(stale());
        };
        let (start, end) = match suggestion.anchor {
            Anchor::Text { start, end, .. } => (start, end),
            _ => (point, point),
        };
        let (resolved, top) = self.locate(path).map_err(|_| SuggestionError::NoSuchText)?;
        let mark = decision_entry(by, true);
        Ok(self.edit(|txn, record| {
            if let Some(field) = super::fields::walk(txn, &top, &resolved.lists).and_then(|item| {
                super::fields::text_at(txn, super::fields::place(&item, &top), resolved.field.key)
            }) {
                if end > start {
                    field.remove_range(txn, start, end - start);
                }
                if !suggestion.replacement.is_empty() {
                    field.insert(txn, start, &suggestion.replacement);
                }
            }
            let key = format!("{id}{DECISION_SEPARATOR}{}", record.client_id());
            record
                .suggestion_marks
                .insert(txn, key, Any::Map(Arc::new(mark)));
        }))
    }

    /// Rejects the suggestion `id`; the text is not touched.
    pub fn reject_suggestion(&self, id: &str, by: &Stamp) -> Result<Update, SuggestionError> {
        let suggestion = self
            .suggestions()
            .into_iter()
            .find(|known| known.id == id)
            .ok_or(SuggestionError::NoSuchSuggestion)?;
        if suggestion.decision.is_some() {
            return Err(SuggestionError::Decided);
        }
        let mark = decision_entry(by, false);
        Ok(self.edit(|txn, record| {
            let key = format!("{id}{DECISION_SEPARATOR}{}", record.client_id());
            record
                .suggestion_marks
                .insert(txn, key, Any::Map(Arc::new(mark)));
        }))
    }

    /// Every suggestion and decision as stored: what the server compares.
    pub fn suggestion_entries(&self) -> super::CommentEntries {
        self.stored_entries(&self.suggestions, &self.suggestion_marks)
    }
}

/// About 24 characters either side of `point` (UTF-16), in whole words,
/// with "…" where cut.
fn around(text: &str, point: u32) -> String {
    let at = crate::markup::utf16_to_byte(text, point);
    let before: Vec<char> = text[..at].chars().collect();
    let after: Vec<char> = text[at..].chars().collect();
    // Whole words: widened to the spaces around.
    let mut from = before.len().saturating_sub(24);
    while from > 0 && !before[from - 1].is_whitespace() {
        from -= 1;
    }
    let mut to = after.len().min(24);
    while to < after.len() && !after[to].is_whitespace() {
        to += 1;
    }
    format!(
        "{}{}{}{}",
        if from > 0 { "…" } else { "" },
        before[from..].iter().collect::<String>(),
        after[..to].iter().collect::<String>(),
        if to < after.len() { "…" } else { "" },
    )
}

fn decision_entry(by: &Stamp, accepted: bool) -> HashMap<String, Any> {
    let mut mark = signed(by);
    mark.insert(key::ACCEPTED.to_owned(), Any::from(accepted));
    mark
}
