//! Who may do what, over the real HTTP and sync APIs: a role × operation
//! matrix (every allowed and every denied case), guessed record ids (IDOR),
//! and grants that bring a record to an invitee whatever their cursor.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use tern_domain::api::ErrorBody;
use tern_domain::auth::{
    Denied, Grant, MemberStateChange, NewUser, Role, UserChange, UserId, GRANTS_PATH, MEMBERS_PATH,
    USERS_PATH,
};
use tern_domain::client::Replica;
use tern_domain::record::kinds::recommendation::{STANCE, STATUS};
use tern_domain::record::{FieldEdit, FieldPath, Record, RecordId, RecordKind, Stamp, Update};
use tern_domain::sync::{
    self, Change, DeviceId, OpId, OpOutcome, PullQuery, PullResponse, PushOp, PushRequest, Seq,
    EVENTS_PATH, PUSH_PATH, RECORDS_PATH,
};
use tern_tests::{spawn_app, TestApp, TestUser};

static NEXT: AtomicU64 = AtomicU64::new(1);

/// A number no other op, record or replica in this test binary has.
fn unique() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn new_record_id() -> RecordId {
    let n = unique();
    RecordId::v7(1_760_000_000_000 + n, [(n % 251) as u8; 10])
}

fn op(record: RecordId, kind: RecordKind, update: &Update) -> PushOp {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&unique().to_be_bytes());
    PushOp {
        op: OpId(id),
        record,
        kind,
        update: update.0.clone(),
    }
}

async fn push(app: &TestApp, client: &reqwest::Client, op: PushOp) -> OpOutcome {
    let response = client
        .post(app.url(PUSH_PATH))
        .header("content-type", sync::CONTENT_TYPE)
        .body(sync::encode(&PushRequest { ops: vec![op] }))
        .send()
        .await
        .expect("push sent");
    assert_eq!(response.status(), 200, "push refused");
    let answer: sync::PushResponse =
        sync::decode(&response.bytes().await.expect("body")).expect("a push response");
    answer.outcomes.into_iter().next().expect("one outcome").1
}

async fn get_record(app: &TestApp, client: &reqwest::Client, id: RecordId) -> reqwest::Response {
    client
        .get(app.url(&format!("{RECORDS_PATH}/{id}")))
        .send()
        .await
        .expect("sent")
}

/// The record as the server has it now, in a copy with a replica id of its own
/// (so an edit made in it never collides with one the server refused).
async fn server_copy(app: &TestApp, id: RecordId) -> Record {
    let response = get_record(app, &app.client, id).await;
    assert_eq!(response.status(), 200);
    let change: Change = sync::decode(&response.bytes().await.expect("body")).expect("a change");
    Record::load(id, 1_000_000 + unique(), &change.update).expect("loads")
}

/// Every record a user's pull from `since` brings, with the final cursor.
async fn pull_records(
    app: &TestApp,
    client: &reqwest::Client,
    since: Seq,
) -> (BTreeSet<RecordId>, Seq) {
    let mut records = BTreeSet::new();
    let mut cursor = since;
    loop {
        let query = PullQuery {
            since: cursor,
            limit: 1_000,
            device: None,
            kinds: None,
        };
        let response = client
            .get(app.url(&query.path()))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200);
        let page: PullResponse =
            sync::decode(&response.bytes().await.expect("body")).expect("a page");
        records.extend(page.changes.iter().map(|change| change.record));
        cursor = page.cursor;
        if page.complete {
            return (records, cursor);
        }
    }
}

/// A recommendation created by the secretariat, with a title.
async fn recommendation(app: &TestApp, title: &str) -> RecordId {
    let (record, created) = Record::create(new_record_id(), RecordKind::Recommendation, unique());
    let titled = record.set_text("title", title).expect("title");
    for update in [created, titled] {
        let outcome = push(
            app,
            &app.client,
            op(record.id(), RecordKind::Recommendation, &update),
        )
        .await;
        assert!(matches!(outcome, OpOutcome::Applied(_)), "{outcome:?}");
    }
    record.id()
}

async fn grant(app: &TestApp, record: RecordId, user: &UserId, granted: bool) -> reqwest::Response {
    app.client
        .post(app.url(GRANTS_PATH))
        .json(&Grant {
            record,
            user: user.clone(),
            granted,
        })
        .send()
        .await
        .expect("sent")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Secretariat,
    /// A member for Finland.
    Member,
    /// A contributor invited to the shared record.
    Invited,
    Uninvited,
    /// An observer given the shared record.
    Given,
    NotGiven,
}

const EVERYONE: [Who; 6] = [
    Who::Secretariat,
    Who::Member,
    Who::Invited,
    Who::Uninvited,
    Who::Given,
    Who::NotGiven,
];

struct World {
    app: TestApp,
    users: Vec<(Who, Option<TestUser>)>,
    /// Shared with the invited contributor and the observer given it.
    shared: RecordId,
    /// Shared with nobody.
    private: RecordId,
}

