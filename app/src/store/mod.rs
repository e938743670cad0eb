//! The workspace on this device: every record, held in memory as a
//! [`Replica`] and saved in IndexedDB before the UI calls an edit saved.
//!
//! Pages read records through [`Workspace`] and change them only through the
//! record API of `tern_domain::record` (fields by path), via
//! [`Workspace::change`] / [`Workspace::edit`] or, for text
//! that is being typed, [`Workspace::draft_text`] (applied at most 300 ms
//! later, or at once on blur and when the page is hidden).
//!
//! The replica lives in a thread-local (the browser runs this on one thread);
//! reactive code tracks [`Workspace::revision`], which moves whenever any record
//! changes. The browser half (IndexedDB, `fetch`, other tabs, live events) is in
//! `browser`, compiled only with the `hydrate` feature; the server never renders
//! a page, so it never gets here.

#[cfg(feature = "hydrate")]
mod browser;
#[cfg(feature = "hydrate")]
mod engine;
mod undo;
mod unsynced;
pub use undo::UndoSteps;

use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::sync::Arc;
use tern_domain::client::Replica;
use tern_domain::record::{
    rebase_edit, FieldEdit, FieldError, FieldPath, ItemId, Projection, Record, RecordId,
    RecordKind, Stamp, Update,
};

thread_local! {
    static REPLICA: RefCell<Option<Replica>> = const { RefCell::new(None) };
    /// The saved listings, read before the records' states so lists draw
    /// while the replica is restored; emptied once it is (the replica holds
    /// the same listings then). Sorted by id.
    static LISTED: RefCell<Vec<(RecordId, Arc<Projection>)>> = const { RefCell::new(Vec::new()) };
    /// Text typed but not yet applied to its record, per field.
    static DRAFTS: RefCell<BTreeMap<(RecordId, FieldPath), Draft>> = const { RefCell::new(BTreeMap::new()) };
    /// Ops applied in memory whose IndexedDB write has not committed yet.
    static UNSAVED: RefCell<BTreeMap<RecordId, u32>> = const { RefCell::new(BTreeMap::new()) };
}

/// A field's text being typed: what the field showed when typing began, and
/// what it reads now.
struct Draft {
    base: String,
    text: String,
}

/// Where sync stands, for the header and the Sync page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncPhase {
    /// The store is being opened.
    Starting,
    Idle,
    Syncing,
    /// The last attempt failed; the next one is scheduled with backoff.
    Failed(String),
    /// The server no longer accepts this device's session: edits stay queued
    /// until the user signs in again.
    SignedOut,
    /// The sync engine's code could not be fetched (see `engine`); tried again
    /// every few seconds.
    EngineMissing,
}

/// The user's version of a record the server refused to take, kept on the
/// device (IndexedDB) until the user dismisses it; the record itself went back
/// to the server's copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LocalCopy {
    /// The key it is stored under; 0 until stored.
    pub key: u32,
    pub record: RecordId,
    pub kind: RecordKind,
    pub title: String,
    /// The whole record as plain text (copies kept before `state` existed);
    /// empty when `state` holds the user's version.
    pub text: String,
    /// Why the server refused the edit.
    pub reason: String,
    /// When it was kept, "YYYY-MM-DD HH:MM" in local time.
    pub kept_at: String,
    /// The user's version of the record (its yrs state), turned into text
    /// when shown: the sync engine that keeps it need not know how.
    pub state: Vec<u8>,
}

/// A local copy as stored before it held the record's state.
#[derive(serde::Deserialize)]
pub(crate) struct LocalCopyWithText {
    key: u32,
    record: RecordId,
    kind: RecordKind,
    title: String,
    text: String,
    reason: String,
    kept_at: String,
}

impl From<LocalCopyWithText> for LocalCopy {
    fn from(old: LocalCopyWithText) -> LocalCopy {
        LocalCopy {
            key: old.key,
            record: old.record,
            kind: old.kind,
            title: old.title,
            text: old.text,
            reason: old.reason,
            kept_at: old.kept_at,
            state: Vec::new(),
        }
    }
}

