//! The browser half of the store: IndexedDB, the sync loop over `fetch`,
//! other tabs (BroadcastChannel) and live events from the server (SSE).
//!
//! Each user has their own IndexedDB database, `tern-<user id>` (version 1), so
//! another user signing in on the same browser never opens it. Four stores:
//! - `records`: key = record id, value = postcard `(RecordId, state)`; states are
//!   written when the server has acknowledged or sent changes;
//! - `outbox`: auto-increment key, value = postcard `PushOp`; an edit is here
//!   before the UI calls it saved, and leaves only in the same transaction that
//!   writes the record's new state;
//! - `meta`: the cursor in the server's log, as `<seq>;<kinds pulled>`;
//! - `copies`: auto-increment key, value = postcard `LocalCopy`: a user's
//!   version of a record the server refused, kept until they dismiss it.
//!
//! One device id per browser profile (localStorage); one yrs replica id per tab
//! session, so tabs never write under the same id.

use super::{LocalCopy, LocalProblem, SyncPhase, Workspace, REPLICA};
use crate::session::Session;
use gloo_storage::Storage as _;
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::{JsCast, JsValue};
use leptos::web_sys;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::time::Duration;
use tern_domain::auth::UserId;
use tern_domain::client::Replica;
use tern_domain::record::{RecordId, RecordKind};
use tern_domain::sync::{
    self, Change, DeviceId, OpId, PullResponse, PushOp, PushResponse, Seq, EVENTS_PATH,
    MAX_PUSH_BYTES, PUSH_PATH, RECORDS_PATH,
};
use wasm_bindgen_futures::JsFuture;

const DB_PREFIX: &str = "tern-";
const RECORDS: &str = "records";
const COPIES: &str = "copies";
const OUTBOX: &str = "outbox";
const META: &str = "meta";
const CURSOR_KEY: &str = "cursor";
const DEVICE_KEY: &str = "tern.device";
const CHANNEL_PREFIX: &str = "tern-workspace-";

/// Text being typed is applied and saved at most this long after a keystroke.
const DRAFT_DELAY: Duration = Duration::from_millis(300);
/// A local edit is pushed this long after it is saved, so a burst goes as one.
const PUSH_DELAY: Duration = Duration::from_millis(800);
/// While online, the device also syncs on this timer (live events may be cut).
const SYNC_INTERVAL: Duration = Duration::from_secs(30);
const BACKOFF_MAX_MS: u64 = 5 * 60 * 1000;
/// A live-event stream the server refused is opened again after this long.
const EVENTS_RETRY: Duration = Duration::from_secs(5);

thread_local! {
    static DB: RefCell<Option<Database>> = const { RefCell::new(None) };
    static CHANNEL: RefCell<Option<web_sys::BroadcastChannel>> = const { RefCell::new(None) };
    static EVENTS: RefCell<Option<web_sys::EventSource>> = const { RefCell::new(None) };
    static SYNC_RUNNING: Cell<bool> = const { Cell::new(false) };
    static SYNC_AGAIN: Cell<bool> = const { Cell::new(false) };
    static FAILURES: Cell<u32> = const { Cell::new(0) };
    /// The signed-in user this page's workspace belongs to.
    static USER: RefCell<Option<(UserId, Session)>> = const { RefCell::new(None) };
    static PUSH_SCHEDULED: Cell<bool> = const { Cell::new(false) };
    static DRAFT_SCHEDULED: Cell<bool> = const { Cell::new(false) };
    /// Ops this tab queued whose outbox write has not committed: still on its
    /// way, or refused for lack of space. The stored outbox lacks them, and a
    /// sync round must not forget them.
    static UNSAVED: RefCell<Vec<OpId>> = const { RefCell::new(Vec::new()) };
}

/// What tabs of one browser tell each other, so both show the same text.
#[derive(Serialize, Deserialize)]
enum TabMessage {
    /// An edit this tab saved in the outbox.
    Queued(PushOp),
    /// Ops the server has answered for; gone from the outbox.
    Settled(Vec<OpId>),
    /// A change from the server, saved in `records`.
    Merged(RecordId, Vec<u8>),
    /// The server refused an edit of the record: it went back to this state
    /// (`None`: gone), and these queued ops were dropped.
    Reset(RecordId, Option<Vec<u8>>, Vec<OpId>),
}