impl World {
    async fn new() -> World {
        let app = spawn_app().await;
        let mut users = vec![(Who::Secretariat, None)];
        for (who, role, state) in [
            (Who::Member, Role::Member, Some("FI")),
            (Who::Invited, Role::Contributor, None),
            (Who::Uninvited, Role::Contributor, None),
            (Who::Given, Role::Observer, None),
            (Who::NotGiven, Role::Observer, None),
        ] {
            users.push((who, Some(app.create_user(role, state).await)));
        }
        let shared = recommendation(&app, "Shared draft").await;
        let private = recommendation(&app, "Private draft").await;
        let world = World {
            app,
            users,
            shared,
            private,
        };
        for who in [Who::Invited, Who::Given] {
            let response = grant(&world.app, shared, &world.user(who).id, true).await;
            assert_eq!(response.status(), 200);
        }
        world
    }

    fn user(&self, who: Who) -> &TestUser {
        self.users
            .iter()
            .find(|(w, _)| *w == who)
            .and_then(|(_, user)| user.as_ref())
            .expect("a created user")
    }

    fn client(&self, who: Who) -> &reqwest::Client {
        match who {
            Who::Secretariat => &self.app.client,
            other => &self.user(other).client,
        }
    }

    /// Edits a fresh copy of the shared record as `who` and pushes the edit.
    async fn edit_shared(&self, who: Who, edit: impl FnOnce(&Record) -> Update) -> OpOutcome {
        let copy = server_copy(&self.app, self.shared).await;
        let update = edit(&copy);
        push(
            &self.app,
            self.client(who),
            op(self.shared, RecordKind::Recommendation, &update),
        )
        .await
    }
}

/// What an op's outcome should be.
#[derive(Debug)]
enum Expect {
    Applied,
    Rejected(String),
}

fn check(who: Who, operation: &str, outcome: &OpOutcome, expected: &Expect) {
    match (outcome, expected) {
        (OpOutcome::Applied(_), Expect::Applied) => {}
        (OpOutcome::Rejected(reason), Expect::Rejected(text)) if reason == text => {}
        _ => panic!("{who:?} {operation}: got {outcome:?}, expected {expected:?}"),
    }
}

fn rejected(denied: Denied) -> Expect {
    Expect::Rejected(denied.to_wire())
}

fn next_status(record: &Record) -> &'static str {
    let now = record.projection().expect("kind");
    STATUS
        .options
        .iter()
        .copied()
        .find(|status| now.status() != Some(status))
        .expect("another status")
}

fn next_stance(record: &Record, code: &str) -> &'static str {
    let now = record.projection().expect("kind");
    let current = now
        .per_member("positions")
        .into_iter()
        .find(|(c, _)| *c == code)
        .map(|(_, stance)| stance.to_owned());
    STANCE
        .options
        .iter()
        .copied()
        .find(|stance| current.as_deref() != Some(stance))
        .expect("another stance")
}

fn set_status(record: &Record, status: &str) -> Update {
    record
        .change(
            &FieldPath::top("status"),
            FieldEdit::Choice(Some(status.into())),
        )
        .expect("a status")
}

fn set_position(record: &Record, code: &str, stance: &str) -> Update {
    record
        .change(
            &FieldPath::top("positions"),
            FieldEdit::Keyed {
                key: code.into(),
                value: Some(stance.into()),
            },
        )
        .expect("a position")
}

