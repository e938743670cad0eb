//! The records a replica holds, and how much of each is in memory.
//!
//! A yrs document costs tens of kilobytes in memory even for a small record,
//! and a busy device holds ten thousand records. So only a few are
//! materialised ("open"): the ones the replica's owner says to keep (records
//! with unsynced edits) and the most recently used. Every other record rests
//! as its encoded state, a few kilobytes, and is loaded again when something
//! reads or changes it. Lists, filters and backlinks read projections, which
//! are kept for every record, so they never open one. The projections kept
//! are listings ([`Projection::listing`]): long text, most of a record's
//! size, is read from the open record.
//!
//! Invariant: a resting record's projection is up to date (a record is
//! projected before it rests), so only open records are ever stale.
//!
//! Everything about a record sits in one map entry ([`Slot`]): each map or
//! set of another type would add its own copy of the B-tree code to the
//! browser's first load (several kilobytes each).

use crate::record::{Projection, Record, RecordError, RecordId, RecordKind};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How many records stay open beyond the ones kept for unsynced edits: the
/// record being typed in, the ones a page just read, and a few to go back to.
pub const RECENTLY_USED: usize = 8;

pub(super) struct Held {
    /// The replica id new documents write under.
    client_id: u64,
    slots: BTreeMap<RecordId, Slot>,
    /// The open ones among them (few), so that resting and reading stale
    /// projections never scan them all.
    open_ids: Vec<RecordId>,
    /// A use counter, for "least recently used".
    clock: u64,
    /// Every link in the projections, by target: (source, field). Kept as
    /// projections change, so a record's backlinks are a lookup, not a scan
    /// of every record.
    /// Sorted (target, source, field): a plain vector costs the browser build
    /// far less code than a map of sets.
    links_to: RefCell<Vec<(RecordId, RecordId, String)>>,
}

struct Slot {
    body: Body,
    /// The record's resting state did not load again: its copy is asked of
    /// the server as a whole (see `Replica::records_needing_repair`).
    damaged: bool,
    /// `None` until the record's kind is known.
    projection: RefCell<Option<Arc<Projection>>>,
    /// The projection is to be read again from the open record.
    stale: Cell<bool>,
}

enum Body {
    Open {
        record: Record,
        used: u64,
    },
    Resting {
        state: Vec<u8>,
        /// The replica id its document wrote under (a record reset after a
        /// refusal continues under a new one, and must keep it).
        client_id: u64,
    },
}

impl Slot {
    fn open(record: Record) -> Slot {
        Slot {
            body: Body::Open { record, used: 0 },
            damaged: false,
            projection: RefCell::new(None),
            stale: Cell::new(true),
        }
    }

    fn record(&self) -> Option<&Record> {
        match &self.body {
            Body::Open { record, .. } => Some(record),
            Body::Resting { .. } => None,
        }
    }
}

impl Held {
    pub(super) fn new(client_id: u64) -> Held {
        Held {
            client_id,
            slots: BTreeMap::new(),
            open_ids: Vec::new(),
            clock: 0,
            links_to: RefCell::new(Vec::new()),
        }
    }

    pub(super) fn contains(&self, id: RecordId) -> bool {
        self.slots.contains_key(&id)
    }

    /// Every record's id, in order (ids are time-ordered).
    pub(super) fn ids(&self) -> Vec<RecordId> {
        self.slots.keys().copied().collect()
    }

    pub(super) fn is_open(&self, id: RecordId) -> bool {
        self.get_open(id).is_some()
    }

    pub(super) fn open_count(&self) -> usize {
        self.open_ids.len()
    }

    fn now_open(&mut self, id: RecordId) {
        if !self.open_ids.contains(&id) {
            self.open_ids.push(id);
        }
    }

    fn now_resting(&mut self, id: RecordId) {
        self.open_ids.retain(|open| *open != id);
    }

    /// A record if it is open, without opening it.
    pub(super) fn get_open(&self, id: RecordId) -> Option<&Record> {
        self.slots.get(&id)?.record()
    }

