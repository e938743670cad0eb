//! Persistence behind one trait, [`Storage`], with SurrealDB as its implementation.
//!
//! The same code drives the embedded on-disk engine (`surrealkv://`, the default)
//! and a remote SurrealDB (`ws://`, `wss://`), chosen by URL through
//! `surrealdb::engine::any`.

pub mod accounts;
mod compaction;
mod connect;
mod erasure;
mod migrations;
mod projections;
mod pull;
mod push;

pub use compaction::{compact_when_due, Compaction, CompactionRules};
pub use migrations::latest_schema_version;
pub use projections::{QueryProblem, RecordQuery};
pub use pull::PULL_BYTE_BUDGET;

use crate::error::StorageError;
use async_trait::async_trait;
use std::collections::HashMap;
use surrealdb::engine::any::Any;
use surrealdb::types::{Bytes, SurrealValue};
use surrealdb::Surreal;
use tern_domain::auth::{Access, Denied, UserId};
use tern_domain::record::RecordId;
use tern_domain::sync::{Change, DeviceId, OpId, OpOutcome, PullQuery, PullResponse, PushOp, Seq};
use tokio::sync::{watch, Mutex, Notify};
use tokio::time::Instant;

/// Whom a storage call acts for: the signed-in user and what their role allows.
/// Which records a contributor or observer sees is read from their grants by
/// the storage itself, in the same order as the changes it checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub access: Access,
}

impl Actor {
    /// Full access, for tools and tests that drive the storage directly.
    pub fn secretariat(user: UserId) -> Actor {
        Actor {
            user,
            access: Access::secretariat(),
        }
    }
}

/// What request handlers may ask of the database.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Checks that the database answers, and returns its schema version.
    async fn schema_version(&self) -> Result<u32, StorageError>;

    /// Merges pushed ops into their records and logs them, each under the next
    /// sequence number, all in one transaction. An op id seen before, or an op
    /// that changes nothing in its record, is not applied again. Returns once the
    /// request's changes are committed; on an error nothing was applied.
    ///
    /// Each op is checked for `actor` first: observers change nothing, a record
    /// the actor cannot see is answered as if it did not exist, and an op that
    /// changes a guarded field (status, positions) the actor may not change is
    /// undone and rejected with the reason.
    async fn push(
        &self,
        actor: &Actor,
        ops: Vec<PushOp>,
    ) -> Result<Vec<(OpId, OpOutcome)>, StorageError>;

    /// The logged changes after `query.since`, in sequence order, at most
    /// `query.limit`; for a cursor behind the compacted log, whole record states.
    /// A pull with a device id records that device's cursor. Changes of records
    /// `actor` cannot see are left out, but the cursor passes over them.
    async fn pull(&self, actor: &Actor, query: PullQuery) -> Result<PullResponse, StorageError>;

    /// One record's whole state, its `seq` the record's latest change; `None`
    /// also when `actor` cannot see it.
    async fn record(&self, actor: &Actor, id: RecordId) -> Result<Option<Change>, StorageError>;

    /// The last logged sequence number, updated after every commit that adds to the log.
    fn subscribe(&self) -> watch::Receiver<Seq>;

    /// The projections that answer `query`, of records `actor` may see.
    async fn find(
        &self,
        actor: &Actor,
        query: &RecordQuery,
    ) -> Result<Vec<(RecordId, tern_domain::record::Projection)>, StorageError>;

    /// The records `actor` may see that refer to `target`.
    async fn links_to(
        &self,
        actor: &Actor,
        target: RecordId,
    ) -> Result<Vec<tern_domain::api::LinkFrom>, StorageError>;

    /// Erases a record of personal data (see `record::erase`): its state and
    /// every log row become its tombstone, under a new seq, its links and
    /// projection go, and no op is taken for it again. `Ok(Err)` when `actor`
    /// may not (or the record is not one of personal data, or not there).
    async fn erase(&self, actor: &Actor, id: RecordId) -> Result<Result<(), Denied>, StorageError>;
}

pub struct SurrealStorage {
    pub(crate) db: Surreal<Any>,
    /// One writer at a time: sequence numbers are handed out and committed in
    /// the same order, so a pull never skips a change committed late. (Several
    /// server processes on one database would need the database to order them.)
    /// Compaction takes it too, so it never races a push on a record row.
    pub(crate) writer: Mutex<Seq>,
    /// The last committed seq, for server-sent events.
    pub(crate) events: watch::Sender<Seq>,
    rules: CompactionRules,
    /// Wakes the compaction task; pushes and pulls ring it when one is due.
    compaction_due: Notify,
    last_compaction: std::sync::Mutex<Instant>,
    /// Cursors as last written per device, so an idle device's polls write nothing.
    cursors_written: std::sync::Mutex<HashMap<DeviceId, (Seq, u64)>>,
}

/// A record row as the push path reads it.
#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct StoredRecord {
    rid: String,
    kind: String,
    doc_state: Bytes,
    updated_seq: i64,
}

/// A record row as the records endpoint reads it.
#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct RecordState {
    kind: String,
    doc_state: Bytes,
    updated_seq: i64,
}

/// A record row as a snapshot page reads it.
#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct SnapshotRow {
    rid: String,
    kind: String,
    doc_state: Bytes,
    compacted_seq: i64,
}

/// A log row, as written by a push (or a grant) and read by a pull.
#[derive(Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(crate) struct StoredChange {
    pub(crate) seq: i64,
    pub(crate) op: String,
    pub(crate) rid: String,
    pub(crate) kind: String,
    pub(crate) payload: Bytes,
}

/// A record row a push writes.
#[derive(Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct RecordWrite {
    rid: String,
    kind: String,
    doc_state: Bytes,
    projection: serde_json::Value,
    projection_version: i64,
    updated_seq: i64,
    compacted_seq: i64,
}

/// The server merges but never authors edits; its replica id is fixed.
const SERVER_CLIENT_ID: u64 = 0;

fn op_key(op: OpId) -> String {
    op.0.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[async_trait]
impl Storage for SurrealStorage {
    async fn push(
        &self,
        actor: &Actor,
        ops: Vec<PushOp>,
    ) -> Result<Vec<(OpId, OpOutcome)>, StorageError> {
        self.push_ops(actor, ops).await
    }

    async fn pull(&self, actor: &Actor, query: PullQuery) -> Result<PullResponse, StorageError> {
        self.pull_changes(actor, query).await
    }

    async fn record(&self, actor: &Actor, id: RecordId) -> Result<Option<Change>, StorageError> {
        self.whole_record(actor, id).await
    }

    fn subscribe(&self) -> watch::Receiver<Seq> {
        self.events.subscribe()
    }

    async fn find(
        &self,
        actor: &Actor,
        query: &RecordQuery,
    ) -> Result<Vec<(RecordId, tern_domain::record::Projection)>, StorageError> {
        self.find_visible(actor, query).await
    }

    async fn links_to(
        &self,
        actor: &Actor,
        target: RecordId,
    ) -> Result<Vec<tern_domain::api::LinkFrom>, StorageError> {
        self.links_visible(actor, target).await
    }

    async fn erase(&self, actor: &Actor, id: RecordId) -> Result<Result<(), Denied>, StorageError> {
        self.erase_record(actor, id).await
    }

    async fn schema_version(&self) -> Result<u32, StorageError> {
        self.current_schema_version().await
    }
}