#[tokio::test]
async fn every_role_may_do_exactly_what_its_role_allows_over_sync() {
    let world = World::new().await;
    let shared = world.shared.to_string();
    for who in EVERYONE {
        // Create a record.
        let new_id = new_record_id();
        let (_, created) = Record::create(new_id, RecordKind::Project, unique());
        let outcome = push(
            &world.app,
            world.client(who),
            op(new_id, RecordKind::Project, &created),
        )
        .await;
        let expected = match who {
            Who::Secretariat | Who::Member => Expect::Applied,
            Who::Invited | Who::Uninvited => rejected(Denied::NotInvited(new_id.to_string())),
            Who::Given | Who::NotGiven => rejected(Denied::ReadOnly),
        };
        check(who, "creates a record", &outcome, &expected);

        // Edit the shared record's text.
        let outcome = world
            .edit_shared(who, |r| {
                r.set_text("title", &format!("Edited by {who:?}"))
                    .expect("title")
            })
            .await;
        let expected = match who {
            Who::Secretariat | Who::Member | Who::Invited => Expect::Applied,
            Who::Uninvited => rejected(Denied::NotInvited(shared.clone())),
            Who::Given | Who::NotGiven => rejected(Denied::ReadOnly),
        };
        check(who, "edits the text", &outcome, &expected);

        // Change the recommendation's status.
        let outcome = world
            .edit_shared(who, |r| set_status(r, next_status(r)))
            .await;
        let expected = match who {
            Who::Secretariat => Expect::Applied,
            Who::Member | Who::Invited => rejected(Denied::SecretariatField("status".into())),
            Who::Uninvited => rejected(Denied::NotInvited(shared.clone())),
            Who::Given | Who::NotGiven => rejected(Denied::ReadOnly),
        };
        check(who, "changes the status", &outcome, &expected);

        // Record Finland's position (the member's own state).
        let outcome = world
            .edit_shared(who, |r| set_position(r, "FI", next_stance(r, "FI")))
            .await;
        let expected = match who {
            Who::Secretariat | Who::Member => Expect::Applied,
            Who::Invited => rejected(Denied::MembersOnly("positions".into())),
            Who::Uninvited => rejected(Denied::NotInvited(shared.clone())),
            Who::Given | Who::NotGiven => rejected(Denied::ReadOnly),
        };
        check(who, "records Finland's position", &outcome, &expected);

        // Record Sweden's position (another state's, for the member).
        let outcome = world
            .edit_shared(who, |r| set_position(r, "SE", next_stance(r, "SE")))
            .await;
        let expected = match who {
            Who::Secretariat => Expect::Applied,
            Who::Member => rejected(Denied::NotYourState("SE".into())),
            Who::Invited => rejected(Denied::MembersOnly("positions".into())),
            Who::Uninvited => rejected(Denied::NotInvited(shared.clone())),
            Who::Given | Who::NotGiven => rejected(Denied::ReadOnly),
        };
        check(who, "records Sweden's position", &outcome, &expected);
    }

    // What was refused is not in the record: the status and Sweden's position
    // are the secretariat's, Finland's the secretariat's or the member's.
    let record = server_copy(&world.app, world.shared).await;
    let projection = record.projection().expect("kind");
    assert_eq!(projection.per_member("positions").len(), 2);
    assert!(
        projection.title().starts_with("Edited by"),
        "{}",
        projection.title()
    );
}

#[tokio::test]
async fn every_role_reads_exactly_what_it_may_see() {
    let world = World::new().await;
    for who in EVERYONE {
        let sees_all = matches!(who, Who::Secretariat | Who::Member);
        let sees_shared = sees_all || matches!(who, Who::Invited | Who::Given);
        let (records, _) = pull_records(&world.app, world.client(who), Seq(0)).await;
        assert_eq!(
            records.contains(&world.shared),
            sees_shared,
            "{who:?} pull: shared"
        );
        assert_eq!(
            records.contains(&world.private),
            sees_all,
            "{who:?} pull: private"
        );
        for (id, visible) in [(world.shared, sees_shared), (world.private, sees_all)] {
            let status = get_record(&world.app, world.client(who), id).await.status();
            assert_eq!(status, if visible { 200 } else { 404 }, "{who:?} GET {id}");
        }
        let events = world
            .client(who)
            .get(world.app.url(EVENTS_PATH))
            .send()
            .await
            .expect("sent");
        assert_eq!(events.status(), 200, "{who:?} events");
        drop(events);
        let members = world
            .client(who)
            .get(world.app.url(MEMBERS_PATH))
            .send()
            .await
            .expect("sent");
        assert_eq!(members.status(), 200, "{who:?} members");
    }

    // Signed out: nothing at all.
    let anonymous = world.app.anonymous_client();
    let push = anonymous
        .post(world.app.url(PUSH_PATH))
        .body(sync::encode(&PushRequest { ops: Vec::new() }))
        .send()
        .await
        .expect("sent");
    let pull = anonymous
        .get(world.app.url(&format!("{}?since=0", sync::PULL_PATH)))
        .send()
        .await
        .expect("sent");
    let record = get_record(&world.app, &anonymous, world.shared).await;
    let events = anonymous
        .get(world.app.url(EVENTS_PATH))
        .send()
        .await
        .expect("sent");
    for response in [push, pull, record, events] {
        let url = response.url().path().to_owned();
        assert_eq!(response.status(), 401, "{url}");
        let body: ErrorBody = response.json().await.expect("JSON");
        assert_eq!(body.error, "signed_out", "{url}");
    }
}

