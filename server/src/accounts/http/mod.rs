//! The account API (sign-in, sessions, passwords, invitations), the admin API
//! (users, member states, grants) and the Origin check on state changes.
//!
//! Paths and bodies are `tern_domain::auth`'s. Every sign-in attempt and every
//! refused request is logged under the `audit` target, never with a password
//! or a token.

mod admin;
mod session_api;

use admin::{
    change_grant, change_member, change_user, create_user, list_grants, list_members, list_users,
    reset_user,
};
use session_api::{
    accept_invitation, change_password, session, sign_in, sign_out, sign_out_others,
};

use super::limits::Limiter;
use super::passwords::Passwords;
use super::sessions::{SessionRules, SignedIn};
use super::AccountsState;
use crate::config::Config;
use crate::error::AuthError;
use axum::extract::rejection::JsonRejection;
use axum::extract::FromRef;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tern_domain::api::API_PREFIX;
use tern_domain::auth::{
    Denied, GRANTS_PATH, INVITATION_PATH, MEMBERS_PATH, PASSWORD_PATH, SESSION_PATH, SIGN_IN_PATH,
    SIGN_OUT_OTHERS_PATH, SIGN_OUT_PATH, USERS_PATH, USER_INVITATION_SUFFIX,
};
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
