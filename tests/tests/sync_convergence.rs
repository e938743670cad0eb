//! Seeded, replayable randomized convergence of the whole sync engine.
//!
//! 3–5 simulated devices (each a [`Replica`], the same code the browser runs)
//! make random edits to shared records through the typed API and sync them
//! through the real storage ([`SurrealStorage`] on the embedded surrealkv engine
//! in a temporary folder), called in-process through the [`Storage`] trait. Every
//! request and answer travels through a simulated network that delays, reorders,
//! duplicates and drops them; devices give up on a request now and then and send
//! it again; the server is stopped and reopened on its data at random moments.
//!
//! At quiescence (no more edits, nothing lost any more) every device and the
//! server must hold the same documents, and every edit the server acknowledged
//! must be in them: re-applying an acknowledged op to the server's document must
//! change nothing, and every unique token a device typed in an acknowledged op
//! must still be in its field, unless the test itself deleted it later.
//!
//! The server side also compacts its log at random moments in some seeds (a few
//! entries kept), so devices behind the horizon catch up from record states;
//! devices reload now and then (a new session restored from what they saved,
//! which may be older than their outbox); and the records endpoint must serve
//! the same documents as the log.
//!
//! `TERN_SEEDS=n` runs n seeds (default 1,000); `TERN_SEED=s` replays one seed
//! and prints its trace on failure (`TERN_TRACE=1` prints it as it runs). A
//! failing seed prints the command that replays it. Runs are deterministic per
//! seed; seeds run on two threads, each seed on a copy of a database migrated
//! once per run. Nearly all the time goes to the storage (a debug build of
//! SurrealDB): the summary line says where.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tern_domain::client::{Replica, SavedRecord};
use tern_domain::record::kinds::{project, recommendation};
use tern_domain::record::{
    Date, FieldEdit, FieldPath, ItemId, Record, RecordId, RecordKind, Update,
};
use tern_domain::region::{FocusArea, MEMBERS};
use tern_domain::sync::{
    Change, DeviceId, OpId, OpOutcome, PullQuery, PullResponse, PushOp, PushResponse, Seq,
    MAX_PULL_LIMIT,
};
use tern_server::accounts::Actor;
use tern_server::storage::{Storage, SurrealStorage};
use tern_server::Config;

/// SplitMix64, as in the documents' own convergence test: tiny, and the same on
/// every machine.
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
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let value = self.next().to_le_bytes();
            chunk.copy_from_slice(&value[..chunk.len()]);
        }
        out
    }
}

const WORDS: [&str; 8] = [
    " child",
    " rights",
    " Østersjø",
    " Ąžuolas",
    " 🇪🇪",
    " barnahus",
    "\n",
    " Ümlaut",
];

const DATES: [&str; 5] = [
    "2025-01-01",
    "2025-06-30",
    "2026-02-28",
    "2026-12-31",
    "2027-03-15",
];

/// How often (in percent) the lossy network drops or duplicates a message.
const DROP_PERCENT: u64 = 12;
const DUPLICATE_PERCENT: u64 = 10;
/// Steps the quiescent phase may take before the test calls it a livelock.
const QUIESCENCE_STEPS: usize = 5_000;

/// A text field of a record, where a token can live.
type Field = FieldPath;

fn read_field(record: &Record, field: &Field) -> Option<String> {
    record.text(field)
}

fn write_field(record: &Record, field: &Field, value: &str) -> Option<Update> {
    record.change(field, FieldEdit::Text(value.to_owned())).ok()
}

fn choice(field: &'static str, value: &str) -> Edit {
    let edit = FieldEdit::Choice(Some(value.to_owned()));
    Box::new(move |r| r.change(&FieldPath::top(field), edit).ok())
}

fn include(field: &'static str, value: &str, included: bool) -> Edit {
    let edit = FieldEdit::Include {
        value: value.to_owned(),
        included,
    };
    Box::new(move |r| r.change(&FieldPath::top(field), edit).ok())
}

fn sections(record: &Record) -> Vec<ItemId> {
    record.item_ids(&FieldPath::top("sections"))
}

