//! The sync loop: saving each edit in the outbox, push and pull rounds with
//! backoff, lazy checkpoints of what sync changed, and what happens when the
//! server refuses an edit.

use super::device::{
    clock_time, local_timestamp, now, random_client_id, record_ms, remember_recent,
};
use super::local::{
    append_to_outbox, db, forget_record_ops, save_states, store_copy, stored_outbox, write_states,
};
use super::net::{get, post, SyncError};
use super::tabs::{broadcast, TabMessage};
use super::{apply_remote, session};
use crate::store::{LocalCopy, LocalProblem, SyncPhase, Workspace, REPLICA};
use futures::future::{maybe_done, MaybeDone};
use indexed_db_futures::database::Database;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tern_domain::client::Replica;
use tern_domain::record::RecordId;
use tern_domain::sync::{
    self, Change, OpId, PullQuery, PullResponse, PushOp, PushResponse, Seq, MAX_PUSH_BYTES,
    PUSH_PATH, RECORDS_PATH,
};

/// Text being typed is applied and saved at most this long after a keystroke.
pub(super) const DRAFT_DELAY: Duration = Duration::from_millis(300);

/// A local edit is pushed this long after it is saved, so a burst goes as one.
pub(super) const PUSH_DELAY: Duration = Duration::from_millis(800);

pub(super) const BACKOFF_MAX_MS: u64 = 5 * 60 * 1000;

thread_local! {
    static SYNC_RUNNING: Cell<bool> = const { Cell::new(false) };
    static SYNC_AGAIN: Cell<bool> = const { Cell::new(false) };
    static FAILURES: Cell<u32> = const { Cell::new(0) };
    static PUSH_SCHEDULED: Cell<bool> = const { Cell::new(false) };
    static DRAFT_SCHEDULED: Cell<bool> = const { Cell::new(false) };
    /// Ops this tab queued whose outbox write has not committed: still on its
    /// way, or refused for lack of space. The stored outbox lacks them, and a
    /// sync round must not forget them.
    static UNSAVED: RefCell<Vec<OpId>> = const { RefCell::new(Vec::new()) };
}

/// Saves a new op in the outbox; the record counts as saved once this commits.
pub(in crate::store) fn save_op(workspace: Workspace, op: PushOp, started: f64) {
    record_ms("__ternApplyMs", now() - started);
    remember_recent(workspace, op.record);
    UNSAVED.with_borrow_mut(|unsaved| unsaved.push(op.op));
    spawn_local(async move {
        let record = op.record;
        let result = match db() {
            Some(db) => append_to_outbox(&db, &op).await,
            None => Err("the device store is not open".to_owned()),
        };
        match result {
            Ok(()) => {
                UNSAVED.with_borrow_mut(|unsaved| unsaved.retain(|id| *id != op.op));
                measure_persist(started);
                workspace.op_persisted(record);
                broadcast(&TabMessage::Queued(op));
                if workspace.local_problem.get_untracked() == Some(LocalProblem::QuotaExceeded) {
                    workspace.local_problem.set(None);
                }
                schedule_push(workspace);
            }
            Err(reason) => {
                // The edit stays in memory (and in the in-memory outbox, so it still
                // syncs); the user is told, and can export.
                let problem = if reason.to_ascii_lowercase().contains("quota") {
                    LocalProblem::QuotaExceeded
                } else {
                    LocalProblem::Unavailable(reason)
                };
                workspace.local_problem.set(Some(problem));
                schedule_push(workspace);
            }
        }
    });
}

/// Edit-to-persisted times in ms (applying the text to the record, queueing
/// the op, committing it to IndexedDB), kept for `bench/keystroke.mjs` in
/// `globalThis.__ternPersistMs`; the synchronous part (applying the text and
/// queueing the op) in `globalThis.__ternApplyMs`.
pub(super) fn measure_persist(started: f64) {
    record_ms("__ternPersistMs", now() - started);
}

pub(in crate::store) fn schedule_draft_flush(workspace: Workspace) {
    if DRAFT_SCHEDULED.replace(true) {
        return;
    }
    set_timeout(
        move || {
            DRAFT_SCHEDULED.set(false);
            workspace.flush_drafts();
        },
        DRAFT_DELAY,
    );
}

pub(super) fn schedule_push(workspace: Workspace) {
    if PUSH_SCHEDULED.replace(true) {
        return;
    }
    set_timeout(
        move || {
            PUSH_SCHEDULED.set(false);
            request_sync(workspace);
        },
        PUSH_DELAY,
    );
}

