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

use crate::record::{Projection, Record, RecordError, RecordId, RecordKind, Update};
use crate::sync::{
    Change, DeviceId, OpId, OpOutcome, PullQuery, PullResponse, PushOp, PushRequest, PushResponse,
    Seq, MAX_PULL_LIMIT,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What an edit that changed nothing encodes to (no structs, no deletions).
const EMPTY_UPDATE: &[u8] = &[0, 0];

/// One device's records, outbox and cursor.
pub struct Replica {
    device: DeviceId,
    /// This session's replica id in every document; random per session, so two
    /// tabs (or a reload) never write under the same id.
    client_id: u64,
    records: BTreeMap<RecordId, Record>,
    /// Each record's projection, read again the first time it is asked for
    /// after the record changed (`stale`), so lists, filters and backlinks
    /// never read a document, and sync, which only marks records stale, never
    /// builds one.
    projections: RefCell<BTreeMap<RecordId, Arc<Projection>>>,
    stale: RefCell<BTreeSet<RecordId>>,
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
            records: BTreeMap::new(),
            projections: RefCell::new(BTreeMap::new()),
            stale: RefCell::new(BTreeSet::new()),
            outbox: Vec::new(),
            cursor: Seq(0),
            next_op: 0,
            rejected: BTreeMap::new(),
            echoes: BTreeMap::new(),
        }
    }

    /// Rebuilds a replica from what a device saved: its cursor, each record's
    /// state, and the outbox (whose updates may be newer than the saved states,
    /// which are written lazily).
    pub fn restore(
        device: DeviceId,
        client_id: u64,
        cursor: Seq,
        states: impl IntoIterator<Item = (RecordId, Vec<u8>)>,
        outbox: Vec<PushOp>,
    ) -> Result<Replica, (RecordId, RecordError)> {
        let mut replica = Replica::new(device, client_id);
        replica.cursor = cursor;
        for (id, state) in states {
            let record = Record::load(id, client_id, &state).map_err(|error| (id, error))?;
            replica.records.insert(id, record);
        }
        for op in &outbox {
            replica
                .record_entry(op.record)
                .apply_update(&op.update)
                .map_err(|error| (op.record, error))?;
        }
        replica.outbox = outbox;
        let ids: Vec<RecordId> = replica.records.keys().copied().collect();
        for id in ids {
            replica.refresh(id);
        }
        Ok(replica)
    }

    pub fn device(&self) -> DeviceId {
        self.device
    }

    pub fn cursor(&self) -> Seq {
        self.cursor
    }

    pub fn record(&self, id: RecordId) -> Option<&Record> {
        self.records.get(&id)
    }

    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.records.values()
    }

    /// A record's projection; `None` until its kind is known.
    pub fn projection(&self, id: RecordId) -> Option<Arc<Projection>> {
        self.settle(id);
        self.projections.borrow().get(&id).cloned()
    }

    /// Every record's projection, by id (ids are time-ordered).
    pub fn projections(&self) -> Vec<(RecordId, Arc<Projection>)> {
        self.projections_but(None)
    }

    /// Every record's projection but one, which is left as it was read last
    /// (the record open for typing reads its backlinks without projecting
    /// itself again on every keystroke; a record never links to itself).
    pub fn projections_except(&self, skipped: RecordId) -> Vec<(RecordId, Arc<Projection>)> {
        self.projections_but(Some(skipped))
    }

    fn projections_but(&self, skipped: Option<RecordId>) -> Vec<(RecordId, Arc<Projection>)> {
        let stale: Vec<RecordId> = self.stale.borrow().iter().copied().collect();
        for id in stale.into_iter().filter(|id| Some(*id) != skipped) {
            self.settle(id);
        }
        self.projections
            .borrow()
            .iter()
            .filter(|(id, _)| Some(**id) != skipped)
            .map(|(id, projection)| (*id, projection.clone()))
            .collect()
    }

    /// Marks a record's projection to be read again.
    fn refresh(&mut self, id: RecordId) {
        self.stale.get_mut().insert(id);
    }

    /// Reads a stale projection again.
    fn settle(&self, id: RecordId) {
        if !self.stale.borrow_mut().remove(&id) {
            return;
        }
        let projection = self.records.get(&id).and_then(Record::projection);
        let mut projections = self.projections.borrow_mut();
        match projection {
            Some(projection) => {
                projections.insert(id, Arc::new(projection));
            }
            None => {
                projections.remove(&id);
            }
        }
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
        let (record, update) = Record::create(id, kind, self.client_id);
        self.records.insert(id, record);
        self.refresh(id);
        self.queue(id, kind, update)
    }

    /// Runs an edit through the typed API of a record and queues what it changed.
    /// `None` if the record is unknown, its kind not yet known, or nothing changed.
    pub fn edit(
        &mut self,
        id: RecordId,
        change: impl FnOnce(&Record) -> Option<Update>,
    ) -> Option<PushOp> {
        let record = self.records.get(&id)?;
        let kind = record.kind()?;
        let update = change(record)?;
        if update.0 == EMPTY_UPDATE {
            return None;
        }
        self.refresh(id);
        Some(self.queue(id, kind, update))
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
        let mut touched = BTreeSet::new();
        let applied = outbox.iter().try_for_each(|op| {
            touched.insert(op.record);
            self.record_entry(op.record).apply_update(&op.update)
        });
        for id in touched {
            self.refresh(id);
        }
        applied?;
        self.outbox = outbox;
        Ok(())
    }

    /// Takes in an op another tab of this device queued (and saved) already.
    pub fn adopt_op(&mut self, op: PushOp) -> Result<(), RecordError> {
        let applied = self.record_entry(op.record).apply_update(&op.update);
        self.refresh(op.record);
        applied?;
        if !self.outbox.iter().any(|queued| queued.op == op.op) {
            self.outbox.push(op);
        }
        Ok(())
    }

    /// Drops ops another tab of this device has settled with the server.
    pub fn forget_ops(&mut self, settled: &[OpId]) {
        self.outbox.retain(|op| !settled.contains(&op.op));
    }

    /// Merges an update that another tab of this device made and saved already.
    pub fn apply_local(&mut self, record: RecordId, update: &[u8]) -> Result<(), RecordError> {
        let applied = self.record_entry(record).apply_update(update);
        self.refresh(record);
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
                    pulled.changed.insert(change.record);
                }
                Err(error) => pulled.unmergeable.push((change.record, error)),
            }
        }
        self.cursor = self.cursor.max(page.cursor);
        let cursor = self.cursor;
        self.echoes.retain(|seq, _| *seq > cursor);
        Ok(pulled)
    }

    /// Merges one record's whole state (from a repair request).
    pub fn apply_change(&mut self, change: &Change) -> Result<(), RecordError> {
        let had_kind = self
            .records
            .get(&change.record)
            .is_some_and(|record| record.kind().is_some());
        let applied = self
            .record_entry(change.record)
            .apply_update(&change.update);
        // A record that loses its kind was erased: the change is its
        // tombstone, and the device keeps only that, not even the keys of what
        // was deleted (see `record::erase`).
        let erased = had_kind
            && self
                .records
                .get(&change.record)
                .is_some_and(|record| record.kind().is_none());
        if erased {
            if let Ok(tombstone) = Record::load(change.record, self.client_id, &change.update) {
                self.records.insert(change.record, tombstone);
            }
        }
        self.refresh(change.record);
        applied
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
            Some(record) => {
                self.records.insert(id, record);
            }
            None => {
                self.records.remove(&id);
            }
        }
        self.refresh(id);
        Ok(dropped)
    }

    /// Records whose copy waits for an update that has not arrived; after a
    /// complete pull the device asks the server for their whole state.
    pub fn records_needing_repair(&self) -> Vec<RecordId> {
        self.records
            .values()
            .filter(|record| record.has_missing_updates())
            .map(Record::id)
            .collect()
    }

    fn record_entry(&mut self, id: RecordId) -> &Record {
        let client_id = self.client_id;
        self.records
            .entry(id)
            .or_insert_with(|| Record::empty(id, client_id))
    }
}

