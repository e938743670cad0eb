//! Persistence behind one trait, [`Storage`], with SurrealDB as its implementation.
//!
//! The same code drives the embedded on-disk engine (`surrealkv://`, the default)
//! and a remote SurrealDB (`ws://`, `wss://`), chosen by URL through
//! `surrealdb::engine::any`.

mod erasure;
mod projections;

pub use projections::{QueryProblem, RecordQuery};

use crate::accounts::Actor;
use crate::config::{Config, DatabaseLocation};
use crate::error::{one_line, StartupError, StorageError};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use surrealdb::engine::any::Any;
use surrealdb::opt::auth::Root;
use surrealdb::types::{Bytes, SurrealValue};
use surrealdb::Surreal;
use tern_domain::auth::{Denied, GuardedFields, Role};
use tern_domain::record::{contain, decode_update, Record, RecordId, RecordKind};
use tern_domain::sync::{
    Change, DeviceId, OpId, OpOutcome, PullQuery, PullResponse, PushOp, Seq, MAX_PULL_LIMIT,
};
use tokio::sync::{watch, Mutex, Notify};
use tokio::time::Instant;
use yrs::updates::decoder::Decode;

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

/// One schema change. The list is append-only: a shipped migration is never edited.
struct Migration {
    version: u32,
    name: &'static str,
    statements: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "schema bookkeeping and instance facts",
        statements: include_str!("migrations/0001_schema_bookkeeping.surql"),
    },
    Migration {
        version: 2,
        name: "records and the sync log",
        statements: include_str!("migrations/0002_sync.surql"),
    },
    Migration {
        version: 3,
        name: "device cursors and log compaction",
        statements: include_str!("migrations/0003_cursors_and_compaction.surql"),
    },
    Migration {
        version: 4,
        name: "accounts, sessions, member states and grants",
        statements: include_str!("migrations/0004_accounts.surql"),
    },
    Migration {
        version: 5,
        name: "projections as objects, links between records, erased records",
        statements: include_str!("migrations/0005_record_schema.surql"),
    },
];

/// The newest schema version this build knows.
pub fn latest_schema_version() -> u32 {
    MIGRATIONS.last().map_or(0, |migration| migration.version)
}

/// Bookkeeping for migrations; idempotent, so it runs at every start.
const BOOKKEEPING: &str = "
    DEFINE TABLE IF NOT EXISTS schema_migration SCHEMAFULL;
    DEFINE FIELD IF NOT EXISTS version ON schema_migration TYPE int;
    DEFINE FIELD IF NOT EXISTS name ON schema_migration TYPE string;
    DEFINE FIELD IF NOT EXISTS applied_at ON schema_migration TYPE datetime;
";

/// The most bytes of updates or states one pull page carries (at least one
/// change always goes, however large): a page of whole states can be big.
pub const PULL_BYTE_BUDGET: usize = 4 * 1024 * 1024;

/// Record states are read in batches of this many while a snapshot page fills.
const SNAPSHOT_BATCH: u32 = 64;

/// The most log rows one compaction step deletes while holding the writer lock;
/// a bigger backlog goes in several steps, so pushes wait at most one step.
const COMPACTION_STEP: u64 = 5_000;

/// When the sync log may be compacted (from [`Config`]).
#[derive(Debug, Clone, Copy)]
pub struct CompactionRules {
    /// A device not seen for this long no longer holds the log back.
    pub device_expiry: Duration,
    /// The log keeps at most this many entries, whatever devices still lag.
    pub max_log_entries: u64,
    /// Compaction runs at most this often (and only after pushes and pulls).
    pub interval: Duration,
}

impl CompactionRules {
    pub fn from_config(config: &Config) -> CompactionRules {
        CompactionRules {
            device_expiry: Duration::from_secs(config.sync_device_expiry_secs),
            max_log_entries: config.sync_log_max_entries,
            interval: Duration::from_secs(config.sync_compact_every_secs),
        }
    }

    /// How stale a device's `last_seen` may be before a pull writes it again.
    fn seen_refresh(&self) -> u64 {
        (self.device_expiry.as_secs() / 4).min(3_600)
    }
}

/// What one compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compaction {
    /// The horizon before and after.
    pub from: Seq,
    pub through: Seq,
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