/// Tokens are `[k<digits>]`; no word contains `[`. Returns each occurrence with
/// its span in chars.
fn token_spans(text: &[char]) -> Vec<(String, usize, usize)> {
    let mut spans = Vec::new();
    for start in 0..text.len() {
        if text[start] != '[' || text.get(start + 1) != Some(&'k') {
            continue;
        }
        let digits = text[start + 2..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let end = start + 2 + digits;
        if digits > 0 && text.get(end) == Some(&']') {
            spans.push((text[start..=end].iter().collect(), start, end + 1));
        }
    }
    spans
}

/// A splice from `before` to `after` as the typed API computes it
/// (`record::text::splice_to`): the common prefix's length in chars, how many
/// chars it removes there, and the text it inserts.
fn splice(before: &[char], after: &[char]) -> (usize, usize, String) {
    let prefix = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let suffix = before[prefix..]
        .iter()
        .rev()
        .zip(after[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let removed = before.len() - prefix - suffix;
    let inserted = after[prefix..after.len() - suffix].iter().collect();
    (prefix, removed, inserted)
}

/// A text edit: insert a word or a fresh token at a random place, or delete a
/// random range. Returns the new text and the token it inserted, if any.
fn random_text_edit(rng: &mut Rng, current: &str, token: &str) -> (String, bool) {
    let chars: Vec<char> = current.chars().collect();
    let at = rng.below(chars.len() + 1);
    let roll = rng.below(100);
    if !chars.is_empty() && roll < 25 {
        let end = (at + 1 + rng.below(6)).min(chars.len());
        let start = at.min(end.saturating_sub(1));
        return (chars[..start].iter().chain(&chars[end..]).collect(), false);
    }
    let (word, is_token) = if roll < 65 {
        (token, true)
    } else {
        (WORDS[rng.below(WORDS.len())], false)
    };
    let text = chars[..at]
        .iter()
        .copied()
        .chain(word.chars())
        .chain(chars[at..].iter().copied())
        .collect();
    (text, is_token)
}

/// An edit through a record's typed API, decided before the replica runs it.
type Edit = Box<dyn FnOnce(&Record) -> Option<Update>>;

/// One simulated device.
struct Client {
    replica: Replica,
    /// The request id of the push this device waits for, if any.
    push: Option<u64>,
    /// The request id of the pull this device waits for, if any.
    pull: Option<u64>,
    sections_made: usize,
    /// What the device last saved (its cursor and record states) for a reload;
    /// its outbox is saved with every edit and answer, so it is always current.
    saved: (Seq, Vec<SavedRecord>),
    sessions: u64,
    /// This session's replica id.
    client_id: u64,
}

/// What a device saves: each record's state and, as the browser does, its
/// projection (so a reload rests records without loading them).
fn saved_records(replica: &Replica) -> Vec<SavedRecord> {
    replica
        .ids()
        .into_iter()
        .filter_map(|id| {
            Some(SavedRecord {
                id,
                state: replica.state(id)?,
                projection: replica.projection(id),
            })
        })
        .collect()
}

impl Client {
    /// Saves the cursor and the record states together (the store writes them
    /// lazily: a reload may find states older than the outbox).
    fn save(&mut self) {
        self.saved = (self.replica.cursor(), saved_records(&self.replica));
    }
}

#[derive(Clone, Debug)]
enum Message {
    PushRequest {
        client: usize,
        id: u64,
        ops: Vec<PushOp>,
    },
    PushAnswer {
        client: usize,
        id: u64,
        response: PushResponse,
    },
    PullRequest {
        client: usize,
        id: u64,
        query: PullQuery,
    },
    PullAnswer {
        client: usize,
        id: u64,
        since: Seq,
        page: PullResponse,
    },
}

/// A fault the server wrapper injects, to prove the checks can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    /// The n-th distinct op pushed (from 0) is answered `Applied` but never stored.
    LoseOp(usize),
}

/// The real storage, reopened on its data at will.
struct Server {
    config: Config,
    storage: Option<SurrealStorage>,
    fault: Fault,
    /// For the fault: op ids seen, and the one swallowed.
    seen: HashSet<OpId>,
    lost: HashSet<OpId>,
    restarts: usize,
    compactions: usize,
    /// Time spent in the storage: opening, pushes, pulls (incl. record reads).
    timings: [Duration; 4],
    calls: [usize; 4],
}

impl Server {
    async fn open(config: Config, fault: Fault) -> Result<Server, String> {
        let started = Instant::now();
        let storage = SurrealStorage::open(&config)
            .await
            .map_err(|error| format!("storage does not open: {error}"))?;
        Ok(Server {
            config,
            storage: Some(storage),
            fault,
            seen: HashSet::new(),
            lost: HashSet::new(),
            restarts: 0,
            compactions: 0,
            timings: [
                started.elapsed(),
                Duration::ZERO,
                Duration::ZERO,
                Duration::ZERO,
            ],
            calls: [1, 0, 0, 0],
        })
    }

    fn storage(&self) -> &SurrealStorage {
        self.storage.as_ref().expect("the storage is open")
    }

    /// Drops the storage and opens it again on the same data dir.
    async fn restart(&mut self) -> Result<(), String> {
        let started = Instant::now();
        self.storage = None;
        self.restarts += 1;
        // The engine closes in the background; opening at once would find it
        // locked and wait a whole retry interval.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let storage = SurrealStorage::open(&self.config)
            .await
            .map_err(|error| format!("storage does not reopen: {error}"))?;
        self.storage = Some(storage);
        self.timings[0] += started.elapsed();
        self.calls[0] += 1;
        Ok(())
    }

    async fn push(&mut self, ops: Vec<PushOp>) -> Result<PushResponse, String> {
        let started = Instant::now();
        let response = self.push_inner(ops).await;
        self.timings[1] += started.elapsed();
        self.calls[1] += 1;
        response
    }

    async fn push_inner(&mut self, ops: Vec<PushOp>) -> Result<PushResponse, String> {
        let Fault::LoseOp(n) = self.fault else {
            let outcomes = self.flush(ops).await?;
            return Ok(PushResponse { outcomes });
        };
        // Ops go to the storage as sent, except the one the fault swallows.
        let mut outcomes = Vec::with_capacity(ops.len());
        let mut batch = Vec::new();
        for op in ops {
            if self.seen.insert(op.op) && self.seen.len() == n + 1 {
                self.lost.insert(op.op);
            }
            if self.lost.contains(&op.op) {
                outcomes.extend(self.flush(std::mem::take(&mut batch)).await?);
                outcomes.push((op.op, OpOutcome::Applied(Seq(0))));
            } else {
                batch.push(op);
            }
        }
        outcomes.extend(self.flush(batch).await?);
        Ok(PushResponse { outcomes })
    }

    async fn flush(&self, batch: Vec<PushOp>) -> Result<Vec<(OpId, OpOutcome)>, String> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.storage()
            .push(&full_access(), batch)
            .await
            .map_err(|error| format!("storage push failed: {error}"))
    }

    async fn compact(&mut self) -> Result<(u64, u64), String> {
        let started = Instant::now();
        self.compactions += 1;
        let done = self
            .storage()
            .compact()
            .await
            .map_err(|error| format!("compaction failed: {error}"))?;
        self.timings[3] += started.elapsed();
        self.calls[3] += 1;
        Ok((done.from.0, done.through.0))
    }

    /// The last seq, as the server-sent events announce it.
    fn head(&self) -> Seq {
        *self.storage().subscribe().borrow()
    }

    /// One record's whole state, as the records endpoint serves it.
    async fn record(&mut self, id: RecordId) -> Result<Option<Change>, String> {
        let started = Instant::now();
        let state = self
            .storage()
            .record(&full_access(), id)
            .await
            .map_err(|error| format!("storage record read failed: {error}"));
        self.timings[3] += started.elapsed();
        self.calls[3] += 1;
        state
    }

    async fn pull(&mut self, query: PullQuery) -> Result<PullResponse, String> {
        let started = Instant::now();
        let page = self
            .storage()
            .pull(&full_access(), query)
            .await
            .map_err(|error| format!("storage pull failed: {error}"));
        self.timings[2] += started.elapsed();
        self.calls[2] += 1;
        page
    }
}

/// The devices act for the secretariat: this test is about convergence, and
/// access checks are `tests/access.rs`'s.
fn full_access() -> Actor {
    Actor::secretariat(tern_domain::auth::UserId("0".repeat(32)))
}

fn all_after(since: Seq) -> PullQuery {
    PullQuery {
        since,
        limit: MAX_PULL_LIMIT,
        device: None,
        kinds: Some(RecordKind::ALL.to_vec()),
    }
}

/// A unique word typed into a field by one op.
struct Token {
    text: String,
    record: RecordId,
    field: Field,
    op: OpId,
}

/// Everything one seed's run holds.
struct World {
    rng: Rng,
    clients: Vec<Client>,
    network: Vec<Message>,
    server: Server,
    next_request: u64,
    /// Every op any device queued.
    ops: HashMap<OpId, PushOp>,
    /// Ops whose `Applied` / `AlreadyApplied` reached their device.
    acknowledged: BTreeSet<OpId>,
    tokens: Vec<Token>,
    /// Tokens a device's own later edit cut or deleted.
    spoiled: HashSet<String>,
    removed_sections: HashSet<(RecordId, ItemId)>,
    trace: Vec<String>,
    /// Small pull pages in some seeds, so paging and stale pages get exercised.
    pull_limit: u32,
    /// Whether this seed compacts the log at random moments.
    compacting: bool,
    /// Records the devices fetched whole because their copy could not settle.
    repairs: usize,
    /// Which device created each record, and how many edits other devices made.
    creators: HashMap<RecordId, usize>,
    shared_edits: usize,
}

impl World {
    fn note(&mut self, line: impl FnOnce() -> String) {
        if TRACE.load(Ordering::Relaxed) {
            let line = line();
            if PRINT_TRACE.load(Ordering::Relaxed) {
                println!("  {line}");
            }
            self.trace.push(line);
        }
    }

    /// One device makes one random edit to a record it holds, or creates one.
    fn edit(&mut self, c: usize) {
        let known: Vec<(RecordId, RecordKind)> = self.clients[c]
            .replica
            .projections()
            .into_iter()
            .map(|(id, projection)| (id, projection.kind))
            .collect();
        // A device that holds nothing yet usually syncs before it starts a record.
        if known.is_empty() && self.server.head() > Seq(0) && self.rng.chance(70) {
            self.start_pull(c);
            return;
        }
        if known.is_empty() || self.rng.chance(8) {
            // Recommendations and projects carry the tokens the text check
            // follows; the other kinds get edits of any field they declare.
            let kind = match self.rng.below(100) {
                0..=44 => RecordKind::Recommendation,
                45..=79 => RecordKind::Project,
                _ => RecordKind::ALL[2 + self.rng.below(RecordKind::ALL.len() - 2)],
            };
            let id = RecordId::v7(
                1_760_000_000_000 + self.rng.below(1_000) as u64,
                self.rng.bytes(),
            );
            let op = self.clients[c].replica.create(id, kind);
            self.creators.insert(id, c);
            self.note(|| format!("client {c} creates {kind:?} {id} (op {})", short(op.op)));
            self.ops.insert(op.op, op);
            return;
        }
        let (id, kind) = known[self.rng.below(known.len())];
        if self.creators.get(&id) != Some(&c) {
            self.shared_edits += 1;
        }
        let token = format!(
            "[k{}]",
            self.tokens.len() + self.spoiled.len() + self.ops.len()
        );
        let client = &mut self.clients[c];
        let record = client.replica.open(id).expect("the record is known");
        let rng = &mut self.rng;
        let mut text_edit: Option<(Field, String, String, bool)> = None;
        let mut removed: Option<ItemId> = None;
        let edit: Edit = match kind {
            RecordKind::Project => match rng.below(10) {
                0..=1 => {
                    let options = project::STATUS.options;
                    choice("status", options[rng.below(options.len())])
                }
                2 => {
                    let area = FocusArea::ALL[rng.below(FocusArea::ALL.len())];
                    include("focus_areas", area.as_str(), rng.chance(60))
                }
                3 => {
                    let code = MEMBERS[rng.below(MEMBERS.len())].code;
                    include("countries", code, rng.chance(60))
                }
                4 => {
                    let (a, b) = (rng.below(DATES.len()), rng.below(DATES.len()));
                    let date = |i: usize| Date::parse(DATES[i]);
                    let start = rng.chance(80).then(|| date(a.min(b))).flatten();
                    let end = rng.chance(70).then(|| date(a.max(b))).flatten();
                    // Both dates as one op: the earlier first, so the pair is valid.
                    Box::new(move |r| {
                        let clear = |key: &'static str| {
                            r.change(&FieldPath::top(key), FieldEdit::Date(None)).ok()
                        };
                        let mut updates = vec![clear("end_date")?];
                        updates.push(
                            r.change(&FieldPath::top("start_date"), FieldEdit::Date(start))
                                .ok()?,
                        );
                        updates.push(
                            r.change(&FieldPath::top("end_date"), FieldEdit::Date(end))
                                .ok()?,
                        );
                        let bytes: Vec<&[u8]> = updates.iter().map(|u| u.0.as_slice()).collect();
                        tern_domain::record::merge_updates(&bytes).ok().map(Update)
                    })
                }
                n => {
                    let field = if n < 7 {
                        FieldPath::top("title")
                    } else {
                        FieldPath::top("description")
                    };
                    let before = read_field(record, &field).unwrap_or_default();
                    let (after, typed) = random_text_edit(rng, &before, &token);
                    text_edit = Some((field.clone(), before, after.clone(), typed));
                    Box::new(move |r| write_field(r, &field, &after))
                }
            },
            RecordKind::Consultation
            | RecordKind::GoodPractice
            | RecordKind::Person
            | RecordKind::Organisation => {
                let mut local = Rng(rng.next());
                let fresh = format!("c{c}e{}", self.ops.len());
                Box::new(move |r| {
                    let mut below = |n: usize| local.below(n);
                    tern_domain::record::arbitrary::random_edit(r, &mut below, &fresh)
                })
            }
            RecordKind::Recommendation => {
                let sections = sections(record);
                let list = FieldPath::top("sections");
                match rng.below(14) {
                    0 => {
                        let options = recommendation::STATUS.options;
                        choice("status", options[rng.below(options.len())])
                    }
                    1 => {
                        let area = FocusArea::ALL[rng.below(FocusArea::ALL.len())];
                        include("focus_areas", area.as_str(), rng.chance(60))
                    }
                    2 | 3 => {
                        client.sections_made += 1;
                        let section = ItemId(format!("c{c}s{}", client.sections_made));
                        let at = rng.below(sections.len() + 1);
                        Box::new(move |r| {
                            let inserted = r
                                .change(
                                    &list,
                                    FieldEdit::InsertItem {
                                        id: section.clone(),
                                        position: at,
                                    },
                                )
                                .ok()?;
                            let heading = r
                                .change(
                                    &FieldPath::item("sections", section, "heading"),
                                    FieldEdit::Text("Heading".into()),
                                )
                                .ok()?;
                            tern_domain::record::merge_updates(&[&inserted.0, &heading.0])
                                .ok()
                                .map(Update)
                        })
                    }
                    4 if !sections.is_empty() => {
                        let section = sections[rng.below(sections.len())].clone();
                        let to = rng.below(sections.len());
                        Box::new(move |r| {
                            r.change(
                                &list,
                                FieldEdit::MoveItem {
                                    id: section,
                                    position: to,
                                },
                            )
                            .ok()
                        })
                    }
                    5 if sections.len() > 1 => {
                        let section = sections[rng.below(sections.len())].clone();
                        removed = Some(section.clone());
                        Box::new(move |r| {
                            r.change(&list, FieldEdit::RemoveItem { id: section }).ok()
                        })
                    }
                    n => {
                        let pick = |rng: &mut Rng| sections[rng.below(sections.len())].clone();
                        let field = match n {
                            6 | 7 => FieldPath::top("title"),
                            8 | 9 => FieldPath::top("summary"),
                            _ if sections.is_empty() => FieldPath::top("summary"),
                            10 => FieldPath::item("sections", pick(rng), "heading"),
                            _ => FieldPath::item("sections", pick(rng), "body"),
                        };
                        let before = read_field(record, &field).unwrap_or_default();
                        let (after, typed) = random_text_edit(rng, &before, &token);
                        text_edit = Some((field.clone(), before, after.clone(), typed));
                        Box::new(move |r| write_field(r, &field, &after))
                    }
                }
            }
        };
        let Some(op) = client.replica.edit(id, edit) else {
            return;
        };
        if let Some(section) = removed {
            self.note(|| format!("client {c} removes section {} of {id}", section.0));
            self.removed_sections.insert((id, section));
        }
        if let Some((field, before, after, typed)) = text_edit {
            // The edit is one splice of the changed middle, which may reuse
            // neighbouring characters ("[k3]" -> "[k16][k3]" inserts "16][k"):
            // a token counts only if its splice inserted it whole, and is
            // spoiled by any later splice that removes from it or inserts
            // inside it (even if the text still reads the same).
            let before_chars: Vec<char> = before.chars().collect();
            let after_chars: Vec<char> = after.chars().collect();
            let (at, removed, inserted) = splice(&before_chars, &after_chars);
            for (text, start, end) in token_spans(&before_chars) {
                let cut = removed > 0 && start < at + removed && at < end;
                if cut || (start < at && at < end) {
                    self.spoiled.insert(text);
                }
            }
            if typed && inserted.contains(&token) {
                self.tokens.push(Token {
                    text: token.clone(),
                    record: id,
                    field: field.clone(),
                    op: op.op,
                });
            }
            self.note(|| {
                format!(
                    "client {c} edits {field:?} of {id} (op {}): {before:?} -> {after:?}",
                    short(op.op)
                )
            });
        } else {
            self.note(|| format!("client {c} edits {id} (op {})", short(op.op)));
        }
        self.ops.insert(op.op, op);
    }

    fn start_push(&mut self, c: usize) {
        let client = &mut self.clients[c];
        if client.push.is_some() {
            return;
        }
        // A small byte budget in some pushes, so outboxes go in several requests.
        let budget = if self.rng.chance(30) { 200 } else { 1 << 20 };
        let Some(request) = client.replica.next_push(budget) else {
            return;
        };
        self.next_request += 1;
        let id = self.next_request;
        client.push = Some(id);
        self.note(|| format!("client {c} sends push #{id} of {} ops", request.ops.len()));
        self.network.push(Message::PushRequest {
            client: c,
            id,
            ops: request.ops,
        });
    }

    fn start_pull(&mut self, c: usize) {
        let client = &mut self.clients[c];
        if client.pull.is_some() {
            return;
        }
        let mut query = client.replica.next_pull();
        query.limit = self.pull_limit;
        self.next_request += 1;
        let id = self.next_request;
        client.pull = Some(id);
        self.note(|| format!("client {c} sends pull #{id} since {}", query.since.0));
        self.network.push(Message::PullRequest {
            client: c,
            id,
            query,
        });
    }

    /// A device stops waiting for its requests (they may still arrive).
    fn time_out(&mut self, c: usize) {
        let client = &mut self.clients[c];
        if client.push.is_some() || client.pull.is_some() {
            self.note(|| format!("client {c} times out"));
        }
        let client = &mut self.clients[c];
        client.push = None;
        client.pull = None;
    }

    /// The device reloads: a new session (new replica id) restored from what it
    /// saved and its outbox; answers to the old session's requests may still come.
    fn reload(&mut self, c: usize) -> Result<(), String> {
        let session = self.rng.next() >> 11;
        let client = &mut self.clients[c];
        client.sessions += 1;
        let client_id = (session & !0xffff) | (client.sessions << 8) | (c as u64 + 1);
        client.client_id = client_id;
        let (cursor, states) = client.saved.clone();
        let outbox = client.replica.outbox().to_vec();
        let queued = outbox.len();
        client.replica =
            Replica::restore(client.replica.device(), client_id, cursor, states, outbox)
                .map_err(|(id, error)| format!("client {c} does not restore {id}: {error}"))?
                .replica;
        client.push = None;
        client.pull = None;
        self.note(|| {
            format!(
                "client {c} reloads from its save at cursor {}, {queued} ops queued",
                cursor.0
            )
        });
        Ok(())
    }

    /// Takes one message off the network: delivered, or on a lossy network
    /// perhaps dropped, or delivered while a copy stays for later.
    async fn deliver_one(&mut self, lossy: bool) -> Result<(), String> {
        if self.network.is_empty() {
            return Ok(());
        }
        let index = self.rng.below(self.network.len());
        let message = self.network.swap_remove(index);
        if lossy && self.rng.chance(DROP_PERCENT) {
            self.note(|| format!("network drops {}", describe(&message)));
            return Ok(());
        }
        if lossy && self.rng.chance(DUPLICATE_PERCENT) {
            self.note(|| format!("network duplicates {}", describe(&message)));
            self.network.push(message.clone());
        }
        self.deliver(message).await
    }

    async fn deliver(&mut self, message: Message) -> Result<(), String> {
        match message {
            Message::PushRequest { client, id, ops } => {
                let count = ops.len();
                let response = self.server.push(ops).await?;
                self.note(|| format!("server answers push #{id} ({count} ops): {response:?}"));
                self.network.push(Message::PushAnswer {
                    client,
                    id,
                    response,
                });
            }
            Message::PullRequest { client, id, query } => {
                let page = self.server.pull(query.clone()).await?;
                self.note(|| {
                    format!(
                        "server answers pull #{id} since {}: {} changes to {}, complete {}",
                        query.since.0,
                        page.changes.len(),
                        page.cursor.0,
                        page.complete
                    )
                });
                self.network.push(Message::PullAnswer {
                    client,
                    id,
                    since: query.since,
                    page,
                });
            }
            Message::PushAnswer {
                client,
                id,
                response,
            } => {
                for (op, outcome) in &response.outcomes {
                    match outcome {
                        OpOutcome::Applied(_) | OpOutcome::AlreadyApplied(_) => {
                            self.acknowledged.insert(*op);
                        }
                        OpOutcome::Rejected(reason) => {
                            return Err(format!("op {} was rejected: {reason}", short(*op)));
                        }
                    }
                }
                let state = &mut self.clients[client];
                let settled = state.replica.acknowledge(&response).settled.len();
                if state.push == Some(id) {
                    state.push = None;
                }
                self.note(|| format!("client {client} takes push answer #{id}: {settled} settled"));
            }
            Message::PullAnswer {
                client,
                id,
                since,
                page,
            } => {
                let state = &mut self.clients[client];
                if state.pull == Some(id) {
                    state.pull = None;
                }
                match state.replica.apply_pull(since, &page) {
                    Ok(pulled) => {
                        if let Some((record, error)) = pulled.unmergeable.first() {
                            return Err(format!(
                                "client {client}: a pulled change of {record} does not merge: {error}"
                            ));
                        }
                        let cursor = state.replica.cursor().0;
                        self.note(|| {
                            format!("client {client} applies pull #{id}, cursor {cursor}")
                        });
                    }
                    Err(stale) => {
                        self.note(|| format!("client {client} ignores pull #{id}: {stale}"));
                    }
                }
            }
        }
        Ok(())
    }

    fn quiet(&self) -> bool {
        self.network.is_empty()
            && self
                .clients
                .iter()
                .all(|client| client.replica.outbox().is_empty())
    }
}