/// Why a sync round stopped.
enum SyncError {
    /// The server no longer accepts the session (401): wait for sign-in.
    SignedOut,
    /// 404: the record asked for is not on the server, or not one this user may see.
    NotFound,
    Failed(String),
}

impl From<String> for SyncError {
    fn from(reason: String) -> Self {
        SyncError::Failed(reason)
    }
}

/// Opens the store, loads the workspace and starts syncing. Runs once, after hydration.
pub(super) fn start(workspace: Workspace, session: Session, user: UserId) {
    workspace.recent.set(load_recent(&user));
    USER.with_borrow_mut(|slot| *slot = Some((user, session)));
    spawn_local(async move {
        let device = device_id();
        let client_id = random_client_id();
        match open_and_load(device, client_id).await {
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
        workspace.ready.set(true);
        workspace.phase.set(SyncPhase::Idle);
        workspace.changed();
        listen_to_other_tabs(workspace);
        listen_for_connectivity(workspace);
        ask_for_persistent_storage();
        request_sync(workspace);
    });
}

fn user_key() -> String {
    USER.with_borrow(|user| user.as_ref().map(|(id, _)| id.0.clone()))
        .unwrap_or_default()
}

fn session() -> Option<Session> {
    USER.with_borrow(|user| user.as_ref().map(|(_, session)| *session))
}

async fn open_and_load(
    device: DeviceId,
    client_id: u64,
) -> Result<(Replica, Vec<LocalCopy>), LocalProblem> {
    let db = open_db().await.map_err(LocalProblem::Unavailable)?;
    let mut saved = load(&db).await.map_err(LocalProblem::Unavailable)?;
    let copies = saved.copies.clone();
    DB.with_borrow_mut(|slot| *slot = Some(db));
    loop {
        let restored = Replica::restore(
            device,
            client_id,
            saved.cursor,
            saved.states.clone(),
            saved.outbox.clone(),
        );
        match restored {
            Ok(replica) => return Ok((replica, copies)),
            // A saved state that no longer reads is left out and the whole log
            // pulled again, which brings the record back from the server; queued
            // edits are never left out.
            Err((id, _)) if saved.states.iter().any(|(saved_id, _)| *saved_id == id) => {
                saved.states.retain(|(saved_id, _)| *saved_id != id);
                saved.cursor = Seq(0);
            }
            Err((id, error)) => {
                return Err(LocalProblem::Unavailable(format!("record {id}: {error}")));
            }
        }
    }
}

/// The kinds this build pulls, as the stored cursor names them.
fn known_kinds() -> String {
    let tags: Vec<&str> = RecordKind::ALL.iter().map(|kind| kind.as_str()).collect();
    tags.join(",")
}

/// The cursor as stored, with the kinds the pulls up to it asked for.
fn cursor_text(cursor: Seq) -> String {
    format!("{};{}", cursor.0, known_kinds())
}

/// A stored cursor counts only for the kinds it was pulled with: a build that
/// knows more kinds (or a cursor stored before kinds were named) pulls from
/// the start again, which brings the records of the new kinds; merging what
/// the device has again changes nothing.
fn parse_cursor(text: &str) -> Seq {
    match text.split_once(';') {
        Some((seq, kinds)) if kinds == known_kinds() => Seq(seq.parse().unwrap_or(0)),
        _ => Seq(0),
    }
}

async fn open_db() -> Result<Database, String> {
    Database::open(format!("{DB_PREFIX}{}", user_key()))
        .with_version(1u8)
        .with_on_upgrade_needed(|event, db| {
            if event.old_version() < 1.0 {
                db.create_object_store(RECORDS).build()?;
                db.create_object_store(OUTBOX)
                    .with_auto_increment(true)
                    .build()?;
                db.create_object_store(META).build()?;
                db.create_object_store(COPIES)
                    .with_auto_increment(true)
                    .build()?;
            }
            Ok(())
        })
        .await
        .map_err(|error| error.to_string())
}

struct Saved {
    cursor: Seq,
    states: Vec<(RecordId, Vec<u8>)>,
    outbox: Vec<PushOp>,
    copies: Vec<LocalCopy>,
}

async fn load(db: &Database) -> Result<Saved, String> {
    let tx = db
        .transaction([RECORDS, OUTBOX, META, COPIES])
        .build()
        .map_err(|e| e.to_string())?;
    let copy_keys = all_keys(&tx, COPIES).await?;
    let copies = all_values(&tx, COPIES)
        .await?
        .iter()
        .zip(copy_keys)
        .filter_map(|(bytes, key)| {
            let mut copy = sync::decode::<LocalCopy>(bytes)
                .or_else(|_| sync::decode::<super::LocalCopyWithText>(bytes).map(LocalCopy::from))
                .ok()?;
            copy.key = key.as_f64()? as u32;
            Some(copy)
        })
        .collect();
    let states = all_values(&tx, RECORDS)
        .await?
        .iter()
        .filter_map(|bytes| sync::decode::<(RecordId, Vec<u8>)>(bytes).ok())
        .collect();
    let outbox = all_values(&tx, OUTBOX)
        .await?
        .iter()
        .filter_map(|bytes| sync::decode::<PushOp>(bytes).ok())
        .collect();
    let meta = tx.object_store(META).map_err(|e| e.to_string())?;
    let cursor: Option<String> = meta
        .get(CURSOR_KEY)
        .primitive()
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    let cursor = cursor.as_deref().map_or(Seq(0), parse_cursor);
    Ok(Saved {
        cursor,
        states,
        outbox,
        copies,
    })
}

async fn all_values(
    tx: &indexed_db_futures::transaction::Transaction<'_>,
    store: &str,
) -> Result<Vec<Vec<u8>>, String> {
    let store = tx.object_store(store).map_err(|e| e.to_string())?;
    let values = store
        .get_all::<JsValue>()
        .primitive()
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    values
        .map(|value| {
            value
                .map(|value| js_sys::Uint8Array::new(&value).to_vec())
                .map_err(|e| e.to_string())
        })
        .collect()
}

async fn all_keys(
    tx: &indexed_db_futures::transaction::Transaction<'_>,
    store: &str,
) -> Result<Vec<JsValue>, String> {
    let store = tx.object_store(store).map_err(|e| e.to_string())?;
    let keys = store
        .get_all_keys::<JsValue>()
        .primitive()
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    keys.map(|key| key.map_err(|e| e.to_string())).collect()
}

fn bytes_value(bytes: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(bytes).into()
}

fn db() -> Option<Database> {
    DB.with_borrow(Clone::clone)
}

/// Saves a new op in the outbox; the record counts as saved once this commits.
pub(super) fn save_op(workspace: Workspace, op: PushOp, started: f64) {
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

async fn append_to_outbox(db: &Database, op: &PushOp) -> Result<(), String> {
    let tx = db
        .transaction(OUTBOX)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| e.to_string())?;
    let store = tx.object_store(OUTBOX).map_err(|e| e.to_string())?;
    store
        .add(bytes_value(&sync::encode(op)))
        .primitive()
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}

/// Edit-to-persisted times in ms (applying the text to the record, queueing
/// the op, committing it to IndexedDB), kept for `bench/keystroke.mjs` in
/// `globalThis.__ternPersistMs`; the synchronous part (applying the text and
/// queueing the op) in `globalThis.__ternApplyMs`.
fn measure_persist(started: f64) {
    record_ms("__ternPersistMs", now() - started);
}

/// Appends a duration to a global array (the newest 1,000) for the benchmarks.
fn record_ms(name: &str, ms: f64) {
    let key = JsValue::from_str(name);
    let global = js_sys::global();
    let times = js_sys::Reflect::get(&global, &key)
        .ok()
        .and_then(|times| times.dyn_into::<js_sys::Array>().ok())
        .unwrap_or_else(|| {
            let times = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&global, &key, &times);
            times
        });
    if times.length() >= 1000 {
        times.shift();
    }
    times.push(&JsValue::from_f64(ms));
}