#[tokio::test]
async fn only_the_secretariat_manages_users_members_and_grants() {
    let world = World::new().await;
    let app = &world.app;
    let target = world.user(Who::NotGiven).id.clone();
    for who in EVERYONE {
        let client = world.client(who);
        let allowed = who == Who::Secretariat;
        let mut statuses = Vec::new();
        statuses.push((
            "list users",
            client.get(app.url(USERS_PATH)).send().await.expect("sent"),
        ));
        let n = unique();
        statuses.push((
            "create a user",
            client
                .post(app.url(USERS_PATH))
                .json(&NewUser {
                    name: format!("New {n}"),
                    email: format!("new{n}@tern.test"),
                    role: Role::Observer,
                    member_state: None,
                    organisation: String::new(),
                })
                .send()
                .await
                .expect("sent"),
        ));
        statuses.push((
            "rename a user",
            client
                .post(app.url(&format!("{USERS_PATH}/{target}")))
                .json(&UserChange {
                    name: Some(format!("Renamed by {who:?}")),
                    ..UserChange::default()
                })
                .send()
                .await
                .expect("sent"),
        ));
        statuses.push((
            "change a role",
            client
                .post(app.url(&format!("{USERS_PATH}/{target}")))
                .json(&UserChange {
                    role: Some(Role::Observer),
                    ..UserChange::default()
                })
                .send()
                .await
                .expect("sent"),
        ));
        statuses.push((
            "change a member's active flag",
            client
                .post(app.url(MEMBERS_PATH))
                .json(&MemberStateChange {
                    code: "DE".into(),
                    active: true,
                })
                .send()
                .await
                .expect("sent"),
        ));
        statuses.push((
            "grant a record",
            client
                .post(app.url(GRANTS_PATH))
                .json(&Grant {
                    record: world.private,
                    user: target.clone(),
                    granted: false,
                })
                .send()
                .await
                .expect("sent"),
        ));
        statuses.push((
            "list grants",
            client
                .get(app.url(&format!("{GRANTS_PATH}?record={}", world.shared)))
                .send()
                .await
                .expect("sent"),
        ));
        for (operation, response) in statuses {
            let status = response.status().as_u16();
            if allowed {
                assert!(
                    (200..300).contains(&status),
                    "{who:?} {operation}: {status}"
                );
            } else {
                assert_eq!(status, 403, "{who:?} {operation}");
                let body: ErrorBody = response.json().await.expect("JSON");
                assert_eq!(body.error, "forbidden");
                assert_eq!(body.reason, Denied::SecretariatOnly.to_string());
            }
        }
    }
}

#[tokio::test]
async fn a_guessed_record_id_reveals_nothing() {
    let world = World::new().await;
    let app = &world.app;
    let guesser = world.client(Who::Uninvited);
    let private = world.private;
    let nowhere = new_record_id();
    let copy = server_copy(app, private).await;
    let edit = copy.set_text("title", "Mine now").expect("title");
    // The same answer whether the record exists or not, and whatever kind is claimed.
    let existing = push(app, guesser, op(private, RecordKind::Recommendation, &edit)).await;
    let claimed_project = push(app, guesser, op(private, RecordKind::Project, &edit)).await;
    let missing = push(app, guesser, op(nowhere, RecordKind::Recommendation, &edit)).await;
    let text = |outcome: &OpOutcome, id: RecordId| match outcome {
        OpOutcome::Rejected(reason) => reason.replace(&id.to_string(), "<id>"),
        other => panic!("expected a rejection, got {other:?}"),
    };
    assert_eq!(text(&existing, private), text(&missing, nowhere));
    assert_eq!(text(&claimed_project, private), text(&missing, nowhere));

    let found = get_record(app, guesser, private).await;
    let not_found = get_record(app, guesser, nowhere).await;
    assert_eq!(found.status(), 404);
    assert_eq!(not_found.status(), 404);
    let found: ErrorBody = found.json().await.expect("JSON");
    let not_found: ErrorBody = not_found.json().await.expect("JSON");
    assert_eq!(found.error, not_found.error);
    assert_eq!(
        found.reason.replace(&private.to_string(), "<id>"),
        not_found.reason.replace(&nowhere.to_string(), "<id>")
    );

    // The record is unchanged, and it never appears in the guesser's pulls,
    // also after the secretariat edits it again.
    let record = server_copy(app, private).await;
    assert_eq!(
        record.text(&FieldPath::top("title")).unwrap_or_default(),
        "Private draft"
    );
    let later = record.set_text("title", "Private, revised").expect("title");
    push(
        app,
        &app.client,
        op(private, RecordKind::Recommendation, &later),
    )
    .await;
    let (records, _) = pull_records(app, guesser, Seq(0)).await;
    assert!(!records.contains(&private));
}

#[tokio::test]
async fn an_edit_carries_the_name_of_who_made_it_and_no_other() {
    let world = World::new().await;
    let member = world.user(Who::Member).id.0.clone();
    let other = world.user(Who::Invited).id.0.clone();
    let stamped = |user: &str, at: u64| {
        let stamp = Stamp {
            user: user.to_owned(),
            name: "Someone".into(),
            at,
        };
        move |record: &Record| record.restamp(&stamp).expect("a new stamp")
    };
    let own = world
        .edit_shared(Who::Member, stamped(&member, 1_000))
        .await;
    check(Who::Member, "stamp own name", &own, &Expect::Applied);
    let forged = world
        .edit_shared(Who::Member, stamped(&other, 90_000))
        .await;
    check(
        Who::Member,
        "stamp another's name",
        &forged,
        &rejected(Denied::ForeignStamp),
    );
    // Every reader sees who changed it last, as the server keeps it.
    let copy = server_copy(&world.app, world.shared).await;
    let last = copy.stamp().expect("stamped");
    assert_eq!((last.user.as_str(), last.at), (member.as_str(), 1_000));
    let projected = copy.projection().and_then(|projection| projection.stamp());
    assert_eq!(projected, Some(last));
}

