use super::*;
use crate::record::{merge_updates, FieldEdit, FieldPath};
use yrs::updates::decoder::Decode;

fn id(n: u8) -> RecordId {
    RecordId::v7(1_760_000_000_000, [n; 10])
}

fn replica(n: u8) -> Replica {
    Replica::new(DeviceId([n; 16]), u64::from(n))
}

/// Plays the server: logs every op once, in arrival order.
#[derive(Default)]
struct Log {
    changes: Vec<Change>,
    seen: BTreeMap<OpId, Seq>,
}

impl Log {
    fn push(&mut self, request: &PushRequest) -> PushResponse {
        let outcomes = request
            .ops
            .iter()
            .map(|op| {
                if let Some(seq) = self.seen.get(&op.op) {
                    return (op.op, OpOutcome::AlreadyApplied(*seq));
                }
                let seq = Seq(self.changes.len() as u64 + 1);
                self.seen.insert(op.op, seq);
                self.changes.push(Change {
                    seq,
                    record: op.record,
                    kind: op.kind,
                    update: op.update.clone(),
                });
                (op.op, OpOutcome::Applied(seq))
            })
            .collect();
        PushResponse { outcomes }
    }

    fn pull(&self, query: PullQuery) -> PullResponse {
        let changes: Vec<Change> = self
            .changes
            .iter()
            .filter(|change| change.seq > query.since)
            .take(query.limit as usize)
            .cloned()
            .collect();
        PullResponse {
            cursor: changes.last().map_or(query.since, |change| change.seq),
            complete: true,
            changes,
        }
    }
}

fn sync(replica: &mut Replica, log: &mut Log) {
    while let Some(push) = replica.next_push(1 << 20) {
        let answer = log.push(&push);
        replica.acknowledge(&answer);
    }
    let query = replica.next_pull();
    let since = query.since;
    let page = log.pull(query);
    replica.apply_pull(since, &page).expect("in order");
}

fn body(replica: &mut Replica, record: RecordId) -> String {
    replica
        .open(record)
        .and_then(|record| record.text(&FieldPath::top("description")))
        .unwrap_or_default()
}

#[test]
fn two_devices_offline_keep_both_edits_after_sync() {
    let (mut anna, mut jonas, mut log) = (replica(1), replica(2), Log::default());
    anna.create(id(1), RecordKind::Project);
    anna.edit(id(1), |r| r.set_text("description", "start end").ok());
    sync(&mut anna, &mut log);
    sync(&mut jonas, &mut log);
    assert_eq!(body(&mut jonas, id(1)), "start end");

    anna.edit(id(1), |r| r.set_text("description", "start Anna end").ok());
    jonas.edit(id(1), |r| r.set_text("description", "start end Jonas").ok());
    assert!(anna.has_unsynced(id(1)) && jonas.has_unsynced(id(1)));
    for _ in 0..2 {
        sync(&mut anna, &mut log);
        sync(&mut jonas, &mut log);
    }
    assert_eq!(body(&mut anna, id(1)), "start Anna end Jonas");
    let annas = body(&mut anna, id(1));
    assert_eq!(body(&mut jonas, id(1)), annas);
    assert!(anna.outbox().is_empty() && !anna.has_unsynced(id(1)));
}

#[test]
fn an_unchanged_edit_queues_nothing_and_a_stale_page_is_ignored() {
    let (mut anna, mut log) = (replica(1), Log::default());
    anna.create(id(1), RecordKind::Project);
    anna.edit(id(1), |r| r.set_text("title", "Same").ok());
    assert_eq!(anna.outbox().len(), 2);
    assert!(anna
        .edit(id(1), |r| r.set_text("title", "Same").ok())
        .is_none());
    sync(&mut anna, &mut log);
    assert_eq!(anna.cursor(), Seq(2));
    let late = log.pull(PullQuery {
        since: Seq(0),
        limit: 10,
        device: None,
        kinds: None,
    });
    assert!(anna.apply_pull(Seq(0), &late).is_err());
    assert_eq!(anna.cursor(), Seq(2));
}