/// What one pull page did.
#[derive(Debug, Default)]
pub struct PulledPage {
    pub changed: BTreeSet<RecordId>,
    pub unmergeable: Vec<(RecordId, RecordError)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{merge_updates, FieldPath};
    use yrs::updates::decoder::Decode;

    fn id(n: u8) -> RecordId {
        RecordId::v7(1_760_000_000_000, [n; 10])
    }

    fn replica(n: u8) -> Replica {
        Replica::new(DeviceId([n; 16]), u64::from(n))
    }

    /// Plays the server: logs every op once, in arrival order.
    #[derive(Default)]
    struct Log {
        changes: Vec<Change>,
        seen: BTreeMap<OpId, Seq>,
    }

    impl Log {
        fn push(&mut self, request: &PushRequest) -> PushResponse {
            let outcomes = request
                .ops
                .iter()
                .map(|op| {
                    if let Some(seq) = self.seen.get(&op.op) {
                        return (op.op, OpOutcome::AlreadyApplied(*seq));
                    }
                    let seq = Seq(self.changes.len() as u64 + 1);
                    self.seen.insert(op.op, seq);
                    self.changes.push(Change {
                        seq,
                        record: op.record,
                        kind: op.kind,
                        update: op.update.clone(),
                    });
                    (op.op, OpOutcome::Applied(seq))
                })
                .collect();
            PushResponse { outcomes }
        }