#[tokio::test]
async fn a_choice_is_claimed_in_the_name_of_who_made_it_and_no_other() {
    let world = World::new().await;
    let member = world.user(Who::Member).id.0.clone();
    let other = world.user(Who::Invited).id.0.clone();
    let position = |user: &str, value: &str| {
        let author = Stamp {
            user: user.to_owned(),
            name: "Someone".into(),
            at: 1,
        };
        let value = value.to_owned();
        move |record: &Record| {
            record.set_author(Some(&author));
            record
                .change(
                    &FieldPath::top("positions"),
                    FieldEdit::Keyed {
                        key: "FI".into(),
                        value: Some(value),
                    },
                )
                .expect("a position")
        }
    };
    let own = world
        .edit_shared(Who::Member, position(&member, "support"))
        .await;
    check(Who::Member, "claim in own name", &own, &Expect::Applied);
    let forged = world
        .edit_shared(Who::Member, position(&other, "objection"))
        .await;
    check(
        Who::Member,
        "claim in another's name",
        &forged,
        &rejected(Denied::ForeignStamp),
    );
}

#[tokio::test]
async fn comments_are_written_in_their_authors_name_and_hidden_only_by_the_secretariat() {
    let world = World::new().await;
    let as_user = |who: Who| {
        let user = world.user(who);
        Stamp {
            user: user.id.0.clone(),
            name: "Someone".into(),
            at: 1,
        }
    };
    let expert = as_user(Who::Invited);
    let member = as_user(Who::Member);
    // A contributor comments on the record shared with them, and replies.
    let first = {
        let expert = expert.clone();
        move |record: &Record| {
            record
                .comment_on(None, "c1", &expert, "Source?")
                .expect("made")
        }
    };
    let outcome = world.edit_shared(Who::Invited, first).await;
    check(Who::Invited, "comment", &outcome, &Expect::Applied);
    // Nobody writes in another's name, or changes another's words.
    let forged = {
        let expert = expert.clone();
        move |record: &Record| {
            record
                .comment_on(None, "c2", &expert, "Not me")
                .expect("made")
        }
    };
    let outcome = world.edit_shared(Who::Member, forged).await;
    check(
        Who::Member,
        "comment as another",
        &outcome,
        &rejected(Denied::NotYourComment),
    );
    let rewrite = {
        let expert = expert.clone();
        move |record: &Record| record.edit_comment("c1", &expert, "Changed").expect("made")
    };
    let outcome = world.edit_shared(Who::Member, rewrite).await;
    check(
        Who::Member,
        "change another's comment",
        &outcome,
        &rejected(Denied::NotYourComment),
    );
    // Anyone who may comment resolves, in their own name; only the secretariat hides.
    let resolve = {
        let member = member.clone();
        move |record: &Record| record.set_resolved("c1", &member, true)
    };
    let outcome = world.edit_shared(Who::Member, resolve).await;
    check(Who::Member, "resolve", &outcome, &Expect::Applied);
    let hide = {
        let member = member.clone();
        move |record: &Record| record.set_hidden("c1", &member, true)
    };
    let outcome = world.edit_shared(Who::Member, hide).await;
    check(
        Who::Member,
        "hide",
        &outcome,
        &rejected(Denied::SecretariatOnly),
    );
    // Observers read comments and write none.
    let observer = as_user(Who::Given);
    let outcome = world
        .edit_shared(Who::Given, move |record: &Record| {
            record
                .comment_on(None, "c3", &observer, "Hm")
                .expect("made")
        })
        .await;
    check(Who::Given, "comment", &outcome, &rejected(Denied::ReadOnly));
    let copy = server_copy(&world.app, world.shared).await;
    let threads = copy.threads();
    assert_eq!(threads.len(), 1, "{threads:?}");
    assert_eq!(threads[0].comments[0].text, "Source?");
    assert_eq!(
        threads[0].resolved.as_ref().map(|mark| mark.user.as_str()),
        Some(member.user.as_str())
    );
    assert!(threads[0].comments[0].hidden.is_none());
    // A comment is not an edit: "changed by" still names the record's last editor.
    assert_ne!(copy.stamp().map(|stamp| stamp.user), Some(expert.user));
}