impl LocalCopy {
    /// The user's version as plain text: its id, then every text it holds.
    pub fn full_text(&self) -> String {
        if self.state.is_empty() {
            return self.text.clone();
        }
        Record::load(self.record, 1, &self.state)
            .ok()
            .and_then(|record| record.projection())
            .map(|projection| record_text(self.record, &projection))
            .unwrap_or_else(|| self.text.clone())
    }
}

/// Whether the device could keep its edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalProblem {
    /// The browser refused to store more (quota); edits are kept in memory.
    QuotaExceeded,
    /// IndexedDB could not be opened or written (e.g. a private window).
    Unavailable(String),
}

/// One record's state as the user sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    /// Typed, not yet saved on this device (at most 300 ms).
    Unsaved,
    /// Saved on this device, not yet acknowledged by the server.
    SavedLocally,
    Synced,
}

/// The reactive handle pages use. `Copy`, provided once near the root.
#[derive(Clone, Copy)]
pub struct Workspace {
    /// Moves whenever any record or the outbox changes.
    pub revision: RwSignal<u64>,
    /// Moves when a draft starts or a local save commits: only the "Saving…" /
    /// "Saved on this device" state depends on it, so a keystroke does not make
    /// every field re-read its record.
    pub local_saves: RwSignal<u64>,
    pub phase: RwSignal<SyncPhase>,
    /// When the device last finished a sync, as "HH:MM" in local time.
    pub synced_at: RwSignal<Option<String>>,
    pub local_problem: RwSignal<Option<LocalProblem>>,
    /// True once the saved workspace has been loaded from IndexedDB.
    pub ready: RwSignal<bool>,
    /// Versions of records the server refused, kept for the user.
    pub copies: RwSignal<Vec<LocalCopy>>,
    /// Records this user edited on this device lately, newest first.
    pub recent: RwSignal<Vec<RecordId>>,
    /// Who is signed in: each edit is stamped with their name (see [`Stamp`]).
    session: crate::session::Session,
}

pub fn provide_workspace() {
    let workspace = Workspace {
        revision: RwSignal::new(0),
        local_saves: RwSignal::new(0),
        phase: RwSignal::new(SyncPhase::Starting),
        synced_at: RwSignal::new(None),
        local_problem: RwSignal::new(None),
        ready: RwSignal::new(false),
        copies: RwSignal::new(Vec::new()),
        recent: RwSignal::new(Vec::new()),
        session: crate::session::use_session(),
    };
    provide_context(workspace);
    #[cfg(feature = "hydrate")]
    {
        // The workspace is the signed-in user's own: it opens once their
        // identity is known, and syncs again once an ended session is renewed.
        let session = workspace.session;
        Effect::new(move |started: Option<bool>| {
            let started = started.unwrap_or(false);
            match session.identity.get() {
                Some(identity) if !started => {
                    engine::start(workspace, session, identity.user);
                    true
                }
                _ => started,
            }
        });
        Effect::new(move |_| {
            if !session.expired.get() && workspace.ready.get_untracked() {
                engine::resume(workspace);
            }
        });
    }
}

pub fn use_workspace() -> Workspace {
    use_context::<Workspace>().unwrap_or_else(|| {
        provide_workspace();
        expect_context::<Workspace>()
    })
}

impl Workspace {
    fn changed(self) {
        self.revision
            .set(self.revision.get_untracked().wrapping_add(1));
    }

    fn local_save_changed(self) {
        self.local_saves
            .set(self.local_saves.get_untracked().wrapping_add(1));
    }

    /// Reads the replica, tracking [`Self::revision`]. `None` before it is loaded.
    pub fn read<T>(self, reader: impl FnOnce(&Replica) -> T) -> Option<T> {
        self.revision.track();
        REPLICA.with_borrow(|replica| replica.as_ref().map(reader))
    }

    /// Reads one record, tracking changes. The record is loaded into memory
    /// if it was resting (see `tern_domain::client`); lists and links read
    /// [`Self::projection`] instead, which never loads one.
    pub fn with_record<T>(self, id: RecordId, reader: impl FnOnce(&Record) -> T) -> Option<T> {
        self.revision.track();
        REPLICA.with_borrow_mut(|replica| replica.as_mut()?.open(id).map(reader))
    }