fn short(op: OpId) -> String {
    op.0[..2]
        .iter()
        .chain(&op.0[14..])
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn describe(message: &Message) -> String {
    match message {
        Message::PushRequest { client, id, .. } => format!("push #{id} from client {client}"),
        Message::PushAnswer { client, id, .. } => format!("push answer #{id} to client {client}"),
        Message::PullRequest { client, id, .. } => format!("pull #{id} from client {client}"),
        Message::PullAnswer { client, id, .. } => format!("pull answer #{id} to client {client}"),
    }
}

/// Decodes a yrs v1 state vector (count, then client and clock pairs, all
/// varints) into a comparable map; the encoding's order is unspecified.
fn state_vector(record: &Record) -> Result<BTreeMap<u64, u64>, String> {
    let bytes = record.state_vector();
    let mut at = 0;
    let mut varint = || -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *bytes
                .get(at)
                .ok_or_else(|| "a state vector ends early".to_owned())?;
            at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a state vector varint is too long".to_owned())
    };
    let count = varint()?;
    let mut vector = BTreeMap::new();
    for _ in 0..count {
        let client = varint()?;
        let clock = varint()?;
        vector.insert(client, clock);
    }
    Ok(vector)
}

/// What a run did, for the closing line.
#[derive(Default, Clone, Copy)]
struct Stats {
    ops: usize,
    shared_edits: usize,
    acknowledged: usize,
    tokens_checked: usize,
    restarts: usize,
    compactions: usize,
    repairs: usize,
    reloads: u64,
    timings: [Duration; 4],
    calls: [usize; 4],
}

