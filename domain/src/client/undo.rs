//! The replica's undo of its user's own edits, per open record (see
//! [`crate::record::UndoHistory`]): a history starts at the first edit made
//! through this replica and ends when the record rests. An undo or redo is
//! queued as an op like any edit.

use super::{with_stamp, Replica};
use crate::record::{RecordId, Stamp, UndoHistory, Update};
use crate::sync::PushOp;

/// Histories of the open records this replica's user edited.
#[derive(Default)]
pub(super) struct Undo {
    /// The time in milliseconds; `None` until [`Replica::enable_undo`]: a
    /// server's replica keeps no history.
    now: Option<fn() -> u64>,
    histories: Vec<(RecordId, UndoHistory)>,
}

impl Undo {
    fn history(&mut self, id: RecordId) -> Option<&mut UndoHistory> {
        self.histories
            .iter_mut()
            .find(|(record, _)| *record == id)
            .map(|(_, history)| history)
    }
}

impl Replica {
    /// Keeps an undo history of the records this replica's user edits.
    pub fn enable_undo(&mut self, now: fn() -> u64) {
        self.undo.now = Some(now);
    }

    /// Starts the record's history before an edit, unless it has one for the
    /// record's document as it is.
    pub(super) fn track_edits(&mut self, id: RecordId) {
        let Some(now) = self.undo.now else { return };
        let Some(record) = self.records.get_open(id) else {
            return;
        };
        if self
            .undo
            .history(id)
            .is_some_and(|history| history.tracks(record))
        {
            return;
        }
        self.undo.histories.retain(|(other, _)| *other != id);
        if let Some(history) = UndoHistory::new(record, now) {
            self.undo.histories.push((id, history));
        }
    }

    /// Drops the histories of records that are no longer open.
    pub(super) fn forget_rested_histories(&mut self) {
        let records = &self.records;
        self.undo.histories.retain(|(id, _)| records.is_open(*id));
    }

    /// Whether the user can undo, and redo, an edit of theirs in the record.
    pub fn can_undo(&self, id: RecordId) -> (bool, bool) {
        self.undo
            .histories
            .iter()
            .find(|(record, _)| *record == id)
            .map_or((false, false), |(_, history)| {
                (history.can_undo(), history.can_redo())
            })
    }

    /// Takes back the user's last step of edits in the record, never a
    /// colleague's words; the op to sync, or `None` if there is nothing to undo.
    pub fn undo(&mut self, id: RecordId, stamp: Option<&Stamp>) -> Option<PushOp> {
        self.step(id, stamp, UndoHistory::undo)
    }

    /// Brings back the last step undone.
    pub fn redo(&mut self, id: RecordId, stamp: Option<&Stamp>) -> Option<PushOp> {
        self.step(id, stamp, UndoHistory::redo)
    }

    fn step(
        &mut self,
        id: RecordId,
        stamp: Option<&Stamp>,
        step: fn(&mut UndoHistory, &crate::record::Record) -> Option<Update>,
    ) -> Option<PushOp> {
        let record = self.records.get_open(id)?;
        let kind = record.kind()?;
        let history = self
            .undo
            .histories
            .iter_mut()
            .find(|(other, _)| *other == id)
            .map(|(_, history)| history)?;
        if !history.tracks(record) {
            return None;
        }
        let update = step(history, record)?;
        let update = with_stamp(record, update, stamp);
        self.records.mark_stale(id);
        Some(self.queue(id, kind, update))
    }
}
