//! Comments on a record's text: threads anchored to a passage, replies,
//! resolving, and the secretariat's hiding.
//!
//! Comments are not edits of the record: they live in roots of their own in
//! the record's document (so they sync, work offline and anchor into the
//! same text), which the field paths never reach. A comment is one map
//! entry, written whole by its author only; whether a thread is resolved
//! and whether a comment is hidden are entries of a second map, so that
//! resolving someone's thread never rewrites their words. The server checks
//! every op's comments against these rules (`auth::check_comments`).
//!
//! A thread's passage is anchored as `super::anchors` says. A passage whose
//! words were all deleted collapses; its quoted text, kept in the comment,
//! is what is shown then.

use super::anchors::{self, Anchor};
use super::fields::{place, text_at, walk};
use super::{FieldPath, Record, Stamp, Update};
use std::collections::HashMap;
use std::sync::Arc;
use yrs::{Any, GetString, Map, MapRef, Out, Transact};

/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 5_000;
/// The longest quote kept of a passage, in characters: enough to recognise
/// it once its words are gone.
pub const MAX_QUOTE_CHARS: usize = 160;

/// Keys of a comment's entry (short: every comment carries them on the wire).
mod key {
    pub const USER: &str = "u";
    pub const NAME: &str = "n";
    pub const AT: &str = "t";
    pub const TEXT: &str = "x";
    pub const START: &str = crate::record::anchors::START;
    pub const END: &str = crate::record::anchors::END;
    pub const QUOTE: &str = "q";
    pub const REPLY_TO: &str = "r";
    pub const EDITED: &str = "d";
    pub const DELETED: &str = "del";
    /// In a mark: whether it is on (a thread resolved, a comment hidden).
    pub const ON: &str = "on";
}

/// A mark's key for a hidden comment: the comment id, then this.
const HIDDEN_SUFFIX: &str = "\u{1f}hidden";

/// Who did something to a comment, and when.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mark {
    pub user: String,
    pub name: String,
    pub at: u64,
}

/// One comment of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Comment {
    pub id: String,
    pub by: Mark,
    /// Empty once deleted.
    pub text: String,
    pub edited: Option<u64>,
    pub deleted: bool,
    /// Hidden by the secretariat, and by whom.
    pub hidden: Option<Mark>,
}

/// A comment and its replies, on one passage.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Thread {
    /// The first comment's id.
    pub id: String,
    /// The text field it is on now; `None` on the record as a whole, or
    /// when that text is gone or has not arrived.
    pub path: Option<FieldPath>,
    pub anchor: Anchor,
    /// The passage as it read when the thread began.
    pub quote: String,
    /// The first comment, then the replies by time.
    pub comments: Vec<Comment>,
    pub resolved: Option<Mark>,
}

impl Thread {
    pub fn is_open(&self) -> bool {
        self.resolved.is_none()
    }

    /// Whether `user` wrote a comment of it.
    pub fn involves(&self, user: &str) -> bool {
        self.comments.iter().any(|comment| comment.by.user == user)
    }
}

/// Why a comment could not be made or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    #[error("a comment needs some text")]
    Empty,
    #[error("a comment holds at most {max} characters")]
    TooLong { max: usize },
    #[error("select the words the comment is about")]
    NoPassage,
    #[error("the text the comment is on is not in this record")]
    NoSuchText,
    #[error("there is no such comment")]
    NoSuchComment,
    #[error("only its author changes a comment")]
    NotYours,
}

impl CommentError {
    /// The stable code the app's messages are keyed by (`comment.error.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            CommentError::Empty => "empty",
            CommentError::TooLong { .. } => "too_long",
            CommentError::NoPassage => "no_passage",
            CommentError::NoSuchText => "no_such_text",
            CommentError::NoSuchComment => "no_such_comment",
            CommentError::NotYours => "not_yours",
        }
    }
}