/// A device that only reads: pulls everything from the start, as a new device would.
async fn read_server(server: &mut Server) -> Result<Replica, String> {
    let mut reader = Replica::new(DeviceId([0xee; 16]), 0x0e_e0ee);
    for _ in 0..10_000 {
        let query = all_after(reader.cursor());
        let page = server.pull(query.clone()).await?;
        let pulled = reader
            .apply_pull(query.since, &page)
            .map_err(|stale| format!("reader: {stale}"))?;
        if let Some((record, error)) = pulled.unmergeable.first() {
            return Err(format!(
                "the server's change of {record} does not merge: {error}"
            ));
        }
        if page.complete {
            return Ok(reader);
        }
    }
    Err("the server's log never completes".to_owned())
}

/// A temporary folder, in memory where the system has one: the engine syncs every
/// commit to disk, and what a restart must keep is what the engine wrote, not
/// what survives a power cut.
fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::tempdir_in(shm) {
            return Ok(dir);
        }
    }
    tempfile::tempdir()
}

/// A data dir whose database has been opened (so migrated) and closed: a seed
/// starts from a copy, which opens in a fraction of the time a new one takes.
struct Template(tempfile::TempDir);

impl Template {
    async fn new() -> Template {
        let dir = scratch_dir().expect("a temporary folder");
        let config = Config::for_data_dir(dir.path());
        drop(
            SurrealStorage::open(&config)
                .await
                .expect("a new database opens"),
        );
        // Opening again waits until the first instance has let go of the files.
        drop(
            SurrealStorage::open(&config)
                .await
                .expect("the database reopens"),
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        Template(dir)
    }

    fn copy(&self) -> Result<tempfile::TempDir, String> {
        fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
            std::fs::create_dir_all(to)?;
            for entry in std::fs::read_dir(from)? {
                let entry = entry?;
                let target = to.join(entry.file_name());
                if entry.file_type()?.is_dir() {
                    copy_dir(&entry.path(), &target)?;
                } else {
                    std::fs::copy(entry.path(), target)?;
                }
            }
            Ok(())
        }
        let dir = scratch_dir().map_err(|error| format!("temp dir: {error}"))?;
        copy_dir(self.0.path(), dir.path()).map_err(|error| format!("copy: {error}"))?;
        Ok(dir)
    }
}