    /// One record's listing (its projection without long text), tracking
    /// changes.
    pub fn projection(self, id: RecordId) -> Option<Arc<Projection>> {
        self.read(|replica| replica.projection(id))
            .unwrap_or_else(|| {
                LISTED.with_borrow(|listed| {
                    let at = listed.binary_search_by_key(&id, |(id, _)| *id).ok()?;
                    Some(listed[at].1.clone())
                })
            })
    }

    /// Every record's listing, by id, from the replica or, while it is being
    /// restored, from the saved listings.
    fn projections(self) -> Vec<(RecordId, Arc<Projection>)> {
        self.read(Replica::projections)
            .unwrap_or_else(|| LISTED.with_borrow(Clone::clone))
    }

    /// The projections of the records of one kind, newest first (ids are
    /// time-ordered), archived and removed ones included.
    pub fn all_of(self, kind: RecordKind) -> Vec<(RecordId, Arc<Projection>)> {
        let mut rows: Vec<(RecordId, Arc<Projection>)> = self
            .projections()
            .into_iter()
            .filter(|(_, projection)| projection.kind == kind)
            .collect();
        rows.reverse();
        rows
    }

    /// The records of one kind a list shows: not archived, not removed.
    pub fn list(self, kind: RecordKind) -> Vec<(RecordId, Arc<Projection>)> {
        let mut rows = self.all_of(kind);
        rows.retain(|(_, projection)| !projection.archived() && !projection.deleted());
        rows
    }

    /// Every record that points to `id`: (record, its projection, the field).
    pub fn backlinks(self, id: RecordId) -> Vec<(RecordId, Arc<Projection>, String)> {
        self.read(|replica| replica.backlinks(id))
            .unwrap_or_default()
    }

    /// Ops waiting for the server (this tab's view of the shared outbox).
    pub fn waiting(self) -> usize {
        self.read(|replica| replica.outbox().len()).unwrap_or(0)
    }

    pub fn record_state(self, id: RecordId) -> RecordState {
        self.revision.track();
        self.local_saves.track();
        self.state_now(id)
    }

    /// [`Self::record_state`], not tracked.
    fn state_now(self, id: RecordId) -> RecordState {
        let drafting = DRAFTS.with_borrow(|drafts| drafts.keys().any(|(record, _)| *record == id));
        let unsaved = UNSAVED.with_borrow(|unsaved| unsaved.contains_key(&id));
        let queued = || {
            REPLICA.with_borrow(|replica| {
                replica
                    .as_ref()
                    .is_some_and(|replica| replica.has_unsynced(id))
            })
        };
        if drafting || unsaved {
            RecordState::Unsaved
        } else if queued() {
            RecordState::SavedLocally
        } else {
            RecordState::Synced
        }
    }

    /// Whether every edit of `id` made here is synced (not tracked).
    fn settled(self, id: RecordId) -> bool {
        self.state_now(id) == RecordState::Synced
    }

    /// The top-level items of `id` (a recommendation's sections) holding
    /// changes made here that are not synced yet, for the outline's marks.
    pub fn unsynced_items(self, id: RecordId) -> Vec<ItemId> {
        if self.record_state(id) == RecordState::Synced {
            unsynced::forget(id);
            return Vec::new();
        }
        unsynced::items(id)
    }

    /// The reason the server refused an edit of this record, if it did.
    pub fn rejection(self, id: RecordId) -> Option<String> {
        self.read(|replica| replica.rejection(id).map(str::to_owned))
            .flatten()
    }

    /// Local copies kept for one record.
    pub fn copies_of(self, id: RecordId) -> Vec<LocalCopy> {
        self.copies.with(|copies| {
            copies
                .iter()
                .filter(|copy| copy.record == id)
                .cloned()
                .collect()
        })
    }

    /// Deletes a local copy the user no longer needs.
    pub fn dismiss_copy(self, key: u32) {
        let kept: Vec<LocalCopy> = self
            .copies
            .get_untracked()
            .into_iter()
            .filter(|copy| copy.key != key)
            .collect();
        self.copies.set(kept);
        #[cfg(feature = "hydrate")]
        browser::delete_copy(key);
    }

    /// Offers a local copy as a file download.
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    pub fn download_copy(self, copy: &LocalCopy) {
        #[cfg(feature = "hydrate")]
        browser::download_text(&format!("tern-{}.txt", copy.record), &copy.full_text());
    }