pub(super) fn now() -> f64 {
    window()
        .performance()
        .map_or_else(js_sys::Date::now, |p| p.now())
}

pub(super) fn schedule_draft_flush(workspace: Workspace) {
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

fn schedule_push(workspace: Workspace) {
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

/// After the user signed in again: live events and sync start over.
pub(super) fn resume(workspace: Workspace) {
    if window().navigator().on_line() {
        open_events(workspace);
    }
    request_sync(workspace);
}

/// Starts a sync, or asks the running one to go round again.
pub(super) fn request_sync(workspace: Workspace) {
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
async fn sync_once(workspace: Workspace) -> Result<(), SyncError> {
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
        let mut refused: Vec<(RecordId, String)> = acknowledged.rejected.clone();
        refused.sort_unstable_by_key(|(id, _)| *id);
        refused.dedup_by_key(|(id, _)| *id);
        for (id, reason) in refused {
            reset_refused_record(workspace, db.as_ref(), id, reason).await?;
        }
        UNSAVED.with_borrow_mut(|unsaved| unsaved.retain(|id| !acknowledged.settled.contains(id)));
        let touched: Vec<RecordId> = request.ops.iter().map(|op| op.record).collect();
        checkpoint_later(workspace, &touched, None, &acknowledged.settled);
        broadcast(&TabMessage::Settled(acknowledged.settled));
        workspace.changed();
    }
    while let Some(query) = REPLICA.with_borrow(|replica| replica.as_ref().map(Replica::next_pull))
    {
        let page: PullResponse = get(&query.path()).await?;
        let pulled = apply_remote(workspace, |replica| replica.apply_pull(query.since, &page));
        let Some(Ok(pulled)) = pulled else { break };
        let changed: Vec<RecordId> = pulled.changed.into_iter().collect();
        let cursor = REPLICA.with_borrow(|replica| replica.as_ref().map(Replica::cursor));
        // Others' changes are written at once, so an offline reload shows them;
        // a page of only this device's own ops just moves the cursor, later.
        match (&db, changed.is_empty()) {
            (Some(db), false) => save_states(db, &changed, cursor, &[]).await?,
            _ => checkpoint_later(workspace, &[], cursor, &[]),
        }
        for change in &page.changes {
            broadcast(&TabMessage::Merged(change.record, change.update.clone()));
        }
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
        apply_remote(workspace, |replica| replica.apply_change(&whole));
        if let Some(db) = &db {
            save_states(db, &[id], None, &[]).await?;
        }
    }
    Ok(())
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
fn apply_remote<T>(workspace: Workspace, change: impl FnOnce(&mut Replica) -> T) -> Option<T> {
    workspace.flush_drafts();
    let result = REPLICA.with_borrow_mut(|replica| replica.as_mut().map(change));
    workspace.changed();
    result
}

/// What sync has changed in memory and not yet written to IndexedDB.
#[derive(Default)]
struct Checkpoint {
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
const CHECKPOINT_DELAY: Duration = Duration::from_secs(3);

fn checkpoint_later(
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
fn checkpoint_now(workspace: Workspace) {
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

/// The stored outbox with its keys, oldest first.
async fn stored_outbox(db: &Database) -> Result<(Vec<JsValue>, Vec<PushOp>), String> {
    let tx = db.transaction(OUTBOX).build().map_err(|e| e.to_string())?;
    let keys = all_keys(&tx, OUTBOX).await?;
    let values = all_values(&tx, OUTBOX).await?;
    let ops = values
        .iter()
        .filter_map(|bytes| sync::decode::<PushOp>(bytes).ok())
        .collect();
    Ok((keys, ops))
}

/// In one transaction: writes the states of `records`, the cursor, and removes
/// settled ops from the outbox. A state written here holds every op another tab
/// queued or merged, because tabs tell each other at once (BroadcastChannel)
/// and a push waits longer than that; so it never drops another tab's edit.
async fn save_states(
    db: &Database,
    records: &[RecordId],
    cursor: Option<Seq>,
    settled: &[OpId],
) -> Result<(), String> {
    let states: Vec<(RecordId, Vec<u8>)> = REPLICA.with_borrow(|replica| {
        let Some(replica) = replica.as_ref() else {
            return Vec::new();
        };
        let mut ids = records.to_vec();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| Some((id, replica.record(id)?.state())))
            .collect()
    });
    let tx = db
        .transaction([RECORDS, OUTBOX, META])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| e.to_string())?;
    let store = tx.object_store(RECORDS).map_err(|e| e.to_string())?;
    for (id, state) in states {
        store
            .put(bytes_value(&sync::encode(&(id, state))))
            .with_key(id.to_string())
            .primitive()
            .map_err(|e| e.to_string())?;
    }
    if !settled.is_empty() {
        let outbox = tx.object_store(OUTBOX).map_err(|e| e.to_string())?;
        let keys = all_keys(&tx, OUTBOX).await?;
        let values = all_values(&tx, OUTBOX).await?;
        for (key, bytes) in keys.into_iter().zip(values) {
            let settled_here =
                sync::decode::<PushOp>(&bytes).is_ok_and(|op| settled.contains(&op.op));
            if settled_here {
                outbox.delete(key).primitive().map_err(|e| e.to_string())?;
            }
        }
    }
    if let Some(cursor) = cursor {
        let meta = tx.object_store(META).map_err(|e| e.to_string())?;
        meta.put(cursor_text(cursor))
            .with_key(CURSOR_KEY)
            .primitive()
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}

async fn post<T: for<'de> Deserialize<'de>>(path: &str, body: Vec<u8>) -> Result<T, SyncError> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&bytes_value(&body));
    let headers = web_sys::Headers::new().map_err(js_reason)?;
    headers
        .set("content-type", sync::CONTENT_TYPE)
        .map_err(js_reason)?;
    init.set_headers(&headers);
    fetch(path, &init).await
}

async fn get<T: for<'de> Deserialize<'de>>(path: &str) -> Result<T, SyncError> {
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    fetch(path, &init).await
}

async fn fetch<T: for<'de> Deserialize<'de>>(
    path: &str,
    init: &web_sys::RequestInit,
) -> Result<T, SyncError> {
    let response = JsFuture::from(window().fetch_with_str_and_init(path, init))
        .await
        .map_err(|_| "the server could not be reached".to_owned())?;
    let response: web_sys::Response = response.dyn_into().map_err(js_reason)?;
    match response.status() {
        401 => return Err(SyncError::SignedOut),
        404 => return Err(SyncError::NotFound),
        _ => {}
    }
    if !response.ok() {
        let status = response.status();
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise)
                .await
                .ok()
                .and_then(|text| text.as_string()),
            Err(_) => None,
        };
        let reason = text
            .and_then(|text| js_sys::JSON::parse(&text).ok())
            .and_then(|json| js_sys::Reflect::get(&json, &"reason".into()).ok())
            .and_then(|reason| reason.as_string())
            .unwrap_or_else(|| format!("the server answered {status}"));
        return Err(SyncError::Failed(reason));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(js_reason)?)
        .await
        .map_err(js_reason)?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    sync::decode(&bytes).map_err(|error| SyncError::Failed(error.to_string()))
}

fn js_reason(value: JsValue) -> String {
    value
        .as_string()
        .or_else(|| {
            value
                .dyn_ref::<js_sys::Error>()
                .map(|error| String::from(error.message()))
        })
        .unwrap_or_else(|| "the browser refused the request".to_owned())
}

fn broadcast(message: &TabMessage) {
    CHANNEL.with_borrow(|channel| {
        if let Some(channel) = channel {
            let _ = channel.post_message(&bytes_value(&sync::encode(message)));
        }
    });
}

fn listen_to_other_tabs(workspace: Workspace) {
    let Ok(channel) = web_sys::BroadcastChannel::new(&format!("{CHANNEL_PREFIX}{}", user_key()))
    else {
        return;
    };
    let on_message = leptos::wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(
        move |event: web_sys::MessageEvent| {
            let bytes = js_sys::Uint8Array::new(&event.data()).to_vec();
            let Ok(message) = sync::decode::<TabMessage>(&bytes) else {
                return;
            };
            apply_remote(workspace, |replica| {
                match message {
                    TabMessage::Queued(op) => {
                        let _ = replica.adopt_op(op);
                    }
                    TabMessage::Settled(ops) => replica.forget_ops(&ops),
                    TabMessage::Merged(record, update) => {
                        let _ = replica.apply_local(record, &update);
                    }
                    TabMessage::Reset(record, state, dropped) => {
                        // This tab's copy holds the refused ops too: it goes back as well.
                        replica.forget_ops(&dropped);
                        let change = state.map(|update| server_copy(record, update));
                        let _ = replica.reset_record(record, change.as_ref(), random_client_id());
                    }
                }
            });
        },
    );
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Lives as long as the page.
    on_message.forget();
    CHANNEL.with_borrow_mut(|slot| *slot = Some(channel));
}

fn listen_for_connectivity(workspace: Workspace) {
    let online = window_event_listener(leptos::ev::online, move |_| {
        open_events(workspace);
        request_sync(workspace);
    });
    let offline = window_event_listener(leptos::ev::offline, move |_| close_events());
    // Text being typed is saved before the page goes away or into the background.
    let hide = window_event_listener(leptos::ev::pagehide, move |_| {
        workspace.flush_drafts();
        checkpoint_now(workspace);
    });
    let hidden = window_event_listener(leptos::ev::visibilitychange, move |_| {
        if document().visibility_state() == web_sys::VisibilityState::Hidden {
            workspace.flush_drafts();
            checkpoint_now(workspace);
        }
    });
    // These live as long as the page.
    std::mem::forget((online, offline, hide, hidden));
    let timer = set_interval_with_handle(move || request_sync(workspace), SYNC_INTERVAL);
    std::mem::forget(timer);
    if window().navigator().on_line() {
        open_events(workspace);
    }
}

/// Live events: the server says its log grew; pull if it is past our cursor.
fn open_events(workspace: Workspace) {
    close_events();
    let Ok(events) = web_sys::EventSource::new(EVENTS_PATH) else {
        return;
    };
    let on_message = leptos::wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(
        move |event: web_sys::MessageEvent| {
            let latest = event
                .data()
                .as_string()
                .and_then(|text| text.trim().parse::<u64>().ok());
            let cursor = REPLICA.with_borrow(|replica| replica.as_ref().map(Replica::cursor));
            if let (Some(latest), Some(cursor)) = (latest, cursor) {
                if latest > cursor.0 {
                    request_sync(workspace);
                }
            }
        },
    );
    events.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    // The browser retries a dropped stream by itself, but gives up for good on
    // an error answer (a server restarting, a passing database conflict): try
    // again a little later, and sync meanwhile in case an event was missed.
    let on_error = leptos::wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
        let closed = EVENTS.with_borrow(|slot| {
            slot.as_ref()
                .is_some_and(|events| events.ready_state() == web_sys::EventSource::CLOSED)
        });
        if closed {
            set_timeout(
                move || {
                    let expired = session().is_some_and(|session| session.expired.get_untracked());
                    if window().navigator().on_line() && !expired {
                        open_events(workspace);
                        request_sync(workspace);
                    }
                },
                EVENTS_RETRY,
            );
        }
    });
    events.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    EVENTS.with_borrow_mut(|slot| *slot = Some(events));
}