/// The comments of a record as the server compares them before and after an
/// op: every entry as stored, and every mark.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommentEntries {
    pub comments: HashMap<String, Any>,
    pub marks: HashMap<String, Any>,
}

/// What a changed entry is, for the server's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    Resolved,
    Hidden,
}

impl CommentEntries {
    /// The author (user id) an entry or mark names.
    pub fn user_of(entry: &Any) -> Option<&str> {
        match entry {
            Any::Map(map) => match map.get(key::USER) {
                Some(Any::String(user)) => Some(user),
                _ => None,
            },
            _ => None,
        }
    }

    /// What a mark's key marks.
    pub fn mark_kind(key: &str) -> MarkKind {
        if key.ends_with(HIDDEN_SUFFIX) {
            MarkKind::Hidden
        } else {
            MarkKind::Resolved
        }
    }
}

fn checked_text(text: &str) -> Result<String, CommentError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CommentError::Empty);
    }
    if super::schema::too_long(text, MAX_COMMENT_CHARS) {
        return Err(CommentError::TooLong {
            max: MAX_COMMENT_CHARS,
        });
    }
    Ok(text.to_owned())
}

/// A new entry or mark signed by `by`: who, their name, when. Comments,
/// suggestions and their marks all start so (`read_mark` reads it back).
pub(super) fn signed(by: &Stamp) -> HashMap<String, Any> {
    let mut map = HashMap::new();
    map.insert(key::USER.to_owned(), Any::from(by.user.as_str()));
    map.insert(key::NAME.to_owned(), Any::from(by.name.as_str()));
    map.insert(key::AT.to_owned(), millis(by.at));
    map
}

fn entry(by: &Stamp, text: String) -> HashMap<String, Any> {
    let mut map = signed(by);
    map.insert(key::TEXT.to_owned(), Any::from(text));
    map
}

/// The entries of a root map that are maps (comments, suggestions), by id.
pub(super) fn map_entries(
    record: &Record,
    root: &MapRef,
) -> Vec<(String, Arc<HashMap<String, Any>>)> {
    let txn = record.doc().transact();
    root.iter(&txn)
        .filter_map(|(id, out)| match out {
            Out::Any(Any::Map(map)) => Some((id.to_owned(), map)),
            _ => None,
        })
        .collect()
}

pub(super) fn millis(at: u64) -> Any {
    // Milliseconds fit a JavaScript-safe integer until the year 287,396.
    Any::from(at.min(i64::MAX as u64) as i64)
}

impl Record {
    /// Starts a thread on the passage `start..end` (UTF-16 offsets) of the
    /// text at `path`, or on the record as a whole with `path` `None`.
    pub fn comment_on(
        &self,
        passage: Option<(&FieldPath, u32, u32)>,
        id: &str,
        by: &Stamp,
        text: &str,
    ) -> Result<Update, CommentError> {
        let text = checked_text(text)?;
        let mut comment = entry(by, text);
        let located = match passage {
            Some((path, start, end)) => {
                if start >= end {
                    return Err(CommentError::NoPassage);
                }
                let (resolved, top) = self.locate(path).map_err(|_| CommentError::NoSuchText)?;
                if !resolved.field.is_text() {
                    return Err(CommentError::NoSuchText);
                }
                Some((resolved, top, start, end))
            }
            None => None,
        };
        let update = self.edit(|txn, record| {
            if let Some((resolved, top, start, end)) = located {
                let Some(field) = walk(txn, &top, &resolved.lists)
                    .and_then(|item| text_at(txn, place(&item, &top), resolved.field.key))
                else {
                    return;
                };
                let whole = field.get_string(txn);
                let (from, to) = (
                    crate::markup::utf16_to_byte(&whole, start),
                    crate::markup::utf16_to_byte(&whole, end),
                );
                let Some((first, last)) = anchors::indexes(txn, &field, start, end) else {
                    return;
                };
                comment.insert(key::START.to_owned(), Any::from(first));
                comment.insert(key::END.to_owned(), Any::from(last));
                comment.insert(
                    key::QUOTE.to_owned(),
                    Any::from(shortened(&whole[from..to], MAX_QUOTE_CHARS)),
                );
            }
            record
                .comments
                .insert(txn, id.to_owned(), Any::Map(Arc::new(comment)));
        });
        // The passage's text was not there after all (a removed item).
        if self.comments.contains_key(&self.doc().transact(), id) {
            Ok(update)
        } else {
            Err(CommentError::NoSuchText)
        }
    }