#[test]
fn a_restored_replica_keeps_queued_edits_newer_than_its_saved_state() {
    let mut anna = replica(1);
    anna.create(id(1), RecordKind::Project);
    let saved = anna.state(id(1)).expect("record");
    anna.edit(id(1), |r| r.set_text("title", "After the save").ok());
    let outbox = anna.outbox().to_vec();
    let saved = SavedRecord {
        id: id(1),
        state: saved,
        projection: None,
    };
    let mut back = Replica::restore(anna.device(), 7, Seq(0), [saved], outbox)
        .expect("restores")
        .replica;
    let title = back
        .open(id(1))
        .and_then(|record| record.text(&FieldPath::top("title")));
    assert_eq!(title.as_deref(), Some("After the save"));
    assert_eq!(back.outbox().len(), 2);
}

#[test]
fn a_device_s_own_ops_coming_back_are_not_changes_but_others_are() {
    let (mut anna, mut jonas, mut log) = (replica(1), replica(2), Log::default());
    anna.create(id(1), RecordKind::Project);
    sync(&mut anna, &mut log);
    sync(&mut jonas, &mut log);
    anna.edit(id(1), |r| r.set_text("title", "Anna's").ok());
    let push = anna.next_push(1 << 20).expect("an op");
    anna.acknowledge(&log.push(&push));
    jonas.edit(id(1), |r| r.set_text("description", "Jonas's").ok());
    let push = jonas.next_push(1 << 20).expect("an op");
    jonas.acknowledge(&log.push(&push));
    let query = anna.next_pull();
    let pulled = anna
        .apply_pull(query.since, &log.pull(query))
        .expect("in order");
    // Anna's own title came back (skipped); Jonas's description is a change.
    assert_eq!(pulled.changed, vec![id(1)]);
    assert_eq!(body(&mut anna, id(1)), "Jonas's");
    let query = anna.next_pull();
    let pulled = anna
        .apply_pull(query.since, &log.pull(query))
        .expect("empty");
    assert!(pulled.changed.is_empty());
    assert!(anna.echoes.is_empty());
}

#[test]
fn a_rejected_op_leaves_the_outbox_and_keeps_the_text() {
    let mut anna = replica(1);
    let op = anna.create(id(1), RecordKind::Project);
    let acknowledged = anna.acknowledge(&PushResponse {
        outcomes: vec![(op.op, OpOutcome::Rejected("not allowed".into()))],
    });
    assert_eq!(acknowledged.rejected, vec![(id(1), "not allowed".into())]);
    assert!(anna.outbox().is_empty());
    assert_eq!(anna.rejection(id(1)), Some("not allowed"));
    assert_eq!(
        anna.open(id(1)).and_then(Record::kind),
        Some(RecordKind::Project)
    );
}

#[test]
fn a_reset_record_is_the_servers_copy_and_its_later_ops_are_dropped() {
    let (mut anna, mut log) = (replica(1), Log::default());
    anna.create(id(1), RecordKind::Project);
    anna.edit(id(1), |r| r.set_text("title", "Agreed").ok());
    sync(&mut anna, &mut log);
    let server = log.pull(PullQuery {
        since: Seq(0),
        limit: 10,
        device: None,
        kinds: None,
    });
    let refused = anna
        .edit(id(1), |r| r.set_text("title", "Refused").ok())
        .expect("an op");
    let later = anna
        .edit(id(1), |r| r.set_text("description", "Builds on it").ok())
        .expect("an op");
    anna.create(id(2), RecordKind::Project);
    let whole = Change {
        seq: Seq(2),
        record: id(1),
        kind: RecordKind::Project,
        update: merge_updates(
            &server
                .changes
                .iter()
                .map(|change| change.update.as_slice())
                .collect::<Vec<_>>(),
        )
        .expect("merges"),
    };
    let dropped = anna.reset_record(id(1), Some(&whole), 99).expect("loads");
    assert_eq!(dropped, vec![refused.op, later.op]);
    let project = anna
        .open(id(1))
        .and_then(Record::projection)
        .expect("project");
    assert_eq!(
        (project.title(), project.text("description")),
        ("Agreed", "")
    );
    // The other record's op stays queued; the reset record edits under the new id.
    assert_eq!(anna.outbox().len(), 1);
    let next = anna
        .edit(id(1), |r| r.set_text("title", "Agreed, again").ok())
        .expect("an op");
    let update = yrs::Update::decode_v1(&next.update).expect("decodes");
    assert!(update
        .state_vector()
        .contains_client(&yrs::block::ClientID::new(99)));
    // A record the server has no copy of leaves the device.
    anna.reset_record(id(2), None, 100).expect("resets");
    assert!(!anna.contains(id(2)) && anna.outbox().len() == 1);
}