fn close_events() {
    EVENTS.with_borrow_mut(|slot| {
        if let Some(events) = slot.take() {
            events.close();
        }
    });
}

fn ask_for_persistent_storage() {
    if let Ok(storage) = js_sys::Reflect::get(&window().navigator(), &"storage".into()) {
        if let Ok(storage) = storage.dyn_into::<web_sys::StorageManager>() {
            let _ = storage.persist();
        }
    }
}

/// How much this origin stores and may store, in bytes, and whether the
/// browser promised not to evict it.
pub(super) async fn storage_estimate() -> Option<(f64, f64, bool)> {
    let storage = js_sys::Reflect::get(&window().navigator(), &"storage".into())
        .ok()?
        .dyn_into::<web_sys::StorageManager>()
        .ok()?;
    let estimate = JsFuture::from(storage.estimate().ok()?).await.ok()?;
    let usage = js_sys::Reflect::get(&estimate, &"usage".into())
        .ok()?
        .as_f64()?;
    let quota = js_sys::Reflect::get(&estimate, &"quota".into())
        .ok()?
        .as_f64()?;
    let persisted = JsFuture::from(storage.persisted().ok()?)
        .await
        .ok()
        .and_then(|value| value.as_bool())
        .unwrap_or(false);
    Some((usage, quota, persisted))
}

