//! Undoing my own edits of a record, never a colleague's words that arrived
//! meanwhile. yrs' `UndoManager` tracks the transactions that carry no origin,
//! which are this replica's own edits (`Record::change`, `set_text_at`);
//! updates from elsewhere are applied with the origin [`REMOTE`]
//! (`Record::apply_update`), so they are never undone. Scoped to the record's
//! texts and item lists: status, dates, sets and member positions are not
//! undone. An undo is itself an edit: its update is queued and synced like
//! any other.

use super::fields::Top;
use super::schema::FieldType;
use super::{Record, Update};
use std::sync::Arc;
use yrs::undo::Options;
use yrs::{ReadTxn, Transact, UndoManager};

/// The origin of updates that come from other replicas (the server, another
/// tab): what an undo leaves alone.
pub const REMOTE: &str = "remote";

/// Edits closer together than this are undone as one step (a burst of typing).
const CAPTURE_MS: u64 = 500;

/// One record's undo and redo stacks, for the edits made through this copy.
pub struct UndoHistory {
    manager: UndoManager,
    /// The document it tracks: a record that rested and was opened again is a
    /// new document, and its history starts anew.
    doc: yrs::Doc,
}

impl UndoHistory {
    /// Starts tracking `record`'s own edits from now. `now` gives the time in
    /// milliseconds (the browser has no system clock for yrs to use); `None`
    /// until the record's kind is known.
    pub fn new(record: &Record, now: fn() -> u64) -> Option<UndoHistory> {
        let def = record.def()?;
        let doc = record.doc().clone();
        let mut manager = UndoManager::with_options(Options {
            capture_timeout_millis: CAPTURE_MS,
            tracked_origins: Default::default(),
            capture_transaction: None,
            timestamp: Arc::new(now),
            init_undo_stack: Vec::new(),
            init_redo_stack: Vec::new(),
        });
        for field in def.fields {
            match (field.ty, record.top(field)) {
                (FieldType::Text | FieldType::LongText, Top::Text(text)) => {
                    manager.expand_scope(&doc, &text);
                }
                (FieldType::Items(_), Top::Items(list)) => {
                    manager.expand_scope(&doc, &list.contents);
                    manager.expand_scope(&doc, &list.order);
                }
                _ => {}
            }
        }
        Some(UndoHistory { manager, doc })
    }

    /// Whether this history belongs to `record`'s document as it is now.
    pub fn tracks(&self, record: &Record) -> bool {
        self.doc.guid() == record.doc().guid()
    }

    pub fn can_undo(&self) -> bool {
        self.manager.can_undo()
    }

    pub fn can_redo(&self) -> bool {
        self.manager.can_redo()
    }

    /// Takes back the last step of my edits; the update to sync, or `None` if
    /// there was nothing to undo.
    pub fn undo(&mut self, record: &Record) -> Option<Update> {
        self.step(record, UndoManager::undo_blocking)
    }

    /// Brings back the last step undone.
    pub fn redo(&mut self, record: &Record) -> Option<Update> {
        self.step(record, UndoManager::redo_blocking)
    }

    /// Runs an undo or redo on `record`'s document; what it wrote, as an update.
    fn step(&mut self, record: &Record, step: fn(&mut UndoManager) -> bool) -> Option<Update> {
        if !self.tracks(record) {
            return None;
        }
        let before = record.doc().transact().state_vector();
        step(&mut self.manager).then(|| changes_since(record, &before))
    }

    /// Ends the current step: the next edit is undone on its own (the app
    /// ends one when the user moves on to another field).
    pub fn end_step(&mut self) {
        self.manager.reset();
    }
}

fn changes_since(record: &Record, before: &yrs::StateVector) -> Update {
    Update(record.doc().transact().encode_state_as_update_v1(before))
}
