//! A device's side of sync, without I/O: the records it holds, its outbox of
//! edits the server has not acknowledged, and its cursor in the server's log.
//!
//! The browser wraps a [`Replica`] with IndexedDB and `fetch`; the randomized
//! sync tests wrap it with a simulated network. Both drive the same rules:
//!
//! - an edit goes into the outbox at once and leaves it only when the server
//!   answers for it (applied, already applied, or rejected with a reason);
//! - a push always sends the outbox from its oldest op, in order, so the server
//!   never receives an edit before the edits it depends on;
//! - pull pages are applied in the order the server logged them, and a page
//!   that does not start at the cursor (a late or duplicated answer) is ignored.

mod held;

pub use held::RECENTLY_USED;

use crate::record::{Projection, Record, RecordError, RecordId, RecordKind, Stamp, Update};
use crate::sync::{
    Change, DeviceId, OpId, OpOutcome, PullQuery, PullResponse, PushOp, PushRequest, PushResponse,
    Seq, MAX_PULL_LIMIT,
};
use held::Held;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What an edit that changed nothing encodes to (no structs, no deletions).
const EMPTY_UPDATE: &[u8] = &[0, 0];

/// One device's records, outbox and cursor.
pub struct Replica {
    device: DeviceId,
    /// This session's replica id in every document; random per session, so two
    /// tabs (or a reload) never write under the same id.
    client_id: u64,
    /// The records, a few of them open (see `held`), and each one's
    /// projection, read again the first time it is asked for after the record
    /// changed, so lists, filters and backlinks never read a document.
    records: Held,
    outbox: Vec<PushOp>,
    cursor: Seq,
    next_op: u64,
    /// Records with an op the server refused, and its reason. The user's text
    /// stays in the local document.
    rejected: BTreeMap<RecordId, String>,
    /// This device's own ops the server logged, by seq, with a fingerprint of
    /// their bytes: a pull that brings back exactly those bytes changes nothing
    /// here, so it is neither merged again nor reported as a change (which
    /// would make the device re-save a large document for its own keystroke).
    echoes: BTreeMap<Seq, u64>,
}

/// `update` and, when a new stamp is due, the stamp's write, as one update.
fn with_stamp(record: &Record, update: Update, stamp: Option<&Stamp>) -> Update {
    let Some(stamped) = stamp.and_then(|stamp| record.restamp(stamp)) else {
        return update;
    };
    // Two updates of one document at hand always merge; should they not, the
    // whole state carries both (larger, never incomplete).
    match crate::record::merge_updates(&[&update.0, &stamped.0]) {
        Ok(merged) => Update(merged),
        Err(_) => Update(record.state()),
    }
}

fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// What a push answer changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Acknowledged {
    /// Ops the device may now forget (applied, already applied or rejected).
    pub settled: Vec<OpId>,
    /// Records with a refused op, and why.
    pub rejected: Vec<(RecordId, String)>,
}

/// A pull page that does not start at the replica's cursor: a late duplicate,
/// or an answer to a request the device has since superseded. Applying it could
/// put changes out of order, so it is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("pull page starts at {}, the cursor is at {}", page_since.0, cursor.0)]
pub struct StalePage {
    pub page_since: Seq,
    pub cursor: Seq,
}

impl Replica {
    pub fn new(device: DeviceId, client_id: u64) -> Replica {
        Replica {
            device,
            client_id,
            records: Held::new(client_id),
            outbox: Vec::new(),
            cursor: Seq(0),
            next_op: 0,
            rejected: BTreeMap::new(),
            echoes: BTreeMap::new(),
        }
    }

    /// Rebuilds a replica from what a device saved: its cursor, each record's
    /// state (with the projection saved beside it, if any), and the outbox
    /// (whose updates may be newer than the saved states, which are written
    /// lazily). A record saved with its projection rests until it is read.
    /// A saved state that no longer reads is left out and the whole log is
    /// pulled again, which brings the record back from the server; a queued
    /// edit that does not apply is an error (queued edits are never left out).
    pub fn restore(
        device: DeviceId,
        client_id: u64,
        cursor: Seq,
        saved: impl IntoIterator<Item = SavedRecord>,
        outbox: Vec<PushOp>,
    ) -> Result<Restored, (RecordId, RecordError)> {
        let mut replica = Replica::new(device, client_id);
        replica.cursor = cursor;
        let mut projected = Vec::new();
        let mut unreadable = Vec::new();
        for SavedRecord {
            id,
            state,
            projection,
        } in saved
        {
            match projection {
                Some(projection) => replica.records.insert_resting(id, state, projection),
                None => match replica.records.load(id, &state) {
                    Ok(()) => {
                        projected.push(id);
                        replica.rest();
                    }
                    Err(_) => unreadable.push(id),
                },
            }
        }
        if !unreadable.is_empty() {
            replica.cursor = Seq(0);
        }
        for op in &outbox {
            replica
                .records
                .entry(op.record)
                .apply_update(&op.update)
                .map_err(|error| (op.record, error))?;
        }
        replica.outbox = outbox;
        replica.rest();
        Ok(Restored {
            replica,
            projected,
            unreadable,
        })
    }

