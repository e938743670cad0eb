//! Records: each one a yrs document (the Rust port of Yjs), merged without loss.
//!
//! Text fields are CRDT text, so concurrent edits merge character by character;
//! ordered collections are CRDT arrays; scalar fields are map entries (last
//! writer wins); sets are maps of member → true. The typed views
//! ([`Recommendation`], [`Project`]) are the only way the app touches a
//! document, so no UI code depends on CRDT internals.
//!
//! Every edit returns the [`Update`] it produced: the bytes to save in the outbox
//! and send to the server, which merges them into its copy the same way.

mod id;
mod project;
mod recommendation;
mod text;
mod untrusted;

pub use id::{InvalidRecordId, RecordId};
pub use project::{Project, ProjectFieldError, ProjectStatus, ProjectSummary};
pub use recommendation::{
    Recommendation, RecommendationStatus, RecommendationSummary, Section, SectionId, Stance,
};
pub use text::{rebase_edit, Splice};
pub use untrusted::{contain, containing_panic, decode_update, validate_update, MAX_CLIENT_ID};

use serde::{Deserialize, Serialize};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, MapRef, OffsetKind, Options, ReadTxn, StateVector, Transact, TransactionMut};

/// What kind of record a document holds; fixed when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Recommendation,
    Project,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Recommendation => "recommendation",
            RecordKind::Project => "project",
        }
    }

    pub fn parse(text: &str) -> Option<RecordKind> {
        match text {
            "recommendation" => Some(RecordKind::Recommendation),
            "project" => Some(RecordKind::Project),
            _ => None,
        }
    }
}

/// The encoded change one transaction made (yrs update format v1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update(pub Vec<u8>);

/// Why bytes could not become (part of) a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("the update is not a valid document update")]
    MalformedUpdate,
    #[error("the update names a replica (client id) above 2^53 - 1, which no Yjs or yrs replica can have")]
    ClientIdOutOfRange,
    #[error("the state vector is not valid")]
    MalformedStateVector,
    #[error("the update could not be merged into the record")]
    Unmergeable,
}

/// Root names inside a record document. Changing one orphans existing data.
pub(crate) mod roots {
    pub const META: &str = "meta";
    pub const TITLE: &str = "title";
    pub const FOCUS_AREAS: &str = "focus_areas";
    pub const KIND: &str = "kind";
    pub const STATUS: &str = "status";
}

/// Merges saved states or updates of one record into one update, without
/// loading a document: lets a store combine what two tabs saved.
pub fn merge_updates(updates: &[&[u8]]) -> Result<Vec<u8>, RecordError> {
    for update in updates {
        validate_update(update)?;
    }
    contain(|| yrs::merge_updates_v1(updates.iter().copied()))
        .ok_or(RecordError::Unmergeable)?
        .map_err(|_| RecordError::Unmergeable)
}

/// One record's document.
pub struct Record {
    id: RecordId,
    doc: Doc,
    // Root refs are taken once, up front: taking one needs a write lock on the
    // document, which would deadlock inside an open transaction.
    meta: MapRef,
}

impl Record {
    /// A new record, created on this device. `client_id` identifies this replica
    /// of the document and must differ between concurrently editing replicas.
    pub fn create(id: RecordId, kind: RecordKind, client_id: u64) -> (Record, Update) {
        let record = Record::empty(id, client_id);
        let update = record.edit(|txn, record| {
            record.meta.insert(txn, roots::KIND, kind.as_str());
        });
        (record, update)
    }

    /// A replica with no content yet, to be filled by [`Record::apply_update`].
    pub fn empty(id: RecordId, client_id: u64) -> Record {
        let doc = Doc::with_options(Options {
            // yrs takes 53 bits (a JavaScript-safe integer); keep the low ones.
            client_id: yrs::block::ClientID::new(client_id & MAX_CLIENT_ID),
            // Browsers count text in UTF-16 units; so do the documents.
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        });
        let meta = doc.get_or_insert_map(roots::META);
        Record { id, doc, meta }
    }

    /// A replica from a saved state (as returned by [`Record::state`]).
    pub fn load(id: RecordId, client_id: u64, state: &[u8]) -> Result<Record, RecordError> {
        let record = Record::empty(id, client_id);
        record.apply_update(state)?;
        Ok(record)
    }

    pub fn id(&self) -> RecordId {
        self.id
    }

    /// The kind set at creation; `None` until the creating update has arrived.
    pub fn kind(&self) -> Option<RecordKind> {
        RecordKind::parse(&self.meta_string(roots::KIND)?)
    }

    /// Merges an update from another replica. Applying one twice, or out of
    /// order, is harmless: yrs keeps what it cannot place yet until it can.
    ///
    /// Bytes from the network are untrusted: a malformed update fails, never
    /// takes the process down. After [`RecordError::Unmergeable`] the document
    /// may be half-changed; drop this replica and rebuild it from good states.
    pub fn apply_update(&self, update: &[u8]) -> Result<(), RecordError> {
        let decoded = decode_update(update)?;
        match contain(|| self.doc.transact_mut().apply_update(decoded)) {
            Some(Ok(())) => Ok(()),
            Some(Err(_)) | None => Err(RecordError::Unmergeable),
        }
    }

    /// Whether some applied updates wait for earlier ones that have not arrived:
    /// the replica is incomplete until they do.
    pub fn has_missing_updates(&self) -> bool {
        self.doc.transact().has_missing_updates()
    }