async fn run_seed(
    seed: u64,
    fault: Fault,
    template: &Template,
) -> Result<Stats, (String, Vec<String>)> {
    let data = template.copy().map_err(|error| (error, Vec::new()))?;
    let mut rng = Rng(seed);
    let mut config = Config::for_data_dir(data.path());
    // Some seeds keep only a few log entries and compact at random moments, so
    // devices fall behind the horizon and catch up from record states.
    let compacting = rng.chance(30);
    if compacting {
        config.sync_log_max_entries = 1 + rng.below(6) as u64;
    }
    let server = Server::open(config, fault)
        .await
        .map_err(|error| (error, Vec::new()))?;
    let client_count = 3 + rng.below(3);
    let clients = (0..client_count)
        .map(|index| {
            let mut device = rng.bytes::<16>();
            device[0] = index as u8;
            // Distinct, non-zero (the server's id) 53-bit replica ids.
            let client_id = ((rng.next() >> 11) & !0xff) | (index as u64 + 1);
            Client {
                replica: Replica::new(DeviceId(device), client_id),
                push: None,
                pull: None,
                sections_made: 0,
                saved: (Seq(0), Vec::new()),
                sessions: 1,
                client_id,
            }
        })
        .collect();
    let pull_limit = if rng.chance(15) {
        1 + rng.below(3) as u32
    } else {
        MAX_PULL_LIMIT
    };
    let mut world = World {
        rng,
        clients,
        network: Vec::new(),
        server,
        next_request: 0,
        ops: HashMap::new(),
        acknowledged: BTreeSet::new(),
        tokens: Vec::new(),
        spoiled: HashSet::new(),
        removed_sections: HashSet::new(),
        trace: Vec::new(),
        pull_limit,
        compacting,
        repairs: 0,
        creators: HashMap::new(),
        shared_edits: 0,
    };
    let result = run(&mut world).await;
    let trace = std::mem::take(&mut world.trace);
    drop(world);
    result.map_err(|error| (error, trace))
}

