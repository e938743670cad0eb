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
use surrealdb::Surreal;
use tokio::time::Instant;

/// What request handlers may ask of the database.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Checks that the database answers, and returns its schema version.
    async fn schema_version(&self) -> Result<u32, StorageError>;
}

/// One schema change. The list is append-only: a shipped migration is never edited.
struct Migration {
    version: u32,
    name: &'static str,
    statements: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "schema bookkeeping and instance facts",
    statements: include_str!("migrations/0001_schema_bookkeeping.surql"),
}];

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
        let storage = SurrealStorage { db };
        storage.migrate(&shown).await?;
        tracing::info!(database = %shown, schema_version = latest_schema_version(), "database ready");
        Ok(storage)
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

#[async_trait]
impl Storage for SurrealStorage {
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