/// What a device saves: every record's state with its projection.
fn saved_records(replica: &Replica) -> Vec<SavedRecord> {
    replica
        .ids()
        .into_iter()
        .map(|id| SavedRecord {
            id,
            state: replica.state(id).expect("held"),
            projection: replica.projection(id),
        })
        .collect()
}

fn numbered(n: u16) -> RecordId {
    let mut random = [0u8; 10];
    random[..2].copy_from_slice(&n.to_be_bytes());
    RecordId::v7(1_760_000_000_000, random)
}

#[test]
fn a_device_with_many_records_keeps_few_in_memory_and_lists_them_all() {
    let (mut anna, mut jonas, mut log) = (replica(1), replica(2), Log::default());
    for n in 0..60 {
        anna.create(numbered(n), RecordKind::Project);
        anna.edit(numbered(n), |r| {
            r.set_text("title", &format!("Project {n}")).ok()
        });
    }
    // Unsynced records stay in memory; once the server has them they rest.
    assert_eq!(anna.open_count(), 60);
    sync(&mut anna, &mut log);
    assert!(
        anna.open_count() <= RECENTLY_USED,
        "{} open",
        anna.open_count()
    );
    sync(&mut jonas, &mut log);
    assert!(
        jonas.open_count() <= RECENTLY_USED,
        "{} open",
        jonas.open_count()
    );
    let titles: Vec<String> = jonas
        .projections()
        .iter()
        .map(|(_, projection)| projection.title().to_owned())
        .collect();
    assert_eq!(titles.len(), 60);
    assert_eq!(titles[7], "Project 7");
    // A resting record opens with its text, and an edit of it syncs.
    assert!(!jonas.is_open(numbered(3)));
    jonas.edit(numbered(3), |r| {
        r.set_text("description", "Jonas was here").ok()
    });
    assert!(jonas.is_open(numbered(3)));
    sync(&mut jonas, &mut log);
    sync(&mut anna, &mut log);
    let description = anna
        .open(numbered(3))
        .and_then(|r| r.text(&FieldPath::top("description")));
    assert_eq!(description.as_deref(), Some("Jonas was here"));
    assert_eq!(
        anna.projection(numbered(3)).map(|p| p.title().to_owned()),
        Some("Project 3".to_owned())
    );
}

#[test]
fn the_device_lists_records_without_their_long_text_and_reads_it_from_the_record() {
    let mut anna = replica(1);
    let rec = id(1);
    anna.create(rec, RecordKind::Recommendation);
    anna.edit(rec, |r| r.set_text("title", "Child-friendly justice").ok());
    anna.edit(rec, |r| r.set_text("summary", "A long summary").ok());
    let listing = anna.projection(rec).expect("kind known");
    assert_eq!(listing.title(), "Child-friendly justice");
    assert!(listing.get("summary").is_none(), "{listing:?}");
    let summary = anna
        .open(rec)
        .and_then(|r| r.text(&FieldPath::top("summary")));
    assert_eq!(summary.as_deref(), Some("A long summary"));
    // The server's projection, read from the record, keeps it.
    let full = anna
        .copy_of(rec)
        .and_then(|r| r.projection())
        .expect("kind");
    assert_eq!(full.text("summary"), "A long summary");
    assert_eq!(full.listing(), *listing);
}

