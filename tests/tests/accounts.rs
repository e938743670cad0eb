//! Accounts over HTTP: sign-in and its cookie, sessions (timeouts, sign-out,
//! other devices), passwords, invitations, the first secretariat account, the
//! Origin check, rate limits, and what the server keeps of a password.

use std::time::Duration;
use tern_domain::api::ErrorBody;
use tern_domain::auth::{
    MemberState, MemberStateChange, NewUser, PasswordChange, Role, SessionInfo, SignedOutOthers,
    UserChange, UserEntry, MEMBERS_PATH, PASSWORD_PATH, SESSION_PATH, SIGN_IN_PATH,
    SIGN_OUT_OTHERS_PATH, SIGN_OUT_PATH, USERS_PATH, USER_INVITATION_SUFFIX,
};
use tern_domain::sync::{self, PushRequest, PUSH_PATH};
use tern_server::accounts::passwords::parameters_of;
use tern_server::accounts::Accounts;
use tern_server::config::Secret;
use tern_server::storage::SurrealStorage;
use tern_server::{Config, StartupError};
use tern_tests::{
    client_with, set_cookies, spawn_app, spawn_app_signed_out, spawn_app_with, Jar, TestApp,
    ADMIN_EMAIL, ADMIN_PASSWORD,
};

const SESSION_COOKIE: &str = "__Host-tern_session";
const DEVICE_COOKIE: &str = "__Host-tern_device";

async fn error_of(response: reqwest::Response) -> (u16, ErrorBody) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON error body"))
}