/// A record's whole state as a change (kind read from the state itself).
fn server_copy(record: RecordId, update: Vec<u8>) -> Change {
    let kind = tern_domain::record::Record::load(record, 1, &update)
        .ok()
        .and_then(|loaded| loaded.kind())
        .unwrap_or(tern_domain::record::RecordKind::Recommendation);
    Change {
        seq: Seq(0),
        record,
        kind,
        update,
    }
}

/// After the server refused an edit of `id`: keeps the user's version as a
/// local copy (stored first), then takes the record back to the server's copy
/// and drops its queued ops, in memory, in IndexedDB and in other tabs.
async fn reset_refused_record(
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
        let record = replica.as_ref()?.record(id)?;
        Some((record.kind()?, record.title(), record.state()))
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

async fn store_copy(db: &Database, copy: &LocalCopy) -> Result<u32, String> {
    let tx = db
        .transaction(COPIES)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| e.to_string())?;
    let store = tx.object_store(COPIES).map_err(|e| e.to_string())?;
    let key: JsValue = store
        .add(bytes_value(&sync::encode(copy)))
        .with_key_type::<JsValue>()
        .primitive()
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(key.as_f64().unwrap_or_default() as u32)
}

/// Removes every stored op of `id` and writes its new state (or deletes it).
async fn forget_record_ops(
    db: &Database,
    id: RecordId,
    server: Option<&Change>,
) -> Result<(), String> {
    let tx = db
        .transaction([RECORDS, OUTBOX])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| e.to_string())?;
    let outbox = tx.object_store(OUTBOX).map_err(|e| e.to_string())?;
    let keys = all_keys(&tx, OUTBOX).await?;
    let values = all_values(&tx, OUTBOX).await?;
    for (key, bytes) in keys.into_iter().zip(values) {
        if sync::decode::<PushOp>(&bytes).is_ok_and(|op| op.record == id) {
            outbox.delete(key).primitive().map_err(|e| e.to_string())?;
        }
    }
    let records = tx.object_store(RECORDS).map_err(|e| e.to_string())?;
    match server {
        Some(change) => {
            records
                .put(bytes_value(&sync::encode(&(id, change.update.clone()))))
                .with_key(id.to_string())
                .primitive()
                .map_err(|e| e.to_string())?;
        }
        None => {
            records
                .delete(id.to_string())
                .primitive()
                .map_err(|e| e.to_string())?;
        }
    }
    tx.commit().await.map_err(|e| e.to_string())
}