/// Starts a sync, or asks the running one to go round again.
pub(in crate::store) fn request_sync(workspace: Workspace) {
    if SYNC_RUNNING.replace(true) {
        SYNC_AGAIN.set(true);
        return;
    }
    spawn_local(async move {
        loop {
            SYNC_AGAIN.set(false);
            if !window().navigator().on_line() {
                workspace.phase.set(SyncPhase::Idle);
                break;
            }
            if session().is_some_and(|session| session.expired.get_untracked()) {
                workspace.phase.set(SyncPhase::SignedOut);
                break;
            }
            workspace.flush_drafts();
            workspace.phase.set(SyncPhase::Syncing);
            match sync_once(workspace).await {
                Ok(()) => {
                    FAILURES.set(0);
                    workspace.phase.set(SyncPhase::Idle);
                    workspace.synced_at.set(Some(clock_time()));
                }
                Err(SyncError::SignedOut) => {
                    // Nothing is retried until the user signs in again; the
                    // edits stay queued on the device.
                    workspace.phase.set(SyncPhase::SignedOut);
                    if let Some(session) = session() {
                        session.expired.set(true);
                    }
                    break;
                }
                Err(error) => {
                    let reason = match error {
                        SyncError::Failed(reason) => reason,
                        _ => "the server did not find what it was asked for".to_owned(),
                    };
                    workspace.phase.set(SyncPhase::Failed(reason));
                    let failures = FAILURES.get().saturating_add(1);
                    FAILURES.set(failures);
                    let delay = 1000u64
                        .saturating_mul(1 << failures.min(20))
                        .min(BACKOFF_MAX_MS);
                    set_timeout(
                        move || request_sync(workspace),
                        Duration::from_millis(delay),
                    );
                    break;
                }
            }
            if !SYNC_AGAIN.get() {
                break;
            }
        }
        SYNC_RUNNING.set(false);
    });
}