/// The devices start from one or two records client 0 created and everyone
/// synced before the run (restored from saved states at the log's end), so
/// most edits are concurrent edits of the same records.
async fn share_records(world: &mut World) -> Result<(), String> {
    for _ in 0..1 + world.rng.below(2) {
        world.edit(0);
    }
    let Some(request) = world.clients[0].replica.next_push(1 << 20) else {
        return Err("nothing to share".to_owned());
    };
    let response = world.server.push(request.ops).await?;
    world
        .deliver(Message::PushAnswer {
            client: 0,
            id: 0,
            response,
        })
        .await?;
    let cursor = world.server.head();
    let states = saved_records(&world.clients[0].replica);
    for c in 1..world.clients.len() {
        let client = &mut world.clients[c];
        client.replica = Replica::restore(
            client.replica.device(),
            client.client_id,
            cursor,
            states.clone(),
            Vec::new(),
        )
        .map_err(|(id, error)| format!("client {c} does not restore {id}: {error}"))?
        .replica;
        client.saved = (cursor, states.clone());
    }
    world.note(|| {
        format!(
            "every device holds the shared records at cursor {}",
            cursor.0
        )
    });
    Ok(())
}

async fn run(world: &mut World) -> Result<Stats, String> {
    let edits = 5 + world.rng.below(10);
    // A fifth of the seeds restart the server once or twice while devices edit
    // (and once more before the final read).
    let restart_after: Vec<usize> = if world.rng.chance(20) {
        (0..1 + world.rng.below(2))
            .map(|_| world.rng.below(edits))
            .collect()
    } else {
        Vec::new()
    };
    let clients = world.clients.len();
    share_records(world).await?;
    world.note(|| {
        format!("{clients} clients, {edits} edits, restarts after edits {restart_after:?}")
    });

    // Chaos: edits, requests, deliveries, losses, duplicates, timeouts, restarts.
    let mut done = 0;
    while done < edits {
        let c = world.rng.below(clients);
        match world.rng.below(100) {
            0..=24 => {
                for _ in 0..1 + world.rng.below(3) {
                    world.edit(c);
                    if world.rng.chance(50) {
                        world.clients[c].save();
                    }
                    for _ in restart_after.iter().filter(|&&at| at == done) {
                        world.note(|| "server restarts".to_owned());
                        world.server.restart().await?;
                    }
                    done += 1;
                }
            }
            25..=39 => world.start_push(c),
            // A device pulls when the server's events say the log grew, and
            // now and then on its timer.
            40..=54 => {
                if world.clients[c].replica.cursor() < world.server.head() || world.rng.chance(10) {
                    world.start_pull(c);
                }
            }
            55..=59 => world.time_out(c),
            60 | 61 => world.reload(c)?,
            62..=65 if world.compacting => {
                let (from, through) = world.server.compact().await?;
                world.note(|| format!("server compacts the log: horizon {from} -> {through}"));
            }
            _ => world.deliver_one(true).await?,
        }
    }

    // Quiescence: no more edits, losses or restarts. Devices give up on requests
    // that were lost, then everything is delivered (still in random order).
    world.note(|| "quiescence".to_owned());
    let waiting: HashSet<(usize, u64)> = world
        .network
        .iter()
        .map(|message| match message {
            Message::PushRequest { client, id, .. }
            | Message::PushAnswer { client, id, .. }
            | Message::PullRequest { client, id, .. }
            | Message::PullAnswer { client, id, .. } => (*client, *id),
        })
        .collect();
    for (c, client) in world.clients.iter_mut().enumerate() {
        client.push = client.push.filter(|id| waiting.contains(&(c, *id)));
        client.pull = client.pull.filter(|id| waiting.contains(&(c, *id)));
    }
    let mut steps = 0;
    while !world.quiet() {
        steps += 1;
        if steps > QUIESCENCE_STEPS {
            return Err(format!("no quiescence after {QUIESCENCE_STEPS} steps"));
        }
        for c in 0..clients {
            world.start_push(c);
        }
        world.deliver_one(false).await?;
    }
    // Every device pulls to the end of the log (the events tell it where that is).
    for c in 0..clients {
        let mut pages = 0;
        while world.clients[c].replica.cursor() < world.server.head() {
            pages += 1;
            if pages > 10_000 {
                return Err(format!("client {c}: the log never completes"));
            }
            world.clients[c].pull = None;
            world.start_pull(c);
            let Some(Message::PullRequest { client, id, query }) = world.network.pop() else {
                return Err("the pull was not sent".to_owned());
            };
            let page = world.server.pull(query.clone()).await?;
            world
                .deliver(Message::PullAnswer {
                    client,
                    id,
                    since: query.since,
                    page,
                })
                .await?;
        }
        // A copy that waits for a missing update asks for the record's whole state.
        for id in world.clients[c].replica.records_needing_repair() {
            let state =
                world.server.record(id).await?.ok_or_else(|| {
                    format!("client {c} needs {id} repaired; the server lacks it")
                })?;
            world.note(|| format!("client {c} repairs {id} from its whole state"));
            world.repairs += 1;
            world.clients[c]
                .replica
                .apply_change(&state)
                .map_err(|error| {
                    format!("client {c}: the state of {id} does not merge: {error}")
                })?;
        }
        let repair = world.clients[c].replica.records_needing_repair();
        if !repair.is_empty() {
            return Err(format!(
                "client {c} still needs records repaired: {repair:?}"
            ));
        }
    }

    // The server's documents, as a new device sees them; after a restart if the
    // seed restarts, so everything acknowledged must also be on disk.
    if world.server.restarts > 0 {
        world.note(|| "server restarts before the final read".to_owned());
        world.server.restart().await?;
    }
    let server = read_server(&mut world.server).await?;
    // The records endpoint must serve the same documents as the log.
    for record in server.ids().into_iter().filter_map(|id| server.copy_of(id)) {
        let record = &record;
        let stored = world
            .server
            .record(record.id())
            .await?
            .ok_or_else(|| format!("the records endpoint lacks {}", record.id()))?;
        let copy =
            Record::load(record.id(), 0x0d_0e_0f, &stored.update).map_err(|e| e.to_string())?;
        if state_vector(&copy)? != state_vector(record)? || copy.projection() != record.projection()
        {
            return Err(format!(
                "the records endpoint's {} differs from the log's: {:?} vs {:?}",
                record.id(),
                copy.projection(),
                record.projection()
            ));
        }
    }
    check(world, &server)
}