#[test]
fn a_restored_replica_lists_from_saved_projections_without_opening_records() {
    let (mut anna, mut log) = (replica(1), Log::default());
    for n in 0..20 {
        anna.create(numbered(n), RecordKind::Project);
        anna.edit(numbered(n), |r| {
            r.set_text("title", &format!("Project {n}")).ok()
        });
    }
    sync(&mut anna, &mut log);
    let saved = saved_records(&anna);
    let restored =
        Replica::restore(anna.device(), 9, anna.cursor(), saved, Vec::new()).expect("restores");
    assert!(restored.projected.is_empty() && restored.unreadable.is_empty());
    let mut back = restored.replica;
    assert_eq!(back.open_count(), 0);
    assert_eq!(back.projections().len(), 20);
    assert_eq!(
        back.open(numbered(12))
            .and_then(|r| r.text(&FieldPath::top("title"))),
        Some("Project 12".to_owned())
    );
}

#[test]
fn a_reset_record_keeps_its_new_replica_id_after_resting() {
    let (mut anna, mut log) = (replica(1), Log::default());
    anna.create(id(1), RecordKind::Project);
    sync(&mut anna, &mut log);
    let whole = Change {
        seq: Seq(1),
        record: id(1),
        kind: RecordKind::Project,
        update: anna.state(id(1)).expect("held"),
    };
    anna.reset_record(id(1), Some(&whole), 99).expect("resets");
    // Enough other records used since that the reset one rests.
    for n in 0..(RECENTLY_USED as u16 + 2) {
        anna.create(numbered(n), RecordKind::Project);
    }
    sync(&mut anna, &mut log);
    assert!(!anna.is_open(id(1)));
    let next = anna
        .edit(id(1), |r| r.set_text("title", "Later").ok())
        .expect("an op");
    let update = yrs::Update::decode_v1(&next.update).expect("decodes");
    assert!(update
        .state_vector()
        .contains_client(&yrs::block::ClientID::new(99)));
}

#[test]
fn backlinks_follow_references_as_they_change_and_survive_a_restore() {
    let (mut anna, mut log) = (replica(1), Log::default());
    let (ministry, agency, person) = (numbered(1), numbered(2), numbered(3));
    anna.create(ministry, RecordKind::Organisation);
    anna.create(agency, RecordKind::Organisation);
    anna.create(person, RecordKind::Person);
    let link = |replica: &mut Replica, target: RecordId| {
        replica.edit(person, |r| {
            r.change(
                &FieldPath::top("organisation"),
                FieldEdit::Ref(Some((target, RecordKind::Organisation))),
            )
            .ok()
        });
    };
    let sources = |replica: &Replica, target: RecordId| -> Vec<(RecordId, String)> {
        replica
            .backlinks(target)
            .into_iter()
            .map(|(source, _, field)| (source, field))
            .collect()
    };
    link(&mut anna, ministry);
    assert_eq!(
        sources(&anna, ministry),
        vec![(person, "organisation".to_owned())]
    );
    link(&mut anna, agency);
    assert!(sources(&anna, ministry).is_empty());
    assert_eq!(
        sources(&anna, agency),
        vec![(person, "organisation".to_owned())]
    );
    sync(&mut anna, &mut log);
    let saved = saved_records(&anna);
    let back = Replica::restore(anna.device(), 9, anna.cursor(), saved, Vec::new())
        .expect("restores")
        .replica;
    assert_eq!(
        sources(&back, agency),
        vec![(person, "organisation".to_owned())]
    );
}

#[test]
fn a_saved_state_that_does_not_read_is_left_out_and_pulled_again() {
    let (mut anna, mut log) = (replica(1), Log::default());
    anna.create(id(1), RecordKind::Project);
    anna.create(id(2), RecordKind::Project);
    sync(&mut anna, &mut log);
    let saved = vec![
        SavedRecord {
            id: id(1),
            state: anna.state(id(1)).expect("held"),
            projection: None,
        },
        SavedRecord {
            id: id(2),
            state: vec![0xff, 0x01, 0x02],
            projection: None,
        },
    ];
    let restored =
        Replica::restore(anna.device(), 9, anna.cursor(), saved, Vec::new()).expect("restores");
    assert_eq!(restored.projected, vec![id(1)]);
    assert_eq!(restored.unreadable, vec![id(2)]);
    let mut back = restored.replica;
    assert_eq!(back.cursor(), Seq(0));
    sync(&mut back, &mut log);
    assert!(back.projection(id(2)).is_some());
}