async fn session_status(app: &TestApp, jar: &Jar) -> u16 {
    app.client_for(jar)
        .get(app.url(SESSION_PATH))
        .send()
        .await
        .expect("session sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn signing_in_sets_a_host_only_http_only_secure_lax_cookie_and_answers_the_identity() {
    let app = spawn_app().await;
    let response = app
        .sign_in_from(&Jar::default(), " Secretariat@TERN.test ", ADMIN_PASSWORD)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let raw: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    let session = raw
        .iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .expect("a session cookie");
    for attribute in [
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Max-Age=2592000",
    ] {
        assert!(session.contains(attribute), "{session} lacks {attribute}");
    }
    assert!(!session.contains("Domain"), "{session}");
    // 256 random bits, base64url.
    let token = session
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v);
    assert_eq!(token.map(str::len), Some(43));
    assert!(raw
        .iter()
        .any(|c| c.starts_with(&format!("{DEVICE_COOKIE}="))));
    let mut jar = Jar::default();
    jar.absorb(&response);
    let info: SessionInfo = response.json().await.expect("session info");
    assert_eq!(info.identity.email, ADMIN_EMAIL);
    assert_eq!(info.identity.role, Role::Secretariat);
    assert_eq!(info.members.len(), 12);
    assert_eq!(
        info.members
            .iter()
            .filter(|m| !m.active)
            .map(|m| m.code.as_str())
            .collect::<Vec<_>>(),
        ["RU"]
    );

    let again: SessionInfo = app
        .client_for(&jar)
        .get(app.url(SESSION_PATH))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("session info");
    assert_eq!(again.identity, info.identity);
    let (status, body) = error_of(
        app.anonymous_client()
            .get(app.url(SESSION_PATH))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((status, body.error.as_str()), (401, "signed_out"));
    // A made-up token is no session either.
    let forged = Jar(vec![(SESSION_COOKIE.into(), "A".repeat(43))]);
    assert_eq!(session_status(&app, &forged).await, 401);
}

#[tokio::test]
async fn an_unknown_email_a_wrong_password_a_disabled_account_and_an_open_invitation_get_one_answer(
) {
    let app = spawn_app().await;
    let disabled = app.create_user(Role::Member, Some("DK")).await;
    let change = app
        .client
        .post(app.url(&format!("{USERS_PATH}/{}", disabled.id)))
        .json(&UserChange {
            active: Some(false),
            ..UserChange::default()
        })
        .send()
        .await
        .expect("sent");
    assert_eq!(change.status(), 200);
    let pending = app
        .invite(&NewUser {
            name: "Not yet".into(),
            email: "pending@tern.test".into(),
            role: Role::Observer,
            member_state: None,
            organisation: String::new(),
        })
        .await;
    let _ = pending;
    let mut answers = Vec::new();
    for (email, password) in [
        ("nobody@tern.test", "whatever password"),
        (ADMIN_EMAIL, "not the password at all"),
        (disabled.email.as_str(), disabled.password.as_str()),
        ("pending@tern.test", ""),
    ] {
        let response = app.sign_in_from(&Jar::default(), email, password).await;
        assert!(
            set_cookies(&response).is_empty(),
            "{email}: a cookie was set"
        );
        answers.push(error_of(response).await);
    }
    for (status, body) in &answers {
        assert_eq!(*status, 401);
        assert_eq!(body.error, "invalid_credentials");
        assert_eq!(body.reason, "The email or password is not right.");
    }
    // The disabled user's own session ended with the account.
    assert_eq!(session_status(&app, &disabled.jar).await, 401);
}

#[tokio::test]
async fn the_stored_password_hash_is_argon2id_with_m_19456_t_2_and_never_the_password() {
    let data = tempfile::tempdir().expect("temp dir");
    let config = Config::for_data_dir(data.path());
    let app = spawn_app_with(config.clone()).await.expect("starts");
    let user = app.create_user(Role::Contributor, None).await;
    app.stop().await;
    let storage = SurrealStorage::open(&config).await.expect("reopen");
    for email in [ADMIN_EMAIL, user.email.as_str()] {
        let account = storage
            .account_by_email(email)
            .await
            .expect("read")
            .expect("the account");
        let stored = account.password_hash.expect("a hash");
        let (algorithm, m, t, p) = parameters_of(&stored).expect("a PHC string");
        assert_eq!(algorithm, "argon2id", "{stored}");
        assert!(m >= 19_456 && t >= 2 && p >= 1, "{stored}");
        assert!(!stored.contains(&user.password) && !stored.contains(ADMIN_PASSWORD));
    }
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    let jar = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(session_status(&app, &jar).await, 200);
    let out = app
        .client_for(&jar)
        .post(app.url(SIGN_OUT_PATH))
        .send()
        .await
        .expect("sent");
    assert_eq!(out.status(), 204);
    let cleared = out
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0"));
    assert!(cleared, "the cookie is not cleared");
    // The old cookie, kept by someone, opens nothing any more.
    assert_eq!(session_status(&app, &jar).await, 401);
    let push = app
        .client_for(&jar)
        .post(app.url(PUSH_PATH))
        .body(sync::encode(&PushRequest { ops: Vec::new() }))
        .send()
        .await
        .expect("sent");
    assert_eq!(push.status(), 401);
    // Other sessions are untouched.
    assert_eq!(
        app.client
            .get(app.url(SESSION_PATH))
            .send()
            .await
            .expect("sent")
            .status(),
        200
    );
}

#[tokio::test]
async fn signing_out_other_devices_keeps_this_one() {
    let app = spawn_app().await;
    let user = app.create_user(Role::Member, Some("EE")).await;
    let laptop = app.sign_in(&user.email, &user.password).await;
    let phone = app.sign_in(&user.email, &user.password).await;
    let ended: SignedOutOthers = app
        .client_for(&phone)
        .post(app.url(SIGN_OUT_OTHERS_PATH))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("ended");
    // The invitation's session and the laptop's.
    assert_eq!(ended, SignedOutOthers { ended: 2 });
    assert_eq!(session_status(&app, &phone).await, 200);
    assert_eq!(session_status(&app, &laptop).await, 401);
    assert_eq!(session_status(&app, &user.jar).await, 401);
    // Another user's session is not theirs to end.
    assert_eq!(
        app.client
            .get(app.url(SESSION_PATH))
            .send()
            .await
            .expect("sent")
            .status(),
        200
    );
}

#[tokio::test]
async fn sessions_end_after_the_idle_time_and_at_the_absolute_limit() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(data.path());
    // Times are whole seconds on the server: the margins allow for that.
    config.session_idle_secs = 2;
    config.session_max_secs = 6;
    let app = spawn_app_with(config).await.expect("starts");
    let idle = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let busy = app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let started = tokio::time::Instant::now();
    // The busy session is used every second: idleness never ends it...
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        assert_eq!(session_status(&app, &busy).await, 200);
    }
    // ...while the other, unused for three seconds, has ended.
    assert_eq!(session_status(&app, &idle).await, 401);
    // Six seconds after sign-in the busy one ends too, however busy.
    tokio::time::sleep_until(started + Duration::from_millis(6_200)).await;
    assert_eq!(session_status(&app, &busy).await, 401);
}