impl SurrealStorage {
    /// Connects, signs in when remote, selects namespace and database, and brings
    /// the schema up to date.
    pub async fn open(config: &Config) -> Result<Self, StartupError> {
        let location = config.database_location()?;
        let url = match &location {
            DatabaseLocation::Embedded(url) => {
                prepare_data_dir(config)?;
                durable_surrealkv_url(&absolute_surrealkv_url(url, config)?)
            }
            DatabaseLocation::Remote(url) => url.clone(),
        };
        let shown = url.clone();
        let db = connect(&url)
            .await
            .map_err(|error| StartupError::DatabaseOpen {
                location: shown.clone(),
                reason: one_line(&error),
            })?;
        if let (DatabaseLocation::Remote(_), Some(username)) = (&location, &config.db_user) {
            db.signin(Root {
                username: username.clone(),
                password: config.db_password.clone().unwrap_or_default(),
            })
            .await
            .map_err(|error| StartupError::DatabaseAuth {
                location: shown.clone(),
                reason: one_line(&error),
            })?;
        }
        db.use_ns(config.db_namespace.as_str())
            .use_db(config.db_database.as_str())
            .await
            .map_err(|error| StartupError::DatabaseOpen {
                location: shown.clone(),
                reason: one_line(&error),
            })?;
        let mut storage = SurrealStorage {
            db,
            writer: Mutex::new(Seq(0)),
            events: watch::Sender::new(Seq(0)),
            rules: CompactionRules::from_config(config),
            compaction_due: Notify::new(),
            last_compaction: std::sync::Mutex::new(Instant::now()),
            cursors_written: std::sync::Mutex::new(HashMap::new()),
        };
        storage.migrate(&shown).await?;
        let reprojected =
            storage
                .reproject_stale()
                .await
                .map_err(|error| StartupError::DatabaseOpen {
                    location: shown.clone(),
                    reason: one_line(&error),
                })?;
        if reprojected > 0 {
            tracing::info!(
                records = reprojected,
                "records projected again for this build's schema"
            );
        }
        storage
            .seed_member_states()
            .await
            .map_err(|error| StartupError::DatabaseOpen {
                location: shown.clone(),
                reason: one_line(&error),
            })?;
        let last = storage
            .last_seq()
            .await
            .map_err(|error| StartupError::DatabaseOpen {
                location: shown.clone(),
                reason: one_line(&error),
            })?;
        storage.writer = Mutex::new(last);
        storage.events.send_replace(last);
        tracing::info!(database = %shown, schema_version = latest_schema_version(), "database ready");
        Ok(storage)
    }

    /// The newest seq handed out: the log's last row, or the compaction horizon
    /// when compaction has emptied the log.
    async fn last_seq(&self) -> Result<Seq, surrealdb::Error> {
        let mut response = self
            .db
            .query("SELECT VALUE seq FROM sync_change ORDER BY seq DESC LIMIT 1")
            .query("SELECT VALUE compacted_through FROM ONLY sync_log:state")
            .await?
            .check()?;
        let last: Vec<i64> = response.take(0)?;
        let compacted: Option<i64> = response.take(1)?;
        let last = last
            .first()
            .copied()
            .unwrap_or(0)
            .max(compacted.unwrap_or(0));
        Ok(Seq(u64::try_from(last).unwrap_or(0)))
    }

