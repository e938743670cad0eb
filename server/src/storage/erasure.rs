//! Erasing a record of personal data from the server (GDPR): its state
//! becomes its tombstone (`Record::tombstone`: ids, no key, no content), its
//! log rows are replaced by one row with the tombstone under a new seq (so
//! every device merges it at its next pull, and no `AlreadyApplied` or
//! compacted row keeps a copy), its projection and links go, and its id is
//! noted so no op is taken for it again. Who may erase is the domain's rule
//! (`Access::check_erase`).

use super::Actor;
use super::{projections, to_i64, SurrealStorage, SERVER_CLIENT_ID};
use crate::clock::unix_now;
use crate::error::StorageError;
use surrealdb::types::{Bytes, SurrealValue};
use tern_domain::auth::Denied;
use tern_domain::record::{Record, RecordId, RecordKind};
use tern_domain::sync::Seq;

#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct ErasedRow {
    kind: String,
    doc_state: Bytes,
}

impl SurrealStorage {
    pub(super) async fn erase_record(
        &self,
        actor: &Actor,
        id: RecordId,
    ) -> Result<Result<(), Denied>, StorageError> {
        let rid = id.to_string();
        // Under the writer lock: the tombstone's seq is the next one, and no push
        // can slip an op in between.
        let mut last = self.writer.lock().await;
        let mut response = self
            .db
            .query("SELECT kind, doc_state FROM synced_record WHERE rid = $rid LIMIT 1")
            .bind(("rid", rid.clone()))
            .await
            .and_then(|response| response.check())
            .map_err(StorageError::Unavailable)?;
        let rows: Vec<ErasedRow> = response.take(0).map_err(StorageError::Unavailable)?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(Err(Denied::NotInvited(rid)));
        };
        let Some(kind) = RecordKind::parse(&row.kind) else {
            return Ok(Err(Denied::NotInvited(rid)));
        };
        if let Err(denied) = actor.access.check_erase(kind) {
            return Ok(Err(denied));
        }
        let record = Record::load(id, SERVER_CLIENT_ID, &row.doc_state).unwrap_or_else(|_| {
            // The server forgets it all the same; devices that hold a copy keep
            // theirs until the secretariat has them cleared by hand.
            tracing::error!(record = %rid, "erasing a record whose stored state does not load");
            Record::empty(id, SERVER_CLIENT_ID)
        });
        let tombstone = record.tombstone();
        let next = Seq(last.0 + 1);
        let script = "BEGIN TRANSACTION;
            DELETE sync_change WHERE rid = $rid;
            CREATE sync_change SET seq = $seq, op = 'erasure', rid = $rid, kind = $kind, payload = $tombstone;
            UPDATE synced_record SET doc_state = $tombstone, projection = {}, projection_version = $version, updated_seq = $seq WHERE rid = $rid;
            DELETE record_link WHERE source = $rid;
            DELETE erased_record WHERE rid = $rid;
            CREATE erased_record SET rid = $rid, erased_at = $now;
            COMMIT TRANSACTION;";
        let response = self
            .db
            .query(script)
            .bind(("rid", rid.clone()))
            .bind(("seq", to_i64(next.0)))
            .bind(("kind", kind.as_str().to_owned()))
            .bind(("tombstone", Bytes::from(tombstone)))
            .bind(("version", projections::VERSION))
            .bind(("now", to_i64(unix_now())))
            .await
            .map_err(StorageError::Unavailable)?;
        super::push::transaction_outcome(response)
            .map_err(|(_, error)| StorageError::Unavailable(error))?;
        *last = next;
        self.events.send_replace(next);
        drop(last);
        tracing::info!(target: "audit", user = %actor.user, record = %rid, "record erased");
        Ok(Ok(()))
    }
}