#[tokio::test]
async fn a_password_change_keeps_this_session_and_ends_the_others() {
    let app = spawn_app().await;
    let user = app.create_user(Role::Contributor, None).await;
    let other = app.sign_in(&user.email, &user.password).await;
    let change = |current: &str, new: &str| {
        user.client
            .post(app.url(PASSWORD_PATH))
            .json(&PasswordChange {
                current: current.to_owned(),
                new: new.to_owned(),
            })
            .send()
    };
    let (status, body) = error_of(
        change("wrong current password", "a new password here")
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((status, body.error.as_str()), (401, "invalid_credentials"));
    let (status, body) = error_of(change(&user.password, "short").await.expect("sent")).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_input"));
    assert!(
        body.reason.contains("at least 12 characters"),
        "{}",
        body.reason
    );
    // Nothing has changed so far.
    assert_eq!(session_status(&app, &other).await, 200);

    let done = change(&user.password, "a new password here")
        .await
        .expect("sent");
    assert_eq!(done.status(), 204);
    assert_eq!(session_status(&app, &user.jar).await, 200);
    assert_eq!(session_status(&app, &other).await, 401);
    let old = app
        .sign_in_from(&Jar::default(), &user.email, &user.password)
        .await;
    assert_eq!(old.status(), 401);
    app.sign_in(&user.email, "a new password here").await;
}

#[tokio::test]
async fn an_invitation_is_accepted_once_and_not_after_it_expires() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(data.path());
    config.invitation_secs = 2;
    let app = spawn_app_with(config).await.expect("starts");
    let new = |email: &str| NewUser {
        name: "Anna Berg".into(),
        email: email.into(),
        role: Role::Member,
        member_state: Some("SE".into()),
        organisation: "Ministry of Health and Social Affairs".into(),
    };
    let invitation = app.invite(&new("anna@tern.test")).await;
    assert!(
        invitation.link.starts_with("/welcome#"),
        "{}",
        invitation.link
    );
    // A password that fails the check leaves the link usable.
    let (status, body) = error_of(app.accept(&invitation, "anna@tern.test").await).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_input"));
    let accepted = app.accept(&invitation, "Anna's own password").await;
    assert_eq!(accepted.status(), 200);
    let info: SessionInfo = accepted.json().await.expect("session info");
    assert_eq!(info.identity.member_state.as_deref(), Some("SE"));
    let (status, body) = error_of(app.accept(&invitation, "Another password!").await).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_invitation"));
    app.sign_in("anna@tern.test", "Anna's own password").await;

    let late = app.invite(&new("jonas@tern.test")).await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let (status, body) = error_of(app.accept(&late, "Jonas's password").await).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_invitation"));
}

#[tokio::test]
async fn a_password_reset_ends_the_sessions_and_the_old_password() {
    let app = spawn_app().await;
    let user = app.create_user(Role::Observer, None).await;
    let reset = app
        .client
        .post(app.url(&format!("{USERS_PATH}/{}{USER_INVITATION_SUFFIX}", user.id)))
        .send()
        .await
        .expect("sent");
    assert_eq!(reset.status(), 200);
    let invitation = reset.json().await.expect("an invitation");
    assert_eq!(session_status(&app, &user.jar).await, 401);
    let old = app
        .sign_in_from(&Jar::default(), &user.email, &user.password)
        .await;
    assert_eq!(old.status(), 401);
    let entries: Vec<UserEntry> = app
        .client
        .get(app.url(USERS_PATH))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("users");
    let entry = entries
        .iter()
        .find(|e| e.identity.user == user.id)
        .expect("listed");
    assert!(!entry.has_password);
    assert_eq!(
        app.accept(&invitation, "a brand new password")
            .await
            .status(),
        200
    );
    app.sign_in(&user.email, "a brand new password").await;
}

