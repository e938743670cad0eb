//! The records a replica holds, and how much of each is in memory.
//!
//! A yrs document costs tens of kilobytes in memory even for a small record,
//! and a busy device holds ten thousand records. So only a few are
//! materialised ("open"): the ones the replica's owner says to keep (records
//! with unsynced edits) and the most recently used. Every other record rests
//! as its encoded state, a few kilobytes, and is loaded again when something
//! reads or changes it. Lists, filters and backlinks read projections, which
//! are kept for every record, so they never open one.
//!
//! Invariant: a resting record's projection is up to date (a record is
//! projected before it rests), so only open records are ever stale.

use crate::record::{Projection, Record, RecordError, RecordId, RecordKind};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How many records stay open beyond the ones kept for unsynced edits: the
/// record being typed in, the ones a page just read, and a few to go back to.
pub const RECENTLY_USED: usize = 8;

pub(super) struct Held {
    /// The replica id new documents write under.
    client_id: u64,
    open: BTreeMap<RecordId, Open>,
    resting: BTreeMap<RecordId, Resting>,
    /// Records whose resting state did not load again: their copy is asked
    /// of the server as a whole (see `Replica::records_needing_repair`).
    damaged: BTreeSet<RecordId>,
    /// A use counter, for "least recently used".
    clock: u64,
    projections: RefCell<BTreeMap<RecordId, Arc<Projection>>>,
    stale: RefCell<BTreeSet<RecordId>>,
    /// Every link in the projections, by target: (source, field). Kept as
    /// projections change, so a record's backlinks are a lookup, not a scan
    /// of every record.
    /// Sorted (target, source, field): a plain vector costs the browser build
    /// far less code than a map of sets.
    links_to: RefCell<Vec<(RecordId, RecordId, String)>>,
}

struct Open {
    record: Record,
    used: u64,
}

struct Resting {
    state: Vec<u8>,
    /// The replica id its document wrote under (a record reset after a
    /// refusal continues under a new one, and must keep it).
    client_id: u64,
}

impl Held {
    pub(super) fn new(client_id: u64) -> Held {
        Held {
            client_id,
            open: BTreeMap::new(),
            resting: BTreeMap::new(),
            damaged: BTreeSet::new(),
            clock: 0,
            projections: RefCell::new(BTreeMap::new()),
            stale: RefCell::new(BTreeSet::new()),
            links_to: RefCell::new(Vec::new()),
        }
    }

    pub(super) fn contains(&self, id: RecordId) -> bool {
        self.open.contains_key(&id) || self.resting.contains_key(&id)
    }

    /// Every record's id, in order (ids are time-ordered).
    pub(super) fn ids(&self) -> Vec<RecordId> {
        let mut ids: Vec<RecordId> = self
            .open
            .keys()
            .chain(self.resting.keys())
            .copied()
            .collect();
        ids.sort_unstable();
        ids
    }

    pub(super) fn is_open(&self, id: RecordId) -> bool {
        self.open.contains_key(&id)
    }

    pub(super) fn open_count(&self) -> usize {
        self.open.len()
    }

    /// A record if it is open, without opening it.
    pub(super) fn get_open(&self, id: RecordId) -> Option<&Record> {
        self.open.get(&id).map(|open| &open.record)
    }

    /// The record's kind, read without opening it.
    pub(super) fn kind(&self, id: RecordId) -> Option<RecordKind> {
        match self.open.get(&id) {
            Some(open) => open.record.kind(),
            None => self
                .projections
                .borrow()
                .get(&id)
                .map(|projection| projection.kind),
        }
    }

    /// The record's whole state, from memory either way.
    pub(super) fn state(&self, id: RecordId) -> Option<Vec<u8>> {
        match self.open.get(&id) {
            Some(open) => Some(open.record.state()),
            None => self.resting.get(&id).map(|resting| resting.state.clone()),
        }
    }

    /// Opens a record the replica holds (loading it if it rests).
    pub(super) fn open(&mut self, id: RecordId) -> Option<&Record> {
        if !self.open.contains_key(&id) {
            let resting = self.resting.remove(&id)?;
            let record = match Record::load(id, resting.client_id, &resting.state) {
                Ok(record) => record,
                Err(_) => {
                    self.damaged.insert(id);
                    Record::empty(id, resting.client_id)
                }
            };
            self.open.insert(id, Open { record, used: 0 });
        }
        self.clock += 1;
        let open = self.open.get_mut(&id)?;
        open.used = self.clock;
        Some(&open.record)
    }

    /// Opens a record, starting an empty one if the replica has none.
    pub(super) fn entry(&mut self, id: RecordId) -> &Record {
        if !self.contains(id) {
            let record = Record::empty(id, self.client_id);
            self.open.insert(id, Open { record, used: 0 });
        }
        self.mark_stale(id);
        match self.open(id) {
            Some(record) => record,
            None => unreachable!("the record was just inserted"),
        }
    }

    /// Puts `record` in place of whatever copy the replica had.
    pub(super) fn replace(&mut self, record: Record) {
        let id = record.id();
        self.resting.remove(&id);
        self.damaged.remove(&id);
        self.open.insert(id, Open { record, used: 0 });
        self.mark_stale(id);
        self.open(id);
    }

