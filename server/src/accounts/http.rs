//! The account API (sign-in, sessions, passwords, invitations), the admin API
//! (users, member states, grants) and the Origin check on state changes.
//!
//! Paths and bodies are `tern_domain::auth`'s. Every sign-in attempt and every
//! refused request is logged under the `audit` target, never with a password
//! or a token.

use super::limits::Limiter;
use super::passwords::{self, Passwords};
use super::sessions::{cookie_value, randomness_failed, SessionRules, SignedIn};
use super::tokens;
use super::AccountsState;
use crate::clock::unix_now;
use crate::config::Config;
use crate::error::AuthError;
use crate::storage::accounts::{Account, Accounts, GrantChange};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::FromRef;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tern_domain::api::API_PREFIX;
use tern_domain::auth::{
    check_new_password, is_plausible_email, normalize_email, AcceptInvitation, Denied, Grant,
    Invitation, MemberState, MemberStateChange, NewUser, PasswordChange, Role, SessionInfo,
    SignInRequest, SignedOutOthers, UserChange, UserEntry, UserId, GRANTS_PATH, INVITATION_PATH,
    MEMBERS_PATH, PASSWORD_PATH, SESSION_PATH, SIGN_IN_PATH, SIGN_OUT_OTHERS_PATH, SIGN_OUT_PATH,
    USERS_PATH, USER_INVITATION_SUFFIX, WELCOME_PAGE,
};
use tern_domain::record::RecordId;
use tower_http::set_header::SetResponseHeaderLayer;

/// Account bodies are small; a larger one is refused before it is read.
const ACCOUNT_BODY_LIMIT: usize = 16 * 1024;
/// The window of the per-account and per-device sign-in limits.
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed sign-ins one known device may make per account per window.
const FAILURES_PER_KNOWN_DEVICE: u32 = 10;
/// Longest name or organisation accepted, in characters.
const MAX_NAME_CHARS: usize = 200;

/// The server's account machinery, shared by the handlers.
pub struct Auth {
    pub passwords: Passwords,
    pub rules: SessionRules,
    pub limits: Limits,
    /// `--public-origin`, without a trailing slash.
    pub public_origin: Option<String>,
    /// How long an invitation link works.
    pub invitation_secs: u64,
    /// `--client-address-header`, lowercase.
    pub client_address_header: Option<header::HeaderName>,
}

impl Auth {
    pub fn new(config: &Config, passwords: Passwords) -> Auth {
        Auth {
            passwords,
            rules: SessionRules::from_config(config),
            limits: Limits::from_config(config),
            public_origin: config
                .public_origin
                .as_deref()
                .map(|origin| origin.trim_end_matches('/').to_ascii_lowercase()),
            invitation_secs: config.invitation_secs,
            client_address_header: config
                .client_address_header
                .as_deref()
                .and_then(|name| header::HeaderName::from_bytes(name.trim().as_bytes()).ok()),
        }
    }

    /// The client's address for rate limits: the peer's, or behind a proxy
    /// the last address in the configured header.
    fn client_address(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        client_address(self.client_address_header.as_ref(), peer, headers)
    }
}

/// Rate limits. Sign-in: every attempt counts per client address; failures
/// count per account only from devices that never signed in to it, and per
/// (account, device) from those that did, so guessing from elsewhere cannot
/// lock the owner out of their own browsers.
pub struct Limits {
    sign_in_per_ip: Limiter<IpAddr>,
    failures_per_account: Limiter<String>,
    failures_per_device: Limiter<(String, String)>,
    /// Failed invitation tokens per address (a token cannot be guessed; this
    /// bounds the lookups).
    invitation_failures_per_ip: Limiter<IpAddr>,
    /// Password changes per address (each verifies a password: argon2's cost).
    password_changes_per_ip: Limiter<IpAddr>,
}

