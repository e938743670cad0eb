//! The schema's migrations: an append-only list, applied in order at start-up
//! and recorded in `schema_migration`.

use super::push::transaction_outcome;
use super::*;
use crate::error::{one_line, StartupError, StorageError};

/// One schema change. The list is append-only: a shipped migration is never edited.
pub(super) struct Migration {
    version: u32,
    name: &'static str,
    statements: &'static str,
}

pub(super) const MIGRATIONS: &[Migration] = &[
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
pub(super) const BOOKKEEPING: &str = "
    DEFINE TABLE IF NOT EXISTS schema_migration SCHEMAFULL;
    DEFINE FIELD IF NOT EXISTS version ON schema_migration TYPE int;
    DEFINE FIELD IF NOT EXISTS name ON schema_migration TYPE string;
    DEFINE FIELD IF NOT EXISTS applied_at ON schema_migration TYPE datetime;
";

impl SurrealStorage {
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

    pub(super) async fn applied_versions(&self) -> Result<Vec<u32>, surrealdb::Error> {
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

    pub(super) async fn migrate(&self, location: &str) -> Result<(), StartupError> {
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

    pub(super) async fn current_schema_version(&self) -> Result<u32, StorageError> {
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