    /// The versions recorded as applied, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<u32>, StorageError> {
        self.applied_versions()
            .await
            .map_err(StorageError::Unavailable)
    }

    /// When this instance's database was first set up; stable across restarts.
    pub async fn created_at(&self) -> Result<String, StorageError> {
        let mut response = self
            .db
            .query("SELECT VALUE <string> created_at FROM ONLY instance:current")
            .await
            .and_then(|response| response.check())
            .map_err(StorageError::Unavailable)?;
        let created: Option<String> = response.take(0).map_err(StorageError::Unavailable)?;
        Ok(created.unwrap_or_default())
    }

    async fn applied_versions(&self) -> Result<Vec<u32>, surrealdb::Error> {
        let mut response = self
            .db
            .query(BOOKKEEPING)
            .query("SELECT VALUE version FROM schema_migration ORDER BY version")
            .await?
            .check()?;
        let versions: Vec<i64> = response.take(4)?;
        Ok(versions
            .into_iter()
            .filter_map(|v| u32::try_from(v).ok())
            .collect())
    }

    async fn migrate(&self, location: &str) -> Result<(), StartupError> {
        let open_error = |error: surrealdb::Error| StartupError::DatabaseOpen {
            location: location.to_owned(),
            reason: one_line(&error),
        };
        let applied = self.applied_versions().await.map_err(open_error)?;
        let found = applied.last().copied().unwrap_or(0);
        if found > latest_schema_version() {
            return Err(StartupError::SchemaTooNew {
                found,
                known: latest_schema_version(),
            });
        }
        for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
            // One transaction per migration: its changes and its bookkeeping row land together.
            let script = format!(
                "BEGIN TRANSACTION;\n{}\nCREATE schema_migration:{} SET version = {}, name = $name, applied_at = time::now();\nCOMMIT TRANSACTION;",
                migration.statements, migration.version, migration.version
            );
            let failed = |error: surrealdb::Error| StartupError::Migration {
                version: migration.version,
                name: migration.name,
                reason: one_line(&error),
            };
            let response = self
                .db
                .query(script)
                .bind(("name", migration.name))
                .await
                .map_err(failed)?;
            // The statement that failed, not the first one marked "not executed".
            transaction_outcome(response).map_err(|(_, error)| failed(error))?;
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "migration applied"
            );
        }
        Ok(())
    }

    /// Rings the compaction task if the interval has passed since the last run.
    fn compaction_maybe_due(&self) {
        let due = self
            .last_compaction
            .lock()
            .map(|last| last.elapsed() >= self.rules.interval)
            .unwrap_or(true);
        if due {
            self.compaction_due.notify_one();
        }
    }

    /// Deletes the log up to the horizon: the smallest cursor of the devices seen
    /// within the expiry (all of the log if none), but never keeping more than
    /// `max_log_entries`. Forgets devices past the expiry. Each step deletes at
    /// most [`COMPACTION_STEP`] rows in one transaction with the horizon and the
    /// records' `compacted_seq`, under the writer lock.
    pub async fn compact(&self) -> Result<Compaction, StorageError> {
        let now = unix_now();
        let cutoff = now.saturating_sub(self.rules.device_expiry.as_secs());
        let mut response = self
            .db
            .query("SELECT VALUE compacted_through FROM ONLY sync_log:state")
            .query("SELECT VALUE pulled_through FROM sync_device WHERE last_seen >= $cutoff")
            .query("DELETE sync_device WHERE last_seen < $cutoff")
            .bind(("cutoff", to_i64(cutoff)))
            .await
            .and_then(|response| response.check())
            .map_err(StorageError::Unavailable)?;
        let compacted: Option<i64> = response.take(0).map_err(StorageError::Unavailable)?;
        let cursors: Vec<i64> = response.take(1).map_err(StorageError::Unavailable)?;
        let from = Seq(compacted.map_or(0, to_u64));
        if let Ok(mut written) = self.cursors_written.lock() {
            written.retain(|_, (_, seen)| *seen >= cutoff);
        }
        let mut through = from;
        loop {
            let last = self.writer.lock().await;
            let held_back = cursors.iter().copied().map(to_u64).min().unwrap_or(last.0);
            let horizon = held_back
                .max(last.0.saturating_sub(self.rules.max_log_entries))
                .min(last.0);
            if horizon <= through.0 {
                break;
            }
            let step = horizon.min(through.0 + COMPACTION_STEP);
            self.db
                .query(
                    "BEGIN TRANSACTION;
                     LET $tops = SELECT rid, math::max(seq) AS top FROM sync_change WHERE seq > $from AND seq <= $to GROUP BY rid;
                     FOR $t IN $tops { UPDATE synced_record SET compacted_seq = $t.top WHERE rid = $t.rid; };
                     DELETE sync_change WHERE seq > $from AND seq <= $to;
                     UPDATE sync_log:state SET compacted_through = $to;
                     COMMIT TRANSACTION;",
                )
                .bind(("from", to_i64(through.0)))
                .bind(("to", to_i64(step)))
                .await
                .and_then(|response| response.check())
                .map_err(StorageError::Unavailable)?;
            through = Seq(step);
            drop(last);
        }
        if let Ok(mut last) = self.last_compaction.lock() {
            *last = Instant::now();
        }
        if through > from {
            tracing::info!(from = from.0, through = through.0, "sync log compacted");
        }
        Ok(Compaction { from, through })
    }

    /// The records `actor` may see: `None` for every record (secretariat and
    /// members), else the ones they were invited to.
    async fn visible_records(
        &self,
        actor: &Actor,
    ) -> Result<Option<HashSet<String>>, StorageError> {
        if actor.access.sees_every_record() {
            return Ok(None);
        }
        self.granted_records(&actor.user).await.map(Some)
    }

    /// Records a device's cursor unless it is what was last written and recent.
    fn cursor_needs_writing(&self, device: DeviceId, since: Seq, now: u64) -> bool {
        let Ok(mut written) = self.cursors_written.lock() else {
            return true;
        };
        let fresh = written.get(&device).is_some_and(|(cursor, seen)| {
            *cursor == since && now.saturating_sub(*seen) < self.rules.seen_refresh()
        });
        if !fresh {
            written.insert(device, (since, now));
        }
        !fresh
    }

    /// Record states for a device behind the horizon: the records holding a
    /// compacted change newer than `since`, ordered by that change's seq, each as
    /// its whole state. See ARCHITECTURE.md ("Compaction") for why the cursor holds.
    async fn snapshot_page(
        &self,
        query: &PullQuery,
        limit: u32,
        compacted: Seq,
        visible: Option<&HashSet<String>>,
    ) -> Result<PullResponse, StorageError> {
        let since = query.since;
        let mut changes = Vec::new();
        let mut bytes = 0usize;
        let mut after = since;
        let mut exhausted = false;
        'fill: while changes.len() < limit as usize {
            let batch = SNAPSHOT_BATCH.min(limit - changes.len() as u32);
            let mut response = self
                .db
                .query("SELECT rid, kind, doc_state, compacted_seq FROM synced_record WHERE compacted_seq > $after ORDER BY compacted_seq LIMIT $batch")
                .bind(("after", to_i64(after.0)))
                .bind(("batch", i64::from(batch)))
                .await
                .and_then(|response| response.check())
                .map_err(StorageError::Unavailable)?;
            let rows: Vec<SnapshotRow> = response.take(0).map_err(StorageError::Unavailable)?;
            let full = rows.len() == batch as usize;
            for row in rows {
                let seq = Seq(to_u64(row.compacted_seq));
                let kind = RecordKind::parse(&row.kind);
                if visible.is_some_and(|visible| !visible.contains(&row.rid))
                    || !kind.is_some_and(|kind| query.takes(kind))
                {
                    after = seq;
                    continue;
                }
                let size = row.doc_state.len();
                if !changes.is_empty() && bytes + size > PULL_BYTE_BUDGET {
                    break 'fill;
                }
                bytes += size;
                after = seq;
                if let (Ok(record), Some(kind)) = (row.rid.parse(), kind) {
                    changes.push(Change {
                        seq,
                        record,
                        kind,
                        update: row.doc_state.to_vec(),
                    });
                }
            }
            if !full {
                exhausted = true;
                break;
            }
        }
        // Every record with a compacted change after `since` is in this page (or
        // an earlier one): the device now holds everything up to the horizon read
        // before these records. Otherwise it resumes after the last record sent.
        let cursor = if exhausted {
            after.max(compacted)
        } else {
            after
        };
        Ok(PullResponse {
            changes,
            cursor,
            // The device pulls again; from the horizon on, it follows the log.
            complete: false,
        })
    }
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

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// One record as a push request works on it: loaded once, every op of the
/// request merged in order, written once.
struct Touched {
    id: RecordId,
    /// The stored state, `None` for a record this request creates.
    stored: Option<Vec<u8>>,
    kind: Option<RecordKind>,
    record: Record,
    /// What the document holds, to tell cheaply whether an op adds anything:
    /// its state vector and its deleted ids.
    known: yrs::StateVector,
    deleted: yrs::IdSet,
    /// The state vector before this request, encoded: what a diff starts from.
    before: Vec<u8>,
    /// The ops of this request merged into the record, by index.
    merged: Vec<usize>,
    updated_seq: Seq,
    /// The stored state does not load: every op on the record is refused.
    unreadable: bool,
    /// The guarded fields of the record as it is now, once an access check
    /// has read them.
    guarded: Option<GuardedFields>,
}

