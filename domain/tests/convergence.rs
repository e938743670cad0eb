//! Seeded, replayable randomized convergence of record replicas.
//!
//! Several replicas edit one recommendation and one project at random while their
//! updates are delivered late, out of order, twice, or lost and re-sent (as an
//! outbox re-sends until acknowledged). At quiescence every replica must hold the
//! same document, and that document must contain every replica's edits.
//!
//! `TERN_SEEDS=n` runs n seeds (default 1,000); `TERN_SEED=s` replays one seed.
//! The server joins this test once the sync protocol exists; this is its core.

use std::collections::VecDeque;
use tern_domain::record::{
    ProjectStatus, RecommendationStatus, Record, RecordId, RecordKind, SectionId, Update,
};
use tern_domain::region::{FocusArea, MEMBERS};
use yrs::updates::decoder::Decode;
use yrs::StateVector;

/// SplitMix64: tiny, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const WORDS: [&str; 10] = [
    "child",
    " rights",
    " Østersjø",
    " Ąžuolas",
    " care",
    " 🇪🇪",
    " barnahus",
    " prevention",
    "\n",
    " Ümlaut",
];

struct Replica {
    recommendation: Record,
    project: Record,
}

/// A message on the simulated network: which replica sent it and the update.
struct Message {
    to: usize,
    update: Update,
    project: bool,
}

fn random_text_edit(rng: &mut Rng, current: &str) -> String {
    let chars: Vec<char> = current.chars().collect();
    let at = rng.below(chars.len() + 1);
    if !chars.is_empty() && rng.chance(30) {
        let end = (at + 1 + rng.below(8)).min(chars.len());
        let start = at.min(end.saturating_sub(1));
        chars[..start].iter().chain(chars[end..].iter()).collect()
    } else {
        let word = WORDS[rng.below(WORDS.len())];
        chars[..at]
            .iter()
            .copied()
            .chain(word.chars())
            .chain(chars[at..].iter().copied())
            .collect()
    }
}

fn random_edit(
    rng: &mut Rng,
    replica: &Replica,
    replica_index: usize,
    step: usize,
) -> (Update, bool) {
    if rng.chance(25) {
        let project = replica.project.as_project().expect("project");
        let update = match rng.below(4) {
            0 => project.set_title(&random_text_edit(rng, &project.title())),
            1 => project.set_description(&random_text_edit(rng, &project.description())),
            2 => project.set_status(ProjectStatus::ALL[rng.below(4)]),
            _ => project
                .set_country(MEMBERS[rng.below(MEMBERS.len())].code, rng.chance(60))
                .expect("members are valid"),
        };
        return (update, true);
    }
    let rec = replica
        .recommendation
        .as_recommendation()
        .expect("recommendation");
    let sections = rec.sections();
    let update = match rng.below(9) {
        0 => rec.set_title(&random_text_edit(rng, &rec.title())),
        1 => rec.set_status(RecommendationStatus::ALL[rng.below(5)]),
        2 => rec.set_focus_area(FocusArea::ALL[rng.below(4)], rng.chance(60)),
        3 | 4 => {
            let id = SectionId(format!("r{replica_index}-s{step}"));
            rec.insert_section(rng.below(sections.len() + 1), &id, "Heading")
        }
        5 if !sections.is_empty() => {
            let section = &sections[rng.below(sections.len())];
            rec.move_section(&section.id, rng.below(sections.len()))
        }
        6 if sections.len() > 2 => rec.remove_section(&sections[rng.below(sections.len())].id),
        _ if !sections.is_empty() => {
            let section = &sections[rng.below(sections.len())];
            rec.set_section_body(&section.id, &random_text_edit(rng, &section.body))
                .expect("the section exists")
        }
        _ => rec.set_summary_text(&random_text_edit(rng, &rec.summary_text())),
    };
    (update, false)
}

fn deliver(replicas: &[Replica], message: &Message) {
    let replica = &replicas[message.to];
    let record = if message.project {
        &replica.project
    } else {
        &replica.recommendation
    };
    record
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
    let rec_id = RecordId::v7(1_760_000_000_000, [1; 10]);
    let project_id = RecordId::v7(1_760_000_000_000, [2; 10]);

    let (creator_rec, rec_created) = Record::create(rec_id, RecordKind::Recommendation, 1);
    let (creator_project, project_created) = Record::create(project_id, RecordKind::Project, 1);
    let mut replicas = vec![Replica {
        recommendation: creator_rec,
        project: creator_project,
    }];
    for client in 2..=replica_count as u64 {
        let replica = Replica {
            recommendation: Record::empty(rec_id, client),
            project: Record::empty(project_id, client),
        };
        replica
            .recommendation
            .apply_update(&rec_created.0)
            .map_err(|e| e.to_string())?;
        replica
            .project
            .apply_update(&project_created.0)
            .map_err(|e| e.to_string())?;
        replicas.push(replica);
    }

    let mut in_flight: VecDeque<Message> = VecDeque::new();
    // Everything ever sent, to re-send at the end as an outbox would until acknowledged.
    let mut sent: Vec<Message> = Vec::new();
    for step in 0..steps {
        let author = rng.below(replica_count);
        let (update, project) = random_edit(&mut rng, &replicas[author], author, step);
        for to in (0..replica_count).filter(|&to| to != author) {
            let message = Message {
                to,
                update: update.clone(),
                project,
            };
            sent.push(Message {
                to,
                update: update.clone(),
                project,
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
            for (mine, theirs) in [
                (&replica.recommendation, &other.recommendation),
                (&replica.project, &other.project),
            ] {
                let missing = theirs
                    .diff_since(&mine.state_vector())
                    .map_err(|e| e.to_string())?;
                mine.apply_update(&missing).map_err(|e| e.to_string())?;
            }
        }
    }

    let reference = &replicas[0];
    for (index, replica) in replicas.iter().enumerate().skip(1) {
        for (what, a, b) in [
            (
                "recommendation",
                &reference.recommendation,
                &replica.recommendation,
            ),
            ("project", &reference.project, &replica.project),
        ] {
            if a.has_missing_updates() || seen(a) != seen(b) {
                return Err(format!(
                    "{what}: replica {index} has not seen every edit: {:?} vs {:?} (missing updates: {} vs {})",
                    seen(a),
                    seen(b),
                    a.has_missing_updates(),
                    b.has_missing_updates()
                ));
            }
            if a.summary() != b.summary() {
                return Err(format!(
                    "{what}: replica {index} differs:\n  {:?}\nvs\n  {:?}",
                    a.summary(),
                    b.summary()
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn replicas_converge_under_reordering_duplication_and_loss() {
    let seeds: Vec<u64> = match std::env::var("TERN_SEED") {
        Ok(seed) => vec![seed.parse().expect("TERN_SEED is a number")],
        Err(_) => {
            let count = std::env::var("TERN_SEEDS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1_000u64);
            (0..count).collect()
        }
    };
    for seed in seeds {
        if let Err(failure) = run_seed(seed) {
            panic!(
                "seed {seed} failed: {failure}\nreplay: TERN_SEED={seed} cargo test -p tern-domain --test convergence"
            );
        }
    }
}
