//! Persistence behind one trait, [`Storage`], with SurrealDB as its implementation.
//!
//! The same code drives the embedded on-disk engine (`surrealkv://`, the default)
//! and a remote SurrealDB (`ws://`, `wss://`), chosen by URL through
//! `surrealdb::engine::any`.

use crate::config::{Config, DatabaseLocation};
use crate::error::{one_line, StartupError, StorageError};
use async_trait::async_trait;
use std::time::Duration;
use surrealdb::engine::any::Any;
use surrealdb::opt::auth::Root;
use surrealdb::types::{Bytes, SurrealValue};
use surrealdb::Surreal;
use tern_domain::record::{Record, RecordKind};
use tern_domain::sync::{
    Change, OpId, OpOutcome, PullQuery, PullResponse, PushOp, Seq, MAX_PULL_LIMIT,
};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// What request handlers may ask of the database.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Checks that the database answers, and returns its schema version.
    async fn schema_version(&self) -> Result<u32, StorageError>;

    /// Merges pushed ops into their records and logs them, each under the next
    /// sequence number. An op id seen before is not applied again. Returns once
    /// every applied op is committed.
    async fn push(&self, ops: Vec<PushOp>) -> Result<Vec<(OpId, OpOutcome)>, StorageError>;

    /// The logged changes after `query.since`, in sequence order, at most `query.limit`.
    async fn pull(&self, query: PullQuery) -> Result<PullResponse, StorageError>;
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

pub struct SurrealStorage {
    db: Surreal<Any>,
    /// One writer at a time: sequence numbers are handed out and committed in
    /// the same order, so a pull never skips a change committed late. (Several
    /// server processes on one database would need the database to order them.)
    writer: Mutex<Seq>,
}

impl SurrealStorage {
    /// Connects, signs in when remote, selects namespace and database, and brings
    /// the schema up to date.
    pub async fn open(config: &Config) -> Result<Self, StartupError> {
        let location = config.database_location()?;
        let url = match &location {
            DatabaseLocation::Embedded(url) => {
                prepare_data_dir(config)?;
                absolute_surrealkv_url(url, config)?
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
        };
        storage.migrate(&shown).await?;
        let last = storage
            .last_seq()
            .await
            .map_err(|error| StartupError::DatabaseOpen {
                location: shown.clone(),
                reason: one_line(&error),
            })?;
        storage.writer = Mutex::new(last);
        tracing::info!(database = %shown, schema_version = latest_schema_version(), "database ready");
        Ok(storage)
    }

    async fn last_seq(&self) -> Result<Seq, surrealdb::Error> {
        let mut response = self
            .db
            .query("SELECT VALUE seq FROM sync_change ORDER BY seq DESC LIMIT 1")
            .await?
            .check()?;
        let last: Vec<i64> = response.take(0)?;
        Ok(Seq(last
            .first()
            .map_or(0, |seq| u64::try_from(*seq).unwrap_or(0))))
    }

    async fn applied_seq(&self, op: OpId) -> Result<Option<Seq>, surrealdb::Error> {
        let mut response = self
            .db
            .query("SELECT VALUE seq FROM sync_change WHERE op = $op LIMIT 1")
            .bind(("op", op_key(op)))
            .await?
            .check()?;
        let seqs: Vec<i64> = response.take(0)?;
        Ok(seqs
            .first()
            .and_then(|seq| u64::try_from(*seq).ok())
            .map(Seq))
    }

    async fn stored_record(&self, rid: &str) -> Result<Option<StoredRecord>, surrealdb::Error> {
        let mut response = self
            .db
            .query("SELECT kind, doc_state FROM synced_record WHERE rid = $rid LIMIT 1")
            .bind(("rid", rid.to_owned()))
            .await?
            .check()?;
        let rows: Vec<StoredRecord> = response.take(0)?;
        Ok(rows.into_iter().next())
    }

    /// Merges one op, or says why not. Runs under the writer lock.
    async fn apply_op(&self, op: &PushOp, next: Seq) -> Result<OpOutcome, surrealdb::Error> {
        if let Some(seq) = self.applied_seq(op.op).await? {
            return Ok(OpOutcome::AlreadyApplied(seq));
        }
        let rid = op.record.to_string();
        let stored = self.stored_record(&rid).await?;
        let record = Record::empty(op.record, SERVER_CLIENT_ID);
        if let Some(stored) = &stored {
            if stored.kind != op.kind.as_str() {
                return Ok(OpOutcome::Rejected(format!(
                    "record {rid} is a {}, not a {}",
                    stored.kind,
                    op.kind.as_str()
                )));
            }
            if record.apply_update(&stored.doc_state).is_err() {
                return Ok(OpOutcome::Rejected(format!(
                    "record {rid} could not be read"
                )));
            }
        }
        if let Err(error) = record.apply_update(&op.update) {
            return Ok(OpOutcome::Rejected(error.to_string()));
        }
        let summary = record
            .summary()
            .and_then(|summary| serde_json::to_string(&summary).ok())
            .unwrap_or_else(|| "null".to_owned());
        let seq = i64::try_from(next.0).unwrap_or(i64::MAX);
        // The record's new state and the log entry land together or not at all.
        self.db
            .query(
                "BEGIN TRANSACTION;
                 DELETE synced_record WHERE rid = $rid;
                 CREATE synced_record SET rid = $rid, kind = $kind, doc_state = $state, summary = $summary, updated_seq = $seq;
                 CREATE sync_change SET seq = $seq, op = $op, rid = $rid, kind = $kind, payload = $payload;
                 COMMIT TRANSACTION;",
            )
            .bind(("rid", rid))
            .bind(("kind", op.kind.as_str()))
            .bind(("state", Bytes::from(record.state())))
            .bind(("summary", summary))
            .bind(("seq", seq))
            .bind(("op", op_key(op.op)))
            .bind(("payload", Bytes::from(op.update.clone())))
            .await?
            .check()?;
        Ok(OpOutcome::Applied(next))
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
            self.db
                .query(script)
                .bind(("name", migration.name))
                .await
                .and_then(|response| response.check())
                .map_err(|error| StartupError::Migration {
                    version: migration.version,
                    name: migration.name,
                    reason: one_line(&error),
                })?;
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "migration applied"
            );
        }
        Ok(())
    }
}