        fn pull(&self, query: PullQuery) -> PullResponse {
            let changes: Vec<Change> = self
                .changes
                .iter()
                .filter(|change| change.seq > query.since)
                .take(query.limit as usize)
                .cloned()
                .collect();
            PullResponse {
                cursor: changes.last().map_or(query.since, |change| change.seq),
                complete: true,
                changes,
            }
        }
    }

    fn sync(replica: &mut Replica, log: &mut Log) {
        while let Some(push) = replica.next_push(1 << 20) {
            let answer = log.push(&push);
            replica.acknowledge(&answer);
        }
        let query = replica.next_pull();
        let since = query.since;
        let page = log.pull(query);
        replica.apply_pull(since, &page).expect("in order");
    }

    fn body(replica: &Replica, record: RecordId) -> String {
        replica
            .record(record)
            .and_then(|record| record.text(&FieldPath::top("description")))
            .unwrap_or_default()
    }

    #[test]
    fn two_devices_offline_keep_both_edits_after_sync() {
        let (mut anna, mut jonas, mut log) = (replica(1), replica(2), Log::default());
        anna.create(id(1), RecordKind::Project);
        anna.edit(id(1), |r| r.set_text("description", "start end").ok());
        sync(&mut anna, &mut log);
        sync(&mut jonas, &mut log);
        assert_eq!(body(&jonas, id(1)), "start end");

        anna.edit(id(1), |r| r.set_text("description", "start Anna end").ok());
        jonas.edit(id(1), |r| r.set_text("description", "start end Jonas").ok());
        assert!(anna.has_unsynced(id(1)) && jonas.has_unsynced(id(1)));
        for _ in 0..2 {
            sync(&mut anna, &mut log);
            sync(&mut jonas, &mut log);
        }
        assert_eq!(body(&anna, id(1)), "start Anna end Jonas");
        assert_eq!(body(&jonas, id(1)), body(&anna, id(1)));
        assert!(anna.outbox().is_empty() && !anna.has_unsynced(id(1)));
    }

    #[test]
    fn an_unchanged_edit_queues_nothing_and_a_stale_page_is_ignored() {
        let (mut anna, mut log) = (replica(1), Log::default());
        anna.create(id(1), RecordKind::Project);
        anna.edit(id(1), |r| r.set_text("title", "Same").ok());
        assert_eq!(anna.outbox().len(), 2);
        assert!(anna
            .edit(id(1), |r| r.set_text("title", "Same").ok())
            .is_none());
        sync(&mut anna, &mut log);
        assert_eq!(anna.cursor(), Seq(2));
        let late = log.pull(PullQuery {
            since: Seq(0),
            limit: 10,
            device: None,
            kinds: None,
        });
        assert!(anna.apply_pull(Seq(0), &late).is_err());
        assert_eq!(anna.cursor(), Seq(2));
    }

    #[test]
    fn a_restored_replica_keeps_queued_edits_newer_than_its_saved_state() {
        let mut anna = replica(1);
        anna.create(id(1), RecordKind::Project);
        let saved = anna.record(id(1)).expect("record").state();
        anna.edit(id(1), |r| r.set_text("title", "After the save").ok());
        let outbox = anna.outbox().to_vec();
        let back =
            Replica::restore(anna.device(), 7, Seq(0), [(id(1), saved)], outbox).expect("restores");
        let title = back
            .record(id(1))
            .and_then(|record| record.text(&FieldPath::top("title")));
        assert_eq!(title.as_deref(), Some("After the save"));
        assert_eq!(back.outbox().len(), 2);
    }