impl Touched {
    fn load(id: RecordId, stored: Option<StoredRecord>) -> Touched {
        let mut touched = Touched {
            id,
            stored: None,
            kind: None,
            record: Record::empty(id, SERVER_CLIENT_ID),
            known: yrs::StateVector::default(),
            deleted: yrs::IdSet::new(),
            before: Vec::new(),
            merged: Vec::new(),
            updated_seq: Seq(0),
            unreadable: false,
            guarded: None,
        };
        if let Some(stored) = stored {
            let state = stored.doc_state.to_vec();
            touched.kind = RecordKind::parse(&stored.kind);
            touched.updated_seq = Seq(to_u64(stored.updated_seq));
            touched.unreadable = touched.record.apply_update(&state).is_err();
            if let Ok(update) = yrs::Update::decode_v1(&state) {
                touched.deleted = update.delete_set().clone();
            }
            touched.stored = Some(state);
            touched.refresh_known();
        }
        touched.before = touched.record.state_vector();
        touched
    }

    fn refresh_known(&mut self) {
        self.known = yrs::StateVector::decode_v1(&self.record.state_vector()).unwrap_or_default();
    }

    /// Whether merging `update` would leave the document as it is: everything it
    /// inserts is integrated and everything it deletes is deleted. That is how a
    /// retried op is recognised, also after its log row was compacted away.
    fn unchanged_by(&self, update: &yrs::Update) -> bool {
        if self.record.has_missing_updates() {
            return false;
        }
        let inserts_known = update.insertions(true).iter().all(|(client, ranges)| {
            ranges
                .iter()
                .all(|range| range.end <= self.known.get(client))
        });
        inserts_known
            && update.delete_set().iter().all(|(client, ranges)| {
                ranges.iter().all(|range| {
                    range
                        .clone()
                        .all(|clock| self.deleted.contains(&yrs::ID::new(*client, clock)))
                })
            })
    }

    /// The guarded fields before an op, and whether the document already waited
    /// for missing updates. A record this request creates has a new record's.
    fn guarded_fields(&self, kind: RecordKind) -> (GuardedFields, bool) {
        let fields = match (&self.guarded, self.kind) {
            (Some(known), _) => known.clone(),
            (None, Some(_)) => GuardedFields::of(&self.record),
            (None, None) => GuardedFields::of_new(kind),
        };
        (fields, self.record.has_missing_updates())
    }

