//! What the domain's tests share: a record id, replicas, delivery, sections,
//! and the seeded random numbers of the randomized tests.
// Each test file uses some of these.
#![allow(dead_code)]

use tern_domain::record::{FieldEdit, FieldPath, ItemId, Record, RecordId, RecordKind, Update};

pub fn id() -> RecordId {
    RecordId::v7(1_760_000_000_000, [7; 10])
}

/// Two replicas of one new record, both holding its creating update.
pub fn pair(kind: RecordKind) -> (Record, Record) {
    let (a, created) = Record::create(id(), kind, 1);
    let b = Record::empty(id(), 2);
    b.apply_update(&created.0).expect("applies");
    (a, b)
}

pub fn deliver(updates: &[Update], to: &Record) {
    for update in updates {
        to.apply_update(&update.0).expect("applies");
    }
}

pub fn top(key: &'static str) -> FieldPath {
    FieldPath::top(key)
}

pub fn section(n: u8) -> ItemId {
    ItemId(format!("s{n}"))
}

pub fn add_section(record: &Record, position: usize, n: u8, heading: &str) -> Vec<Update> {
    vec![
        record
            .change(
                &top("sections"),
                FieldEdit::InsertItem {
                    id: section(n),
                    position,
                },
            )
            .expect("inserted"),
        record
            .change(
                &FieldPath::item("sections", section(n), "heading"),
                FieldEdit::Text(heading.into()),
            )
            .expect("heading"),
    ]
}

/// The seeds a randomized test runs: `TERN_SEED=s` replays one,
/// `TERN_SEEDS=n` runs n, else `default`.
pub fn seeds(default: u64) -> Vec<u64> {
    match std::env::var("TERN_SEED") {
        Ok(seed) => vec![seed.parse().expect("TERN_SEED is a number")],
        Err(_) => {
            let count = std::env::var("TERN_SEEDS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(default);
            (0..count).collect()
        }
    }
}

/// SplitMix64: tiny, fast, and the same on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}