#[test]
fn an_erased_record_that_rests_leaves_the_lists_and_needs_no_repair() {
    let (mut anna, mut log) = (replica(1), Log::default());
    for n in 0..(RECENTLY_USED as u16 + 4) {
        anna.create(numbered(n), RecordKind::Person);
        anna.edit(numbered(n), |r| {
            r.set_text("name", &format!("Person {n}")).ok()
        });
    }
    sync(&mut anna, &mut log);
    for (erased, open) in [
        (numbered(0), false),
        (numbered(RECENTLY_USED as u16 + 3), true),
    ] {
        erase_through_the_log(&mut anna, &mut log, erased, open);
    }
    assert_eq!(anna.projections().len(), RECENTLY_USED + 2);
}

fn erase_through_the_log(anna: &mut Replica, log: &mut Log, erased: RecordId, open: bool) {
    assert_eq!(anna.is_open(erased), open);
    // The server's erasure: the record's tombstone under a new seq.
    let tombstone = anna.copy_of(erased).expect("held").tombstone();
    let seq = Seq(log.changes.len() as u64 + 1);
    log.changes.push(Change {
        seq,
        record: erased,
        kind: RecordKind::Person,
        update: tombstone,
    });
    sync(anna, log);
    assert!(anna.projection(erased).is_none());
    assert!(anna.records_needing_repair().is_empty());
    let next = anna.next_pull();
    assert_eq!(next.since, seq);
}

#[test]
fn a_resting_record_changed_by_a_pull_lists_its_new_title() {
    let (mut anna, mut jonas, mut log) = (replica(1), replica(2), Log::default());
    for n in 0..20 {
        anna.create(numbered(n), RecordKind::Project);
        anna.edit(numbered(n), |r| {
            r.set_text("title", &format!("Project {n}")).ok()
        });
    }
    sync(&mut anna, &mut log);
    sync(&mut jonas, &mut log);
    assert!(
        !jonas.is_open(numbered(3)),
        "the test needs a resting record"
    );
    anna.edit(numbered(3), |r| r.set_text("title", "Renamed in Riga").ok());
    sync(&mut anna, &mut log);
    sync(&mut jonas, &mut log);
    assert_eq!(
        jonas.projection(numbered(3)).map(|p| p.title().to_owned()),
        Some("Renamed in Riga".to_owned())
    );
}

/// A clock a second apart on every reading: each edit is an undo step of its own.
fn ticking() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NOW: AtomicU64 = AtomicU64::new(0);
    NOW.fetch_add(1_000, Ordering::Relaxed)
}

#[test]
fn an_undo_is_an_edit_queued_and_synced_and_never_takes_a_colleagues_words() {
    use crate::record::UndoHistory;
    let (mut anna, mut jonas, mut log) = (replica(1), replica(2), Log::default());
    anna.create(id(1), RecordKind::Project);
    sync(&mut anna, &mut log);
    sync(&mut jonas, &mut log);
    let mut history = anna
        .open(id(1))
        .and_then(|record| UndoHistory::new(record, ticking))
        .expect("a history");
    anna.edit(id(1), |r| r.set_text("description", "Anna.").ok());
    sync(&mut anna, &mut log);
    sync(&mut jonas, &mut log);
    jonas.edit(id(1), |r| r.set_text("description", "Anna. Jonas.").ok());
    sync(&mut jonas, &mut log);
    sync(&mut anna, &mut log);

    let before = anna.outbox().len();
    anna.edit(id(1), |record| history.undo(record))
        .expect("an op");
    assert_eq!(
        anna.outbox().len(),
        before + 1,
        "the undo waits to sync like an edit"
    );
    assert!(!history.can_undo() && history.can_redo());
    sync(&mut anna, &mut log);
    sync(&mut jonas, &mut log);
    assert_eq!(body(&mut anna, id(1)), " Jonas.");
    assert_eq!(body(&mut jonas, id(1)), " Jonas.");
    assert!(
        anna.edit(id(1), |record| history.undo(record)).is_none(),
        "Jonas's words are not Anna's to undo"
    );

    anna.edit(id(1), |record| history.redo(record))
        .expect("an op");
    sync(&mut anna, &mut log);
    sync(&mut jonas, &mut log);
    assert_eq!(body(&mut jonas, id(1)), "Anna. Jonas.");
}