#[tokio::test]
async fn a_suggestion_accepted_twice_at_once_applies_once() {
    let world = World::new().await;
    let stamp = |who: Who| Stamp {
        user: world.user(who).id.0.clone(),
        name: "Someone".into(),
        at: 1,
    };
    let summary = FieldPath::top("summary");
    let text = world
        .edit_shared(Who::Secretariat, |record: &Record| {
            record
                .set_text_at(&FieldPath::top("summary"), "Within a month.")
                .expect("text")
        })
        .await;
    check(Who::Secretariat, "text", &text, &Expect::Applied);
    // An invited expert proposes a change; it is theirs alone.
    let expert = stamp(Who::Invited);
    let proposed = world
        .edit_shared(Who::Invited, move |record: &Record| {
            record
                .suggest(&FieldPath::top("summary"), (7, 14), "s1", &expert, "a week")
                .expect("suggested")
        })
        .await;
    check(Who::Invited, "suggest", &proposed, &Expect::Applied);
    // Two accept it at once, each on the copy they had.
    let (first, second) = (
        server_copy(&world.app, world.shared).await,
        server_copy(&world.app, world.shared).await,
    );
    let secretariat = stamp(Who::Member);
    let a = first
        .accept_suggestion("s1", &secretariat)
        .expect("accepted");
    let b = second
        .accept_suggestion("s1", &secretariat)
        .expect("accepted");
    let client = world.client(Who::Member);
    let outcome = push(
        &world.app,
        client,
        op(world.shared, RecordKind::Recommendation, &a),
    )
    .await;
    check(Who::Member, "accept", &outcome, &Expect::Applied);
    let outcome = push(
        &world.app,
        client,
        op(world.shared, RecordKind::Recommendation, &b),
    )
    .await;
    check(
        Who::Member,
        "accept again",
        &outcome,
        &rejected(Denied::Decided),
    );
    let copy = server_copy(&world.app, world.shared).await;
    assert_eq!(copy.text(&summary).as_deref(), Some("Within a week."));
    // An observer decides nothing.
    let observer = stamp(Who::Given);
    let outcome = world
        .edit_shared(Who::Given, move |record: &Record| {
            record
                .reject_suggestion("s1", &observer)
                .expect_err("decided");
            record
                .set_text_at(&FieldPath::top("summary"), "x")
                .expect("text")
        })
        .await;
    check(Who::Given, "edit", &outcome, &rejected(Denied::ReadOnly));
}

/// Pulls into `device` until the server says complete.
async fn sync_device(app: &TestApp, device: &mut Replica, client: &reqwest::Client) {
    loop {
        let query = device.next_pull();
        let response = client
            .get(app.url(&query.path()))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200);
        let page: PullResponse =
            sync::decode(&response.bytes().await.expect("body")).expect("page");
        device.apply_pull(query.since, &page).expect("in order");
        if page.complete {
            return;
        }
    }
}

#[tokio::test]
async fn a_grant_brings_the_record_to_the_invitee_whatever_their_cursor() {
    let world = World::new().await;
    let app = &world.app;
    let expert = world.client(Who::Uninvited);
    let expert_id = world.user(Who::Uninvited).id.clone();
    let mut device = Replica::new(DeviceId([42; 16]), 4_242);
    // The expert's device is up to date: its cursor is past every change of
    // the private record, none of which it got.
    sync_device(app, &mut device, expert).await;
    assert!(!device.contains(world.private));
    let before = device.cursor();
    assert!(before.0 >= 4, "{before:?}");

    assert_eq!(
        grant(app, world.private, &expert_id, true).await.status(),
        200
    );
    sync_device(app, &mut device, expert).await;
    let title = device
        .copy_of(world.private)
        .and_then(|record| record.text(&FieldPath::top("title")));
    assert_eq!(title.as_deref(), Some("Private draft"));
    assert_eq!(get_record(app, expert, world.private).await.status(), 200);
    // Granting again changes nothing (no new log row).
    let head = pull_records(app, &app.client, Seq(0)).await.1;
    assert_eq!(
        grant(app, world.private, &expert_id, true).await.status(),
        200
    );
    assert_eq!(pull_records(app, &app.client, Seq(0)).await.1, head);

    // For a member, whose copy is complete, the grant's row merges as nothing.
    let member = world.client(Who::Member);
    let mut colleague = Replica::new(DeviceId([43; 16]), 4_343);
    sync_device(app, &mut colleague, member).await;
    assert_eq!(
        colleague
            .copy_of(world.private)
            .and_then(|record| record.text(&FieldPath::top("title")))
            .as_deref(),
        Some("Private draft")
    );

    // Withdrawn: the record's later changes no longer reach the expert, and
    // their edits are refused as if it did not exist.
    assert_eq!(
        grant(app, world.private, &expert_id, false).await.status(),
        200
    );
    let copy = server_copy(app, world.private).await;
    let later = copy
        .set_text("title", "After the withdrawal")
        .expect("title");
    push(
        app,
        &app.client,
        op(world.private, RecordKind::Recommendation, &later),
    )
    .await;
    let (records, _) = pull_records(app, expert, device.cursor()).await;
    assert!(records.is_empty(), "{records:?}");
    assert_eq!(get_record(app, expert, world.private).await.status(), 404);
    let attempt = copy.set_text("title", "Expert's edit").expect("title");
    let outcome = push(
        app,
        expert,
        op(world.private, RecordKind::Recommendation, &attempt),
    )
    .await;
    assert_eq!(
        outcome,
        OpOutcome::Rejected(Denied::NotInvited(world.private.to_string()).to_wire())
    );
}