    /// Creates a record on this device and returns its id.
    pub fn create(self, kind: RecordKind) -> Option<RecordId> {
        let id = new_record_id();
        let started = perf_now();
        let stamp = self.stamp();
        let op = REPLICA.with_borrow_mut(|replica| {
            Some(replica.as_mut()?.create_stamped(id, kind, stamp.as_ref()))
        })?;
        self.saved_op(op, started);
        Some(id)
    }

    /// Changes one field and saves the change; a refused one changes nothing
    /// and says why.
    pub fn change(self, id: RecordId, path: &FieldPath, edit: FieldEdit) -> Result<(), FieldError> {
        let item = edit.top_item(path).map(|(_, item)| item.clone());
        let fresh = self.settled(id);
        undo::before_edit(id, path);
        let mut outcome = Ok(());
        self.edit(id, |record| match record.change(path, edit) {
            Ok(update) => Some(update),
            Err(error) => {
                outcome = Err(error);
                None
            }
        });
        if let (Ok(()), Some(item)) = (&outcome, item) {
            unsynced::note(id, &item, fresh);
        }
        outcome
    }

    /// Applies an edit made through the record API and saves it.
    pub fn edit(self, id: RecordId, change: impl FnOnce(&Record) -> Option<Update>) {
        let started = perf_now();
        let stamp = self.stamp();
        let op = REPLICA
            .with_borrow_mut(|replica| replica.as_mut()?.edit_stamped(id, stamp.as_ref(), change));
        if let Some(op) = op {
            self.saved_op(op, started);
        }
    }

    /// Comments and suggestions on a record (`tern_domain::record::comments`,
    /// `suggestions`) made, changed or decided in the signed-in user's name:
    /// saved and synced as edits are, but not stamped as an edit. `None`
    /// when nobody is signed in.
    pub fn discuss<E>(
        self,
        id: RecordId,
        change: impl FnOnce(&Record, &Stamp) -> Result<Update, E>,
    ) -> Option<Result<(), E>> {
        let stamp = self.stamp()?;
        let started = perf_now();
        let mut outcome = Ok(());
        let op = REPLICA.with_borrow_mut(|replica| {
            replica.as_mut()?.edit_stamped(id, None, |record| {
                change(record, &stamp)
                    .map_err(|error| outcome = Err(error))
                    .ok()
            })
        });
        if let Some(op) = op {
            self.saved_op(op, started);
        }
        Some(outcome)
    }

    /// The signed-in user, now: what an edit of theirs leaves on the record.
    fn stamp(self) -> Option<Stamp> {
        self.session.identity.with_untracked(|identity| {
            identity.as_ref().map(|me| Stamp {
                user: me.user.0.clone(),
                name: me.name.clone(),
                at: now_ms(),
            })
        })
    }

    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    fn saved_op(self, op: tern_domain::sync::PushOp, started: f64) {
        UNSAVED.with_borrow_mut(|unsaved| *unsaved.entry(op.record).or_default() += 1);
        self.changed();
        #[cfg(feature = "hydrate")]
        browser::save_op(self, op, started);
    }

    /// Every record on this device as plain text, with its long text (the
    /// listings leave that out, so each record is read from its state), for
    /// the user to keep when the device cannot store their edits.
    pub fn export_text(self) -> String {
        let mut text = String::new();
        for kind in RecordKind::ALL {
            text.push_str(&kind.def().tag.to_uppercase());
            text.push_str("\n\n");
            for (id, listing) in self.all_of(kind) {
                let whole = self
                    .read(|replica| replica.copy_of(id)?.projection())
                    .flatten();
                text.push_str(&record_text(id, whole.as_ref().unwrap_or(&listing)));
                text.push('\n');
            }
        }
        text
    }

    /// Offers `text` as a file download made on the device (works offline).
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    pub fn download_file(self, name: &str, text: &str, media_type: &str) {
        #[cfg(feature = "hydrate")]
        browser::download_file(name, text, media_type);
    }

    /// Starts a sync now (the "Sync now" button).
    pub fn sync_now(self) {
        #[cfg(feature = "hydrate")]
        browser::request_sync(self);
    }

