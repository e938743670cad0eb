//! The record page's undo history, built in the `drafting` page module (see
//! `crate::store::UndoSteps` for why it is kept apart).

use crate::store::{UndoSteps, Workspace};
use tern_domain::record::{Record, RecordId, UndoHistory, Update};

impl UndoSteps for UndoHistory {
    fn can_undo(&self) -> bool {
        UndoHistory::can_undo(self)
    }

    fn can_redo(&self) -> bool {
        UndoHistory::can_redo(self)
    }

    fn undo(&mut self, record: &Record) -> Option<Update> {
        UndoHistory::undo(self, record)
    }

    fn redo(&mut self, record: &Record) -> Option<Update> {
        UndoHistory::redo(self, record)
    }

    fn end_step(&mut self) {
        UndoHistory::end_step(self);
    }
}

/// Starts tracking the user's edits of record `id` from now.
pub fn start(workspace: Workspace, id: RecordId) {
    workspace.start_history(id, |record| {
        let history = UndoHistory::new(record, now_ms)?;
        Some(Box::new(history) as Box<dyn UndoSteps>)
    });
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}