impl Limits {
    fn from_config(config: &Config) -> Limits {
        let minute = Duration::from_secs(60);
        let per_ip = config.sign_in_per_ip_per_minute;
        Limits {
            sign_in_per_ip: Limiter::new(per_ip, minute),
            failures_per_account: Limiter::new(config.sign_in_failures_per_account, FAILURE_WINDOW),
            failures_per_device: Limiter::new(FAILURES_PER_KNOWN_DEVICE, FAILURE_WINDOW),
            invitation_failures_per_ip: Limiter::new(per_ip, minute),
            password_changes_per_ip: Limiter::new(per_ip, minute),
        }
    }
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AccountsState: FromRef<S>,
{
    Router::new()
        .route(SIGN_IN_PATH, post(sign_in))
        .route(SIGN_OUT_PATH, post(sign_out))
        .route(SIGN_OUT_OTHERS_PATH, post(sign_out_others))
        .route(SESSION_PATH, get(session))
        .route(PASSWORD_PATH, post(change_password))
        .route(INVITATION_PATH, post(accept_invitation))
        .route(USERS_PATH, get(list_users).post(create_user))
        .route(&format!("{USERS_PATH}/{{id}}"), post(change_user))
        .route(
            &format!("{USERS_PATH}/{{id}}{USER_INVITATION_SUFFIX}"),
            post(reset_user),
        )
        .route(MEMBERS_PATH, get(list_members).post(change_member))
        .route(GRANTS_PATH, get(list_grants).post(change_grant))
        .layer(DefaultBodyLimit::max(ACCOUNT_BODY_LIMIT))
        // Identities and invitation links must not sit in any cache.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Refuses a state-changing API request (any method but GET, HEAD, OPTIONS)
/// whose `Origin` is not this server's: `--public-origin` when configured,
/// else `http(s)://<Host>`. Without `Origin`, only `Sec-Fetch-Site:
/// same-origin` passes. Together with SameSite=Lax cookies this stops
/// cross-site request forgery.
pub async fn check_origin(
    State(state): State<AccountsState>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || !request.uri().path().starts_with(API_PREFIX) {
        return next.run(request).await;
    }
    if origin_allowed(request.headers(), state.auth.public_origin.as_deref()) {
        return next.run(request).await;
    }
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("(none)");
    tracing::warn!(target: "audit", path = %request.uri().path(), origin = %origin, "request from a foreign origin refused");
    AuthError::ForbiddenOrigin.into_response()
}

fn client_address(
    header: Option<&header::HeaderName>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> IpAddr {
    header
        .and_then(|name| headers.get(name))
        .and_then(|value| value.to_str().ok())
        // A proxy appends what it saw; earlier entries are the client's to write.
        .and_then(|value| value.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer.ip())
}

fn origin_allowed(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let Some(origin) = text(header::ORIGIN) else {
        return headers
            .get("sec-fetch-site")
            .is_some_and(|value| value.as_bytes() == b"same-origin");
    };
    match public_origin {
        Some(expected) => origin == expected,
        None => text(header::HOST).is_some_and(|host| {
            origin == format!("https://{host}") || origin == format!("http://{host}")
        }),
    }
}

fn bad_json(rejection: JsonRejection) -> AuthError {
    AuthError::InvalidInput(format!(
        "the body is not what this endpoint takes: {}",
        rejection.body_text()
    ))
}

fn audit_sign_in(email: &str, ip: IpAddr, outcome: &str) {
    tracing::info!(target: "audit", email = %email, ip = %ip, outcome = outcome, "sign-in attempt");
}

/// Refuses (and logs) a request of a user who is not the secretariat.
fn require_secretariat(signed: &SignedIn, what: &str) -> Result<(), AuthError> {
    signed
        .account
        .identity()
        .access()
        .check_secretariat()
        .map_err(|denied| forbidden(signed, what, denied))
}

fn forbidden(signed: &SignedIn, what: &str, denied: Denied) -> AuthError {
    tracing::warn!(target: "audit", user = %signed.account.id, request = what, reason = %denied, "request denied");
    AuthError::Forbidden(denied)
}

fn with_cookies(body: impl IntoResponse, cookies: &[HeaderValue]) -> Response {
    let mut response = body.into_response();
    for cookie in cookies {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    response
}

async fn session_info(
    accounts: &dyn Accounts,
    account: &Account,
) -> Result<SessionInfo, AuthError> {
    Ok(SessionInfo {
        identity: account.identity(),
        members: accounts.member_states().await?,
    })
}

/// Starts a session and marks the browser as a device that signed in to the
/// account (reusing its device token if it has one): the cookies to set.
async fn sign_in_cookies(
    state: &AccountsState,
    headers: &HeaderMap,
    account: &Account,
) -> Result<Vec<HeaderValue>, AuthError> {
    let rules = &state.auth.rules;
    let session = rules.start(state.accounts.as_ref(), &account.id).await?;
    let device = match cookie_value(headers, rules.device_cookie_name())
        .filter(|token| tokens::is_well_formed(token))
    {
        Some(token) => token.to_owned(),
        None => tokens::new_token().ok_or_else(randomness_failed)?,
    };
    state
        .accounts
        .remember_device(&tokens::token_hash(&device), &account.id, unix_now())
        .await?;
    Ok(vec![session, rules.device_cookie(&device)])
}

/// `POST SIGN_IN_PATH`: email and password → a session. The answer for an
/// unknown email, a wrong password, a disabled account and one without a
/// password is the same, after the same argon2 work.
async fn sign_in(
    State(state): State<AccountsState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<SignInRequest>, JsonRejection>,
) -> Result<Response, AuthError> {
    let Json(request) = body.map_err(bad_json)?;
    let ip = state.auth.client_address(peer, &headers);
    let email = normalize_email(&request.email);
    let limits = &state.auth.limits;
    if let Err(wait) = limits.sign_in_per_ip.attempt(&ip) {
        audit_sign_in(&email, ip, "rate_limited_address");
        return Err(AuthError::TooManyAttempts(wait));
    }
    let account = state.accounts.account_by_email(&email).await?;
    let device = cookie_value(&headers, state.auth.rules.device_cookie_name())
        .filter(|token| tokens::is_well_formed(token))
        .map(tokens::token_hash);
    let known_device = match (&account, &device) {
        (Some(account), Some(device)) => state.accounts.device_known(device, &account.id).await?,
        _ => false,
    };
    let device_key = device
        .filter(|_| known_device)
        .map(|device| (email.clone(), device));
    let blocked = match &device_key {
        Some(key) => limits.failures_per_device.blocked(key),
        None => limits.failures_per_account.blocked(&email),
    };
    if let Some(wait) = blocked {
        audit_sign_in(&email, ip, "rate_limited_account");
        return Err(AuthError::TooManyAttempts(wait));
    }
    // A disabled account or one without a password verifies the dummy hash.
    let stored = account
        .as_ref()
        .filter(|account| account.active)
        .and_then(|account| account.password_hash.clone());
    let matched = state.auth.passwords.verify(request.password, stored).await;
    let Some(account) = account.filter(|_| matched) else {
        match &device_key {
            Some(key) => limits.failures_per_device.record(key),
            None => limits.failures_per_account.record(&email),
        }
        audit_sign_in(&email, ip, "invalid_credentials");
        return Err(AuthError::InvalidCredentials);
    };
    let cookies = sign_in_cookies(&state, &headers, &account).await?;
    audit_sign_in(&email, ip, "signed_in");
    let info = session_info(state.accounts.as_ref(), &account).await?;
    Ok(with_cookies(Json(info), &cookies))
}

/// `POST SIGN_OUT_PATH`: ends this session on the server (if there is one)
/// and clears the cookie.
async fn sign_out(
    State(state): State<AccountsState>,
    headers: HeaderMap,
) -> Result<Response, AuthError> {
    let rules = &state.auth.rules;
    if let Some(token) = cookie_value(&headers, rules.session_cookie_name())
        .filter(|token| tokens::is_well_formed(token))
    {
        let token_hash = tokens::token_hash(token);
        if let Some(session) = state.accounts.session(&token_hash).await? {
            state.accounts.delete_session(&token_hash).await?;
            tracing::info!(target: "audit", user = %session.user, "signed out");
        }
    }
    Ok(with_cookies(
        StatusCode::NO_CONTENT,
        &[rules.clear_session_cookie()],
    ))
}

/// `POST SIGN_OUT_OTHERS_PATH`: ends every other session of the user.
async fn sign_out_others(
    State(state): State<AccountsState>,
    signed: SignedIn,
) -> Result<Json<SignedOutOthers>, AuthError> {
    let ended = state
        .accounts
        .delete_sessions_of(&signed.account.id, Some(&signed.token_hash))
        .await?;
    tracing::info!(target: "audit", user = %signed.account.id, ended, "signed out other devices");
    Ok(Json(SignedOutOthers { ended }))
}

/// `GET SESSION_PATH`: who is signed in.
async fn session(
    State(state): State<AccountsState>,
    signed: SignedIn,
) -> Result<Json<SessionInfo>, AuthError> {
    Ok(Json(
        session_info(state.accounts.as_ref(), &signed.account).await?,
    ))
}

/// `POST PASSWORD_PATH`: the user changes their own password; their other
/// sessions end.
async fn change_password(
    State(state): State<AccountsState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    signed: SignedIn,
    body: Result<Json<PasswordChange>, JsonRejection>,
) -> Result<StatusCode, AuthError> {
    let Json(change) = body.map_err(bad_json)?;
    let user = &signed.account.id;
    state
        .auth
        .limits
        .password_changes_per_ip
        .attempt(&state.auth.client_address(peer, &headers))
        .map_err(AuthError::TooManyAttempts)?;
    check_new_password(&change.new, &signed.account.email)
        .map_err(|problem| AuthError::InvalidInput(problem.to_string()))?;
    let matched = state
        .auth
        .passwords
        .verify(change.current, signed.account.password_hash.clone())
        .await;
    if !matched {
        tracing::warn!(target: "audit", user = %user, "password change refused: wrong current password");
        return Err(AuthError::WrongCurrentPassword);
    }
    let hash = hash_password(change.new).await?;
    state.accounts.set_password_hash(user, Some(&hash)).await?;
    let ended = state
        .accounts
        .delete_sessions_of(user, Some(&signed.token_hash))
        .await?;
    tracing::info!(target: "audit", user = %user, other_sessions_ended = ended, "password changed");
    Ok(StatusCode::NO_CONTENT)
}

async fn hash_password(password: String) -> Result<String, AuthError> {
    passwords::hash(password).await.map_err(|error| {
        tracing::error!(%error, "password hashing failed");
        AuthError::ServerFault
    })
}

/// `POST INVITATION_PATH`: the token of an invitation link and a new password
/// → the password is set, the link is used up, and the user is signed in.
async fn accept_invitation(
    State(state): State<AccountsState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<AcceptInvitation>, JsonRejection>,
) -> Result<Response, AuthError> {
    let Json(accept) = body.map_err(bad_json)?;
    let ip = state.auth.client_address(peer, &headers);
    let limiter = &state.auth.limits.invitation_failures_per_ip;
    if let Some(wait) = limiter.blocked(&ip) {
        return Err(AuthError::TooManyAttempts(wait));
    }
    let now = unix_now();
    let token_hash = tokens::token_hash(&accept.token);
    let user = if tokens::is_well_formed(&accept.token) {
        state.accounts.invitation(&token_hash, now).await?
    } else {
        None
    };
    let account = match user {
        Some(user) => state.accounts.account(&user).await?,
        None => None,
    };
    let Some(account) = account.filter(|account| account.active) else {
        limiter.record(&ip);
        tracing::warn!(target: "audit", ip = %ip, "invitation refused: unknown, used or expired link");
        return Err(AuthError::InvalidInvitation);
    };
    check_new_password(&accept.password, &account.email)
        .map_err(|problem| AuthError::InvalidInput(problem.to_string()))?;
    let hash = hash_password(accept.password).await?;
    // Of two requests with one link, only the one that deletes it goes on.
    if state.accounts.take_invitation(&token_hash, now).await? != Some(account.id.clone()) {
        limiter.record(&ip);
        return Err(AuthError::InvalidInvitation);
    }
    state
        .accounts
        .set_password_hash(&account.id, Some(&hash))
        .await?;
    state.accounts.delete_sessions_of(&account.id, None).await?;
    let cookies = sign_in_cookies(&state, &headers, &account).await?;
    tracing::info!(target: "audit", user = %account.id, ip = %ip, "invitation accepted");
    let info = session_info(state.accounts.as_ref(), &account).await?;
    Ok(with_cookies(Json(info), &cookies))
}

/// Makes a fresh invitation link for `user`, replacing any open one.
async fn invite(state: &AccountsState, user: &UserId) -> Result<Invitation, AuthError> {
    let accounts = state.accounts.as_ref();
    let token = tokens::new_token().ok_or_else(randomness_failed)?;
    let expires_at = unix_now() + state.auth.invitation_secs;
    accounts
        .replace_invitation(user, &tokens::token_hash(&token), expires_at)
        .await?;
    Ok(Invitation {
        user: user.clone(),
        link: format!("{WELCOME_PAGE}#{token}"),
        expires_at,
    })
}

/// Checks a user's name, organisation, role and member state together.
fn check_profile(account: &Account, members: &[MemberState]) -> Result<(), AuthError> {
    let invalid = |reason: &str| Err(AuthError::InvalidInput(reason.to_owned()));
    if account.name.trim().is_empty() {
        return invalid("the name is empty");
    }
    if account.name.chars().count() > MAX_NAME_CHARS
        || account.organisation.chars().count() > MAX_NAME_CHARS
    {
        return invalid("the name or organisation is longer than 200 characters");
    }
    match &account.member_state {
        Some(code) if !members.iter().any(|member| &member.code == code) => Err(
            AuthError::InvalidInput(format!("there is no member with the code {code}")),
        ),
        None if account.role == Role::Member => {
            invalid("a member needs a member state (or EU for the European Commission)")
        }
        _ => Ok(()),
    }
}

/// `GET USERS_PATH`: every user (secretariat only).
async fn list_users(
    State(state): State<AccountsState>,
    signed: SignedIn,
) -> Result<Json<Vec<UserEntry>>, AuthError> {
    require_secretariat(&signed, "list users")?;
    let accounts = state.accounts.all_accounts().await?;
    Ok(Json(accounts.iter().map(Account::entry).collect()))
}

/// `POST USERS_PATH`: creates a user without a password and answers their
/// invitation link (secretariat only).
async fn create_user(
    State(state): State<AccountsState>,
    signed: SignedIn,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<Response, AuthError> {
    require_secretariat(&signed, "create a user")?;
    let Json(new) = body.map_err(bad_json)?;
    let email = normalize_email(&new.email);
    if !is_plausible_email(&email) {
        return Err(AuthError::InvalidInput(format!(
            "`{}` is not an email address",
            new.email.trim()
        )));
    }
    let account = Account {
        id: UserId(tokens::new_user_id().ok_or_else(randomness_failed)?),
        email,
        name: new.name.trim().to_owned(),
        role: new.role,
        member_state: new.member_state.filter(|code| !code.trim().is_empty()),
        organisation: new.organisation.trim().to_owned(),
        active: true,
        password_hash: None,
    };
    check_profile(&account, &state.accounts.member_states().await?)?;
    if !state.accounts.insert_account(&account, unix_now()).await? {
        return Err(AuthError::EmailTaken);
    }
    let invitation = invite(&state, &account.id).await?;
    tracing::info!(target: "audit", user = %signed.account.id, created = %account.id, role = account.role.as_str(), "user created");
    Ok((StatusCode::CREATED, Json(invitation)).into_response())
}

async fn account_at(accounts: &dyn Accounts, id: &str) -> Result<Account, AuthError> {
    let unknown = || AuthError::UnknownUser(id.chars().take(64).collect());
    if !UserId::is_well_formed(id) {
        return Err(unknown());
    }
    accounts
        .account(&UserId(id.to_owned()))
        .await?
        .ok_or_else(unknown)
}

/// `POST USERS_PATH/<id>`: changes a user's name, role, member state,
/// organisation or active flag (secretariat only). Disabling ends the user's
/// sessions and open invitation; a role change applies from their next request.
async fn change_user(
    State(state): State<AccountsState>,
    signed: SignedIn,
    UrlPath(id): UrlPath<String>,
    body: Result<Json<UserChange>, JsonRejection>,
) -> Result<Json<UserEntry>, AuthError> {
    require_secretariat(&signed, "change a user")?;
    let Json(change) = body.map_err(bad_json)?;
    let before = account_at(state.accounts.as_ref(), &id).await?;
    let mut account = before.clone();
    if let Some(name) = change.name {
        account.name = name.trim().to_owned();
    }
    if let Some(role) = change.role {
        account.role = role;
    }
    if let Some(member_state) = change.member_state {
        account.member_state = member_state.filter(|code| !code.trim().is_empty());
    }
    if let Some(organisation) = change.organisation {
        account.organisation = organisation.trim().to_owned();
    }
    if let Some(active) = change.active {
        account.active = active;
    }
    check_profile(&account, &state.accounts.member_states().await?)?;
    let was_secretariat = before.active && before.role == Role::Secretariat;
    let still_secretariat = account.active && account.role == Role::Secretariat;
    if was_secretariat && !still_secretariat {
        let others = state
            .accounts
            .all_accounts()
            .await?
            .into_iter()
            .filter(|other| other.active && other.role == Role::Secretariat)
            .filter(|other| other.id != account.id)
            .count();
        if others == 0 {
            return Err(AuthError::InvalidInput(
                "Tern needs at least one active secretariat account".to_owned(),
            ));
        }
    }
    state.accounts.save_profile(&account).await?;
    if before.active && !account.active {
        state.accounts.delete_sessions_of(&account.id, None).await?;
        state.accounts.delete_invitations_of(&account.id).await?;
    }
    tracing::info!(target: "audit", user = %signed.account.id, changed = %account.id, role = account.role.as_str(), active = account.active, "user changed");
    Ok(Json(account.entry()))
}

/// `POST USERS_PATH/<id>/invitation`: a password reset. The password is
/// cleared, every session ends, and a fresh link is answered (secretariat only).
async fn reset_user(
    State(state): State<AccountsState>,
    signed: SignedIn,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Invitation>, AuthError> {
    require_secretariat(&signed, "reset a user's password")?;
    let account = account_at(state.accounts.as_ref(), &id).await?;
    state.accounts.set_password_hash(&account.id, None).await?;
    state.accounts.delete_sessions_of(&account.id, None).await?;
    let invitation = invite(&state, &account.id).await?;
    tracing::info!(target: "audit", user = %signed.account.id, reset = %account.id, "password reset; new invitation");
    Ok(Json(invitation))
}

/// `GET MEMBERS_PATH`: the member states (every signed-in user).
async fn list_members(
    State(state): State<AccountsState>,
    _signed: SignedIn,
) -> Result<Json<Vec<MemberState>>, AuthError> {
    Ok(Json(state.accounts.member_states().await?))
}

/// `POST MEMBERS_PATH`: marks a member active or not (secretariat only).
async fn change_member(
    State(state): State<AccountsState>,
    signed: SignedIn,
    body: Result<Json<MemberStateChange>, JsonRejection>,
) -> Result<Json<Vec<MemberState>>, AuthError> {
    require_secretariat(&signed, "change a member state")?;
    let Json(change) = body.map_err(bad_json)?;
    if !state
        .accounts
        .set_member_active(&change.code, change.active)
        .await?
    {
        return Err(AuthError::InvalidInput(format!(
            "there is no member with the code {}",
            change.code.chars().take(16).collect::<String>()
        )));
    }
    tracing::info!(target: "audit", user = %signed.account.id, member = %change.code, active = change.active, "member state changed");
    Ok(Json(state.accounts.member_states().await?))
}

#[derive(serde::Deserialize)]
struct GrantsQuery {
    record: String,
}

fn parse_record(text: &str) -> Result<RecordId, AuthError> {
    text.parse::<RecordId>()
        .map_err(|error| AuthError::InvalidInput(error.to_string()))
}

async fn grants_of(accounts: &dyn Accounts, record: RecordId) -> Result<Vec<Grant>, AuthError> {
    Ok(accounts
        .grants_of_record(record)
        .await?
        .into_iter()
        .map(|user| Grant {
            record,
            user,
            granted: true,
        })
        .collect())
}

/// `GET GRANTS_PATH?record=<id>`: who was invited to a record (secretariat only).
async fn list_grants(
    State(state): State<AccountsState>,
    signed: SignedIn,
    query: Result<Query<GrantsQuery>, QueryRejection>,
) -> Result<Json<Vec<Grant>>, AuthError> {
    require_secretariat(&signed, "list grants")?;
    let Query(query) = query.map_err(|_| {
        AuthError::InvalidInput("the query needs `record` (a record id)".to_owned())
    })?;
    let record = parse_record(&query.record)?;
    Ok(Json(grants_of(state.accounts.as_ref(), record).await?))
}

/// `POST GRANTS_PATH`: invites a contributor or observer to a record, or
/// withdraws the invitation (secretariat only); answers the record's grants.
async fn change_grant(
    State(state): State<AccountsState>,
    signed: SignedIn,
    body: Result<Json<Grant>, JsonRejection>,
) -> Result<Json<Vec<Grant>>, AuthError> {
    require_secretariat(&signed, "change a grant")?;
    let Json(grant) = body.map_err(bad_json)?;
    let account = account_at(state.accounts.as_ref(), &grant.user.0).await?;
    if account.identity().access().sees_every_record() {
        return Err(AuthError::InvalidInput(format!(
            "{} is a {} and sees every record already",
            account.name,
            account.role.as_str()
        )));
    }
    let changed = state
        .accounts
        .set_grant(grant.record, &account.id, grant.granted, unix_now())
        .await?;
    if changed == GrantChange::UnknownRecord {
        return Err(AuthError::UnknownRecord(grant.record.to_string()));
    }
    if changed == GrantChange::Changed {
        tracing::info!(target: "audit", user = %signed.account.id, grantee = %account.id, record = %grant.record, granted = grant.granted, "grant changed");
    }
    Ok(Json(
        grants_of(state.accounts.as_ref(), grant.record).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn behind_a_proxy_the_last_forwarded_address_counts() {
        let peer: SocketAddr = "10.0.0.2:4000".parse().expect("address");
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7")]);
        let name = header::HeaderName::from_static("x-forwarded-for");
        assert_eq!(
            client_address(Some(&name), peer, &forwarded).to_string(),
            "198.51.100.7"
        );
        // Not configured, absent or garbage: the peer.
        assert_eq!(client_address(None, peer, &forwarded), peer.ip());
        assert_eq!(
            client_address(Some(&name), peer, &HeaderMap::new()),
            peer.ip()
        );
        let garbage = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(client_address(Some(&name), peer, &garbage), peer.ip());
    }

    #[test]
    fn the_origin_must_be_this_servers() {
        let own = headers(&[
            ("host", "tern.example.org"),
            ("origin", "https://tern.example.org"),
        ]);
        assert!(origin_allowed(&own, None));
        let foreign = headers(&[
            ("host", "tern.example.org"),
            ("origin", "https://evil.example"),
        ]);
        assert!(!origin_allowed(&foreign, None));
        // With a public origin configured, the Host header is not trusted.
        assert!(origin_allowed(&own, Some("https://tern.example.org")));
        let proxied = headers(&[
            ("host", "10.0.0.5:3000"),
            ("origin", "https://tern.example.org"),
        ]);
        assert!(origin_allowed(&proxied, Some("https://tern.example.org")));
        assert!(!origin_allowed(&proxied, None));
        let null = headers(&[("host", "tern.example.org"), ("origin", "null")]);
        assert!(!origin_allowed(&null, None));
        // No Origin: only a same-origin fetch passes.
        assert!(origin_allowed(
            &headers(&[("sec-fetch-site", "same-origin")]),
            None
        ));
        assert!(!origin_allowed(
            &headers(&[("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(!origin_allowed(
            &headers(&[("host", "tern.example.org")]),
            None
        ));
    }
}