    /// Replies to the thread `thread`.
    pub fn reply(
        &self,
        thread: &str,
        id: &str,
        by: &Stamp,
        text: &str,
    ) -> Result<Update, CommentError> {
        let text = checked_text(text)?;
        if !self.comments.contains_key(&self.doc().transact(), thread) {
            return Err(CommentError::NoSuchComment);
        }
        let mut comment = entry(by, text);
        comment.insert(key::REPLY_TO.to_owned(), Any::from(thread));
        Ok(self.edit(|txn, record| {
            record
                .comments
                .insert(txn, id.to_owned(), Any::Map(Arc::new(comment)));
        }))
    }

    /// Changes the text of `by`'s own comment `id`.
    pub fn edit_comment(&self, id: &str, by: &Stamp, text: &str) -> Result<Update, CommentError> {
        let text = checked_text(text)?;
        self.rewrite_own(id, by, |entry| {
            entry.insert(key::TEXT.to_owned(), Any::from(text));
            entry.insert(key::EDITED.to_owned(), millis(by.at));
        })
    }

    /// Deletes the text of `by`'s own comment `id`; its replies stay, under
    /// "deleted".
    pub fn delete_comment(&self, id: &str, by: &Stamp) -> Result<Update, CommentError> {
        self.rewrite_own(id, by, |entry| {
            entry.insert(key::TEXT.to_owned(), Any::from(""));
            entry.insert(key::DELETED.to_owned(), Any::from(true));
            entry.insert(key::EDITED.to_owned(), millis(by.at));
        })
    }

    fn rewrite_own(
        &self,
        id: &str,
        by: &Stamp,
        change: impl FnOnce(&mut HashMap<String, Any>),
    ) -> Result<Update, CommentError> {
        let current = self.comments.get(&self.doc().transact(), id);
        let Some(Out::Any(Any::Map(current))) = current else {
            return Err(CommentError::NoSuchComment);
        };
        if current.get(key::USER) != Some(&Any::from(by.user.as_str())) {
            return Err(CommentError::NotYours);
        }
        let mut entry: HashMap<String, Any> = (*current).clone();
        change(&mut entry);
        Ok(self.edit(|txn, record| {
            record
                .comments
                .insert(txn, id.to_owned(), Any::Map(Arc::new(entry)));
        }))
    }

    /// Resolves (or reopens) the thread `thread`.
    pub fn set_resolved(&self, thread: &str, by: &Stamp, resolved: bool) -> Update {
        self.set_mark(thread.to_owned(), by, resolved)
    }

    /// Hides (or shows again) the comment `id`: the secretariat's, for what
    /// should not stand in the record; the server refuses it from others.
    pub fn set_hidden(&self, id: &str, by: &Stamp, hidden: bool) -> Update {
        self.set_mark(format!("{id}{HIDDEN_SUFFIX}"), by, hidden)
    }

    fn set_mark(&self, key: String, by: &Stamp, on: bool) -> Update {
        let mut mark = signed(by);
        mark.insert(key::ON.to_owned(), Any::from(on));
        self.edit(|txn, record| {
            record
                .comment_marks
                .insert(txn, key, Any::Map(Arc::new(mark)));
        })
    }

    /// Every entry and mark as stored: what the server compares.
    pub fn comment_entries(&self) -> CommentEntries {
        self.stored_entries(&self.comments, &self.comment_marks)
    }

