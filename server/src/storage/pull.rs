//! Pulls: the changes after a cursor a user may see, or record states for a
//! device behind the compacted log; one record's whole state.

use super::*;
use crate::clock::unix_now;
use crate::error::StorageError;
use std::collections::HashSet;
use tern_domain::record::{RecordId, RecordKind};
use tern_domain::sync::{Change, DeviceId, PullQuery, PullResponse, Seq, MAX_PULL_LIMIT};

/// The most bytes of updates or states one pull page carries (at least one
/// change always goes, however large): a page of whole states can be big.
pub const PULL_BYTE_BUDGET: usize = 4 * 1024 * 1024;

/// Record states are read in batches while a snapshot page fills: the first
/// of this many, each next one as many as the page's remaining bytes hold at
/// the average size read so far. States can be large (a long
/// recommendation), so a page does not read a thousand at once; and each
/// query costs about as much as reading a thousand small rows (SurrealDB
/// reads ahead of a small `LIMIT` on an index scan), so batches of 64 all
/// the way made a page of a thousand small states cost sixteen such reads.
pub(super) const SNAPSHOT_BATCH: u32 = 64;

/// How many states the next snapshot batch reads: as many as fit in the
/// bytes the page has left at the average size read so far, at least
/// [`SNAPSHOT_BATCH`] / 4, at most the rows the page still takes.
fn next_snapshot_batch(read: usize, read_bytes: usize, page_bytes: usize, rows_left: u32) -> u32 {
    if read == 0 {
        return SNAPSHOT_BATCH.min(rows_left);
    }
    let average = (read_bytes / read).max(1);
    let fits = PULL_BYTE_BUDGET.saturating_sub(page_bytes) / average;
    u32::try_from(fits)
        .unwrap_or(u32::MAX)
        .clamp(SNAPSHOT_BATCH / 4, rows_left.max(1))
        .min(rows_left)
}

impl SurrealStorage {
    /// The records `actor` may see: `None` for every record (secretariat and
    /// members), else the ones they were invited to.
    pub(super) async fn visible_records(
        &self,
        actor: &Actor,
    ) -> Result<Option<HashSet<String>>, StorageError> {
        if actor.access.sees_every_record() {
            return Ok(None);
        }
        self.granted_records(&actor.user).await.map(Some)
    }

    /// Records a device's cursor unless it is what was last written and recent.
    pub(super) fn cursor_needs_writing(&self, device: DeviceId, since: Seq, now: u64) -> bool {
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
    pub(super) async fn snapshot_page(
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
        let (mut read, mut read_bytes) = (0usize, 0usize);
        'fill: while changes.len() < limit as usize {
            let batch = next_snapshot_batch(read, read_bytes, bytes, limit - changes.len() as u32);
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
            read += rows.len();
            read_bytes += rows.iter().map(|row| row.doc_state.len()).sum::<usize>();
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

    pub(super) async fn pull_changes(
        &self,
        actor: &Actor,
        query: PullQuery,
    ) -> Result<PullResponse, StorageError> {
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

    pub(super) async fn whole_record(
        &self,
        actor: &Actor,
        id: RecordId,
    ) -> Result<Option<Change>, StorageError> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_batches_grow_to_fill_the_page_with_small_states_and_stay_small_with_large_ones() {
        assert_eq!(next_snapshot_batch(0, 0, 0, 1_000), SNAPSHOT_BATCH);
        assert_eq!(next_snapshot_batch(0, 0, 0, 10), 10);
        // 64 states of 1.7 KB read: the rest of the page in one more read.
        assert_eq!(next_snapshot_batch(64, 64 * 1_700, 64 * 1_700, 936), 936);
        // 64 states of 200 KB: the page's 4 MiB are spent; read few at a time.
        assert_eq!(
            next_snapshot_batch(64, 64 * 200_000, 4 * 1024 * 1024, 936),
            SNAPSHOT_BATCH / 4
        );
        assert_eq!(next_snapshot_batch(16, 16 * 100_000, 1_600_000, 984), 25);
    }
}