/// A record row as the push path reads it.
#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct StoredRecord {
    kind: String,
    doc_state: Bytes,
}

/// A log row as the pull path reads it.
#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct StoredChange {
    seq: i64,
    rid: String,
    kind: String,
    payload: Bytes,
}

/// The server merges but never authors edits; its replica id is fixed.
const SERVER_CLIENT_ID: u64 = 0;

fn op_key(op: OpId) -> String {
    op.0.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[async_trait]
impl Storage for SurrealStorage {
    async fn push(&self, ops: Vec<PushOp>) -> Result<Vec<(OpId, OpOutcome)>, StorageError> {
        let mut last = self.writer.lock().await;
        let mut outcomes = Vec::with_capacity(ops.len());
        for op in &ops {
            let next = Seq(last.0 + 1);
            let outcome = self
                .apply_op(op, next)
                .await
                .map_err(StorageError::Unavailable)?;
            if matches!(outcome, OpOutcome::Applied(_)) {
                *last = next;
            }
            outcomes.push((op.op, outcome));
        }
        Ok(outcomes)
    }

    async fn pull(&self, query: PullQuery) -> Result<PullResponse, StorageError> {
        let limit = query.limit.clamp(1, MAX_PULL_LIMIT);
        let mut response = self
            .db
            .query("SELECT seq, rid, kind, payload FROM sync_change WHERE seq > $since ORDER BY seq LIMIT $limit")
            .bind(("since", i64::try_from(query.since.0).unwrap_or(i64::MAX)))
            // One more than asked, to learn whether the page is the last.
            .bind(("limit", i64::from(limit) + 1))
            .await
            .and_then(|response| response.check())
            .map_err(StorageError::Unavailable)?;
        let mut rows: Vec<StoredChange> = response.take(0).map_err(StorageError::Unavailable)?;
        let complete = rows.len() <= limit as usize;
        rows.truncate(limit as usize);
        let changes: Vec<Change> = rows
            .into_iter()
            .filter_map(|row| {
                Some(Change {
                    seq: Seq(u64::try_from(row.seq).ok()?),
                    record: row.rid.parse().ok()?,
                    kind: RecordKind::parse(&row.kind)?,
                    update: row.payload.to_vec(),
                })
            })
            .collect();
        let cursor = changes.last().map_or(query.since, |change| change.seq);
        Ok(PullResponse {
            changes,
            cursor,
            complete,
        })
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
