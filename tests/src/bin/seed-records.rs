//! Fills a running Tern with records of every kind, for `bench/volume.mjs`:
//! people, organisations, projects, consultations, good practices and
//! recommendations in a busy secretariat's proportions, every field filled
//! from its declaration with plausible text (seeded, so every run seeds the
//! same records), references pointing at records seeded before.
//!
//! Each record goes up as one op (its creation and edits merged), as a
//! device's compacted history would arrive.
//!
//! Usage: seed-records <server url> <email> <password> <count> [<kind>]
//! (with a kind, as in `project`, every record is of that kind: `bench/list.mjs`)

use std::collections::BTreeMap;
use tern_domain::auth::{SignInRequest, SIGN_IN_PATH};
use tern_domain::client::Replica;
use tern_domain::record::schema::{FieldDef, FieldType, SetOf};
use tern_domain::record::{
    merge_updates, Date, FieldEdit, FieldPath, ItemId, Record, RecordId, RecordKind,
};
use tern_domain::region::{FocusArea, MEMBERS};
use tern_domain::sync::{self, DeviceId, PushOp, PushRequest, PushResponse, PUSH_PATH};
use tern_tests::{client_with, set_cookies};

/// Of every 100 records, how many of each kind.
const MIX: [(RecordKind, usize); 6] = [
    (RecordKind::Organisation, 15),
    (RecordKind::Person, 40),
    (RecordKind::Project, 15),
    (RecordKind::Consultation, 10),
    (RecordKind::GoodPractice, 12),
    (RecordKind::Recommendation, 8),
];

const WORDS: &[&str] = &[
    "children",
    "at",
    "risk",
    "in",
    "the",
    "Baltic",
    "Sea",
    "region",
    "member",
    "states",
    "ensure",
    "that",
    "every",
    "child",
    "is",
    "heard",
    "alternative",
    "care",
    "guardianship",
    "unaccompanied",
    "migrant",
    "trafficking",
    "exploitation",
    "prevention",
    "Barnahus",
    "multidisciplinary",
    "cooperation",
    "between",
    "police",
    "social",
    "services",
    "and",
    "health",
    "professionals",
    "national",
    "authorities",
    "should",
    "support",
    "families",
    "with",
    "evidence",
    "from",
    "research",
    "on",
    "violence",
    "against",
    "protection",
    "systems",
    "of",
    "rights",
    "participation",
    "training",
    "for",
    "judges",
    "prosecutors",
    "local",
    "municipalities",
    "follow-up",
    "monitoring",
    "indicators",
    "report",
    "annual",
];

const FIRST: &[&str] = &[
    "Anna",
    "Jonas",
    "Maria",
    "Mikkel",
    "Liis",
    "Juhani",
    "Katrin",
    "Sigríður",
    "Ilze",
    "Rūta",
    "Ingrid",
    "Zofia",
    "Erik",
    "Ole",
    "Aino",
    "Jānis",
    "Tomas",
    "Helga",
];
const LAST: &[&str] = &[
    "Nielsen",
    "Tamm",
    "Virtanen",
    "Schmidt",
    "Jónsdóttir",
    "Bērziņa",
    "Kazlauskas",
    "Hansen",
    "Kowalska",
    "Lindqvist",
    "Korhonen",
    "Ozola",
    "Petrauskas",
    "Berg",
];

