//! The browser half of the store, started once the user is known:
//! - `local`: IndexedDB (saved records with their listings, outbox,
//!   cursor, kept copies);
//! - `startup_read`: the saved workspace read at start (begun by the boot
//!   script while the code loads);
//! - `sync_loop`: saving edits, push and pull rounds, checkpoints, refusals;
//! - `net`: requests over `fetch`;
//! - `tabs`: other tabs of this browser (BroadcastChannel);
//! - `events`: connectivity and the server's live events (SSE);
//! - `device`: ids, clocks, downloads, recently edited records.
//!
//! One device id per browser profile (localStorage); one yrs replica id per tab
//! session, so tabs never write under the same id.

mod device;
mod events;
mod local;
mod net;
mod startup_read;
mod sync_loop;
mod tabs;

pub(super) use device::{download_file, download_text, fill_random, now, storage_estimate};
pub(super) use local::delete_copy;
pub(super) use sync_loop::{request_sync, save_op, schedule_draft_flush};

use crate::session::Session;
use crate::store::{SyncPhase, Workspace, LISTED, REPLICA};
use crate::tasks::next_task;
use device::{ask_for_persistent_storage, device_id, expose_memory, load_recent, random_client_id};
use events::{listen_for_connectivity, open_events};
use leptos::prelude::*;
use leptos::task::spawn_local;
use local::open_and_load;
use std::cell::RefCell;
use tabs::listen_to_other_tabs;
use tern_domain::auth::UserId;
use tern_domain::client::Replica;

thread_local! {
    /// The signed-in user this page's workspace belongs to.
    static USER: RefCell<Option<(UserId, Session)>> = const { RefCell::new(None) };
}

/// Opens the store, loads the workspace and starts syncing. Runs once, after hydration.
pub(super) fn start(workspace: Workspace, session: Session, user: UserId) {
    workspace.recent.set(load_recent(&user));
    expose_memory();
    USER.with_borrow_mut(|slot| *slot = Some((user, session)));
    spawn_local(async move {
        let device = device_id();
        let client_id = random_client_id();
        // Lists draw from the saved listings while the records load; the
        // record pages wait for `ready`.
        let show = move |mut listed: Vec<_>| {
            listed.sort_unstable_by_key(|(id, _)| *id);
            LISTED.with_borrow_mut(|slot| *slot = listed);
            workspace.changed();
        };
        let loaded = open_and_load(device, client_id, show).await;
        LISTED.with_borrow_mut(Vec::clear);
        match loaded {
            Ok((replica, copies)) => {
                REPLICA.with_borrow_mut(|slot| *slot = Some(replica));
                workspace.copies.set(copies);
            }
            Err(problem) => {
                // Keep working in memory; say so, and never pretend edits are saved.
                REPLICA.with_borrow_mut(|slot| *slot = Some(Replica::new(device, client_id)));
                workspace.local_problem.set(Some(problem));
            }
        }
        // Reading the workspace, drawing the page that waited for it and the
        // first sync each take a task of their own.
        next_task().await;
        workspace.ready.set(true);
        workspace.phase.set(SyncPhase::Idle);
        workspace.changed();
        next_task().await;
        listen_to_other_tabs(workspace);
        listen_for_connectivity(workspace);
        ask_for_persistent_storage();
        request_sync(workspace);
    });
}

pub(super) fn user_key() -> String {
    USER.with_borrow(|user| user.as_ref().map(|(id, _)| id.0.clone()))
        .unwrap_or_default()
}

pub(super) fn session() -> Option<Session> {
    USER.with_borrow(|user| user.as_ref().map(|(_, session)| *session))
}

/// After the user signed in again: live events and sync start over.
pub(super) fn resume(workspace: Workspace) {
    if window().navigator().on_line() {
        open_events(workspace);
    }
    request_sync(workspace);
}

/// Applies a change that did not come from this tab's typing (a pull, a repair,
/// another tab, a refused edit), in three steps with no await between them:
/// 1. Text being typed is applied first, so its splice is computed against the
///    text the user saw, never against a colleague's newer text (which it
///    would undo).
/// 2. The change.
/// 3. The pages are told at once, so every field shows the new text before the
///    next keystroke (effects run before the browser's next event). A field
///    left showing the old text while an await runs would turn the next
///    keystroke into a splice that deletes the colleague's words.
pub(super) fn apply_remote<T>(
    workspace: Workspace,
    change: impl FnOnce(&mut Replica) -> T,
) -> Option<T> {
    workspace.flush_drafts();
    let result = REPLICA.with_borrow_mut(|replica| replica.as_mut().map(change));
    workspace.changed();
    result
}