#[tokio::test]
async fn grants_are_for_contributors_and_observers_on_records_that_exist() {
    let world = World::new().await;
    let app = &world.app;
    let member = world.user(Who::Member).id.clone();
    let response = grant(app, world.private, &member, true).await;
    assert_eq!(response.status(), 400);
    let response = grant(app, new_record_id(), &world.user(Who::Given).id, true).await;
    assert_eq!(response.status(), 404);
    let body: ErrorBody = response.json().await.expect("JSON");
    assert_eq!(body.error, "unknown_record");
    let response = grant(app, world.private, &UserId("ab".repeat(16)), true).await;
    assert_eq!(response.status(), 404);
    let grants: Vec<Grant> = app
        .client
        .get(app.url(&format!("{GRANTS_PATH}?record={}", world.shared)))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("grants");
    let mut users: Vec<UserId> = grants.into_iter().map(|g| g.user).collect();
    users.sort();
    let mut expected = vec![
        world.user(Who::Invited).id.clone(),
        world.user(Who::Given).id.clone(),
    ];
    expected.sort();
    assert_eq!(users, expected);
}

#[tokio::test]
async fn an_observer_whose_role_changes_to_contributor_may_edit_at_once() {
    let world = World::new().await;
    let app = &world.app;
    let observer = world.user(Who::Given);
    let title = |r: &Record| r.set_text("title", "Observer no more").expect("title");
    let before = world.edit_shared(Who::Given, title).await;
    assert_eq!(before, OpOutcome::Rejected(Denied::ReadOnly.to_wire()));
    let changed = app
        .client
        .post(app.url(&format!("{USERS_PATH}/{}", observer.id)))
        .json(&UserChange {
            role: Some(Role::Contributor),
            ..UserChange::default()
        })
        .send()
        .await
        .expect("sent");
    assert_eq!(changed.status(), 200);
    let after = world.edit_shared(Who::Given, title).await;
    assert!(matches!(after, OpOutcome::Applied(_)), "{after:?}");
}

#[tokio::test]
async fn record_states_for_a_device_behind_the_compacted_log_are_only_the_visible_ones() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = tern_server::Config::for_data_dir(data.path());
    config.sync_compact_every_secs = 0;
    config.sync_log_max_entries = 1;
    let app = tern_tests::spawn_app_with(config).await.expect("starts");
    let expert = app.create_user(Role::Contributor, None).await;
    let member = app.create_user(Role::Member, Some("DK")).await;
    let shared = recommendation(&app, "Shared").await;
    let private = recommendation(&app, "Private").await;
    assert_eq!(grant(&app, shared, &expert.id, true).await.status(), 200);
    for id in [shared, private] {
        let copy = server_copy(&app, id).await;
        let update = copy.set_text("title", "Revised").expect("title");
        push(
            &app,
            &app.client,
            op(id, RecordKind::Recommendation, &update),
        )
        .await;
    }
    // Compaction runs beside the requests: wait until a pull from 0 gets
    // record states (a page that is never complete) instead of the log.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let query = PullQuery {
            since: Seq(0),
            limit: 1_000,
            device: None,
            kinds: None,
        };
        let response = app
            .client
            .get(app.url(&query.path()))
            .send()
            .await
            .expect("sent");
        let page: PullResponse =
            sync::decode(&response.bytes().await.expect("body")).expect("page");
        if !page.complete {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "log not compacted in 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (records, _) = pull_records(&app, &expert.client, Seq(0)).await;
    assert_eq!(records, BTreeSet::from([shared]));
    let (records, _) = pull_records(&app, &member.client, Seq(0)).await;
    assert_eq!(records, BTreeSet::from([shared, private]));
}

