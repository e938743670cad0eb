//! Records: each one a yrs document (the Rust port of Yjs), merged without loss.
//!
//! Text fields are CRDT text, so concurrent edits merge character by character;
//! ordered collections are CRDT arrays; scalar fields are map entries (last
//! writer wins); sets are maps of member → true. Every kind is declared once
//! ([`schema`], [`kinds`]); fields are read and written by [`FieldPath`] from
//! that declaration alone, which is the only way the app touches a document,
//! so no UI code depends on CRDT internals.
//!
//! Every edit returns the [`Update`] it produced: the bytes to save in the outbox
//! and send to the server, which merges them into its copy the same way.

mod anchors;
#[cfg(any(test, feature = "testing"))]
pub mod arbitrary;
mod checks;
mod comments;
mod conflicts;
mod date;
mod erase;
mod fields;
mod id;
mod items;
pub mod kinds;
mod limits;
mod path;
mod projection;
pub mod schema;
mod stamp;
mod suggestions;
mod text;
mod undo;
mod untrusted;
mod write;

pub use anchors::Anchor;
pub use comments::{
    Comment, CommentEntries, CommentError, Mark, MarkKind, Thread, MAX_COMMENT_CHARS,
};
pub use conflicts::{Claim, Conflict};
pub use date::Date;
pub use fields::{FieldEdit, FieldError};
pub use id::{InvalidRecordId, RecordId};
pub use limits::{Sizes, TooLarge, MAX_RECORD_BYTES};
pub use path::{FieldPath, ItemId};
pub use projection::{Link, Projection, PROJECTION_VERSION};
pub use schema::KindDef;
pub use stamp::{Stamp, RESTAMP_AFTER_MS, STAMP};
pub use suggestions::{
    Decision, Suggestion, SuggestionError, DECISION_SEPARATOR, MAX_SUGGESTION_CHARS,
};
pub use text::{rebase_edit, text_changes, Splice, TextChange};
pub use undo::{UndoHistory, REMOTE};
pub use untrusted::{contain, containing_panic, decode_update, validate_update, MAX_CLIENT_ID};

use serde::{Deserialize, Serialize};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, MapRef, OffsetKind, Options, ReadTxn, StateVector, Transact, TransactionMut};

/// What kind of record a document holds; fixed when it is created.
///
/// The sync protocol sends a kind as its position in this list (postcard), so
/// kinds are only ever appended. Everything about a kind is its declaration
/// ([`RecordKind::def`]); this list and [`KINDS`] are the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Recommendation,
    Project,
    Consultation,
    GoodPractice,
    Person,
    Organisation,
}

/// Every kind's declaration, in [`RecordKind`] order.
static KINDS: [&KindDef; 6] = [
    &kinds::recommendation::KIND,
    &kinds::project::KIND,
    &kinds::consultation::KIND,
    &kinds::good_practice::KIND,
    &kinds::person::KIND,
    &kinds::organisation::KIND,
];

impl RecordKind {
    pub const ALL: [RecordKind; 6] = [
        RecordKind::Recommendation,
        RecordKind::Project,
        RecordKind::Consultation,
        RecordKind::GoodPractice,
        RecordKind::Person,
        RecordKind::Organisation,
    ];

    /// The kinds a device built before the schema knows; the sync protocol
    /// sends it no others.
    pub const V1: [RecordKind; 2] = [RecordKind::Recommendation, RecordKind::Project];

