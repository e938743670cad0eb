//! Seeded, replayable randomized convergence of record replicas.
//!
//! Several replicas edit one record of every kind at random (any field the
//! kind declares, items at any depth included) while their
//! updates are delivered late, out of order, twice, or lost and re-sent (as an
//! outbox re-sends until acknowledged). At quiescence every replica must hold the
//! same document, and that document must contain every replica's edits.
//!
//! `TERN_SEEDS=n` runs n seeds (default 1,000); `TERN_SEED=s` replays one seed.
//! The server joins this test once the sync protocol exists; this is its core.

mod common;

use common::{seeds, Rng};
use std::collections::VecDeque;
use tern_domain::record::arbitrary::random_edit;
use tern_domain::record::{Record, RecordId, RecordKind, Update};
use yrs::updates::decoder::Decode;
use yrs::StateVector;

/// One replica: a copy of one record of every kind.
struct Replica {
    records: Vec<Record>,
}

/// A message on the simulated network: to which replica, for which record.
struct Message {
    to: usize,
    update: Update,
    record: usize,
}

fn deliver(replicas: &[Replica], message: &Message) {
    replicas[message.to].records[message.record]
        .apply_update(&message.update.0)
        .expect("a valid update applies");
}

/// What a replica has seen, as a comparable value (the encoded form is unordered).
fn seen(record: &Record) -> StateVector {
    StateVector::decode_v1(&record.state_vector()).expect("own state vector decodes")
}

fn run_seed(seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed);
    let replica_count = 3 + rng.below(3);
    let steps = 20 + rng.below(60);
    let ids: Vec<RecordId> = (0u8..)
        .zip(RecordKind::ALL)
        .map(|(n, _)| RecordId::v7(1_760_000_000_000, [n + 1; 10]))
        .collect();
    let (creator, created): (Vec<Record>, Vec<Update>) = RecordKind::ALL
        .into_iter()
        .zip(&ids)
        .map(|(kind, id)| Record::create(*id, kind, 1))
        .unzip();
    let mut replicas = vec![Replica { records: creator }];
    for client in 2..=replica_count as u64 {
        let records: Vec<Record> = ids.iter().map(|id| Record::empty(*id, client)).collect();
        for (record, update) in records.iter().zip(&created) {
            record.apply_update(&update.0).map_err(|e| e.to_string())?;
        }
        replicas.push(Replica { records });
    }

    let mut in_flight: VecDeque<Message> = VecDeque::new();
    // Everything ever sent, to re-send at the end as an outbox would until acknowledged.
    let mut sent: Vec<Message> = Vec::new();
    // Edits that took: refused ones (a date rule, a removed item) are normal,
    // but a generator that mostly fails would test nothing.
    let mut applied = 0;
    for step in 0..steps {
        let author = rng.below(replica_count);
        let record = rng.below(ids.len());
        let mut below = |n: usize| rng.below(n);
        let Some(update) = random_edit(
            &replicas[author].records[record],
            &mut below,
            &format!("r{author}-s{step}"),
        ) else {
            continue;
        };
        applied += 1;
        for to in (0..replica_count).filter(|&to| to != author) {
            let message = Message {
                to,
                update: update.clone(),
                record,
            };
            sent.push(Message {
                to,
                update: update.clone(),
                record,
            });
            if !rng.chance(15) {
                in_flight.push_back(message); // otherwise lost in transit
            }
        }
        // Deliver a few messages in random order, sometimes twice.
        for _ in 0..rng.below(4) {
            if in_flight.is_empty() {
                break;
            }
            let index = rng.below(in_flight.len());
            let Some(message) = in_flight.remove(index) else {
                break;
            };
            deliver(&replicas, &message);
            if rng.chance(10) {
                deliver(&replicas, &message);
            }
        }
    }

    if applied * 4 < steps * 3 {
        return Err(format!("only {applied} of {steps} random edits applied"));
    }

    // Quiescence: what is still in flight arrives, and the outbox re-sends everything.
    while let Some(message) = in_flight.pop_front() {
        deliver(&replicas, &message);
    }
    while !sent.is_empty() {
        let message = sent.swap_remove(rng.below(sent.len()));
        deliver(&replicas, &message);
    }

    // Anti-entropy, as the sync protocol's catch-up does: each replica asks each
    // other for what its state vector lacks. Updates that arrived before what they
    // build on can stay parked in yrs even after everything has been re-sent
    // (seen here on about 1 seed in 70); a state-vector exchange always settles it.
    for replica in &replicas {
        for other in &replicas {
            for (mine, theirs) in replica.records.iter().zip(&other.records) {
                let missing = theirs
                    .diff_since(&mine.state_vector())
                    .map_err(|e| e.to_string())?;
                mine.apply_update(&missing).map_err(|e| e.to_string())?;
            }
        }
    }

    let reference = &replicas[0];
    for (index, replica) in replicas.iter().enumerate().skip(1) {
        for (what, (a, b)) in RecordKind::ALL
            .iter()
            .zip(reference.records.iter().zip(&replica.records))
        {
            if a.has_missing_updates() || seen(a) != seen(b) {
                return Err(format!(
                    "{what:?}: replica {index} has not seen every edit: {:?} vs {:?} (missing updates: {} vs {})",
                    seen(a),
                    seen(b),
                    a.has_missing_updates(),
                    b.has_missing_updates()
                ));
            }
            if a.projection() != b.projection() {
                return Err(format!(
                    "{what:?}: replica {index} differs:\n  {:?}\nvs\n  {:?}",
                    a.projection(),
                    b.projection()
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn replicas_converge_under_reordering_duplication_and_loss() {
    let seeds = seeds(1_000);
    for seed in seeds {
        if let Err(failure) = run_seed(seed) {
            panic!(
                "seed {seed} failed: {failure}\nreplay: TERN_SEED={seed} cargo test -p tern-domain --test convergence"
            );
        }
    }
}
