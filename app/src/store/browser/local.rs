//! IndexedDB: the device's saved records, outbox, cursor and kept copies.
//!
//! Each user has their own database, `tern-<user id>` (version 2), so another
//! user signing in on the same browser never opens it. Five stores:
//! - `records`: key = record id, value = postcard `(RecordId, state)` (version
//!   1 kept the projection beside the state here: such a value is read once
//!   and written again in this form); written when the server has
//!   acknowledged or sent changes;
//! - `listing`: key = record id, value = postcard [`StoredListing`]: the
//!   record's listing (its projection without long text), written in the same
//!   transaction as its state. A start reads these first, so lists draw
//!   before the states (most of the bytes) are read;
//! - `outbox`: auto-increment key, value = postcard `PushOp`; an edit is here
//!   before the UI calls it saved, and leaves only in the same transaction that
//!   writes the record's new state;
//! - `meta`: the cursor in the server's log, as `<seq>;<kinds pulled>`;
//! - `copies`: auto-increment key, value = postcard `LocalCopy`: a user's
//!   version of a record the server refused, kept until they dismiss it.

use super::device::{now, record_start, StartFigures};
use super::startup_read::{early_read, load, read_now};
use super::user_key;
use crate::store::{LocalCopy, LocalProblem, REPLICA};
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::JsValue;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::sync::Arc;
use tern_domain::client::{Replica, SavedRecord};
use tern_domain::record::{Projection, RecordId, RecordKind, PROJECTION_VERSION};
use tern_domain::sync::{self, Change, DeviceId, OpId, PushOp, Seq};

pub(super) const DB_PREFIX: &str = "tern-";

pub(super) const RECORDS: &str = "records";

pub(super) const LISTING: &str = "listing";

pub(super) const COPIES: &str = "copies";

pub(super) const OUTBOX: &str = "outbox";

pub(super) const META: &str = "meta";

pub(super) const CURSOR_KEY: &str = "cursor";

thread_local! {
    static DB: RefCell<Option<Database>> = const { RefCell::new(None) };
}

/// Opens the user's database and restores the replica from what it holds
/// (read in one transaction, `startup_read`): the listings go on screen
/// through `show` first, then the replica is restored from the states.
pub(super) async fn open_and_load(
    device: DeviceId,
    client_id: u64,
    show: impl FnOnce(Vec<(RecordId, Arc<Projection>)>),
) -> Result<(Replica, Vec<LocalCopy>), LocalProblem> {
    let started = now();
    let user = user_key();
    // The database is opened beside decoding the boot script's read, not
    // before it: IndexedDB answers the open only once it has handed over
    // that read.
    let (db, saved) = match early_read(&user).await {
        Some(read) => futures::join!(open_db(), load(read, started, show)),
        None => {
            let db = open_db().await.map_err(LocalProblem::Unavailable)?;
            let read = read_now(&user).await.map_err(LocalProblem::Unavailable)?;
            (Ok(db), load(read, started, show).await)
        }
    };
    let db = db.map_err(LocalProblem::Unavailable)?;
    let saved = saved.map_err(LocalProblem::Unavailable)?;
    let read = now() - started;
    DB.with_borrow_mut(|slot| *slot = Some(db.clone()));
    let count = saved.states.len();
    let restored = Replica::restore(device, client_id, saved.cursor, saved.states, saved.outbox)
        .map_err(|(id, error)| LocalProblem::Unavailable(format!("record {id}: {error}")))?;
    // Records saved without a listing (by a build before listings had a store
    // of their own, or under another projection version) are written again
    // with theirs, so the next start lists them without loading a document.
    // Not written is not lost: the next start projects them again.
    let stored = saved
        .unlisted
        .iter()
        .filter_map(|id| Some((*id, encode_stored(&restored.replica, *id)?)))
        .collect();
    let _ = write_states(&db, stored, None, &[]).await;
    record_start(StartFigures {
        records: count,
        projected: restored.projected.len(),
        opened_at: started,
        fetched_ms: saved.fetched_ms,
        listed_ms: saved.listed_ms,
        read_ms: read,
        ms: now() - started,
    });
    Ok((restored.replica, saved.copies))
}

/// The kinds this build pulls, as the stored cursor names them.
pub(super) fn known_kinds() -> String {
    let tags: Vec<&str> = RecordKind::ALL.iter().map(|kind| kind.as_str()).collect();
    tags.join(",")
}

/// The cursor as stored, with the kinds the pulls up to it asked for.
pub(super) fn cursor_text(cursor: Seq) -> String {
    format!("{};{}", cursor.0, known_kinds())
}