    /// The record's kind, read without opening it.
    pub(super) fn kind(&self, id: RecordId) -> Option<RecordKind> {
        let slot = self.slots.get(&id)?;
        match slot.record() {
            Some(record) => record.kind(),
            None => slot.projection.borrow().as_ref().map(|p| p.kind),
        }
    }

    /// The record's whole state, from memory either way.
    pub(super) fn state(&self, id: RecordId) -> Option<Vec<u8>> {
        match &self.slots.get(&id)?.body {
            Body::Open { record, .. } => Some(record.state()),
            Body::Resting { state, .. } => Some(state.clone()),
        }
    }

    /// Opens a record the replica holds (loading it if it rests).
    pub(super) fn open(&mut self, id: RecordId) -> Option<&Record> {
        self.clock += 1;
        let clock = self.clock;
        let slot = self.slots.get_mut(&id)?;
        if let Body::Resting { state, client_id } = &slot.body {
            let record = match Record::load(id, *client_id, state) {
                Ok(record) => record,
                Err(_) => {
                    slot.damaged = true;
                    Record::empty(id, *client_id)
                }
            };
            slot.body = Body::Open { record, used: 0 };
            self.now_open(id);
        }
        let slot = self.slots.get_mut(&id)?;
        match &mut slot.body {
            Body::Open { record, used } => {
                *used = clock;
                Some(record)
            }
            Body::Resting { .. } => None,
        }
    }

    /// Opens a record, starting an empty one if the replica has none.
    pub(super) fn entry(&mut self, id: RecordId) -> &Record {
        if !self.contains(id) {
            self.slots
                .insert(id, Slot::open(Record::empty(id, self.client_id)));
            self.now_open(id);
        }
        // Opened before it is marked: only an open record can be stale, and
        // the caller is about to change it.
        self.open(id);
        self.mark_stale(id);
        match self.get_open(id) {
            Some(record) => record,
            None => unreachable!("the record was just opened"),
        }
    }

    /// Puts `record` in place of whatever copy the replica had.
    pub(super) fn replace(&mut self, record: Record) {
        let id = record.id();
        match self.slots.get_mut(&id) {
            Some(slot) => {
                slot.body = Body::Open { record, used: 0 };
                slot.damaged = false;
                slot.stale.set(true);
            }
            None => {
                self.slots.insert(id, Slot::open(record));
            }
        }
        self.now_open(id);
        self.open(id);
    }

    /// Takes in a saved record with its saved listing, resting: it is loaded
    /// only when something reads or changes it.
    pub(super) fn insert_resting(
        &mut self,
        id: RecordId,
        state: Vec<u8>,
        projection: Arc<Projection>,
    ) {
        let slot = Slot {
            body: Body::Resting {
                state,
                client_id: self.client_id,
            },
            damaged: false,
            projection: RefCell::new(Some(projection.clone())),
            stale: Cell::new(false),
        };
        let old = self
            .slots
            .insert(id, slot)
            .and_then(|old| old.projection.into_inner());
        self.now_resting(id);
        self.set_projection(id, old, Some(projection));
    }

    pub(super) fn remove(&mut self, id: RecordId) {
        if let Some(slot) = self.slots.remove(&id) {
            self.set_projection(id, slot.projection.into_inner(), None);
        }
        self.now_resting(id);
    }

    /// Marks an open record's projection to be read again. A resting
    /// record's projection is always up to date, and it has no document to
    /// read one from.
    pub(super) fn mark_stale(&mut self, id: RecordId) {
        if let Some(slot) = self.slots.get(&id).filter(|slot| slot.record().is_some()) {
            slot.stale.set(true);
        }
    }

    /// Reads again every stale projection. Only open records are ever stale,
    /// so this walks the few open ones, not every record.
    fn settle_open(&self, except: Option<RecordId>) {
        for id in &self.open_ids {
            if Some(*id) != except {
                if let Some(slot) = self.slots.get(id) {
                    self.settle(*id, slot);
                }
            }
        }
    }