    #[test]
    fn a_device_s_own_ops_coming_back_are_not_changes_but_others_are() {
        let (mut anna, mut jonas, mut log) = (replica(1), replica(2), Log::default());
        anna.create(id(1), RecordKind::Project);
        sync(&mut anna, &mut log);
        sync(&mut jonas, &mut log);
        anna.edit(id(1), |r| r.set_text("title", "Anna's").ok());
        let push = anna.next_push(1 << 20).expect("an op");
        anna.acknowledge(&log.push(&push));
        jonas.edit(id(1), |r| r.set_text("description", "Jonas's").ok());
        let push = jonas.next_push(1 << 20).expect("an op");
        jonas.acknowledge(&log.push(&push));
        let query = anna.next_pull();
        let pulled = anna
            .apply_pull(query.since, &log.pull(query))
            .expect("in order");
        // Anna's own title came back (skipped); Jonas's description is a change.
        assert_eq!(pulled.changed.into_iter().collect::<Vec<_>>(), vec![id(1)]);
        assert_eq!(body(&anna, id(1)), "Jonas's");
        let query = anna.next_pull();
        let pulled = anna
            .apply_pull(query.since, &log.pull(query))
            .expect("empty");
        assert!(pulled.changed.is_empty());
        assert!(anna.echoes.is_empty());
    }

    #[test]
    fn a_rejected_op_leaves_the_outbox_and_keeps_the_text() {
        let mut anna = replica(1);
        let op = anna.create(id(1), RecordKind::Project);
        let acknowledged = anna.acknowledge(&PushResponse {
            outcomes: vec![(op.op, OpOutcome::Rejected("not allowed".into()))],
        });
        assert_eq!(acknowledged.rejected, vec![(id(1), "not allowed".into())]);
        assert!(anna.outbox().is_empty());
        assert_eq!(anna.rejection(id(1)), Some("not allowed"));
        assert_eq!(
            anna.record(id(1)).and_then(Record::kind),
            Some(RecordKind::Project)
        );
    }

    #[test]
    fn a_reset_record_is_the_servers_copy_and_its_later_ops_are_dropped() {
        let (mut anna, mut log) = (replica(1), Log::default());
        anna.create(id(1), RecordKind::Project);
        anna.edit(id(1), |r| r.set_text("title", "Agreed").ok());
        sync(&mut anna, &mut log);
        let server = log.pull(PullQuery {
            since: Seq(0),
            limit: 10,
            device: None,
            kinds: None,
        });
        let refused = anna
            .edit(id(1), |r| r.set_text("title", "Refused").ok())
            .expect("an op");
        let later = anna
            .edit(id(1), |r| r.set_text("description", "Builds on it").ok())
            .expect("an op");
        anna.create(id(2), RecordKind::Project);
        let whole = Change {
            seq: Seq(2),
            record: id(1),
            kind: RecordKind::Project,
            update: merge_updates(
                &server
                    .changes
                    .iter()
                    .map(|change| change.update.as_slice())
                    .collect::<Vec<_>>(),
            )
            .expect("merges"),
        };
        let dropped = anna.reset_record(id(1), Some(&whole), 99).expect("loads");
        assert_eq!(dropped, vec![refused.op, later.op]);
        let project = anna
            .record(id(1))
            .and_then(Record::projection)
            .expect("project");
        assert_eq!(
            (project.title(), project.text("description")),
            ("Agreed", "")
        );
        // The other record's op stays queued; the reset record edits under the new id.
        assert_eq!(anna.outbox().len(), 1);
        let next = anna
            .edit(id(1), |r| r.set_text("title", "Agreed, again").ok())
            .expect("an op");
        let update = yrs::Update::decode_v1(&next.update).expect("decodes");
        assert!(update
            .state_vector()
            .contains_client(&yrs::block::ClientID::new(99)));
        // A record the server has no copy of leaves the device.
        anna.reset_record(id(2), None, 100).expect("resets");
        assert!(anna.record(id(2)).is_none() && anna.outbox().len() == 1);
    }
}