/// A stored cursor counts only for the kinds it was pulled with: a build that
/// knows more kinds (or a cursor stored before kinds were named) pulls from
/// the start again, which brings the records of the new kinds; merging what
/// the device has again changes nothing.
pub(super) fn parse_cursor(text: &str) -> Seq {
    match text.split_once(';') {
        Some((seq, kinds)) if kinds == known_kinds() => Seq(seq.parse().unwrap_or(0)),
        _ => Seq(0),
    }
}

/// Opens (creating or upgrading) the user's database. `public/boot.js`
/// (`readDevice`) reads it at this version, under these names, before this
/// code has loaded: a change of version or stores is made there too.
pub(super) async fn open_db() -> Result<Database, String> {
    Database::open(format!("{DB_PREFIX}{}", user_key()))
        .with_version(2u8)
        .with_on_upgrade_needed(|event, db| {
            if event.old_version() < 2.0 {
                db.create_object_store(LISTING).build()?;
            }
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

/// A record's listing as IndexedDB holds it: its kind and its fields as
/// JSON, with the version of projections it was made under, so a start lists
/// the record without loading its document. The fields are a plain JSON map:
/// a `Projection` as one JSON object (its kind flattened in) would cost the
/// engine's code more of serde's buffering code. (Reading the JSON through
/// the browser's `JSON` saved 0.7 KB but made a start of 10,000 records
/// 0.2-0.4 s slower.)
#[derive(Serialize, Deserialize)]
struct StoredListing {
    id: RecordId,
    projection_version: u32,
    /// `None` for a record whose kind is not known (an erased one).
    kind: Option<RecordKind>,
    fields: String,
}

/// What version 1 of the database held in `records`: the state with its
/// projection. Read once, when the record is written again in version 2's
/// form.
#[derive(Serialize, Deserialize)]
struct StoredRecordV1 {
    id: RecordId,
    state: Vec<u8>,
    projection_version: u32,
    kind: Option<RecordKind>,
    fields: String,
}

/// What a record is written as: its value in `records` (postcard
/// `(RecordId, state)`) and in `listing`.
pub(super) struct Stored {
    state: Vec<u8>,
    listing: Vec<u8>,
}

pub(super) fn encode_stored(replica: &Replica, id: RecordId) -> Option<Stored> {
    let state = replica.state(id)?;
    let projection = replica.projection(id);
    let fields = projection
        .as_ref()
        .and_then(|projection| serde_json::to_string(&projection.fields).ok())
        .unwrap_or_default();
    Some(Stored {
        state: sync::encode(&(id, state)),
        listing: sync::encode(&StoredListing {
            id,
            projection_version: PROJECTION_VERSION,
            kind: projection.map(|projection| projection.kind),
            fields,
        }),
    })
}

/// A listing made under this build's projection version, as (id, listing);
/// `None` for one made under another (its record is projected again).
pub(super) fn decode_listing(bytes: &[u8]) -> Option<(RecordId, Option<Arc<Projection>>)> {
    let stored = sync::decode::<StoredListing>(bytes).ok()?;
    if stored.projection_version != PROJECTION_VERSION {
        return None;
    }
    let projection = match stored.kind {
        Some(kind) => Some(Arc::new(Projection {
            kind,
            fields: serde_json::from_str(&stored.fields).ok()?,
        })),
        None => None,
    };
    Some((stored.id, projection))
}

/// A record's saved state. A value version 1 wrote comes with the projection
/// it was saved with, if it was made under this build's version.
pub(super) fn decode_state(bytes: &[u8]) -> Option<SavedRecord> {
    if let Ok((id, state)) = sync::decode::<(RecordId, Vec<u8>)>(bytes) {
        return Some(SavedRecord {
            id,
            state,
            projection: None,
        });
    }
    let stored = sync::decode::<StoredRecordV1>(bytes).ok()?;
    let projection = match stored.kind {
        Some(kind) if stored.projection_version == PROJECTION_VERSION => {
            serde_json::from_str(&stored.fields)
                .ok()
                .map(|fields| Arc::new(Projection { kind, fields }.listing()))
        }
        _ => None,
    };
    Some(SavedRecord {
        id: stored.id,
        state: stored.state,
        projection,
    })
}

/// Every value, decoded one at a time: the raw bytes of ten thousand records
/// are never all in the module's memory at once beside what they decode to
/// (that memory never shrinks, so its peak is what a device keeps).
pub(super) fn decode_each<T, E: std::fmt::Display>(
    values: impl IntoIterator<Item = Result<JsValue, E>>,
    decode: impl Fn(&[u8]) -> Option<T>,
) -> Result<Vec<T>, String> {
    let mut buffer = Vec::new();
    let mut decoded = Vec::new();
    for value in values {
        let array = js_sys::Uint8Array::new(&value.map_err(|e| e.to_string())?);
        buffer.resize(array.length() as usize, 0);
        array.copy_to(&mut buffer);
        decoded.extend(decode(&buffer));
    }
    Ok(decoded)
}

pub(super) async fn all_values(
    tx: &indexed_db_futures::transaction::Transaction<'_>,
    store: &str,
) -> Result<Vec<Vec<u8>>, String> {
    all_decoded(tx, store, |bytes| Some(bytes.to_vec())).await
}

async fn all_decoded<T>(
    tx: &indexed_db_futures::transaction::Transaction<'_>,
    store: &str,
    decode: impl Fn(&[u8]) -> Option<T>,
) -> Result<Vec<T>, String> {
    let values = tx
        .object_store(store)
        .map_err(|e| e.to_string())?
        .get_all::<JsValue>()
        .primitive()
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    decode_each(values, decode)
}

pub(super) async fn all_keys(
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

pub(super) fn bytes_value(bytes: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(bytes).into()
}

pub(super) fn db() -> Option<Database> {
    DB.with_borrow(Clone::clone)
}

pub(super) async fn append_to_outbox(db: &Database, op: &PushOp) -> Result<(), String> {
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

/// The stored outbox with its keys, oldest first.
pub(super) async fn stored_outbox(db: &Database) -> Result<(Vec<JsValue>, Vec<PushOp>), String> {
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
pub(super) async fn save_states(
    db: &Database,
    records: &[RecordId],
    cursor: Option<Seq>,
    settled: &[OpId],
) -> Result<(), String> {
    let stored: Vec<(RecordId, Stored)> = REPLICA.with_borrow(|replica| {
        let Some(replica) = replica.as_ref() else {
            return Vec::new();
        };
        let mut ids = records.to_vec();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| Some((id, encode_stored(replica, id)?)))
            .collect()
    });
    write_states(db, stored, cursor, settled).await
}

/// Writes stored records (state and listing), the cursor, and removes
/// settled ops, in one transaction.
pub(super) async fn write_states(
    db: &Database,
    stored: Vec<(RecordId, Stored)>,
    cursor: Option<Seq>,
    settled: &[OpId],
) -> Result<(), String> {
    let tx = db
        .transaction([RECORDS, LISTING, OUTBOX, META])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| e.to_string())?;
    for (id, stored) in stored {
        put_stored(&tx, id, &stored)?;
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

pub(super) async fn store_copy(db: &Database, copy: &LocalCopy) -> Result<u32, String> {
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

/// Writes a record's state and listing (the transaction holds both stores).
fn put_stored(
    tx: &indexed_db_futures::transaction::Transaction<'_>,
    id: RecordId,
    stored: &Stored,
) -> Result<(), String> {
    for (store, value) in [(RECORDS, &stored.state), (LISTING, &stored.listing)] {
        tx.object_store(store)
            .map_err(|e| e.to_string())?
            .put(bytes_value(value))
            .with_key(id.to_string())
            .primitive()
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Removes every stored op of `id` and writes its new state (or deletes it).
pub(super) async fn forget_record_ops(
    db: &Database,
    id: RecordId,
    server: Option<&Change>,
) -> Result<(), String> {
    let tx = db
        .transaction([RECORDS, LISTING, OUTBOX])
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
    match server {
        Some(change) => {
            let stored = REPLICA.with_borrow(|replica| encode_stored(replica.as_ref()?, id));
            match stored {
                Some(stored) => put_stored(&tx, id, &stored)?,
                // Only the state, and no listing of an older one: the next
                // start projects it.
                None => {
                    tx.object_store(RECORDS)
                        .map_err(|e| e.to_string())?
                        .put(bytes_value(&sync::encode(&(id, change.update.clone()))))
                        .with_key(id.to_string())
                        .primitive()
                        .map_err(|e| e.to_string())?;
                    tx.object_store(LISTING)
                        .map_err(|e| e.to_string())?
                        .delete(id.to_string())
                        .primitive()
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        None => {
            for store in [RECORDS, LISTING] {
                tx.object_store(store)
                    .map_err(|e| e.to_string())?
                    .delete(id.to_string())
                    .primitive()
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    tx.commit().await.map_err(|e| e.to_string())
}

/// Deletes a dismissed local copy.
pub(in crate::store) fn delete_copy(key: u32) {
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