    /// Usage and quota of this origin's storage in bytes, and whether the
    /// browser has made it persistent.
    pub async fn storage_estimate(self) -> Option<(f64, f64, bool)> {
        #[cfg(feature = "hydrate")]
        return browser::storage_estimate().await;
        #[cfg(not(feature = "hydrate"))]
        None
    }

    /// Called by the store once an op's IndexedDB write has committed.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn op_persisted(self, record: RecordId) {
        UNSAVED.with_borrow_mut(|unsaved| {
            if let Some(count) = unsaved.get_mut(&record) {
                *count -= 1;
                if *count == 0 {
                    unsaved.remove(&record);
                }
            }
        });
        self.local_save_changed();
    }

    /// Keeps the newest text of a field being typed; it is applied (and saved)
    /// within 300 ms, or at once by [`Self::flush_drafts`]. `shown` is what the
    /// field read before this input.
    pub fn draft_text(self, id: RecordId, field: FieldPath, shown: String, value: String) {
        let fresh = self.settled(id);
        let item = field.items.first().map(|(_, item)| item.clone());
        let (first, new_field) = DRAFTS.with_borrow_mut(|drafts| {
            let first = drafts.is_empty();
            match drafts.entry((id, field)) {
                Entry::Occupied(mut draft) => {
                    draft.get_mut().text = value;
                    (first, false)
                }
                Entry::Vacant(slot) => {
                    slot.insert(Draft {
                        base: shown,
                        text: value,
                    });
                    (first, true)
                }
            }
        });
        if let (true, Some(item)) = (new_field, item) {
            unsynced::note(id, &item, fresh);
        }
        if first {
            self.local_save_changed();
            #[cfg(feature = "hydrate")]
            browser::schedule_draft_flush(self);
        }
    }

    /// The text a field shows: its draft while one is pending, else the record's.
    pub fn text(self, id: RecordId, field: &FieldPath) -> String {
        // Tracked also while a draft is pending: a memo that read only the draft
        // would never run again, and the field would stop showing colleagues'
        // words (and the next keystroke would splice them away).
        self.revision.track();
        let draft = DRAFTS.with_borrow(|drafts| {
            drafts
                .get(&(id, field.clone()))
                .map(|draft| draft.text.clone())
        });
        if let Some(draft) = draft {
            return draft;
        }
        self.with_record(id, |record| record.text(field))
            .flatten()
            .unwrap_or_default()
    }

    /// Applies every pending draft now (blur, `pagehide`, before a sync).
    pub fn flush_drafts(self) {
        let drafts = DRAFTS.with_borrow_mut(std::mem::take);
        for ((id, field), draft) in drafts {
            undo::before_edit(id, &field);
            self.edit(id, |record| {
                // The record's text is the text the user typed over, unless the
                // field was late to show a change: then the typing moves past it.
                let current = record.text(&field)?;
                let text = rebase_edit(&draft.base, &draft.text, &current);
                record.set_text_at(&field, &text).ok()
            });
        }
    }
}

/// One record as plain text: its id, then every text it holds.
pub(crate) fn record_text(id: RecordId, projection: &Projection) -> String {
    format!("== {id}\n{}", projection.plain_text())
}

/// A fresh UUID v7 from the clock and the browser's crypto RNG.
pub fn new_record_id() -> RecordId {
    let mut random = [0u8; 10];
    fill_random(&mut random);
    RecordId::v7(now_ms(), random)
}

/// A fresh item id (random, URL-safe).
pub fn new_item_id() -> ItemId {
    let mut random = [0u8; 9];
    fill_random(&mut random);
    let text: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
    ItemId(text)
}

#[cfg(feature = "hydrate")]
fn fill_random(bytes: &mut [u8]) {
    browser::fill_random(bytes);
}

#[cfg(not(feature = "hydrate"))]
fn fill_random(bytes: &mut [u8]) {
    // Only the browser creates records; keep the server build honest anyway.
    let seed = now_ms();
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = (seed.rotate_left(i as u32 * 7) & 0xff) as u8;
    }
}

fn perf_now() -> f64 {
    #[cfg(feature = "hydrate")]
    return browser::now();
    #[cfg(not(feature = "hydrate"))]
    0.0
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}
