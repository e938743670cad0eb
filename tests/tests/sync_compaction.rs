//! The server's side of a long-lived sync log: device cursors, compaction once
//! every device has passed an entry (or past the age and length bounds), record
//! states for a device behind the compacted log, and retried ops after their log
//! rows are gone.

mod device;

use device::{
    device, documents, pull_all, pull_anonymous, push_all, push_one_by_one, push_request,
    record_id, summary_text, sync, title,
};
use std::time::Duration;
use tern_domain::record::{FieldEdit, FieldPath, RecordKind};
use tern_domain::sync::{OpOutcome, PushRequest, Seq};
use tern_server::Config;
use tern_tests::{spawn_app_with, TestApp};

/// A server that compacts after every push and pull, with the given bounds.
async fn compacting_app(
    data: &tempfile::TempDir,
    expiry_secs: u64,
    max_log_entries: u64,
) -> TestApp {
    let mut config = Config::for_data_dir(data.path());
    config.sync_compact_every_secs = 0;
    config.sync_device_expiry_secs = expiry_secs;
    config.sync_log_max_entries = max_log_entries;
    spawn_app_with(config).await.expect("server starts")
}

/// The horizon is exactly `through`: a pull from just below it gets record
/// states (a page that is never complete), a pull from it gets the log.
async fn horizon_is(app: &TestApp, through: u64) -> bool {
    let log = pull_anonymous(app, through, 1_000).await;
    if !log.complete {
        return false;
    }
    through == 0 || !pull_anonymous(app, through - 1, 1_000).await.complete
}