/// Every acknowledged op is in the server's document: applying it again to a
/// copy changes neither what the copy has seen nor what it reads, and leaves
/// nothing waiting. (An op that only deletes changes no state vector; it shows
/// in what the copy reads.)
fn acknowledged_ops_present(
    server: &Replica,
    ops: &HashMap<OpId, PushOp>,
    acknowledged: &BTreeSet<OpId>,
) -> Result<(), String> {
    let mut by_record: BTreeMap<RecordId, Vec<&PushOp>> = BTreeMap::new();
    for op in acknowledged {
        let op = ops.get(op).ok_or("an acknowledged op nobody sent")?;
        by_record.entry(op.record).or_default().push(op);
    }
    for (id, ops) in &by_record {
        let Some(stored) = server.copy_of(*id) else {
            return Err(format!(
                "record {id} had acknowledged ops but the server lacks it"
            ));
        };
        let stored = &stored;
        let state = stored.state();
        let before = (state_vector(stored)?, stored.projection());
        let copy = Record::load(*id, 0x0c_0f_fe, &state).map_err(|e| e.to_string())?;
        for op in ops {
            copy.apply_update(&op.update).map_err(|e| e.to_string())?;
        }
        if (state_vector(&copy)?, copy.projection()) != before || copy.has_missing_updates() {
            // Find the first op that makes a difference, for the report.
            for op in ops {
                let one = Record::load(*id, 0x0c_0f_fe, &state).map_err(|e| e.to_string())?;
                one.apply_update(&op.update).map_err(|e| e.to_string())?;
                if (state_vector(&one)?, one.projection()) != before || one.has_missing_updates() {
                    return Err(format!(
                        "acknowledged op {} of {id} is missing from the server's document:\n  \
                         without it: {:?}\n  with it:    {:?}",
                        short(op.op),
                        before.1,
                        one.projection()
                    ));
                }
            }
            return Err(format!(
                "the acknowledged ops of {id} together change the server's document"
            ));
        }
    }
    Ok(())
}

/// The invariants at quiescence.
fn check(world: &World, server: &Replica) -> Result<Stats, String> {
    acknowledged_ops_present(server, &world.ops, &world.acknowledged)?;
    let stale = server.records_needing_repair();
    if !stale.is_empty() {
        return Err(format!(
            "the server's documents wait for missing updates: {stale:?}"
        ));
    }

    // Every token typed in an acknowledged op is still where it was typed,
    // unless a device later deleted or cut it, or removed its section.
    let mut tokens_checked = 0;
    for token in &world.tokens {
        if !world.acknowledged.contains(&token.op) || world.spoiled.contains(&token.text) {
            continue;
        }
        if let Some(section) = token.field.innermost_item() {
            if world
                .removed_sections
                .contains(&(token.record, section.clone()))
            {
                continue;
            }
        }
        let record = server
            .copy_of(token.record)
            .ok_or_else(|| format!("record {} is missing", token.record))?;
        let text = read_field(&record, &token.field).ok_or_else(|| {
            format!(
                "{:?} of {} is gone, with acknowledged token {}",
                token.field, token.record, token.text
            )
        })?;
        if !text.contains(&token.text) {
            return Err(format!(
                "acknowledged token {} (op {}) is missing from {:?} of {}: {text:?}",
                token.text,
                short(token.op),
                token.field,
                token.record
            ));
        }
        tokens_checked += 1;
    }
    let server_ids: Vec<RecordId> = server.ids();
    for (c, client) in world.clients.iter().enumerate() {
        let ids: Vec<RecordId> = client.replica.ids();
        if ids != server_ids {
            return Err(format!(
                "client {c} holds records {ids:?}, the server {server_ids:?}"
            ));
        }
        if !client.replica.outbox().is_empty() {
            return Err(format!("client {c} still has ops to push"));
        }
        for record in ids.iter().filter_map(|id| client.replica.copy_of(*id)) {
            let record = &record;
            let theirs = &server.copy_of(record.id()).expect("the same ids");
            if state_vector(record)? != state_vector(theirs)? {
                return Err(format!(
                    "client {c} has seen other edits of {} than the server: {:?} vs {:?}",
                    record.id(),
                    state_vector(record)?,
                    state_vector(theirs)?
                ));
            }
            if record.projection() != theirs.projection() || record.projection().is_none() {
                return Err(format!(
                    "client {c}'s copy of {} differs from the server's:\n  {:?}\nvs\n  {:?}",
                    record.id(),
                    record.projection(),
                    theirs.projection()
                ));
            }
        }
    }

    if world.ops.len() != world.acknowledged.len() {
        return Err(format!(
            "{} ops were queued but {} acknowledged",
            world.ops.len(),
            world.acknowledged.len()
        ));
    }
    Ok(Stats {
        ops: world.ops.len(),
        shared_edits: world.shared_edits,
        acknowledged: world.acknowledged.len(),
        tokens_checked,
        restarts: world.server.restarts,
        compactions: world.server.compactions,
        repairs: world.repairs,
        reloads: world.clients.iter().map(|client| client.sessions - 1).sum(),
        timings: world.server.timings,
        calls: world.server.calls,
    })
}

/// Whether runs keep a trace (when one seed is replayed), and print it as they
/// go (`TERN_TRACE=1` with `TERN_SEED`, to see a passing seed's run).
static TRACE: AtomicBool = AtomicBool::new(false);
static PRINT_TRACE: AtomicBool = AtomicBool::new(false);

