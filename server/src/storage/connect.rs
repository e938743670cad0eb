//! Opening the database: the embedded engine's data directory and URL, or a
//! remote server, then migrations and the start-up facts.

use super::*;
use crate::config::{Config, DatabaseLocation};
use crate::error::{one_line, StartupError};
use std::collections::HashMap;
use std::time::Duration;
use surrealdb::engine::any::Any;
use surrealdb::opt::auth::Root;
use surrealdb::Surreal;
use tern_domain::sync::Seq;
use tokio::sync::{watch, Mutex, Notify};
use tokio::time::Instant;

/// How long start-up waits for an embedded database that another process, or a
/// just-stopped instance in this one, still holds.
pub(super) const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Connects; an embedded database still locked by a stopping instance is retried
/// briefly, because its engine shuts down in the background after the last handle
/// is dropped.
pub(super) async fn connect(url: &str) -> Result<Surreal<Any>, surrealdb::Error> {
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

pub(super) fn is_lock_conflict(error: &surrealdb::Error) -> bool {
    error.to_string().contains("already locked")
}

/// Creates the data dir and proves it writable before the database engine gets a
/// chance to fail with a less readable message.
pub(super) fn prepare_data_dir(config: &Config) -> Result<(), StartupError> {
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
pub(super) fn absolute_surrealkv_url(url: &str, config: &Config) -> Result<String, StartupError> {
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
pub(super) fn durable_surrealkv_url(url: &str) -> String {
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
    pub(super) async fn last_seq(&self) -> Result<Seq, surrealdb::Error> {
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
}
