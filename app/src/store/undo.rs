//! Undo and redo of the user's own edits in a record (see
//! `tern_domain::record::UndoHistory`): never a colleague's words that arrived
//! meanwhile; each undo is an edit that is saved and synced like typing.

use super::{perf_now, Workspace, REPLICA};
use tern_domain::record::RecordId;

impl Workspace {
    /// Whether the user has an edit to undo, and one to redo, in the record
    /// (tracking changes).
    pub fn undo_state(self, id: RecordId) -> (bool, bool) {
        self.read(|replica| replica.can_undo(id))
            .unwrap_or((false, false))
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
        let started = perf_now();
        let stamp = self.stamp();
        let op = REPLICA.with_borrow_mut(|replica| {
            let replica = replica.as_mut()?;
            if undo {
                replica.undo(id, stamp.as_ref())
            } else {
                replica.redo(id, stamp.as_ref())
            }
        });
        match op {
            Some(op) => {
                self.saved_op(op, started);
                true
            }
            None => false,
        }
    }
}
