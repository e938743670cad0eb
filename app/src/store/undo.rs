//! Undo and redo of the user's own edits in the record page open (see
//! `tern_domain::record::UndoHistory`): never a colleague's words that arrived
//! meanwhile; each undo is an edit, saved and synced like typing.
//!
//! The history's code (yrs' undo manager) is in a module of its own, split
//! off like the pages' (`drafting`) and loaded after the record page is
//! drawn: the store holds it behind [`UndoSteps`], so the sync engine that
//! every page loads does not carry it.

use super::{Workspace, REPLICA};
use leptos::prelude::Track;
use std::cell::RefCell;
use tern_domain::record::{FieldPath, Record, RecordId, Update};

/// What the store asks of a record's undo history.
pub trait UndoSteps {
    fn can_undo(&self) -> bool;
    fn can_redo(&self) -> bool;
    fn undo(&mut self, record: &Record) -> Option<Update>;
    fn redo(&mut self, record: &Record) -> Option<Update>;
    /// Ends the current step: the next edit is undone on its own.
    fn end_step(&mut self);
}

thread_local! {
    /// The history of the record page open, if it has started.
    static HISTORY: RefCell<Option<(RecordId, Box<dyn UndoSteps>)>> = const { RefCell::new(None) };
    /// The field edited last: edits close in time are one step only while
    /// they stay in one field (typing a title, then a summary, is two).
    static LAST_FIELD: RefCell<Option<(RecordId, FieldPath)>> = const { RefCell::new(None) };
}

/// Called before an edit of `field`: a step ends when the user moves on to
/// another field.
pub(super) fn before_edit(id: RecordId, field: &FieldPath) {
    let moved_on = LAST_FIELD.with_borrow_mut(|last| {
        let same = last
            .as_ref()
            .is_some_and(|(record, path)| *record == id && path == field);
        if !same {
            *last = Some((id, field.clone()));
        }
        !same
    });
    if moved_on {
        HISTORY.with_borrow_mut(|slot| {
            if let Some((_, history)) = slot.as_mut().filter(|(open, _)| *open == id) {
                history.end_step();
            }
        });
    }
}

impl Workspace {
    /// Starts the record's history of the user's edits from now (`make`
    /// builds it from the record), replacing any other record's.
    pub fn start_history(
        self,
        id: RecordId,
        make: impl FnOnce(&Record) -> Option<Box<dyn UndoSteps>>,
    ) {
        let history = REPLICA
            .with_borrow_mut(|replica| replica.as_mut()?.open(id).map(make))
            .flatten();
        HISTORY.with_borrow_mut(|slot| *slot = history.map(|history| (id, history)));
        self.changed();
    }

    /// Ends the record's history (its page closed).
    pub fn end_history(self, id: RecordId) {
        HISTORY.with_borrow_mut(|slot| {
            if slot.as_ref().is_some_and(|(open, _)| *open == id) {
                *slot = None;
            }
        });
    }

    /// Ends the current step of the record's history: what was typed so far
    /// is one step, and the next edit (a formatting command) another.
    pub fn end_undo_step(self, id: RecordId) {
        self.flush_drafts();
        HISTORY.with_borrow_mut(|slot| {
            if let Some((_, history)) = slot.as_mut().filter(|(open, _)| *open == id) {
                history.end_step();
            }
        });
    }

    /// Whether the user has an edit to undo, and one to redo, in the record
    /// (tracking changes).
    pub fn undo_state(self, id: RecordId) -> (bool, bool) {
        self.revision.track();
        HISTORY.with_borrow(|slot| match slot {
            Some((open, history)) if *open == id => (history.can_undo(), history.can_redo()),
            _ => (false, false),
        })
    }

    /// Takes back the user's last step of edits in the record; false if there
    /// was none.
    pub fn undo(self, id: RecordId) -> bool {
        self.step(id, true)
    }

    /// Brings back the last step undone; false if there was none.
    pub fn redo(self, id: RecordId) -> bool {
        self.step(id, false)
    }

    fn step(self, id: RecordId, undo: bool) -> bool {
        // Typing not applied yet is the newest step: apply it first.
        self.flush_drafts();
        let mut stepped = false;
        self.edit(id, |record| {
            let update = HISTORY.with_borrow_mut(|slot| match slot {
                Some((open, history)) if *open == id => {
                    if undo {
                        history.undo(record)
                    } else {
                        history.redo(record)
                    }
                }
                _ => None,
            });
            stepped = update.is_some();
            update
        });
        if stepped {
            // The stacks changed even if the step wrote nothing new.
            self.changed();
        }
        stepped
    }
}