    /// Checks an op just merged against what `access` may change.
    fn check_edit(
        &mut self,
        access: &tern_domain::auth::Access,
        before: &GuardedFields,
        was_missing: bool,
    ) -> Result<(), String> {
        // An update waiting for missing ones is not visible in the fields yet: it
        // would be integrated later under someone else's op, unchecked.
        if !was_missing && self.record.has_missing_updates() {
            return Err(
                "the edit depends on changes the server does not have; reload the record"
                    .to_owned(),
            );
        }
        let after = GuardedFields::of(&self.record);
        access
            .check_edit(before, &after)
            .map_err(|denied| denied.to_wire())?;
        // The next op's "before": read once per op, not twice.
        self.guarded = Some(after);
        Ok(())
    }

    /// Merges a decoded update that changes the document.
    fn merged_update(&mut self, index: usize, update: &yrs::Update, seq: Seq) {
        self.deleted.merge_with(update.delete_set().clone());
        self.refresh_known();
        self.merged.push(index);
        self.updated_seq = seq;
    }

    /// The record as stored plus this request's merged ops, after a merge failed
    /// half-way and may have left the document in between.
    fn rebuild(&mut self, ops: &[PushOp]) {
        self.guarded = None;
        let record = Record::empty(self.id, SERVER_CLIENT_ID);
        if let Some(state) = &self.stored {
            let _ = record.apply_update(state);
        }
        for &index in &self.merged {
            let _ = record.apply_update(&ops[index].update);
        }
        self.record = record;
        self.refresh_known();
    }
}

/// Denied ops of one push, for the audit log: one line per record and reason
/// (a push of thousands of denied keystrokes is one line, with the count).
#[derive(Default)]
struct Denials(HashMap<(String, String), usize>);

impl Denials {
    fn add(&mut self, rid: &str, reason: &str) {
        *self
            .0
            .entry((rid.to_owned(), reason.to_owned()))
            .or_default() += 1;
    }

    fn log(&self, actor: &Actor) {
        for ((rid, reason), count) in &self.0 {
            tracing::warn!(target: "audit", user = %actor.user, record = %rid, reason = %reason, ops = count, "sync op denied");
        }
    }
}

/// How often a push's transaction is tried when it conflicts with another.
const PUSH_COMMIT_ATTEMPTS: u64 = 4;

/// Whether a multi-statement transaction committed; else its cause (the
/// statement that failed, not the ones "not executed" because of it) and
/// whether it was a conflict, which changed nothing and can be tried again.
fn transaction_outcome(
    mut response: surrealdb::IndexedResults,
) -> Result<(), (bool, surrealdb::Error)> {
    use surrealdb::types::QueryError;
    let mut errors: Vec<(usize, surrealdb::Error)> = response.take_errors().into_iter().collect();
    errors.sort_by_key(|(index, _)| *index);
    let conflict = errors
        .iter()
        .any(|(_, error)| error.query_details() == Some(&QueryError::TransactionConflict));
    let cause = errors
        .iter()
        .position(|(_, error)| error.query_details() != Some(&QueryError::NotExecuted))
        .unwrap_or(0);
    match errors.into_iter().nth(cause) {
        None => Ok(()),
        Some((_, error)) => Err((conflict, error)),
    }
}

/// Up to this many ops of one record in one push are merged update by update
/// (exact, but superlinear in yrs); more are logged as the record's diff since
/// the push began (one encode: the push's inserts plus the document's deletions).
const MERGE_AT_MOST: usize = 64;

impl Touched {
    /// This request's ops on the record as one update, for its log row.
    fn log_payload(&self, ops: &[PushOp]) -> Vec<u8> {
        let updates: Vec<&[u8]> = self
            .merged
            .iter()
            .map(|&index| ops[index].update.as_slice())
            .collect();
        if let [only] = updates.as_slice() {
            return only.to_vec();
        }
        if updates.len() <= MERGE_AT_MOST {
            let merged = contain(|| yrs::merge_updates_v1(updates.iter().copied()));
            if let Some(Ok(merged)) = merged {
                return merged;
            }
        }
        self.record
            .diff_since(&self.before)
            .unwrap_or_else(|_| self.record.state())
    }
}