    pub fn device(&self) -> DeviceId {
        self.device
    }

    pub fn cursor(&self) -> Seq {
        self.cursor
    }

    /// Whether the replica holds the record (open or resting).
    pub fn contains(&self, id: RecordId) -> bool {
        self.records.contains(id)
    }

    /// Every record's id, oldest first (ids are time-ordered).
    pub fn ids(&self) -> Vec<RecordId> {
        self.records.ids()
    }

    /// A record, loaded into memory if it was resting; `None` if unknown.
    /// It stays open while it is among the most recently used.
    pub fn open(&mut self, id: RecordId) -> Option<&Record> {
        self.records.open(id)?;
        self.rest();
        self.records.get_open(id)
    }

    /// A copy of the record loaded from its state, whether it is open or
    /// resting; edits of the copy go nowhere (for reading in tests and
    /// exports).
    pub fn copy_of(&self, id: RecordId) -> Option<Record> {
        Record::load(id, self.client_id, &self.records.state(id)?).ok()
    }

    /// Whether the record is in memory now (for tests of what is kept).
    pub fn is_open(&self, id: RecordId) -> bool {
        self.records.is_open(id)
    }

    /// How many records are in memory now.
    pub fn open_count(&self) -> usize {
        self.records.open_count()
    }

    /// A record's whole state, to save; read from memory, never opening it.
    pub fn state(&self, id: RecordId) -> Option<Vec<u8>> {
        self.records.state(id)
    }

    /// A record's listing ([`Projection::listing`]: its projection without
    /// long text); `None` until its kind is known. Long text is read from
    /// the record itself ([`Self::open`]).
    pub fn projection(&self, id: RecordId) -> Option<Arc<Projection>> {
        self.records.projection(id)
    }

    /// Every record's projection, by id (ids are time-ordered).
    pub fn projections(&self) -> Vec<(RecordId, Arc<Projection>)> {
        self.records.all_projections()
    }

    /// The records that link to `target` (source, its projection, the
    /// field), from an index kept as projections change.
    pub fn backlinks(&self, target: RecordId) -> Vec<(RecordId, Arc<Projection>, String)> {
        self.records.backlinks(target)
    }

    /// Lets records rest beyond the recently used ones (the one used last is
    /// always among them), keeping every record with unsynced edits open.
    fn rest(&mut self) {
        if self.records.open_count() <= RECENTLY_USED {
            return;
        }
        // A sorted vector, not a set: see `held` on the cost of another map type.
        let mut unsynced: Vec<RecordId> = self.outbox.iter().map(|op| op.record).collect();
        unsynced.sort_unstable();
        unsynced.dedup();
        self.records
            .rest_beyond(|id| unsynced.binary_search(&id).is_ok());
    }

    pub fn outbox(&self) -> &[PushOp] {
        &self.outbox
    }

    /// Whether the record has edits the server has not acknowledged.
    pub fn has_unsynced(&self, id: RecordId) -> bool {
        self.outbox.iter().any(|op| op.record == id)
    }

    pub fn rejection(&self, id: RecordId) -> Option<&str> {
        self.rejected.get(&id).map(String::as_str)
    }

    /// Creates a record on this device; returns the op that was queued.
    pub fn create(&mut self, id: RecordId, kind: RecordKind) -> PushOp {
        self.create_stamped(id, kind, None)
    }

    /// [`Replica::create`], stamped as created by `stamp`'s user.
    pub fn create_stamped(
        &mut self,
        id: RecordId,
        kind: RecordKind,
        stamp: Option<&Stamp>,
    ) -> PushOp {
        let (record, update) = Record::create(id, kind, self.client_id);
        let update = with_stamp(&record, update, stamp);
        self.records.replace(record);
        let op = self.queue(id, kind, update);
        self.rest();
        op
    }

    /// Runs an edit through the typed API of a record and queues what it changed.
    /// `None` if the record is unknown, its kind not yet known, or nothing changed.
    pub fn edit(
        &mut self,
        id: RecordId,
        change: impl FnOnce(&Record) -> Option<Update>,
    ) -> Option<PushOp> {
        self.edit_stamped(id, None, change)
    }

