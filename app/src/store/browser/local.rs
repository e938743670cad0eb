//! IndexedDB: the device's saved records, outbox, cursor and kept copies.
//!
//! Each user has their own database, `tern-<user id>` (version 1), so another
//! user signing in on the same browser never opens it. Four stores:
//! - `records`: key = record id, value = postcard [`StoredRecord`]: the
//!   record's state and its projection as JSON (older values are postcard
//!   `(RecordId, state)`, projected again when read); written when the server
//!   has acknowledged or sent changes;
//! - `outbox`: auto-increment key, value = postcard `PushOp`; an edit is here
//!   before the UI calls it saved, and leaves only in the same transaction that
//!   writes the record's new state;
//! - `meta`: the cursor in the server's log, as `<seq>;<kinds pulled>`;
//! - `copies`: auto-increment key, value = postcard `LocalCopy`: a user's
//!   version of a record the server refused, kept until they dismiss it.

use super::device::{now, record_start};
use super::user_key;
use crate::store::LocalCopyWithText;
use crate::store::{LocalCopy, LocalProblem, REPLICA};
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::JsValue;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use tern_domain::client::{Replica, SavedRecord};
use tern_domain::record::{Projection, RecordId, RecordKind, PROJECTION_VERSION};
use tern_domain::sync::{self, Change, DeviceId, OpId, PushOp, Seq};

pub(super) const DB_PREFIX: &str = "tern-";

pub(super) const RECORDS: &str = "records";

pub(super) const COPIES: &str = "copies";

pub(super) const OUTBOX: &str = "outbox";

pub(super) const META: &str = "meta";

pub(super) const CURSOR_KEY: &str = "cursor";

thread_local! {
    static DB: RefCell<Option<Database>> = const { RefCell::new(None) };
}

pub(super) async fn open_and_load(
    device: DeviceId,
    client_id: u64,
) -> Result<(Replica, Vec<LocalCopy>), LocalProblem> {
    let started = now();
    let db = open_db().await.map_err(LocalProblem::Unavailable)?;
    let saved = load(&db).await.map_err(LocalProblem::Unavailable)?;
    let read = now() - started;
    DB.with_borrow_mut(|slot| *slot = Some(db.clone()));
    let count = saved.states.len();
    let restored = Replica::restore(device, client_id, saved.cursor, saved.states, saved.outbox)
        .map_err(|(id, error)| LocalProblem::Unavailable(format!("record {id}: {error}")))?;
    // Records saved before projections were saved beside them are written
    // again with theirs, so the next start lists them without loading a
    // document. Not written is not lost: the next start projects them again.
    let stored = restored
        .projected
        .iter()
        .filter_map(|id| Some((*id, encode_stored(&restored.replica, *id)?)))
        .collect();
    let _ = write_states(&db, stored, None, &[]).await;
    record_start(count, restored.projected.len(), read, now() - started);
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

pub(super) async fn open_db() -> Result<Database, String> {
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

/// A record as IndexedDB holds it: its state, and its projection (the kind,
/// and the fields as JSON, with the version of projections it was made
/// under) so a start lists it without loading its document. The fields are a
/// plain JSON map: a `Projection` as one JSON object (its kind flattened in)
/// would cost the first load more of serde's buffering code. (Reading the
/// JSON through the browser's `JSON` saved 0.7 KB but made a start of 10,000
/// records 0.2-0.4 s slower.)
#[derive(Serialize, Deserialize)]
pub(super) struct StoredRecord {
    id: RecordId,
    state: Vec<u8>,
    projection_version: u32,
    kind: Option<RecordKind>,
    fields: String,
}

pub(super) fn encode_stored(replica: &Replica, id: RecordId) -> Option<Vec<u8>> {
    let state = replica.state(id)?;
    let projection = replica.projection(id);
    let fields = projection
        .as_ref()
        .and_then(|projection| serde_json::to_string(&projection.fields).ok())
        .unwrap_or_default();
    Some(sync::encode(&StoredRecord {
        id,
        state,
        projection_version: PROJECTION_VERSION,
        kind: projection.map(|projection| projection.kind),
        fields,
    }))
}

/// Reads a stored record; one stored before projections were kept beside
/// states (or under another projection version) comes without one and is
/// projected again.
pub(super) fn decode_stored(bytes: &[u8]) -> Option<SavedRecord> {
    if let Ok(stored) = sync::decode::<StoredRecord>(bytes) {
        let projection = match stored.kind {
            Some(kind) if stored.projection_version == PROJECTION_VERSION => {
                serde_json::from_str(&stored.fields)
                    .ok()
                    .map(|fields| Projection { kind, fields })
            }
            _ => None,
        };
        return Some(SavedRecord {
            id: stored.id,
            state: stored.state,
            projection,
        });
    }
    let (id, state) = sync::decode::<(RecordId, Vec<u8>)>(bytes).ok()?;
    Some(SavedRecord {
        id,
        state,
        projection: None,
    })
}

pub(super) struct Saved {
    cursor: Seq,
    states: Vec<SavedRecord>,
    outbox: Vec<PushOp>,
    copies: Vec<LocalCopy>,
}

pub(super) async fn load(db: &Database) -> Result<Saved, String> {
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
                .or_else(|_| sync::decode::<LocalCopyWithText>(bytes).map(LocalCopy::from))
                .ok()?;
            copy.key = key.as_f64()? as u32;
            Some(copy)
        })
        .collect();
    let states = all_decoded(&tx, RECORDS, decode_stored).await?;
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

pub(super) async fn all_values(
    tx: &indexed_db_futures::transaction::Transaction<'_>,
    store: &str,
) -> Result<Vec<Vec<u8>>, String> {
    all_decoded(tx, store, |bytes| Some(bytes.to_vec())).await
}

/// Every value of a store, decoded one at a time: the raw bytes of ten
/// thousand records are never all in memory at once beside what they decode
/// to (the module's memory never shrinks, so its peak is what a device keeps).
async fn all_decoded<T>(
    tx: &indexed_db_futures::transaction::Transaction<'_>,
    store: &str,
    decode: impl Fn(&[u8]) -> Option<T>,
) -> Result<Vec<T>, String> {
    let store = tx.object_store(store).map_err(|e| e.to_string())?;
    let values = store
        .get_all::<JsValue>()
        .primitive()
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
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
    let stored: Vec<(RecordId, Vec<u8>)> = REPLICA.with_borrow(|replica| {
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

/// Writes stored records, the cursor, and removes settled ops, in one transaction.
pub(super) async fn write_states(
    db: &Database,
    stored: Vec<(RecordId, Vec<u8>)>,
    cursor: Option<Seq>,
    settled: &[OpId],
) -> Result<(), String> {
    let tx = db
        .transaction([RECORDS, OUTBOX, META])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| e.to_string())?;
    let store = tx.object_store(RECORDS).map_err(|e| e.to_string())?;
    for (id, stored) in stored {
        store
            .put(bytes_value(&stored))
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

/// Removes every stored op of `id` and writes its new state (or deletes it).
pub(super) async fn forget_record_ops(
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
            let stored = REPLICA
                .with_borrow(|replica| encode_stored(replica.as_ref()?, id))
                .unwrap_or_else(|| sync::encode(&(id, change.update.clone())));
            records
                .put(bytes_value(&stored))
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