#[async_trait]
impl Storage for SurrealStorage {
    async fn push(
        &self,
        actor: &Actor,
        ops: Vec<PushOp>,
    ) -> Result<Vec<(OpId, OpOutcome)>, StorageError> {
        let mut last = self.writer.lock().await;
        // Read under the writer lock, which grants also take: the set cannot
        // change while the ops are checked against it.
        let visible = self.visible_records(actor).await?;
        // The secretariat may change every field; the check's cost is skipped.
        let guarded = actor.access.role != Role::Secretariat;
        let mut denials = Denials::default();
        // The stored state of every record the request touches, read once.
        let mut rids: Vec<String> = ops.iter().map(|op| op.record.to_string()).collect();
        rids.sort_unstable();
        rids.dedup();
        let mut response = self
            .db
            .query("SELECT rid, kind, doc_state, updated_seq FROM synced_record WHERE rid IN $rids")
            .query("SELECT VALUE rid FROM erased_record WHERE rid IN $rids")
            .bind(("rids", rids))
            .await
            .and_then(|response| response.check())
            .map_err(StorageError::Unavailable)?;
        let stored: Vec<StoredRecord> = response.take(0).map_err(StorageError::Unavailable)?;
        let erased: Vec<String> = response.take(1).map_err(StorageError::Unavailable)?;
        let erased: HashSet<String> = erased.into_iter().collect();
        let mut stored: HashMap<String, StoredRecord> = stored
            .into_iter()
            .map(|row| (row.rid.clone(), row))
            .collect();

        let mut touched: HashMap<RecordId, Touched> = HashMap::new();
        let mut next = *last;
        let mut outcomes = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            let rid = op.record.to_string();
            if !actor.access.can_edit_records() {
                let reason = Denied::ReadOnly.to_wire();
                denials.add(&rid, &reason);
                outcomes.push((op.op, OpOutcome::Rejected(reason)));
                continue;
            }
            // A record the actor cannot see is answered as one that does not
            // exist (and such actors cannot create): existence is never revealed.
            if visible
                .as_ref()
                .is_some_and(|visible| !visible.contains(&rid))
            {
                let reason = Denied::NotInvited(rid.clone()).to_wire();
                denials.add(&rid, &reason);
                outcomes.push((op.op, OpOutcome::Rejected(reason)));
                continue;
            }
            // An erased record takes nothing again: its content would come back.
            if erased.contains(&rid) {
                let reason = Denied::Erased(rid.clone()).to_wire();
                denials.add(&rid, &reason);
                outcomes.push((op.op, OpOutcome::Rejected(reason)));
                continue;
            }
            let entry = touched
                .entry(op.record)
                .or_insert_with(|| Touched::load(op.record, stored.remove(&rid)));
            if entry.kind.is_none() {
                if let Err(denied) = actor.access.check_create(op.kind) {
                    let reason = denied.to_wire();
                    denials.add(&rid, &reason);
                    outcomes.push((op.op, OpOutcome::Rejected(reason)));
                    continue;
                }
            }
            if entry.unreadable {
                outcomes.push((
                    op.op,
                    OpOutcome::Rejected(format!("record {rid} could not be read")),
                ));
                continue;
            }
            if let Some(kind) = entry.kind {
                if kind != op.kind {
                    outcomes.push((
                        op.op,
                        OpOutcome::Rejected(format!(
                            "record {rid} is a {}, not a {}",
                            kind.as_str(),
                            op.kind.as_str()
                        )),
                    ));
                    continue;
                }
            }
            let update = match decode_update(&op.update) {
                Ok(update) => update,
                Err(problem) => {
                    outcomes.push((op.op, OpOutcome::Rejected(problem.to_string())));
                    continue;
                }
            };
            // A retried op (its answer was lost, or it was sent again after a
            // restart) changes nothing: it is acknowledged and not logged again.
            if entry.unchanged_by(&update) {
                outcomes.push((op.op, OpOutcome::AlreadyApplied(entry.updated_seq)));
                continue;
            }
            let before = guarded.then(|| entry.guarded_fields(op.kind));
            if let Err(error) = entry.record.apply_update(&op.update) {
                entry.rebuild(&ops);
                outcomes.push((op.op, OpOutcome::Rejected(error.to_string())));
                continue;
            }
            if let Some((before, was_missing)) = before {
                if let Err(reason) = entry.check_edit(&actor.access, &before, was_missing) {
                    // Undone: the record as stored plus the ops merged before it.
                    entry.rebuild(&ops);
                    denials.add(&rid, &reason);
                    outcomes.push((op.op, OpOutcome::Rejected(reason)));
                    continue;
                }
            }
            next = Seq(next.0 + 1);
            entry.kind.get_or_insert(op.kind);
            entry.merged_update(index, &update, next);
            outcomes.push((op.op, OpOutcome::Applied(next)));
        }
        denials.log(actor);
        if next == *last {
            return Ok(outcomes);
        }