    /// The kind's declaration: the only place a kind's fields and rules live.
    pub fn def(self) -> &'static KindDef {
        KINDS[self as usize]
    }

    /// The stored name (`meta.kind`).
    pub fn as_str(self) -> &'static str {
        self.def().tag
    }

    pub fn parse(text: &str) -> Option<RecordKind> {
        RecordKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// The kind whose list lives at `/<path>`.
    pub fn from_path(path: &str) -> Option<RecordKind> {
        RecordKind::ALL
            .into_iter()
            .find(|kind| kind.def().path == path)
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
    pub const KIND: &str = "kind";
    /// Who set which choice to what (`conflicts`).
    pub const CLAIMS: &str = "claims";
    /// Comments, by id, and their marks: resolved, hidden (`comments`).
    pub const COMMENTS: &str = "comments";
    pub const COMMENT_MARKS: &str = "comment_marks";
    /// Suggested changes, by id, and the decisions on them (`suggestions`).
    pub const SUGGESTIONS: &str = "suggestions";
    pub const SUGGESTION_MARKS: &str = "suggestion_marks";
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
    /// The roots of top-level fields, by key, as first taken: taking a root
    /// opens and commits a write transaction, too dear for every read.
    tops: std::cell::RefCell<Vec<(&'static str, fields::Top)>>,
    /// Who sets choices through this replica (`conflicts`): a device's user.
    claims: MapRef,
    author: std::cell::RefCell<Option<Stamp>>,
    comments: MapRef,
    comment_marks: MapRef,
    suggestions: MapRef,
    suggestion_marks: MapRef,
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
        let claims = doc.get_or_insert_map(roots::CLAIMS);
        let comments = doc.get_or_insert_map(roots::COMMENTS);
        let comment_marks = doc.get_or_insert_map(roots::COMMENT_MARKS);
        let suggestions = doc.get_or_insert_map(roots::SUGGESTIONS);
        let suggestion_marks = doc.get_or_insert_map(roots::SUGGESTION_MARKS);
        Record {
            id,
            doc,
            meta,
            tops: std::cell::RefCell::new(Vec::new()),
            claims,
            author: std::cell::RefCell::new(None),
            comments,
            comment_marks,
            suggestions,
            suggestion_marks,
        }
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

    /// The replica id this copy writes under.
    pub fn client_id(&self) -> u64 {
        self.doc.client_id().get()
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
        // With an origin of its own, so that an undo never takes it back (`undo`).
        match contain(|| self.doc.transact_mut_with(REMOTE).apply_update(decoded)) {
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

    /// Sets a top-level text field (a shorthand for [`Record::change`]).
    pub fn set_text(&self, field: &'static str, text: &str) -> Result<Update, FieldError> {
        self.set_text_at(&FieldPath::top(field), text)
    }

    /// Reads a scalar string field of `meta`.
    pub(crate) fn meta_string(&self, key: &str) -> Option<String> {
        let txn = self.doc.transact();
        self.meta.get(&txn, key).map(|value| value.to_string(&txn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> RecordId {
        RecordId::v7(1_700_000_000_000, [n; 10])
    }

    /// Lists, filters and titles draw from listings, which hold no long text.
    #[test]
    fn what_lists_show_and_filter_is_never_long_text() {
        for kind in RecordKind::ALL {
            let def = kind.def();
            for field in def.fields {
                let shown = field.listed || field.filter || field.key == def.title;
                assert!(
                    !(shown && field.ty == schema::FieldType::LongText),
                    "{}.{} is long text, left out of listings",
                    def.tag,
                    field.key
                );
            }
        }
    }

    #[test]
    fn a_replica_built_from_the_creating_update_knows_the_kind() {
        let (record, update) = Record::create(id(1), RecordKind::Project, 1);
        assert_eq!(record.kind(), Some(RecordKind::Project));
        let replica = Record::empty(id(1), 2);
        assert_eq!(replica.kind(), None);
        replica.apply_update(&update.0).expect("applies");
        assert_eq!(replica.kind(), Some(RecordKind::Project));
        assert_eq!(replica.def().map(|def| def.tag), Some("project"));
    }

    #[test]
    fn merged_states_hold_both_replicas_edits() {
        let (anna, created) = Record::create(id(1), RecordKind::Project, 1);
        let jonas = Record::empty(id(1), 2);
        jonas.apply_update(&created.0).expect("applies");
        anna.set_text("title", "Anna").expect("title");
        jonas.set_text("description", "Jonas").expect("description");
        let merged = merge_updates(&[&anna.state(), &jonas.state()]).expect("merges");
        let both = Record::load(id(1), 3, &merged).expect("loads");
        let projection = both.projection().expect("kind known");
        assert_eq!(
            (projection.title(), projection.text("description")),
            ("Anna", "Jonas")
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