    /// [`Replica::edit`], and the record stamped as changed by `stamp`'s user
    /// (in the same op, when a new stamp is due).
    pub fn edit_stamped(
        &mut self,
        id: RecordId,
        stamp: Option<&Stamp>,
        change: impl FnOnce(&Record) -> Option<Update>,
    ) -> Option<PushOp> {
        let record = self.records.open(id)?;
        let kind = record.kind()?;
        // Choices made now are claimed in the stamp's name (`record::conflicts`).
        record.set_author(stamp);
        let update = change(record)?;
        if update.0 == EMPTY_UPDATE {
            return None;
        }
        let update = with_stamp(record, update, stamp);
        self.records.mark_stale(id);
        let op = self.queue(id, kind, update);
        self.rest();
        Some(op)
    }

    fn queue(&mut self, record: RecordId, kind: RecordKind, update: Update) -> PushOp {
        let op = PushOp {
            op: self.next_op_id(),
            record,
            kind,
            update: update.0,
        };
        self.outbox.push(op.clone());
        op
    }

    /// Op ids: this session's replica id, then a counter. Sessions draw replica
    /// ids at random, so two devices' ids do not meet.
    fn next_op_id(&mut self) -> OpId {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&self.client_id.to_be_bytes());
        id[8..].copy_from_slice(&self.next_op.to_be_bytes());
        self.next_op += 1;
        OpId(id)
    }

    /// Replaces the outbox with the device's stored one (another tab may have
    /// queued or settled ops), applying any op this replica has not seen.
    pub fn replace_outbox(&mut self, outbox: Vec<PushOp>) -> Result<(), RecordError> {
        let applied = outbox
            .iter()
            .try_for_each(|op| self.records.entry(op.record).apply_update(&op.update));
        applied?;
        self.outbox = outbox;
        self.rest();
        Ok(())
    }

    /// Takes in an op another tab of this device queued (and saved) already.
    pub fn adopt_op(&mut self, op: PushOp) -> Result<(), RecordError> {
        self.records.entry(op.record).apply_update(&op.update)?;
        if !self.outbox.iter().any(|queued| queued.op == op.op) {
            self.outbox.push(op);
        }
        self.rest();
        Ok(())
    }

    /// Drops ops another tab of this device has settled with the server.
    pub fn forget_ops(&mut self, settled: &[OpId]) {
        self.outbox.retain(|op| !settled.contains(&op.op));
        self.rest();
    }

    /// Merges an update that another tab of this device made and saved already.
    pub fn apply_local(&mut self, record: RecordId, update: &[u8]) -> Result<(), RecordError> {
        let applied = self.records.entry(record).apply_update(update);
        self.rest();
        applied
    }

    /// The next push: the outbox from its oldest op, as many ops as fit in
    /// `max_bytes` (always at least one). `None` when the outbox is empty.
    pub fn next_push(&self, max_bytes: usize) -> Option<PushRequest> {
        let first = self.outbox.first()?;
        let mut size = first.update.len() + 64;
        let mut ops = vec![first.clone()];
        for op in &self.outbox[1..] {
            size += op.update.len() + 64;
            if size > max_bytes {
                break;
            }
            ops.push(op.clone());
        }
        Some(PushRequest { ops })
    }

    /// Takes the server's answer to a push out of the outbox. Answers may be late
    /// or duplicated; an op already gone is simply not found.
    pub fn acknowledge(&mut self, response: &PushResponse) -> Acknowledged {
        let mut acknowledged = Acknowledged::default();
        for (op_id, outcome) in &response.outcomes {
            let Some(position) = self.outbox.iter().position(|op| op.op == *op_id) else {
                continue;
            };
            let op = self.outbox.remove(position);
            match outcome {
                OpOutcome::Rejected(reason) => {
                    self.rejected.insert(op.record, reason.clone());
                    acknowledged.rejected.push((op.record, reason.clone()));
                }
                OpOutcome::Applied(seq) | OpOutcome::AlreadyApplied(seq) => {
                    if *seq > self.cursor {
                        self.echoes.insert(*seq, fingerprint(&op.update));
                    }
                }
            }
            acknowledged.settled.push(*op_id);
        }
        self.rest();
        acknowledged
    }

    /// The next pull this device should make.
    pub fn next_pull(&self) -> PullQuery {
        PullQuery {
            since: self.cursor,
            limit: MAX_PULL_LIMIT,
            device: Some(self.device),
            kinds: Some(RecordKind::ALL.to_vec()),
        }
    }

    /// Applies a pull page that answers a pull made from `since`; returns the
    /// records it changed. Changes that do not merge are skipped (and reported),
    /// never allowed to stop the device from syncing the rest.
    pub fn apply_pull(&mut self, since: Seq, page: &PullResponse) -> Result<PulledPage, StalePage> {
        if since != self.cursor {
            return Err(StalePage {
                page_since: since,
                cursor: self.cursor,
            });
        }
        let mut pulled = PulledPage::default();
        for change in &page.changes {
            // Only identical bytes are skipped: a whole-state change (for a device
            // behind the compacted log) never matches an op and is always merged.
            if self.echoes.remove(&change.seq) == Some(fingerprint(&change.update)) {
                continue;
            }
            match self.apply_change(change) {
                Ok(()) => {
                    pulled.changed.push(change.record);
                }
                Err(error) => pulled.unmergeable.push((change.record, error)),
            }
        }
        pulled.changed.sort_unstable();
        pulled.changed.dedup();
        self.cursor = self.cursor.max(page.cursor);
        let cursor = self.cursor;
        self.echoes.retain(|seq, _| *seq > cursor);
        Ok(pulled)
    }

    /// Merges one change of a record (from a pull).
    pub fn apply_change(&mut self, change: &Change) -> Result<(), RecordError> {
        let had_kind = self.records.kind(change.record).is_some();
        let applied = self
            .records
            .entry(change.record)
            .apply_update(&change.update);
        // A record that loses its kind was erased: the change is its
        // tombstone, and the device keeps only that, not even the keys of what
        // was deleted (see `record::erase`).
        let erased = had_kind
            && self
                .records
                .get_open(change.record)
                .is_some_and(|record| record.kind().is_none());
        if erased {
            if let Ok(tombstone) = Record::load(change.record, self.client_id, &change.update) {
                self.records.replace(tombstone);
            }
        }
        self.rest();
        applied
    }

    /// Merges one record's whole state, asked of the server because the
    /// device's copy waits for an update or did not load.
    pub fn apply_whole(&mut self, change: &Change) -> Result<(), RecordError> {
        self.records.repaired(change.record);
        self.apply_change(change)
    }

    /// Takes a record back to the server's copy after the server refused an op
    /// on it (`None`: the server holds no copy this user can see, so the record
    /// leaves the device). Every queued op on the record goes too, since later
    /// ops build on the refused one and the server would refuse them as well;
    /// the caller keeps the user's version as a local copy first. The record
    /// continues under `client_id`, a replica id never used before, so no op of
    /// the discarded version can be confused with a new one. Returns the ids of
    /// the dropped ops.
    pub fn reset_record(
        &mut self,
        id: RecordId,
        server: Option<&Change>,
        client_id: u64,
    ) -> Result<Vec<OpId>, RecordError> {
        let replacement = server
            .map(|change| Record::load(id, client_id, &change.update))
            .transpose()?;
        let dropped: Vec<OpId> = self
            .outbox
            .iter()
            .filter(|op| op.record == id)
            .map(|op| op.op)
            .collect();
        self.outbox.retain(|op| op.record != id);
        self.rejected.remove(&id);
        match replacement {
            Some(record) => self.records.replace(record),
            None => self.records.remove(id),
        }
        self.rest();
        Ok(dropped)
    }

    /// Records whose copy waits for an update that has not arrived; after a
    /// complete pull the device asks the server for their whole state.
    pub fn records_needing_repair(&self) -> Vec<RecordId> {
        self.records.needing_repair()
    }
}

/// A restored replica, and what restoring found.
pub struct Restored {
    pub replica: Replica,
    /// Records saved without their projection, projected now: saved again
    /// with it, the next start need not load them.
    pub projected: Vec<RecordId>,
    /// Records whose saved state did not read; left out, and pulled again.
    pub unreadable: Vec<RecordId>,
}

/// A record as a device saved it: its state and, when saved with it, its
/// listing (which spares loading the record to list it).
#[derive(Debug, Clone)]
pub struct SavedRecord {
    pub id: RecordId,
    pub state: Vec<u8>,
    /// As [`Replica::projection`] gave it.
    pub projection: Option<Arc<Projection>>,
}

/// What one pull page did.
#[derive(Debug, Default)]
pub struct PulledPage {
    /// Each once, in order.
    pub changed: Vec<RecordId>,
    pub unmergeable: Vec<(RecordId, RecordError)>,
}

#[cfg(test)]
mod tests;