/// Compaction runs beside the requests: wait for it to reach `through`.
async fn wait_for_horizon(app: &TestApp, through: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !horizon_is(app, through).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "log not compacted through {through} in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Twenty ops on one recommendation: create, then a title typed one letter at a time.
fn typed_title(replica: &mut tern_domain::client::Replica, text: &str) {
    replica.create(record_id(1), RecordKind::Recommendation);
    for end in 1..=text.len() {
        replica.edit(record_id(1), |r| r.set_text("title", &text[..end]).ok());
    }
}

#[tokio::test]
async fn the_log_is_kept_until_every_device_has_passed_it() {
    let data = tempfile::tempdir().expect("temp dir");
    let app = compacting_app(&data, 3_600, 1_000_000).await;
    let (mut anna, mut jonas) = (device(1), device(2));
    // Both devices are known before anything is written: cursor 0.
    pull_all(&app, &mut anna, 1_000).await;
    pull_all(&app, &mut jonas, 1_000).await;
    typed_title(&mut anna, "Participation rights");
    push_one_by_one(&app, &mut anna).await;
    pull_all(&app, &mut anna, 1_000).await;
    assert_eq!(anna.cursor(), Seq(21));
    // Anna's pull at 21 is recorded, but Jonas is still at 0: nothing goes.
    pull_all(&app, &mut anna, 1_000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pull_anonymous(&app, 0, 1_000).await.changes.len(), 21);

    // Jonas reads ten changes and asks for the next page: his cursor is 10.
    let mut query = jonas.next_pull();
    query.limit = 10;
    let page = device::pull_query(&app, query.clone()).await;
    jonas.apply_pull(query.since, &page).expect("in order");
    assert_eq!(jonas.cursor(), Seq(10));
    device::pull_query(&app, jonas.next_pull()).await;
    wait_for_horizon(&app, 10).await;
    // The eleven newest changes are still in the log, one by one.
    let rest = pull_anonymous(&app, 10, 1_000).await;
    assert_eq!(
        rest.changes.iter().map(|c| c.seq.0).collect::<Vec<_>>(),
        (11..=21).collect::<Vec<_>>()
    );

    // Once Jonas has pulled everything, the whole log is compacted, and a device
    // starting from scratch gets the record's state instead of 21 changes.
    pull_all(&app, &mut jonas, 1_000).await;
    assert_eq!(
        title(&jonas, record_id(1)).as_deref(),
        Some("Participation rights")
    );
    pull_all(&app, &mut jonas, 1_000).await;
    wait_for_horizon(&app, 21).await;
    let fresh = pull_anonymous(&app, 0, 1_000).await;
    assert_eq!(fresh.changes.len(), 1);
    let mut newcomer = device(3);
    pull_all(&app, &mut newcomer, 1_000).await;
    assert_eq!(
        title(&newcomer, record_id(1)).as_deref(),
        Some("Participation rights")
    );
    assert_eq!(newcomer.cursor(), Seq(21));
}

#[tokio::test]
async fn a_device_not_seen_past_the_expiry_no_longer_holds_the_log() {
    let data = tempfile::tempdir().expect("temp dir");
    let app = compacting_app(&data, 1, 1_000_000).await;
    let (mut anna, mut laptop) = (device(1), device(2));
    pull_all(&app, &mut laptop, 1_000).await;
    typed_title(&mut anna, "Abandoned laptop");
    sync(&app, &mut anna).await;
    pull_all(&app, &mut anna, 1_000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(horizon_is(&app, 0).await, "the laptop holds the log");

    tokio::time::sleep(Duration::from_millis(2_100)).await;
    pull_all(&app, &mut anna, 1_000).await;
    wait_for_horizon(&app, 17).await;
    // The laptop comes back and still gets everything, from the record's state.
    pull_all(&app, &mut laptop, 1_000).await;
    assert_eq!(
        title(&laptop, record_id(1)).as_deref(),
        Some("Abandoned laptop")
    );
}

#[tokio::test]
async fn the_log_never_keeps_more_than_its_length_bound() {
    let data = tempfile::tempdir().expect("temp dir");
    let app = compacting_app(&data, 3_600, 5).await;
    let (mut anna, mut laggard) = (device(1), device(2));
    pull_all(&app, &mut laggard, 1_000).await;
    typed_title(&mut anna, "Twenty one changes!!");
    push_one_by_one(&app, &mut anna).await;
    pull_all(&app, &mut anna, 1_000).await;
    // The laggard is at 0, but only the 5 newest changes are kept.
    wait_for_horizon(&app, 16).await;
    assert_eq!(pull_anonymous(&app, 16, 1_000).await.changes.len(), 5);
}

/// The catch-up from record states must hold even when a record's early
/// changes were compacted and its latest change is still in the log: the
/// device must not switch to the log before it has every such record.
#[tokio::test]
async fn a_device_behind_the_horizon_converges_with_one_that_followed_the_log() {
    let data = tempfile::tempdir().expect("temp dir");
    let app = compacting_app(&data, 3_600, 1).await;
    let (mut anna, mut jonas, mut behind) = (device(1), device(2), device(3));
    let (x, y) = (record_id(1), record_id(2));
    pull_all(&app, &mut behind, 1_000).await;
    pull_all(&app, &mut anna, 1_000).await;

    anna.create(x, RecordKind::Recommendation);
    anna.edit(x, |r| r.set_text("title", "Alpha").ok());
    sync(&app, &mut anna).await;
    sync(&app, &mut jonas).await;
    jonas.create(y, RecordKind::Recommendation);
    jonas.edit(y, |r| r.set_text("title", "Beta").ok());
    push_all(&app, &mut jonas).await;
    // A change to X by another device, after X's first changes are compacted.
    jonas.edit(x, |r| {
        r.change(
            &FieldPath::top("status"),
            FieldEdit::Choice(Some("in_consultation".into())),
        )
        .ok()
    });
    push_all(&app, &mut jonas).await;
    wait_for_horizon(&app, 4).await;

    // Pages of one record: X (compacted up to 2), Y (up to 4), then the log.
    let pages = pull_all(&app, &mut behind, 1).await;
    sync(&app, &mut anna).await;
    assert_eq!(title(&behind, x).as_deref(), Some("Alpha"));
    assert_eq!(title(&behind, y).as_deref(), Some("Beta"));
    let status = behind
        .copy_of(x)
        .and_then(|r| r.projection())
        .and_then(|p| p.status().map(str::to_owned));
    assert_eq!(status.as_deref(), Some("in_consultation"));
    assert_eq!(documents(&behind), documents(&anna));
    assert_eq!(behind.cursor(), anna.cursor());
    assert!(behind.records_needing_repair().is_empty());
    assert!(pages >= 3, "{pages} pages");
}

#[tokio::test]
async fn many_devices_and_records_converge_through_compaction() {
    let data = tempfile::tempdir().expect("temp dir");
    let app = compacting_app(&data, 3_600, 7).await;
    let mut devices: Vec<_> = (1..=3).map(device).collect();
    let mut late = device(9);
    pull_all(&app, &mut late, 1_000).await;
    for round in 0..6u8 {
        for (n, replica) in devices.iter_mut().enumerate() {
            let id = record_id(1 + (round + n as u8) % 4);
            if replica.projection(id).is_none() {
                replica.create(id, RecordKind::Recommendation);
            }
            replica.edit(id, |r| {
                let summary = FieldPath::top("summary");
                let text = format!("{} d{n}r{round}", r.text(&summary)?);
                r.change(&summary, FieldEdit::Text(text)).ok()
            });
            sync(&app, replica).await;
        }
    }
    for replica in devices.iter_mut() {
        sync(&app, replica).await;
    }
    pull_all(&app, &mut late, 2).await;
    for replica in &devices {
        assert_eq!(documents(replica), documents(&late));
    }
    // Every device's every edit is in the text, whichever way it arrived.
    let all: String = (1..=4)
        .filter_map(|n| summary_text(&late, record_id(n)))
        .collect();
    for round in 0..6 {
        for n in 0..3 {
            assert!(
                all.contains(&format!("d{n}r{round}")),
                "d{n}r{round} lost: {all}"
            );
        }
    }
}

#[tokio::test]
async fn a_retried_op_after_compaction_is_already_applied_and_logs_nothing() {
    let data = tempfile::tempdir().expect("temp dir");
    let app = compacting_app(&data, 3_600, 1_000_000).await;
    let mut anna = device(1);
    anna.create(record_id(1), RecordKind::Recommendation);
    anna.edit(record_id(1), |r| {
        r.set_text("title", "Kept once, kept once").ok()
    });
    // A deletion-only op: inserts nothing, so only the whole state tells a retry.
    anna.edit(record_id(1), |r| r.set_text("title", "Kept once").ok());
    let request = anna.next_push(1 << 20).expect("outbox");
    assert_eq!(request.ops.len(), 3);
    let first = push_request(&app, &request).await;
    assert!(first
        .outcomes
        .iter()
        .all(|(_, outcome)| matches!(outcome, OpOutcome::Applied(_))));
    // No device holds the log: everything is compacted.
    pull_anonymous(&app, 3, 1_000).await;
    push_request(&app, &PushRequest { ops: vec![] }).await;
    wait_for_horizon(&app, 3).await;

    let again = push_request(&app, &request).await;
    for (_, outcome) in &again.outcomes {
        assert!(
            matches!(outcome, OpOutcome::AlreadyApplied(_)),
            "{outcome:?}"
        );
    }
    // Nothing was logged, and the text is as the user left it.
    assert!(pull_anonymous(&app, 3, 1_000).await.changes.is_empty());
    let mut jonas = device(2);
    pull_all(&app, &mut jonas, 1_000).await;
    assert_eq!(title(&jonas, record_id(1)).as_deref(), Some("Kept once"));
    assert_eq!(jonas.cursor(), Seq(3));

    // A new edit after that still gets the next number.
    anna.acknowledge(&again);
    anna.edit(record_id(1), |r| r.set_text("title", "Kept twice").ok());
    let next = push_request(&app, &anna.next_push(1 << 20).expect("op")).await;
    assert_eq!(next.outcomes[0].1, OpOutcome::Applied(Seq(4)));
}

#[tokio::test]
async fn compaction_survives_a_restart_and_sequence_numbers_continue() {
    let data = tempfile::tempdir().expect("temp dir");
    let app = compacting_app(&data, 3_600, 1_000_000).await;
    let mut anna = device(1);
    typed_title(&mut anna, "Restart");
    push_all(&app, &mut anna).await;
    pull_anonymous(&app, 0, 1).await;
    wait_for_horizon(&app, 8).await;
    app.stop().await;

    // Every log row is gone; the next op still gets 9, not 1.
    let app = compacting_app(&data, 3_600, 1_000_000).await;
    anna.edit(record_id(1), |r| r.set_text("title", "Restarted").ok());
    let next = push_request(&app, &anna.next_push(1 << 20).expect("op")).await;
    assert_eq!(next.outcomes[0].1, OpOutcome::Applied(Seq(9)));
    let mut jonas = device(2);
    pull_all(&app, &mut jonas, 1_000).await;
    assert_eq!(title(&jonas, record_id(1)).as_deref(), Some("Restarted"));
}