fn seeds() -> Vec<u64> {
    match std::env::var("TERN_SEED") {
        Ok(seed) => vec![seed.trim().parse().expect("TERN_SEED is a number")],
        Err(_) => {
            let count = std::env::var("TERN_SEEDS")
                .ok()
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(1_000u64);
            (0..count).collect()
        }
    }
}

/// Runs the seeds on two threads (the storage is CPU-bound in a debug build),
/// each with its own single-threaded runtime; a seed's run is deterministic
/// whatever the other thread does.
fn run_seeds(seeds: &[u64], fault: Fault) -> (Vec<(u64, String, Vec<String>)>, Stats) {
    let next = AtomicU64::new(0);
    let failures = Mutex::new(Vec::new());
    let totals = Mutex::new(Stats::default());
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4)
        .min(seeds.len());
    let template = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(Template::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime");
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(&seed) = seeds.get(index) else {
                        break;
                    };
                    // Stop early once a few seeds have failed.
                    if failures.lock().expect("lock").len() >= 5 {
                        break;
                    }
                    match runtime.block_on(run_seed(seed, fault, &template)) {
                        Ok(stats) => {
                            let mut totals = totals.lock().expect("lock");
                            totals.ops += stats.ops;
                            totals.shared_edits += stats.shared_edits;
                            totals.acknowledged += stats.acknowledged;
                            totals.tokens_checked += stats.tokens_checked;
                            totals.restarts += stats.restarts;
                            totals.compactions += stats.compactions;
                            totals.repairs += stats.repairs;
                            totals.reloads += stats.reloads;
                            for (total, time) in totals.timings.iter_mut().zip(stats.timings) {
                                *total += time;
                            }
                            for (total, calls) in totals.calls.iter_mut().zip(stats.calls) {
                                *total += calls;
                            }
                        }
                        Err((error, trace)) => {
                            failures.lock().expect("lock").push((seed, error, trace));
                        }
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("lock");
    failures.sort_by_key(|(seed, _, _)| *seed);
    (failures, totals.into_inner().expect("lock"))
}

#[test]
fn devices_and_server_converge_under_reordering_duplication_loss_and_restarts() {
    let seeds = seeds();
    let replay = seeds.len() == 1;
    TRACE.store(replay, Ordering::Relaxed);
    PRINT_TRACE.store(
        replay && std::env::var_os("TERN_TRACE").is_some(),
        Ordering::Relaxed,
    );
    let started = Instant::now();
    let (failures, totals) = run_seeds(&seeds, Fault::None);
    println!(
        "{} seeds in {:.1?}: {} ops ({} edits of another device's record), all acknowledged \
         and present, {} tokens checked, \
         {} server restarts, {} compactions, {} device reloads, {} records repaired",
        seeds.len(),
        started.elapsed(),
        totals.ops,
        totals.shared_edits,
        totals.tokens_checked,
        totals.restarts,
        totals.compactions,
        totals.reloads,
        totals.repairs
    );
    println!(
        "storage time: {:.1?} in {} opens, {:.1?} in {} pushes, {:.1?} in {} pulls, \
         {:.1?} in {} record reads and compactions",
        totals.timings[0],
        totals.calls[0],
        totals.timings[1],
        totals.calls[1],
        totals.timings[2],
        totals.calls[2],
        totals.timings[3],
        totals.calls[3]
    );
    if failures.is_empty() {
        return;
    }
    let mut report = String::new();
    for (seed, error, trace) in &failures {
        if replay && !PRINT_TRACE.load(Ordering::Relaxed) {
            for line in trace {
                report.push_str(&format!("  {line}\n"));
            }
        }
        report.push_str(&format!(
            "seed {seed} failed: {error}\n  replay: TERN_SEED={seed} cargo test --test sync_convergence\n"
        ));
    }
    panic!("{} seed(s) failed:\n{report}", failures.len());
}

/// The checks must be able to fail: a server that acknowledges an op without
/// storing it is caught on every seed, whatever the op was.
#[test]
fn an_acknowledged_but_lost_op_is_caught() {
    let seeds: Vec<u64> = (0..6).collect();
    let (failures, _) = run_seeds(&seeds, Fault::LoseOp(3));
    let caught: Vec<u64> = failures.iter().map(|(seed, _, _)| *seed).collect();
    assert_eq!(caught, seeds, "{failures:#?}");
    // Caught by the checks, not by the harness: a lost op surfaces as a missing
    // acknowledged op, as copies that differ, or (when later ops build on it) as
    // documents that wait for it forever.
    for (seed, error, _) in &failures {
        assert!(
            [
                "acknowledged",
                "differ",
                "needs",
                "needing",
                "missing",
                "seen other edits"
            ]
            .iter()
            .any(|check| error.contains(check)),
            "seed {seed}: {error}"
        );
    }
}

/// The acknowledged-op check on its own: a server document without one
/// acknowledged op fails it, also when the op only deletes.
#[test]
fn a_document_without_an_acknowledged_op_fails_the_check() {
    let id = RecordId::v7(1_760_000_000_000, [7; 10]);
    let mut device = Replica::new(DeviceId([1; 16]), 11);
    let mut ops = vec![device.create(id, RecordKind::Project)];
    for title in ["Child rights", "Child"] {
        ops.extend(device.edit(id, |r| r.set_text("title", title).ok()));
    }
    assert_eq!(ops.len(), 3);
    let all: HashMap<OpId, PushOp> = ops.iter().map(|op| (op.op, op.clone())).collect();
    let acknowledged: BTreeSet<OpId> = all.keys().copied().collect();
    for lost in [1, 2] {
        let mut server = Replica::new(DeviceId([2; 16]), 22);
        for op in ops.iter().take(lost) {
            let change = Change {
                seq: Seq(1),
                record: op.record,
                kind: op.kind,
                update: op.update.clone(),
            };
            server.apply_change(&change).expect("merges");
        }
        let error =
            acknowledged_ops_present(&server, &all, &acknowledged).expect_err("a lost op is found");
        assert!(error.contains(&short(ops[lost].op)), "{error}");
    }
    let mut server = Replica::new(DeviceId([2; 16]), 22);
    for op in &ops {
        let change = Change {
            seq: Seq(1),
            record: op.record,
            kind: op.kind,
            update: op.update.clone(),
        };
        server.apply_change(&change).expect("merges");
    }
    assert_eq!(
        acknowledged_ops_present(&server, &all, &acknowledged),
        Ok(())
    );
}