/// A small seeded generator (xorshift), so every run seeds the same records.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    fn sentence(&mut self, words: usize) -> String {
        let mut text: String = (0..words)
            .map(|_| self.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(first) = text.get(..1) {
            text.replace_range(..1, &first.to_uppercase());
        }
        text.push('.');
        text
    }

    fn paragraphs(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| {
                let sentences = 2 + self.below(4);
                (0..sentences)
                    .map(|_| {
                        let words = 8 + self.below(12);
                        self.sentence(words)
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

struct Seeder {
    rng: Rng,
    replica: Replica,
    seeded: BTreeMap<RecordKind, Vec<RecordId>>,
    clock: u64,
}

impl Seeder {
    fn record(&mut self, kind: RecordKind) -> PushOp {
        self.clock += 1;
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.clock.to_be_bytes());
        let id = RecordId::v7(1_760_000_000_000 + self.clock * 1_000, random);
        self.replica.create(id, kind);
        let person = (self.rng.pick(FIRST), self.rng.pick(LAST));
        for field in kind.def().fields {
            self.fill(id, kind, FieldPath::top(field.key), field, person);
        }
        let ops: Vec<PushOp> = self.replica.outbox().to_vec();
        let updates: Vec<&[u8]> = ops.iter().map(|op| op.update.as_slice()).collect();
        let update = merge_updates(&updates).expect("the record's own updates merge");
        self.seeded.entry(kind).or_default().push(id);
        let first = ops.first().expect("the creation").op;
        self.replica
            .forget_ops(&ops.iter().map(|op| op.op).collect::<Vec<_>>());
        PushOp {
            op: first,
            record: id,
            kind,
            update,
        }
    }

    fn fill(
        &mut self,
        id: RecordId,
        kind: RecordKind,
        path: FieldPath,
        field: &'static FieldDef,
        person: (&str, &str),
    ) {
        let rng = &mut self.rng;
        let edit = match field.ty {
            FieldType::Text if kind == RecordKind::Person && field.key == "name" => {
                FieldEdit::Text(format!("{} {}", person.0, person.1))
            }
            FieldType::Text => {
                let words = 3 + rng.below(6);
                let mut text = rng.sentence(words);
                text.pop();
                FieldEdit::Text(text)
            }
            FieldType::LongText => {
                let count = 1 + rng.below(3);
                FieldEdit::Text(rng.paragraphs(count))
            }
            FieldType::Email => FieldEdit::Text(format!(
                "{}.{}@ministry.example",
                person.0.to_lowercase(),
                person.1.to_lowercase()
            )),
            FieldType::Phone => FieldEdit::Text(format!("+358 40 {:07}", rng.below(10_000_000))),
            FieldType::Url => FieldEdit::Text(format!("https://example.org/{}", rng.below(1000))),
            FieldType::Date => FieldEdit::Date(Some(Date::from_days_since_epoch(
                19_700 + rng.below(1_200) as i64,
            ))),
            FieldType::Flag => FieldEdit::Flag(rng.below(3) == 0),
            FieldType::Choice(choices) => {
                FieldEdit::Choice(Some(rng.pick(choices.options).to_owned()))
            }
            FieldType::Ref(kinds) => {
                let Some(target) = self.earlier(kinds) else {
                    return;
                };
                FieldEdit::Ref(Some(target))
            }
            FieldType::Refs(kinds) => {
                for _ in 0..1 + self.rng.below(3) {
                    if let Some((target, kind)) = self.earlier(kinds) {
                        self.change(
                            id,
                            &path,
                            FieldEdit::IncludeRef {
                                target,
                                kind,
                                included: true,
                            },
                        );
                    }
                }
                return;
            }
            FieldType::Set(of) => {
                for _ in 0..1 + self.rng.below(3) {
                    let value = match of {
                        SetOf::Members => MEMBERS[self.rng.below(MEMBERS.len())].code.to_owned(),
                        SetOf::FocusAreas => FocusArea::ALL[self.rng.below(4)].as_str().to_owned(),
                        SetOf::Tags => self
                            .rng
                            .pick(&["foster care", "Barnahus", "online safety", "guardianship"])
                            .to_owned(),
                        SetOf::Choices(choices) => self.rng.pick(choices.options).to_owned(),
                    };
                    self.change(
                        id,
                        &path,
                        FieldEdit::Include {
                            value,
                            included: true,
                        },
                    );
                }
                return;
            }
            FieldType::PerMember(choices) => {
                for member in MEMBERS.iter().take(3 + self.rng.below(6)) {
                    let value = Some(self.rng.pick(choices.options).to_owned());
                    self.change(
                        id,
                        &path,
                        FieldEdit::Keyed {
                            key: member.code.to_owned(),
                            value,
                        },
                    );
                }
                return;
            }
            FieldType::Items(items) => {
                for position in 0..1 + self.rng.below(4) {
                    let item = ItemId(format!("{}-{position}", self.clock));
                    self.change(
                        id,
                        &path,
                        FieldEdit::InsertItem {
                            id: item.clone(),
                            position,
                        },
                    );
                    for sub in items.fields {
                        let sub_path = path.child(item.clone(), sub.key);
                        self.fill(id, kind, sub_path, sub, person);
                    }
                }
                return;
            }
        };
        self.change(id, &path, edit);
    }

    /// A record seeded before, of one of `kinds`.
    fn earlier(&mut self, kinds: &[RecordKind]) -> Option<(RecordId, RecordKind)> {
        let kind = kinds[self.rng.below(kinds.len())];
        let ids = self.seeded.get(&kind)?;
        Some((ids[self.rng.below(ids.len())], kind))
    }

    /// A change the declaration refuses (an end before a start) is skipped.
    fn change(&mut self, id: RecordId, path: &FieldPath, edit: FieldEdit) {
        self.replica
            .edit(id, |record: &Record| record.change(path, edit).ok());
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, email, password, count, only) = match args.as_slice() {
        [_, base, email, password, count] => (base, email, password, count, None),
        [_, base, email, password, count, tag] => {
            let Some(kind) = RecordKind::ALL
                .into_iter()
                .find(|kind| kind.def().tag == tag)
            else {
                eprintln!("seed-records: no kind is called {tag}");
                std::process::exit(2);
            };
            (base, email, password, count, Some(kind))
        }
        _ => {
            eprintln!("usage: seed-records <server url> <email> <password> <count> [<kind, as in project>]");
            std::process::exit(2);
        }
    };
    let count: usize = count.parse().expect("a count");
    let signed_in = client_with(base, None)
        .post(format!("{base}{SIGN_IN_PATH}"))
        .json(&SignInRequest {
            email: email.clone(),
            password: password.clone(),
        })
        .send()
        .await
        .expect("sign-in");
    assert_eq!(signed_in.status(), 200, "sign-in refused");
    let cookies: Vec<String> = set_cookies(&signed_in)
        .into_iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let client = client_with(base, Some(&cookies.join("; ")));

    let mut seeder = Seeder {
        rng: Rng(0x005e_ed0f_7e4e),
        replica: Replica::new(DeviceId([0x5e; 16]), 0x5eed),
        seeded: BTreeMap::new(),
        clock: 0,
    };
    let plan: Vec<RecordKind> = match only {
        Some(kind) => vec![kind],
        None => MIX
            .iter()
            .flat_map(|(kind, share)| std::iter::repeat_n(*kind, *share))
            .collect(),
    };
    let mut batch = Vec::new();
    let mut bytes = 0;
    for n in 0..count {
        let op = seeder.record(plan[n % plan.len()]);
        bytes += op.update.len();
        batch.push(op);
        if batch.len() == 500 || n + 1 == count {
            let body = sync::encode(&PushRequest {
                ops: std::mem::take(&mut batch),
            });
            let answer = client
                .post(format!("{base}{PUSH_PATH}"))
                .header("content-type", sync::CONTENT_TYPE)
                .body(body)
                .send()
                .await
                .expect("push");
            assert_eq!(answer.status(), 200, "push refused");
            let answer: PushResponse =
                sync::decode(&answer.bytes().await.expect("body")).expect("a push answer");
            let refused = answer
                .outcomes
                .iter()
                .filter(|(_, outcome)| matches!(outcome, sync::OpOutcome::Rejected(_)))
                .count();
            assert_eq!(refused, 0, "the server refused seeded records");
        }
    }
    println!(
        "seeded {count} records ({} KB of record state)",
        bytes / 1024
    );
}
