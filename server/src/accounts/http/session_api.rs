//! Signing in and out, the session, one's own password, accepting an invitation.

use super::super::passwords::{self};
use super::super::sessions::{cookie_value, randomness_failed, SignedIn};
use super::super::tokens;
use super::super::AccountsState;
use super::*;
use crate::clock::unix_now;
use crate::error::AuthError;
use crate::storage::accounts::{Account, Accounts};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Json;
use std::net::{IpAddr, SocketAddr};
use tern_domain::auth::{
    check_new_password, normalize_email, AcceptInvitation, PasswordChange, SessionInfo,
    SignInRequest, SignedOutOthers,
};

pub(super) fn audit_sign_in(email: &str, ip: IpAddr, outcome: &str) {
    tracing::info!(target: "audit", email = %email, ip = %ip, outcome = outcome, "sign-in attempt");
}

pub(super) async fn session_info(
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
pub(super) async fn sign_in_cookies(
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
pub(super) async fn sign_in(
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
pub(super) async fn sign_out(
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
pub(super) async fn sign_out_others(
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
pub(super) async fn session(
    State(state): State<AccountsState>,
    signed: SignedIn,
) -> Result<Json<SessionInfo>, AuthError> {
    Ok(Json(
        session_info(state.accounts.as_ref(), &signed.account).await?,
    ))
}

/// `POST PASSWORD_PATH`: the user changes their own password; their other
/// sessions end.
pub(super) async fn change_password(
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

pub(super) async fn hash_password(password: String) -> Result<String, AuthError> {
    passwords::hash(password).await.map_err(|error| {
        tracing::error!(%error, "password hashing failed");
        AuthError::ServerFault
    })
}

/// `POST INVITATION_PATH`: the token of an invitation link and a new password
/// → the password is set, the link is used up, and the user is signed in.
pub(super) async fn accept_invitation(
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