        let mut updated = Vec::new();
        let mut created = Vec::new();
        let mut log = Vec::new();
        let mut sources = Vec::new();
        let mut links = Vec::new();
        for entry in touched.values().filter(|entry| !entry.merged.is_empty()) {
            let kind = entry.kind.map_or("", RecordKind::as_str).to_owned();
            let projected = projections::project(&entry.record);
            sources.push(entry.id.to_string());
            links.extend(projected.links);
            let write = RecordWrite {
                rid: entry.id.to_string(),
                kind: kind.clone(),
                doc_state: Bytes::from(entry.record.state()),
                projection: projected.projection,
                projection_version: projections::VERSION,
                updated_seq: to_i64(entry.updated_seq.0),
                compacted_seq: 0,
            };
            if entry.stored.is_some() {
                updated.push(write);
            } else {
                created.push(write);
            }
            // One log row per record: its ops of this request as one update,
            // under the seq of the last. A row after a cursor holds every op
            // after it.
            log.push(StoredChange {
                seq: to_i64(entry.updated_seq.0),
                op: entry
                    .merged
                    .last()
                    .map(|&index| op_key(ops[index].op))
                    .unwrap_or_default(),
                rid: entry.id.to_string(),
                kind,
                payload: Bytes::from(entry.log_payload(&ops)),
            });
        }
        // The request's records and log rows land together or not at all; the
        // answer goes out only after the commit.
        let mut script = String::from("BEGIN TRANSACTION;\n");
        if !updated.is_empty() {
            script.push_str("FOR $r IN $updated { UPDATE synced_record SET doc_state = $r.doc_state, projection = $r.projection, projection_version = $r.projection_version, updated_seq = $r.updated_seq WHERE rid = $r.rid; };\n");
        }
        if !created.is_empty() {
            script.push_str("INSERT INTO synced_record $created;\n");
        }
        // A record's links are what its projection says now.
        script.push_str("DELETE record_link WHERE source IN $sources;\n");
        if !links.is_empty() {
            script.push_str("INSERT INTO record_link $links;\n");
        }
        script.push_str("INSERT INTO sync_change $log;\nCOMMIT TRANSACTION;");
        // A transaction that conflicted with another one changed nothing and is
        // tried again, still under the writer lock, so the order holds.
        for attempt in 1.. {
            let response = self
                .db
                .query(script.as_str())
                .bind(("updated", updated.clone()))
                .bind(("created", created.clone()))
                .bind(("log", log.clone()))
                .bind(("sources", sources.clone()))
                .bind(("links", links.clone()))
                .await
                .map_err(StorageError::Unavailable)?;
            match transaction_outcome(response) {
                Ok(()) => break,
                Err((true, error)) if attempt < PUSH_COMMIT_ATTEMPTS => {
                    tracing::warn!(%error, attempt, "push transaction conflicted; trying again");
                    tokio::time::sleep(Duration::from_millis(5 * attempt)).await;
                }
                Err((_, error)) => return Err(StorageError::Unavailable(error)),
            }
        }
        *last = next;
        self.events.send_replace(next);
        drop(last);
        self.compaction_maybe_due();
        Ok(outcomes)
    }

    async fn pull(&self, actor: &Actor, query: PullQuery) -> Result<PullResponse, StorageError> {
        let limit = query.limit.clamp(1, MAX_PULL_LIMIT);
        let since = query.since;
        let now = unix_now();
        let record_cursor = query
            .device
            .filter(|device| self.cursor_needs_writing(*device, since, now));
        // The horizon is read after the rows: if it is still at or below `since`
        // then, no compaction had deleted any row after `since` when they were read.
        let mut request = self
            .db
            .query("SELECT seq, op, rid, kind, payload FROM sync_change WHERE seq > $since ORDER BY seq LIMIT $limit")
            .query("SELECT VALUE compacted_through FROM ONLY sync_log:state")
            .bind(("since", to_i64(since.0)))
            // One more than asked, to learn whether the page is the last.
            .bind(("limit", i64::from(limit) + 1));
        if let Some(device) = record_cursor {
            request = request
                .query("UPSERT type::record('sync_device', $device) SET pulled_through = $since, last_seen = $now")
                .bind(("device", device.to_string()))
                .bind(("now", to_i64(now)));
        }
        let mut response = request.await.map_err(StorageError::Unavailable)?;
        if record_cursor.is_some() {
            // The answer does not depend on the cursor row; a failed write only
            // means this pull does not count for compaction.
            if let Err(error) = response.take::<Vec<surrealdb::types::Value>>(2) {
                tracing::warn!(%error, "device cursor not recorded");
                if let (Some(device), Ok(mut written)) =
                    (record_cursor, self.cursors_written.lock())
                {
                    written.remove(&device);
                }
            }
        }
        let mut rows: Vec<StoredChange> = response.take(0).map_err(StorageError::Unavailable)?;
        let compacted: Option<i64> = response.take(1).map_err(StorageError::Unavailable)?;
        let compacted = Seq(compacted.map_or(0, to_u64));
        if record_cursor.is_some() {
            self.compaction_maybe_due();
        }
        // Read after the rows: a grant whose log row is among them is in the set,
        // so the record's state is never passed over for the invitee.
        let visible = self.visible_records(actor).await?;
        if since < compacted {
            return self
                .snapshot_page(&query, limit, compacted, visible.as_ref())
                .await;
        }
        let mut complete = rows.len() <= limit as usize;
        rows.truncate(limit as usize);
        let mut bytes = 0usize;
        let mut changes = Vec::with_capacity(rows.len());
        let mut cursor = since;
        for row in rows {
            let seq = Seq(to_u64(row.seq));
            let kind = RecordKind::parse(&row.kind);
            if visible
                .as_ref()
                .is_some_and(|visible| !visible.contains(&row.rid))
                || !kind.is_some_and(|kind| query.takes(kind))
            {
                // Not for this user, or of a kind the device does not know; the
                // cursor still passes it.
                cursor = seq;
                continue;
            }
            if !changes.is_empty() && bytes + row.payload.len() > PULL_BYTE_BUDGET {
                complete = false;
                break;
            }
            bytes += row.payload.len();
            cursor = seq;
            let (Ok(record), Some(kind)) = (row.rid.parse(), kind) else {
                continue;
            };
            changes.push(Change {
                seq,
                record,
                kind,
                update: row.payload.to_vec(),
            });
        }
        Ok(PullResponse {
            changes,
            cursor,
            complete,
        })
    }

    async fn record(&self, actor: &Actor, id: RecordId) -> Result<Option<Change>, StorageError> {
        if let Some(visible) = self.visible_records(actor).await? {
            if !visible.contains(&id.to_string()) {
                tracing::warn!(target: "audit", user = %actor.user, record = %id, reason = "not invited", "record read denied");
                return Ok(None);
            }
        }
        let mut response = self
            .db
            .query(
                "SELECT kind, doc_state, updated_seq FROM synced_record WHERE rid = $rid LIMIT 1",
            )
            .bind(("rid", id.to_string()))
            .await
            .and_then(|response| response.check())
            .map_err(StorageError::Unavailable)?;
        let rows: Vec<RecordState> = response.take(0).map_err(StorageError::Unavailable)?;
        Ok(rows.into_iter().next().and_then(|row| {
            Some(Change {
                seq: Seq(to_u64(row.updated_seq)),
                record: id,
                kind: RecordKind::parse(&row.kind)?,
                update: row.doc_state.to_vec(),
            })
        }))
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
        let mut response = self
            .db
            .query("SELECT VALUE version FROM schema_migration ORDER BY version DESC LIMIT 1")
            .await
            .and_then(|response| response.check())
            .map_err(StorageError::Unavailable)?;
        let versions: Vec<i64> = response.take(0).map_err(StorageError::Unavailable)?;
        Ok(versions
            .first()
            .and_then(|v| u32::try_from(*v).ok())
            .unwrap_or(0))
    }
}