#[tokio::test]
async fn the_admin_api_checks_what_it_is_given() {
    let app = spawn_app().await;
    let create = |new: NewUser| app.client.post(app.url(USERS_PATH)).json(&new).send();
    let user = |email: &str, role: Role, member_state: Option<&str>| NewUser {
        name: "Someone".into(),
        email: email.into(),
        role,
        member_state: member_state.map(str::to_owned),
        organisation: String::new(),
    };
    for (new, expected) in [
        (
            user("not-an-email", Role::Observer, None),
            "not an email address",
        ),
        (
            user("m@tern.test", Role::Member, None),
            "needs a member state",
        ),
        (
            user("m@tern.test", Role::Member, Some("XX")),
            "no member with the code XX",
        ),
    ] {
        let (status, body) = error_of(create(new).await.expect("sent")).await;
        assert_eq!((status, body.error.as_str()), (400, "invalid_input"));
        assert!(body.reason.contains(expected), "{}", body.reason);
    }
    let (status, body) = error_of(
        create(user(" SECRETARIAT@tern.test", Role::Observer, None))
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((status, body.error.as_str()), (409, "email_taken"));

    let unknown = app
        .client
        .post(app.url(&format!("{USERS_PATH}/{}", "ab".repeat(16))))
        .json(&UserChange::default())
        .send()
        .await
        .expect("sent");
    assert_eq!(unknown.status(), 404);

    // The last secretariat cannot demote or disable themselves.
    let session: SessionInfo = app
        .client
        .get(app.url(SESSION_PATH))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("session");
    let demote = app
        .client
        .post(app.url(&format!("{USERS_PATH}/{}", session.identity.user)))
        .json(&UserChange {
            role: Some(Role::Observer),
            ..UserChange::default()
        })
        .send()
        .await
        .expect("sent");
    let (status, body) = error_of(demote).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_input"));
    assert!(
        body.reason.contains("at least one active secretariat"),
        "{}",
        body.reason
    );
}

#[tokio::test]
async fn member_states_are_seeded_and_only_the_secretariat_switches_them() {
    let app = spawn_app().await;
    let member = app.create_user(Role::Member, Some("LV")).await;
    let members: Vec<MemberState> = member
        .client
        .get(app.url(MEMBERS_PATH))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("members");
    assert_eq!(members.first().map(|m| m.code.as_str()), Some("DK"));
    assert_eq!(
        members.iter().find(|m| m.code == "RU").map(|m| m.active),
        Some(false)
    );
    let change = |client: &reqwest::Client, code: &str, active: bool| {
        client
            .post(app.url(MEMBERS_PATH))
            .json(&MemberStateChange {
                code: code.into(),
                active,
            })
            .send()
    };
    let (status, body) = error_of(change(&member.client, "IS", false).await.expect("sent")).await;
    assert_eq!((status, body.error.as_str()), (403, "forbidden"));
    let changed: Vec<MemberState> = change(&app.client, "IS", false)
        .await
        .expect("sent")
        .json()
        .await
        .expect("members");
    assert_eq!(
        changed.iter().find(|m| m.code == "IS").map(|m| m.active),
        Some(false)
    );
    let (status, _) = error_of(change(&app.client, "XX", true).await.expect("sent")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_role_change_applies_from_the_next_request() {
    let app = spawn_app().await;
    let user = app.create_user(Role::Member, Some("NO")).await;
    let listed = user
        .client
        .get(app.url(USERS_PATH))
        .send()
        .await
        .expect("sent");
    assert_eq!(listed.status(), 403);
    let promoted = app
        .client
        .post(app.url(&format!("{USERS_PATH}/{}", user.id)))
        .json(&UserChange {
            role: Some(Role::Secretariat),
            ..UserChange::default()
        })
        .send()
        .await
        .expect("sent");
    assert_eq!(promoted.status(), 200);
    // The same session, no new sign-in.
    let listed = user
        .client
        .get(app.url(USERS_PATH))
        .send()
        .await
        .expect("sent");
    assert_eq!(listed.status(), 200);
}

#[tokio::test]
async fn a_foreign_origin_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let users_before: Vec<UserEntry> = app
        .client
        .get(app.url(USERS_PATH))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("users");
    let session = set_cookie_header(&app).await;
    let evil = client_with("https://evil.example", Some(&session));
    let new = NewUser {
        name: "Mallory".into(),
        email: "mallory@evil.example".into(),
        role: Role::Secretariat,
        member_state: None,
        organisation: String::new(),
    };
    let (status, body) = error_of(
        evil.post(app.url(USERS_PATH))
            .json(&new)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((status, body.error.as_str()), (403, "forbidden_origin"));
    let signed_in = evil
        .post(app.url(SIGN_IN_PATH))
        .json(&tern_domain::auth::SignInRequest {
            email: ADMIN_EMAIL.into(),
            password: ADMIN_PASSWORD.into(),
        })
        .send()
        .await
        .expect("sent");
    assert_eq!(signed_in.status(), 403);
    assert!(set_cookies(&signed_in).is_empty());

    // No Origin at all: only a same-origin fetch (Sec-Fetch-Site) passes.
    let bare = reqwest::Client::new();
    let refused = bare
        .post(app.url(SIGN_OUT_PATH))
        .header("cookie", &session)
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 403);
    let cross = bare
        .post(app.url(USERS_PATH))
        .header("cookie", &session)
        .header("sec-fetch-site", "cross-site")
        .json(&new)
        .send()
        .await
        .expect("sent");
    assert_eq!(cross.status(), 403);
    let users_after: Vec<UserEntry> = app
        .client
        .get(app.url(USERS_PATH))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("users");
    assert_eq!(users_after, users_before);
    // The session survived the refused sign-out.
    assert_eq!(
        app.client
            .get(app.url(SESSION_PATH))
            .send()
            .await
            .expect("sent")
            .status(),
        200
    );
    let same_origin = bare
        .post(app.url(SIGN_OUT_PATH))
        .header("cookie", &session)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("sent");
    assert_eq!(same_origin.status(), 204);
    // GET changes nothing and needs no Origin.
    assert_eq!(
        bare.get(app.url("/healthz"))
            .send()
            .await
            .expect("sent")
            .status(),
        200
    );
}

/// A fresh secretariat session's cookie header.
async fn set_cookie_header(app: &TestApp) -> String {
    app.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.header()
}

#[tokio::test]
async fn sign_in_attempts_per_address_are_limited_with_retry_after() {
    let app = spawn_app().await;
    // spawn_app signed in once from this address: nine more attempts pass.
    for n in 0..9 {
        let response = app
            .sign_in_from(
                &Jar::default(),
                &format!("guess{n}@tern.test"),
                "a guessed password",
            )
            .await;
        assert_eq!(response.status(), 401, "attempt {n}");
    }
    let limited = app
        .sign_in_from(&Jar::default(), ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let (_, body) = error_of(limited).await;
    assert_eq!(body.error, "too_many_attempts");
    assert!(body.reason.contains("try again in"), "{}", body.reason);
}

#[tokio::test]
async fn guessing_from_elsewhere_does_not_lock_the_owner_out_of_their_device() {
    // Every browser here is on 127.0.0.1: the per-address limit is raised so
    // only the per-account one is under test.
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(data.path());
    config.sign_in_per_ip_per_minute = 100;
    let app = spawn_app_with(config).await.expect("starts");
    let owner = app.create_user(Role::Member, Some("PL")).await;
    assert!(owner.jar.get(DEVICE_COOKIE).is_some(), "no device cookie");
    // Five wrong guesses from a browser that never signed in to the account...
    for n in 0..5 {
        let guess = app
            .sign_in_from(&Jar::default(), &owner.email, &format!("guess number {n}"))
            .await;
        assert_eq!(guess.status(), 401);
    }
    // ...lock out every such browser, even with the right password.
    let stranger = app
        .sign_in_from(&Jar::default(), &owner.email, &owner.password)
        .await;
    assert_eq!(stranger.status(), 429);
    assert!(stranger.headers().contains_key("retry-after"));
    // The owner's browser (its device cookie, without a session) still gets in,
    // after a typo of its own too.
    let device = owner.jar.without(SESSION_COOKIE);
    let typo = app
        .sign_in_from(&device, &owner.email, "a typo in it")
        .await;
    assert_eq!(typo.status(), 401);
    let own = app
        .sign_in_from(&device, &owner.email, &owner.password)
        .await;
    assert_eq!(own.status(), 200);
    // A device cookie of another account is no pass for this one.
    let admin_device = app
        .sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .without(SESSION_COOKIE);
    let borrowed = app
        .sign_in_from(&admin_device, &owner.email, &owner.password)
        .await;
    assert_eq!(borrowed.status(), 429);
}

#[tokio::test]
async fn the_first_secretariat_is_created_once_and_a_bad_admin_password_stops_start_up() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(data.path());
    config.admin_email = Some("Head@Unit.test".into());
    config.admin_password = Some(Secret("the first password".into()));
    let app = spawn_app_signed_out(config.clone()).await.expect("starts");
    app.sign_in("head@unit.test", "the first password").await;
    app.stop().await;

    // A second start with another password changes nothing.
    config.admin_password = Some(Secret("another good password".into()));
    let app = spawn_app_signed_out(config.clone())
        .await
        .expect("restarts");
    let refused = app
        .sign_in_from(&Jar::default(), "head@unit.test", "another good password")
        .await;
    assert_eq!(refused.status(), 401);
    app.sign_in("head@unit.test", "the first password").await;
    let users: Vec<UserEntry> = app
        .signed_in_client("head@unit.test", "the first password")
        .await
        .get(app.url(USERS_PATH))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("users");
    assert_eq!(users.len(), 1);
    app.stop().await;

    config.admin_password = Some(Secret("short".into()));
    let error = spawn_app_signed_out(config.clone())
        .await
        .err()
        .expect("refused");
    assert!(matches!(error, StartupError::AdminPassword(_)), "{error}");
    assert!(
        error.to_string().contains("at least 12 characters"),
        "{error}"
    );
    assert!(!error.to_string().contains("short"), "{error}");
    config.admin_email = Some("not an email".into());
    config.admin_password = None;
    let error = spawn_app_signed_out(config).await.err().expect("refused");
    assert!(matches!(error, StartupError::AdminEmail(_)), "{error}");
}

#[tokio::test]
async fn the_page_csp_allows_no_inline_script_and_no_eval_but_wasm() {
    let app = spawn_app().await;
    for path in ["/", "/settings"] {
        let response = app.get(path).await;
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find(|directive| directive.starts_with("script-src "))
            .unwrap_or_else(|| panic!("no script-src in {csp}"));
        assert!(!script_src.contains("'unsafe-inline'"), "{script_src}");
        assert!(!csp.contains("'unsafe-eval'"), "{csp}");
        assert!(script_src.contains("'wasm-unsafe-eval'"), "{script_src}");
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("object-src 'none'"), "{csp}");
    }
    // API answers carry the strictest policy.
    let api = app
        .client
        .get(app.url(SESSION_PATH))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        api.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
}

#[tokio::test]
async fn the_sweep_deletes_expired_sessions_and_invitations_only() {
    use tern_domain::auth::UserId;
    use tern_server::storage::accounts::Session;
    let data = tempfile::tempdir().expect("temp dir");
    let storage = SurrealStorage::open(&Config::for_data_dir(data.path()))
        .await
        .expect("opens");
    let user = UserId("cd".repeat(16));
    let session = |created_at, last_seen, expires_at| Session {
        user: user.clone(),
        created_at,
        last_seen,
        expires_at,
    };
    let now = 1_000_000;
    for (hash, row) in [
        ("live", session(now - 50, now - 5, now + 100)),
        ("idle", session(now - 50, now - 30, now + 100)),
        ("old", session(now - 200, now - 1, now)),
    ] {
        storage.insert_session(hash, &row).await.expect("insert");
    }
    storage
        .replace_invitation(&user, "open", now + 10)
        .await
        .expect("invite");
    storage
        .replace_invitation(&UserId("ef".repeat(16)), "late", now - 1)
        .await
        .expect("invite");
    storage.delete_expired(now, 20).await.expect("sweep");
    assert!(storage.session("live").await.expect("read").is_some());
    assert!(storage.session("idle").await.expect("read").is_none());
    assert!(storage.session("old").await.expect("read").is_none());
    assert_eq!(
        storage.invitation("open", now).await.expect("read"),
        Some(user.clone())
    );
    assert_eq!(
        storage
            .take_invitation("late", now - 5)
            .await
            .expect("read"),
        None
    );
}
