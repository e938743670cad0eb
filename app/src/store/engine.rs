//! The sync engine's split point. Everything the engine alone reaches (the
//! replica's loading, the sync loop, IndexedDB, other tabs, live events, and
//! with them most of yrs) is a module of its own, fetched once a user is
//! signed in: a new device's first load, the sign-in screen, carries none of
//! it. Pages share that code with the engine through chunks.

use super::{browser, SyncPhase, Workspace};
use crate::session::Session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use tern_domain::auth::UserId;

/// How long to wait before fetching the engine's code again.
const RETRY: Duration = Duration::from_secs(5);

/// Opens the store, loads the workspace and starts syncing, once the engine's
/// code is here.
pub(super) fn start(workspace: Workspace, session: Session, user: UserId) {
    spawn_local(async move {
        // Not in the task that hydrates the page (`crate::tasks`).
        crate::tasks::next_task().await;
        if split::start(workspace, session, user.clone())
            .await
            .is_err()
        {
            workspace.phase.set(SyncPhase::EngineMissing);
            set_timeout(move || start(workspace, session, user), RETRY);
        }
    });
}

/// After the user signed in again: live events and sync start over.
pub(super) fn resume(workspace: Workspace) {
    spawn_local(async move {
        // The engine is loaded: `resume` follows a start that got this far.
        let _ = split::resume(workspace).await;
    });
}

/// The generated loader is `unsafe`, as in `crate::pages`.
#[allow(unsafe_code)]
mod split {
    use super::*;
    use wasm_split_helpers::{wasm_split, SplitLoaderError};

    #[derive(Debug)]
    pub(super) struct EngineCodeMissing;

    impl From<SplitLoaderError> for EngineCodeMissing {
        fn from(_: SplitLoaderError) -> Self {
            EngineCodeMissing
        }
    }

    #[wasm_split(engine, fallible)]
    pub(super) fn start(
        workspace: Workspace,
        session: Session,
        user: UserId,
    ) -> Result<(), EngineCodeMissing> {
        browser::start(workspace, session, user);
        Ok(())
    }

    #[wasm_split(engine, fallible)]
    pub(super) fn resume(workspace: Workspace) -> Result<(), EngineCodeMissing> {
        browser::resume(workspace);
        Ok(())
    }
}