    /// A record's listing; `None` until its kind is known.
    pub(super) fn projection(&self, id: RecordId) -> Option<Arc<Projection>> {
        let slot = self.slots.get(&id)?;
        self.settle(id, slot);
        slot.projection.borrow().clone()
    }

    /// Every record's projection, by id.
    pub(super) fn all_projections(&self) -> Vec<(RecordId, Arc<Projection>)> {
        self.settle_open(None);
        self.slots
            .iter()
            .filter_map(|(id, slot)| Some((*id, slot.projection.borrow().clone()?)))
            .collect()
    }

    /// Reads a stale projection again.
    fn settle(&self, id: RecordId, slot: &Slot) {
        if !slot.stale.replace(false) {
            return;
        }
        let projection = slot
            .record()
            .and_then(Record::projection)
            .map(|projection| Arc::new(projection.listing()));
        let old = slot.projection.replace(projection.clone());
        self.set_projection(id, old, projection);
    }

    /// Keeps the links index true when a record's projection goes from `old`
    /// to `new`.
    fn set_projection(
        &self,
        id: RecordId,
        old: Option<Arc<Projection>>,
        new: Option<Arc<Projection>>,
    ) {
        let added = new.map(|p| p.links()).unwrap_or_default();
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
        self.settle_open(Some(target));
        let index = self.links_to.borrow();
        let start = index.partition_point(|(to, _, _)| *to < target);
        index[start..]
            .iter()
            .take_while(|(to, _, _)| *to == target)
            .filter_map(|(_, source, field)| {
                let projection = self.slots.get(source)?.projection.borrow().clone()?;
                Some((*source, projection, field.clone()))
            })
            .collect()
    }

    /// Lets every open record rest but the [`RECENTLY_USED`] most recently
    /// used and those `keep` names. A record waiting for an update that has
    /// not arrived stays open: its repair needs to see that it waits.
    pub(super) fn rest_beyond(&mut self, keep: impl Fn(RecordId) -> bool) {
        if self.open_ids.len() <= RECENTLY_USED {
            return;
        }
        let mut candidates: Vec<(u64, RecordId)> = self
            .open_ids
            .iter()
            .filter(|id| !keep(**id))
            .filter_map(|id| match &self.slots.get(id)?.body {
                Body::Open { used, .. } => Some((*used, *id)),
                Body::Resting { .. } => None,
            })
            .collect();
        // The least recently used first, picked one at a time: there are only
        // a few beyond the limit, and a sort would add its code to the first load.
        while candidates.len() > RECENTLY_USED {
            let Some(oldest) = (0..candidates.len()).min_by_key(|at| candidates[*at].0) else {
                break;
            };
            let (_, id) = candidates.swap_remove(oldest);
            self.rest(id);
        }
    }

    fn rest(&mut self, id: RecordId) {
        let Some(slot) = self.slots.get(&id) else {
            return;
        };
        if slot
            .record()
            .is_none_or(|record| record.has_missing_updates())
        {
            return;
        }
        self.settle(id, slot);
        let Some(slot) = self.slots.get_mut(&id) else {
            return;
        };
        if let Body::Open { record, .. } = &slot.body {
            let client_id = record.client_id();
            let state = record.state();
            slot.body = Body::Resting { state, client_id };
        }
        self.now_resting(id);
    }

    /// A damaged record's whole state has come from the server.
    pub(super) fn repaired(&mut self, id: RecordId) {
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.damaged = false;
        }
    }

    /// Open records waiting for an update that has not arrived, and records
    /// whose saved state did not load, in order.
    pub(super) fn needing_repair(&self) -> Vec<RecordId> {
        self.slots
            .iter()
            .filter(|(_, slot)| {
                slot.damaged || slot.record().is_some_and(Record::has_missing_updates)
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Loads a saved record (no projection saved with it): open, then rests
    /// once others push it out.
    pub(super) fn load(&mut self, id: RecordId, state: &[u8]) -> Result<(), RecordError> {
        let record = Record::load(id, self.client_id, state)?;
        self.replace(record);
        Ok(())
    }
}