    /// The whole document as one update, to save or to send to a new replica.
    pub fn state(&self) -> Vec<u8> {
        self.doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// What this replica has seen, compactly; another replica answers it with
    /// [`Record::diff_since`].
    pub fn state_vector(&self) -> Vec<u8> {
        use yrs::updates::encoder::Encode;
        self.doc.transact().state_vector().encode_v1()
    }

    /// Everything this replica has that one with `state_vector` lacks.
    pub fn diff_since(&self, state_vector: &[u8]) -> Result<Vec<u8>, RecordError> {
        let vector =
            StateVector::decode_v1(state_vector).map_err(|_| RecordError::MalformedStateVector)?;
        Ok(self.doc.transact().encode_state_as_update_v1(&vector))
    }

    pub fn as_recommendation(&self) -> Option<Recommendation<'_>> {
        (self.kind() == Some(RecordKind::Recommendation)).then_some(Recommendation::new(self))
    }

    pub fn as_project(&self) -> Option<Project<'_>> {
        (self.kind() == Some(RecordKind::Project)).then_some(Project::new(self))
    }

    /// The typed fields as plain data, for listing, search and export.
    pub fn summary(&self) -> Option<RecordSummary> {
        match self.kind()? {
            RecordKind::Recommendation => Some(RecordSummary::Recommendation(
                Recommendation::new(self).summary(),
            )),
            RecordKind::Project => Some(RecordSummary::Project(Project::new(self).summary())),
        }
    }

    pub(crate) fn doc(&self) -> &Doc {
        &self.doc
    }

    pub(crate) fn meta(&self) -> &MapRef {
        &self.meta
    }

    /// Runs one write transaction and returns the update it produced.
    pub(crate) fn edit(&self, change: impl FnOnce(&mut TransactionMut, &Record)) -> Update {
        let mut txn = self.doc.transact_mut();
        change(&mut txn, self);
        Update(txn.encode_update_v1())
    }

    pub(crate) fn read_text(&self, text: &yrs::TextRef) -> String {
        use yrs::GetString;
        text.get_string(&self.doc.transact())
    }

    pub(crate) fn write_text(&self, text: &yrs::TextRef, value: &str) -> Update {
        self.edit(|txn, _| text::splice_to(text, txn, value))
    }

    /// Sets a scalar field of `meta`; an unchanged value makes no edit.
    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Update {
        self.edit(|txn, record| {
            record.meta.try_update(txn, key, value);
        })
    }

    /// Adds `member` to, or removes it from, a set kept as a map of member → true.
    pub(crate) fn set_member(&self, set: &MapRef, member: &str, included: bool) -> Update {
        self.edit(|txn, _| {
            if included {
                set.try_update(txn, member, true);
            } else {
                set.remove(txn, member);
            }
        })
    }

    /// The focus areas in a set, in their canonical order.
    pub(crate) fn focus_areas_in(&self, set: &MapRef) -> Vec<crate::region::FocusArea> {
        let members = read_set(set, &self.doc.transact());
        crate::region::FocusArea::ALL
            .into_iter()
            .filter(|area| members.iter().any(|m| m == area.as_str()))
            .collect()
    }

    /// Reads a scalar string field of `meta`.
    pub(crate) fn meta_string(&self, key: &str) -> Option<String> {
        let txn = self.doc.transact();
        self.meta.get(&txn, key).map(|value| value.to_string(&txn))
    }
}

/// A record's typed fields as plain data (the server's JSON projection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordSummary {
    Recommendation(RecommendationSummary),
    Project(ProjectSummary),
}

/// Reads a set kept as a map of member → true, in a stable order.
pub(crate) fn read_set<T: ReadTxn>(map: &MapRef, txn: &T) -> Vec<String> {
    let mut members: Vec<String> = map.keys(txn).map(str::to_owned).collect();
    members.sort_unstable();
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> RecordId {
        RecordId::v7(1_700_000_000_000, [n; 10])
    }

    #[test]
    fn a_replica_built_from_the_creating_update_knows_the_kind() {
        let (record, update) = Record::create(id(1), RecordKind::Project, 1);
        assert_eq!(record.kind(), Some(RecordKind::Project));
        let replica = Record::empty(id(1), 2);
        assert_eq!(replica.kind(), None);
        replica.apply_update(&update.0).expect("applies");
        assert_eq!(replica.kind(), Some(RecordKind::Project));
        assert!(replica.as_project().is_some());
        assert!(replica.as_recommendation().is_none());
    }

    #[test]
    fn merged_states_hold_both_replicas_edits() {
        let (anna, created) = Record::create(id(1), RecordKind::Project, 1);
        let jonas = Record::empty(id(1), 2);
        jonas.apply_update(&created.0).expect("applies");
        anna.as_project().expect("project").set_title("Anna");
        jonas
            .as_project()
            .expect("project")
            .set_description("Jonas");
        let merged = merge_updates(&[&anna.state(), &jonas.state()]).expect("merges");
        let both = Record::load(id(1), 3, &merged).expect("loads");
        let project = both.as_project().expect("project");
        assert_eq!(
            (project.title(), project.description()),
            ("Anna".into(), "Jonas".into())
        );
        assert!(merge_updates(&[&anna.state(), b"junk"]).is_err());
    }

    #[test]
    fn garbage_is_refused_without_changing_the_record() {
        let (record, _) = Record::create(id(1), RecordKind::Recommendation, 1);
        let before = record.state();
        for bytes in [&b"not an update"[..], &[0xff; 64][..], &[][..]] {
            assert!(record.apply_update(bytes).is_err(), "{bytes:?}");
        }
        assert_eq!(record.state(), before);
        assert_eq!(
            record.diff_since(b"\xff\xff"),
            Err(RecordError::MalformedStateVector)
        );
    }
}