/// One round: push the whole outbox, pull to the end, repair what cannot settle.
/// Every step is saved before the next, so a round cut off anywhere resumes.
pub(super) async fn sync_once(workspace: Workspace) -> Result<(), SyncError> {
    let db = db();
    if let Some(db) = &db {
        // Another tab may have queued or settled ops: the stored outbox is the truth,
        // less the ops this tab has settled and not yet checkpointed.
        let (_, mut stored) = stored_outbox(db).await?;
        CHECKPOINT.with_borrow(|pending| stored.retain(|op| !pending.settled.contains(&op.op)));
        REPLICA.with_borrow_mut(|replica| match replica.as_mut() {
            Some(replica) => {
                // This tab's ops still being written (the text applied as this
                // round began, say) come after every stored op: writes commit in
                // the order they were made. Dropped here, a later op would reach
                // the server ahead of one it builds on, and be refused.
                let unsaved: Vec<PushOp> = UNSAVED.with_borrow(|unsaved| {
                    if unsaved.is_empty() {
                        return Vec::new();
                    }
                    // Sets: after a quota error both lists can run to thousands.
                    let unsaved: HashSet<OpId> = unsaved.iter().copied().collect();
                    let saved: HashSet<OpId> = stored.iter().map(|op| op.op).collect();
                    replica
                        .outbox()
                        .iter()
                        .filter(|op| unsaved.contains(&op.op) && !saved.contains(&op.op))
                        .cloned()
                        .collect()
                });
                stored.extend(unsaved);
                replica
                    .replace_outbox(stored)
                    .map_err(|error| error.to_string())
            }
            None => Ok(()),
        })?;
    }
    loop {
        let request = REPLICA.with_borrow(|replica| replica.as_ref()?.next_push(MAX_PUSH_BYTES));
        let Some(request) = request else { break };
        let answer: PushResponse = post(PUSH_PATH, sync::encode(&request)).await?;
        let acknowledged = REPLICA.with_borrow_mut(|replica| {
            replica
                .as_mut()
                .map(|replica| replica.acknowledge(&answer))
                .unwrap_or_default()
        });
        let stuck = acknowledged.settled.is_empty()
            && REPLICA.with_borrow(|replica| {
                replica
                    .as_ref()
                    .and_then(|replica| replica.outbox().first().map(|op| op.op))
            }) == request.ops.first().map(|op| op.op);
        if stuck {
            // Never loop on an answer that settles nothing; retry with backoff.
            return Err(SyncError::Failed(
                "the server did not answer for the changes sent".to_owned(),
            ));
        }
        // Refused records go back to the server's copy, the user's version kept
        // aside, before the refused ops are let go of: a round cut off here
        // pushes them again and is refused again.
        let mut refused: Vec<(RecordId, String)> = Vec::new();
        for (id, reason) in &acknowledged.rejected {
            if !refused.iter().any(|(seen, _)| seen == id) {
                refused.push((*id, reason.clone()));
            }
        }
        for (id, reason) in refused {
            reset_refused_record(workspace, db.as_ref(), id, reason).await?;
        }
        UNSAVED.with_borrow_mut(|unsaved| unsaved.retain(|id| !acknowledged.settled.contains(id)));
        let touched: Vec<RecordId> = request.ops.iter().map(|op| op.record).collect();
        checkpoint_later(workspace, &touched, None, &acknowledged.settled);
        broadcast(&TabMessage::Settled(acknowledged.settled));
        workspace.changed();
    }
    // The next page is asked for as soon as this one has arrived: the server
    // reads it while the device takes this one in and writes it (a new
    // device's first sync is mostly these three, and would otherwise be
    // their sum).
    let mut ahead: Option<(PullQuery, Pin<Box<MaybeDone<PageRequest>>>)> = None;
    while let Some(query) = REPLICA.with_borrow(|replica| replica.as_ref().map(Replica::next_pull))
    {
        let page: PullResponse = match ahead.take() {
            Some((asked, mut request)) if asked == query => {
                request.as_mut().await;
                request
                    .as_mut()
                    .take_output()
                    .unwrap_or_else(|| Err("the next page was asked for twice".to_owned().into()))?
            }
            _ => get(&query.path()).await?,
        };
        if !page.complete && page.cursor > query.since {
            // The query the replica makes once this page is in (checked on use).
            let next = PullQuery {
                since: page.cursor,
                ..query.clone()
            };
            ahead = Some((next.clone(), send_now(next)));
        }
        let applying = now();
        let pulled = apply_remote(workspace, |replica| replica.apply_pull(query.since, &page));
        // How long a page takes the device to take in and to write (bench/volume.mjs).
        record_ms("__ternPullApplyMs", now() - applying);
        let Some(Ok(pulled)) = pulled else { break };
        let changed: Vec<RecordId> = pulled.changed;
        let cursor = REPLICA.with_borrow(|replica| replica.as_ref().map(Replica::cursor));
        // Others' changes are written at once, so an offline reload shows them.
        // A page of only this device's own ops moves just the cursor, also at
        // once (a small write): the server counts the cursor a device pulls
        // from as seen and may compact the log up to it, so a stored cursor
        // left behind would, after a reload, bring every record again. The
        // ops stay in the stored outbox until their records' states are
        // written, so the stored device still holds what the cursor covers.
        let storing = now();
        match &db {
            Some(db) if changed.is_empty() => write_states(db, Vec::new(), cursor, &[]).await?,
            Some(db) => save_states(db, &changed, cursor, &[]).await?,
            None => {}
        }
        record_ms("__ternPullStoreMs", now() - storing);
        let merged = page
            .changes
            .iter()
            .map(|change| (change.record, change.update.clone()))
            .collect();
        broadcast(&TabMessage::MergedPage(merged));
        if page.complete {
            break;
        }
        if page.cursor <= query.since {
            return Err(SyncError::Failed(
                "the server's answer did not move the sync cursor".to_owned(),
            ));
        }
    }
    let broken = REPLICA.with_borrow(|replica| {
        replica
            .as_ref()
            .map(Replica::records_needing_repair)
            .unwrap_or_default()
    });
    for id in broken {
        let whole: Change = get(&format!("{RECORDS_PATH}/{id}")).await?;
        apply_remote(workspace, |replica| replica.apply_whole(&whole));
        if let Some(db) = &db {
            save_states(db, &[id], None, &[]).await?;
        }
    }
    Ok(())
}

type PageRequest = Pin<Box<dyn Future<Output = Result<PullResponse, SyncError>>>>;

/// A pull request already on the wire: polled once here, which calls `fetch`,
/// so the request leaves before the device's next long synchronous step
/// (taking in a page) instead of at its next await.
fn send_now(query: PullQuery) -> Pin<Box<MaybeDone<PageRequest>>> {
    let request: PageRequest = Box::pin(async move { get(&query.path()).await });
    let mut request = Box::pin(maybe_done(request));
    let waker = futures::task::noop_waker();
    let _ = request
        .as_mut()
        .poll(&mut std::task::Context::from_waker(&waker));
    request
}

/// What sync has changed in memory and not yet written to IndexedDB.
#[derive(Default)]
pub(super) struct Checkpoint {
    records: std::collections::BTreeSet<RecordId>,
    settled: Vec<OpId>,
    cursor: Option<Seq>,
    scheduled: bool,
}

