//! Compaction of the sync log: when it is due, and the background task that
//! runs it (devices behind the horizon get record states instead).

use super::*;
use crate::clock::unix_now;
use crate::config::Config;
use crate::error::StorageError;
use std::sync::Arc;
use std::time::Duration;
use tern_domain::sync::Seq;
use tokio::sync::watch;
use tokio::time::Instant;

/// The most log rows one compaction step deletes while holding the writer lock;
/// a bigger backlog goes in several steps, so pushes wait at most one step.
pub(super) const COMPACTION_STEP: u64 = 5_000;

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
    pub(super) fn seen_refresh(&self) -> u64 {
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

impl SurrealStorage {
    /// Rings the compaction task if the interval has passed since the last run.
    pub(super) fn compaction_maybe_due(&self) {
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
}