    /// Entries and marks as stored, for the server's before and after.
    pub(super) fn stored_entries(&self, entries: &MapRef, marks: &MapRef) -> CommentEntries {
        let txn = self.doc().transact();
        let read = |map: &MapRef| {
            map.iter(&txn)
                .filter_map(|(key, out)| match out {
                    Out::Any(any) => Some((key.to_owned(), any)),
                    _ => None,
                })
                .collect()
        };
        CommentEntries {
            comments: read(entries),
            marks: read(marks),
        }
    }

    /// How many comments the record holds (cheap: no anchor is resolved).
    pub fn comment_count(&self) -> u32 {
        self.comments.len(&self.doc().transact())
    }

    /// Every thread, with its passage as it is now, in no particular order.
    pub fn threads(&self) -> Vec<Thread> {
        // Where each passage is, read first: it takes the roots, which an
        // open read transaction would not let it.
        let entries = map_entries(self, &self.comments);
        let mut located = self
            .locate_passages(entries.iter().map(|(_, map)| map.as_ref()))
            .into_iter();
        let txn = self.doc().transact();
        let marks: HashMap<String, Mark> = self
            .comment_marks
            .iter(&txn)
            .filter_map(|(key, out)| {
                let Out::Any(Any::Map(map)) = out else {
                    return None;
                };
                (map.get(key::ON) == Some(&Any::Bool(true)))
                    .then(|| Some((key.to_owned(), read_mark(&map)?)))?
            })
            .collect();
        let mut threads: Vec<Thread> = Vec::new();
        let mut replies: Vec<(String, Comment)> = Vec::new();
        for (id, map) in &entries {
            let (path, anchor, _) = located.next().unwrap_or((None, Anchor::Removed, None));
            let id = id.as_str();
            let Some(mut comment) = read_comment(id, map) else {
                continue;
            };
            comment.hidden = marks.get(&format!("{id}{HIDDEN_SUFFIX}")).cloned();
            if let Some(Any::String(thread)) = map.get(key::REPLY_TO) {
                replies.push((thread.to_string(), comment));
                continue;
            }
            let quote = match map.get(key::QUOTE) {
                Some(Any::String(quote)) => quote.to_string(),
                _ => String::new(),
            };
            let anchor = if map.contains_key(key::START) {
                anchor
            } else {
                Anchor::Record
            };
            threads.push(Thread {
                id: id.to_owned(),
                path,
                anchor,
                quote,
                comments: vec![comment],
                resolved: marks.get(id).cloned(),
            });
        }
        replies.sort_by(|(_, a), (_, b)| (a.by.at, &a.id).cmp(&(b.by.at, &b.id)));
        for (thread, reply) in replies {
            // A reply whose thread has not arrived yet waits for it.
            if let Some(thread) = threads.iter_mut().find(|known| known.id == thread) {
                thread.comments.push(reply);
            }
        }
        threads
    }
}

pub(super) fn read_mark(map: &HashMap<String, Any>) -> Option<Mark> {
    let text = |name: &str| match map.get(name) {
        Some(Any::String(text)) => Some(text.to_string()),
        _ => None,
    };
    Some(Mark {
        user: text(key::USER)?,
        name: text(key::NAME).unwrap_or_default(),
        at: number(map.get(key::AT)).unwrap_or(0),
    })
}

fn read_comment(id: &str, map: &HashMap<String, Any>) -> Option<Comment> {
    let text = match map.get(key::TEXT) {
        Some(Any::String(text)) => text.to_string(),
        _ => String::new(),
    };
    Some(Comment {
        id: id.to_owned(),
        by: read_mark(map)?,
        text,
        edited: number(map.get(key::EDITED)),
        deleted: map.get(key::DELETED) == Some(&Any::Bool(true)),
        hidden: None,
    })
}

fn number(any: Option<&Any>) -> Option<u64> {
    match any {
        Some(Any::Number(n)) => u64::try_from((*n).as_i64()?).ok(),
        _ => None,
    }
}

/// At most `max` characters of `text`, cut at a character, with "…" when cut.
fn shortened(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
