//! Pushes: every op of a request checked (access, guarded fields, erased
//! records) against its record loaded once, merged in order, logged under
//! consecutive seqs and written in one transaction.

use super::*;
use crate::error::StorageError;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use surrealdb::types::Bytes;
use tern_domain::auth::{
    check_claims, check_comments, check_stamp, check_suggestions, Denied, GuardedFields, Role,
};
use tern_domain::record::{contain, decode_update, Record, RecordId, RecordKind, Sizes, TooLarge};
use tern_domain::sync::{OpId, OpOutcome, PushOp, Seq};
use yrs::updates::decoder::Decode;

/// One record as a push request works on it: loaded once, every op of the
/// request merged in order, written once.
pub(super) struct Touched {
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
    /// The record's sizes when last measured, and the bytes of the ops
    /// merged since (`Sizes::may_exceed`).
    sizes: Option<(Sizes, usize)>,
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
            sizes: None,
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
        self.sizes = None;
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
pub(super) struct Denials(HashMap<(String, String), usize>);

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
pub(super) const PUSH_COMMIT_ATTEMPTS: u64 = 4;

/// Whether a multi-statement transaction committed; else its cause (the
/// statement that failed, not the ones "not executed" because of it) and
/// whether it was a conflict, which changed nothing and can be tried again.
pub(super) fn transaction_outcome(
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
pub(super) const MERGE_AT_MOST: usize = 64;

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

impl SurrealStorage {
    pub(super) async fn push_ops(
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
            let stamp_before = entry.record.stamp();
            // A device need not edit through the domain, which keeps texts
            // within their fields: the server measures what ops did, when
            // they may have gone over (`Sizes::may_exceed`).
            let (measured, pending) = entry
                .sizes
                .take()
                .unwrap_or_else(|| (entry.record.sizes(), 0));
            let claims_before = entry.record.claim_users();
            let comments_before = entry.record.comment_entries();
            let suggestions_before = entry.record.suggestion_entries();
            if let Err(error) = entry.record.apply_update(&op.update) {
                entry.rebuild(&ops);
                outcomes.push((op.op, OpOutcome::Rejected(error.to_string())));
                continue;
            }
            let stamp = entry.record.stamp();
            let claims = entry.record.claim_users();
            let named = check_stamp(&actor.user, stamp_before.as_ref(), stamp.as_ref())
                .and_then(|()| check_claims(&actor.user, &claims_before, &claims))
                .and_then(|()| {
                    let comments = entry.record.comment_entries();
                    check_comments(&actor.access, &actor.user, &comments_before, &comments)
                })
                .and_then(|()| {
                    let suggestions = entry.record.suggestion_entries();
                    check_suggestions(
                        &actor.access,
                        &actor.user,
                        &suggestions_before,
                        &suggestions,
                    )
                });
            if let Err(denied) = named {
                entry.rebuild(&ops);
                let reason = denied.to_wire();
                denials.add(&rid, &reason);
                outcomes.push((op.op, OpOutcome::Rejected(reason)));
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
            let grown = pending + op.update.len();
            if measured.may_exceed(grown) {
                let sizes = entry.record.sizes();
                if let Err(TooLarge(what)) = measured.check_growth(&sizes) {
                    entry.rebuild(&ops);
                    entry.sizes = Some((measured, pending));
                    let reason = Denied::TooLarge(what).to_wire();
                    denials.add(&rid, &reason);
                    outcomes.push((op.op, OpOutcome::Rejected(reason)));
                    continue;
                }
                entry.sizes = Some((sizes, 0));
            } else {
                entry.sizes = Some((measured, grown));
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
}