/// Deletes a dismissed local copy.
pub(super) fn delete_copy(key: u32) {
    let Some(db) = db() else { return };
    spawn_local(async move {
        let Ok(tx) = db
            .transaction(COPIES)
            .with_mode(TransactionMode::Readwrite)
            .build()
        else {
            return;
        };
        if let Ok(store) = tx.object_store(COPIES) {
            if let Ok(request) = store.delete(f64::from(key)).primitive() {
                let _ = request.await;
            }
        }
        let _ = tx.commit().await;
    });
}

/// "YYYY-MM-DD HH:MM" in the user's local time.
fn local_timestamp() -> String {
    let date = js_sys::Date::new_0();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

fn device_id() -> DeviceId {
    if let Ok(text) = gloo_storage::LocalStorage::get::<String>(DEVICE_KEY) {
        if let Ok(device) = text.parse() {
            return device;
        }
    }
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    let device = DeviceId(bytes);
    let _ = gloo_storage::LocalStorage::set(DEVICE_KEY, device.to_string());
    device
}

fn random_client_id() -> u64 {
    let mut bytes = [0u8; 8];
    fill_random(&mut bytes);
    u64::from_le_bytes(bytes)
}

pub(super) fn fill_random(bytes: &mut [u8]) {
    let filled = window()
        .crypto()
        .and_then(|crypto| crypto.get_random_values_with_u8_array(bytes));
    if filled.is_err() {
        for byte in bytes.iter_mut() {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
}

/// "HH:MM" in the user's local time.
fn clock_time() -> String {
    let date = js_sys::Date::new_0();
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// Offers text as a file download (Blob URL on a temporary link).
pub(super) fn download_text(name: &str, text: &str) {
    download_file(name, text, "text/plain;charset=utf-8");
}

/// Offers `text` as a file of the given media type, made on the device.
pub(super) fn download_file(name: &str, text: &str, media_type: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(link) = document().create_element("a") {
        if let Ok(link) = link.dyn_into::<web_sys::HtmlAnchorElement>() {
            link.set_href(&url);
            link.set_download(name);
            link.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// The records this user edited on this device lately, newest first.
fn recent_key(user: &UserId) -> String {
    format!("tern.recent.{user}")
}

fn load_recent(user: &UserId) -> Vec<RecordId> {
    gloo_storage::LocalStorage::get::<Vec<String>>(recent_key(user))
        .unwrap_or_default()
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect()
}

/// Puts `record` first in the recent list (kept to 20) and stores the list.
fn remember_recent(workspace: Workspace, record: RecordId) {
    let mut recent = workspace.recent.get_untracked();
    if recent.first() == Some(&record) {
        return;
    }
    recent.retain(|id| *id != record);
    recent.insert(0, record);
    recent.truncate(20);
    if let Some(user) = USER.with_borrow(|slot| slot.as_ref().map(|(user, _)| user.clone())) {
        let ids: Vec<String> = recent.iter().map(ToString::to_string).collect();
        let _ = gloo_storage::LocalStorage::set(recent_key(&user), ids);
    }
    workspace.recent.set(recent);
}