    /// Takes in a saved record with its saved projection, resting: it is
    /// loaded only when something reads or changes it.
    pub(super) fn insert_resting(&mut self, id: RecordId, state: Vec<u8>, projection: Projection) {
        self.open.remove(&id);
        let client_id = self.client_id;
        self.resting.insert(id, Resting { state, client_id });
        self.stale.get_mut().remove(&id);
        self.set_projection(id, Some(Arc::new(projection)));
    }

    pub(super) fn remove(&mut self, id: RecordId) {
        self.open.remove(&id);
        self.resting.remove(&id);
        self.damaged.remove(&id);
        self.mark_stale(id);
    }

    /// Marks a record's projection to be read again.
    pub(super) fn mark_stale(&mut self, id: RecordId) {
        self.stale.get_mut().insert(id);
    }

    /// A record's projection; `None` until its kind is known.
    pub(super) fn projection(&self, id: RecordId) -> Option<Arc<Projection>> {
        self.settle(id);
        self.projections.borrow().get(&id).cloned()
    }

    /// Every record's projection, by id.
    pub(super) fn all_projections(&self) -> Vec<(RecordId, Arc<Projection>)> {
        let stale: Vec<RecordId> = self.stale.borrow().iter().copied().collect();
        for id in stale {
            self.settle(id);
        }
        self.projections
            .borrow()
            .iter()
            .map(|(id, projection)| (*id, projection.clone()))
            .collect()
    }

    /// Reads a stale projection again.
    fn settle(&self, id: RecordId) {
        if !self.stale.borrow_mut().remove(&id) {
            return;
        }
        let projection = self.get_open(id).and_then(Record::projection);
        self.set_projection(id, projection.map(Arc::new));
    }

    /// Replaces a record's projection and its links in the index.
    fn set_projection(&self, id: RecordId, projection: Option<Arc<Projection>>) {
        let added = projection.as_ref().map(|p| p.links()).unwrap_or_default();
        let old = {
            let mut projections = self.projections.borrow_mut();
            match projection {
                Some(projection) => projections.insert(id, projection),
                None => projections.remove(&id),
            }
        };
        let removed = old.map(|p| p.links()).unwrap_or_default();
        if removed == added {
            return;
        }
        let mut index = self.links_to.borrow_mut();
        for link in removed {
            let entry = (link.target, id, link.field);
            if let Ok(at) = index.binary_search(&entry) {
                index.remove(at);
            }
        }
        for link in added {
            let entry = (link.target, id, link.field);
            if let Err(at) = index.binary_search(&entry) {
                index.insert(at, entry);
            }
        }
    }

    /// The records whose projections link to `target`, with the field, each
    /// projection as read now. `target` itself is not read again (a record
    /// never links to itself, and the record being typed in is not projected
    /// again for every keystroke).
    pub(super) fn backlinks(&self, target: RecordId) -> Vec<(RecordId, Arc<Projection>, String)> {
        let stale: Vec<RecordId> = self.stale.borrow().iter().copied().collect();
        for id in stale.into_iter().filter(|id| *id != target) {
            self.settle(id);
        }
        let index = self.links_to.borrow();
        let projections = self.projections.borrow();
        let start = index.partition_point(|(to, _, _)| *to < target);
        index[start..]
            .iter()
            .take_while(|(to, _, _)| *to == target)
            .filter_map(|(_, source, field)| {
                Some((*source, projections.get(source)?.clone(), field.clone()))
            })
            .collect()
    }

    /// Lets every open record rest but the [`RECENTLY_USED`] most recently
    /// used and those `keep` names. A record waiting for an update that has
    /// not arrived stays open: its repair needs to see that it waits.
    pub(super) fn rest_beyond(&mut self, keep: impl Fn(RecordId) -> bool) {
        if self.open.len() <= RECENTLY_USED {
            return;
        }
        let mut candidates: Vec<(u64, RecordId)> = self
            .open
            .iter()
            .filter(|(id, _)| !keep(**id))
            .map(|(id, open)| (open.used, *id))
            .collect();
        if candidates.len() <= RECENTLY_USED {
            return;
        }
        candidates.sort_unstable();
        let resting = candidates.len() - RECENTLY_USED;
        for (_, id) in candidates.into_iter().take(resting) {
            self.rest(id);
        }
    }

    fn rest(&mut self, id: RecordId) {
        if self
            .get_open(id)
            .is_none_or(|record| record.has_missing_updates())
        {
            return;
        }
        self.settle(id);
        if let Some(open) = self.open.remove(&id) {
            let client_id = open.record.client_id();
            let state = open.record.state();
            self.resting.insert(id, Resting { state, client_id });
        }
    }

    /// A damaged record's whole state has come from the server.
    pub(super) fn repaired(&mut self, id: RecordId) {
        self.damaged.remove(&id);
    }

    /// Open records waiting for an update that has not arrived, and records
    /// whose saved state did not load.
    pub(super) fn needing_repair(&self) -> Vec<RecordId> {
        let mut ids: Vec<RecordId> = self
            .open
            .values()
            .filter(|open| open.record.has_missing_updates())
            .map(|open| open.record.id())
            .chain(self.damaged.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Loads a saved record (no projection saved with it): open, then rests
    /// once others push it out.
    pub(super) fn load(&mut self, id: RecordId, state: &[u8]) -> Result<(), RecordError> {
        let record = Record::load(id, self.client_id, state)?;
        self.replace(record);
        Ok(())
    }
}