thread_local! {
    static CHECKPOINT: RefCell<Checkpoint> = RefCell::new(Checkpoint::default());
}

/// Writing a large record's state is the costliest thing the device does, so
/// what this device's own pushes settled is written at most every few seconds
/// (and when the page is hidden), not after every round. Until then nothing is
/// at risk: the settled ops are still in the stored outbox, so a reload rebuilds
/// the same record from them (and a re-push is answered `AlreadyApplied`), and
/// the stored cursor is older (a re-pull changes nothing). Others' changes are
/// written at once.
pub(super) const CHECKPOINT_DELAY: Duration = Duration::from_secs(3);

pub(super) fn checkpoint_later(
    workspace: Workspace,
    records: &[RecordId],
    cursor: Option<Seq>,
    settled: &[OpId],
) {
    let schedule = CHECKPOINT.with_borrow_mut(|pending| {
        pending.records.extend(records.iter().copied());
        pending.settled.extend_from_slice(settled);
        if cursor.is_some() {
            pending.cursor = cursor;
        }
        !std::mem::replace(&mut pending.scheduled, true)
    });
    if schedule {
        set_timeout(move || checkpoint_now(workspace), CHECKPOINT_DELAY);
    }
}

/// Writes what sync changed now (timer, `pagehide`, hidden visibility).
pub(super) fn checkpoint_now(workspace: Workspace) {
    let pending = CHECKPOINT.with_borrow_mut(std::mem::take);
    if pending.records.is_empty() && pending.settled.is_empty() && pending.cursor.is_none() {
        return;
    }
    let Some(db) = db() else { return };
    spawn_local(async move {
        let records: Vec<RecordId> = pending.records.iter().copied().collect();
        if let Err(reason) = save_states(&db, &records, pending.cursor, &pending.settled).await {
            // Keep it for the next attempt; the data is still in memory.
            CHECKPOINT.with_borrow_mut(|again| {
                again.records.extend(pending.records);
                again.settled.extend(pending.settled);
                if again.cursor.is_none() {
                    again.cursor = pending.cursor;
                }
            });
            let problem = if reason.to_ascii_lowercase().contains("quota") {
                LocalProblem::QuotaExceeded
            } else {
                LocalProblem::Unavailable(reason)
            };
            workspace.local_problem.set(Some(problem));
            checkpoint_later(workspace, &[], None, &[]);
        }
    });
}

/// After the server refused an edit of `id`: keeps the user's version as a
/// local copy (stored first), then takes the record back to the server's copy
/// and drops its queued ops, in memory, in IndexedDB and in other tabs.
pub(super) async fn reset_refused_record(
    workspace: Workspace,
    db: Option<&Database>,
    id: RecordId,
    reason: String,
) -> Result<(), SyncError> {
    let server: Option<Change> = match get::<Change>(&format!("{RECORDS_PATH}/{id}")).await {
        Ok(change) => Some(change),
        // Not on the server, or not one this user may see.
        Err(SyncError::NotFound) => None,
        Err(error) => return Err(error),
    };
    // The copy holds what was typed up to now (its ops go with the record's).
    workspace.flush_drafts();
    // An erased record's personal data is not kept, not even as the user's copy.
    let erased = matches!(
        tern_domain::auth::Denied::from_wire(&reason),
        Some(tern_domain::auth::Denied::Erased(_))
    );
    let version = REPLICA.with_borrow(|replica| {
        let replica = replica.as_ref()?;
        let projection = replica.projection(id)?;
        Some((
            projection.kind,
            projection.title().to_owned(),
            replica.state(id)?,
        ))
    });
    if let Some((kind, title, state)) = version.filter(|_| !erased) {
        let mut copy = LocalCopy {
            key: 0,
            record: id,
            kind,
            title,
            text: String::new(),
            state,
            reason,
            kept_at: local_timestamp(),
        };
        if let Some(db) = db {
            copy.key = store_copy(db, &copy).await?;
        }
        let mut copies = workspace.copies.get_untracked();
        copies.push(copy);
        workspace.copies.set(copies);
    }
    let dropped = apply_remote(workspace, |replica| {
        replica.reset_record(id, server.as_ref(), random_client_id())
    })
    .transpose()
    .map_err(|error| error.to_string())?
    .unwrap_or_default();
    if let Some(db) = db {
        forget_record_ops(db, id, server.as_ref()).await?;
    }
    broadcast(&TabMessage::Reset(
        id,
        server.map(|change| change.update),
        dropped,
    ));
    Ok(())
}