/// The role × operation matrix for every kind of record: create, edit its
/// title, archive, remove (the secretariat's), see its links, erase (a
/// person, by the secretariat). Contributors and observers were invited to a
/// recommendation only, so every other record is one they cannot see.
#[tokio::test]
async fn every_role_does_exactly_what_it_may_with_every_kind() {
    let world = World::new().await;
    for kind in RecordKind::ALL {
        let def = kind.def();
        // One record of the kind, made by the secretariat, pointing at the
        // shared recommendation where the kind can.
        let id = new_record_id();
        let (record, created) = Record::create(id, kind, unique());
        let mut updates = vec![created];
        updates.push(
            record
                .set_text(def.title, "Made by the secretariat")
                .expect("title"),
        );
        let link = def.fields.iter().find(|field| {
            matches!(field.ty, tern_domain::record::schema::FieldType::Refs(kinds) if kinds.contains(&RecordKind::Recommendation))
        });
        if let Some(field) = link {
            updates.push(
                record
                    .change(
                        &FieldPath::top(field.key),
                        FieldEdit::IncludeRef {
                            target: world.shared,
                            kind: RecordKind::Recommendation,
                            included: true,
                        },
                    )
                    .expect("a link"),
            );
        }
        for update in &updates {
            let outcome = push(&world.app, &world.app.client, op(id, kind, update)).await;
            check(
                Who::Secretariat,
                "makes the record",
                &outcome,
                &Expect::Applied,
            );
        }
        let rid = id.to_string();
        for who in EVERYONE {
            let what = |operation: &str| format!("{operation} a {}", def.tag);
            // Create one of their own.
            let own = new_record_id();
            let (_, created) = Record::create(own, kind, unique());
            let outcome = push(&world.app, world.client(who), op(own, kind, &created)).await;
            let expected = match who {
                Who::Secretariat | Who::Member => Expect::Applied,
                Who::Invited | Who::Uninvited => rejected(Denied::NotInvited(own.to_string())),
                Who::Given | Who::NotGiven => rejected(Denied::ReadOnly),
            };
            check(who, &what("creates"), &outcome, &expected);

            // Edit the title, archive, remove the secretariat's record.
            let not_theirs = match who {
                Who::Invited | Who::Uninvited => Some(rejected(Denied::NotInvited(rid.clone()))),
                Who::Given | Who::NotGiven => Some(rejected(Denied::ReadOnly)),
                Who::Secretariat | Who::Member => None,
            };
            let copy = server_copy(&world.app, id).await;
            let edits: [(&str, Update, Expect); 3] = [
                (
                    "edits the title of",
                    copy.set_text(def.title, &format!("Edited by {who:?}"))
                        .expect("title"),
                    Expect::Applied,
                ),
                (
                    "archives",
                    copy.change(&FieldPath::top("archived"), FieldEdit::Flag(true))
                        .expect("archived"),
                    Expect::Applied,
                ),
                (
                    "removes",
                    copy.change(&FieldPath::top("deleted"), FieldEdit::Flag(true))
                        .expect("removed"),
                    match who {
                        Who::Secretariat => Expect::Applied,
                        _ => rejected(Denied::SecretariatField("deleted".into())),
                    },
                ),
            ];
            for (operation, update, expected) in edits {
                let outcome = push(&world.app, world.client(who), op(id, kind, &update)).await;
                let expected = not_theirs
                    .as_ref()
                    .map(|expect| match expect {
                        Expect::Rejected(text) => Expect::Rejected(text.clone()),
                        Expect::Applied => Expect::Applied,
                    })
                    .unwrap_or(expected);
                check(who, &what(operation), &outcome, &expected);
            }
            // Undo the archive and removal for the next one.
            let restore = server_copy(&world.app, id).await;
            for key in ["archived", "deleted"] {
                let update = restore
                    .change(&FieldPath::top(key), FieldEdit::Flag(false))
                    .expect("restored");
                push(&world.app, &world.app.client, op(id, kind, &update)).await;
            }

            // The link to the shared recommendation shows to those who see the record.
            if link.is_some() {
                let response = world
                    .client(who)
                    .get(world.app.url(&format!(
                        "{}/{}{}",
                        tern_domain::api::FIND_PATH,
                        world.shared,
                        tern_domain::api::LINKS_SUFFIX
                    )))
                    .send()
                    .await
                    .expect("sent");
                assert_eq!(response.status(), 200);
                let links: Vec<tern_domain::api::LinkFrom> = response.json().await.expect("links");
                let sees = links.iter().any(|link| link.source == id);
                assert_eq!(
                    sees,
                    matches!(who, Who::Secretariat | Who::Member),
                    "{who:?} and the link from a {}",
                    def.tag
                );
            }
        }

        // Erasure: the secretariat, people only; everyone else is refused
        // (asked first, while there is still something to erase).
        for who in EVERYONE.into_iter().rev() {
            let status = world
                .client(who)
                .post(
                    world
                        .app
                        .url(&format!("{}/{id}", tern_domain::api::ERASE_PATH)),
                )
                .send()
                .await
                .expect("sent")
                .status()
                .as_u16();
            let expected = match (who, def.personal_data) {
                (Who::Secretariat, true) => 204,
                (Who::Secretariat, false) => 400,
                _ => 403,
            };
            assert_eq!(status, expected, "{who:?} erases a {}", def.tag);
            if expected == 204 {
                // Nothing is taken for it again, from anyone.
                let copy = Record::create(id, kind, unique()).1;
                let outcome = push(&world.app, &world.app.client, op(id, kind, &copy)).await;
                check(
                    who,
                    "writes to an erased person",
                    &outcome,
                    &rejected(Denied::Erased(rid.clone())),
                );
                break;
            }
        }
    }
}