/// Compacts the log whenever a push or pull finds it due, until `stop` turns
/// true (or its sender is gone). Runs beside the requests, never inside one.
pub async fn compact_when_due(storage: Arc<SurrealStorage>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = storage.compaction_due.notified() => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
                continue;
            }
        }
        if let Err(error) = storage.compact().await {
            tracing::warn!(?error, "log compaction failed; will retry");
        }
    }
}

/// How long start-up waits for an embedded database that another process, or a
/// just-stopped instance in this one, still holds.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Connects; an embedded database still locked by a stopping instance is retried
/// briefly, because its engine shuts down in the background after the last handle
/// is dropped.
async fn connect(url: &str) -> Result<Surreal<Any>, surrealdb::Error> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match surrealdb::engine::any::connect(url).await {
            Err(error) if is_lock_conflict(&error) && Instant::now() < deadline => {
                tracing::debug!("database locked; waiting for the previous holder to close it");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            result => return result,
        }
    }
}

fn is_lock_conflict(error: &surrealdb::Error) -> bool {
    error.to_string().contains("already locked")
}

/// Creates the data dir and proves it writable before the database engine gets a
/// chance to fail with a less readable message.
fn prepare_data_dir(config: &Config) -> Result<(), StartupError> {
    let path = &config.data_dir;
    let data_dir_error = |source| StartupError::DataDir {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(path).map_err(data_dir_error)?;
    let probe = path.join(".tern-write-probe");
    std::fs::write(&probe, b"ok").map_err(data_dir_error)?;
    std::fs::remove_file(&probe).map_err(data_dir_error)?;
    Ok(())
}

/// SurrealKV takes the path after `surrealkv://`; make a relative data dir absolute
/// so the database does not move with the working directory.
fn absolute_surrealkv_url(url: &str, config: &Config) -> Result<String, StartupError> {
    let Some(path) = url.strip_prefix("surrealkv://") else {
        return Ok(url.to_owned());
    };
    let path = std::path::Path::new(path);
    if path.is_absolute() {
        return Ok(url.to_owned());
    }
    let cwd = std::env::current_dir().map_err(|source| StartupError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    Ok(format!("surrealkv://{}", cwd.join(path).display()))
}

/// Asks the embedded engine to sync every commit to disk before the commit
/// returns (`sync=every`, SurrealKV's default in 3.3.5, made explicit so a change
/// of default cannot weaken it): a push is acknowledged only after its commit,
/// so an acknowledged edit survives a crash or power loss. An operator's own
/// `sync=` in the URL wins.
fn durable_surrealkv_url(url: &str) -> String {
    if !url.starts_with("surrealkv://") {
        return url.to_owned();
    }
    match url.split_once('?') {
        Some((_, query)) if query.split('&').any(|pair| pair.starts_with("sync=")) => {
            url.to_owned()
        }
        Some(_) => format!("{url}&sync=every"),
        None => format!("{url}?sync=every"),
    }
}
