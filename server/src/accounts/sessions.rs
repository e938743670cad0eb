//! Sessions: the cookie, the timeouts and the [`SignedIn`] extractor.
//!
//! A session is a random 256-bit token in a `__Host-` cookie (HttpOnly, Secure,
//! SameSite=Lax); the server stores only its SHA-256. Every request looks the
//! session up and loads the user afresh, so a role change or a disabled account
//! takes effect on the next request.

use super::tokens;
use super::AccountsState;
use super::Actor;
use crate::clock::unix_now;
use crate::config::Config;
use crate::error::AuthError;
use crate::storage::accounts::{Account, Accounts, Session};
use axum::extract::FromRef;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The session cookie's name: `__Host-` binds it to this exact origin (no
/// Domain, Path=/, Secure), so a sibling subdomain cannot set or read it.
pub const SESSION_COOKIE: &str = "__Host-tern_session";
/// The name under `--insecure-cookies` (plain HTTP on a non-local host).
pub const PLAIN_SESSION_COOKIE: &str = "tern_session";
/// A browser that signed in to an account keeps this (a random token whose
/// hash the server stores with the user): see `limits` and `http::sign_in`.
pub const DEVICE_COOKIE: &str = "__Host-tern_device";
pub const PLAIN_DEVICE_COOKIE: &str = "tern_device";
/// How long a device cookie lasts: 400 days, the most browsers keep a cookie.
const DEVICE_COOKIE_SECS: u64 = 400 * 24 * 3600;

/// Session lifetimes and cookie attributes, from [`Config`].
#[derive(Debug, Clone)]
pub struct SessionRules {
    /// A session unused this long ends.
    pub idle_secs: u64,
    /// A session ends this long after sign-in.
    pub max_secs: u64,
    /// `Secure` and the `__Host-` prefix (off only under `--insecure-cookies`).
    pub secure: bool,
}

impl SessionRules {
    pub fn from_config(config: &Config) -> SessionRules {
        SessionRules {
            idle_secs: config.session_idle_secs.max(1),
            max_secs: config.session_max_secs.max(1),
            secure: !config.insecure_cookies,
        }
    }

    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure {
            SESSION_COOKIE
        } else {
            PLAIN_SESSION_COOKIE
        }
    }

    pub fn device_cookie_name(&self) -> &'static str {
        if self.secure {
            DEVICE_COOKIE
        } else {
            PLAIN_DEVICE_COOKIE
        }
    }

    /// `last_seen` is written at most this often (not on every request), but
    /// often enough that a short idle timeout still sees the activity.
    fn refresh_secs(&self) -> u64 {
        (self.idle_secs / 4).min(60)
    }

    fn cookie(&self, name: &str, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let text =
            format!("{name}={value}; Path=/; HttpOnly{secure}; SameSite=Lax; Max-Age={max_age}");
        // Tokens are base64url and names are constants: always a valid header.
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    pub fn session_cookie(&self, token: &str, max_age: u64) -> HeaderValue {
        self.cookie(self.session_cookie_name(), token, max_age)
    }

    pub fn clear_session_cookie(&self) -> HeaderValue {
        self.cookie(self.session_cookie_name(), "", 0)
    }

    pub fn device_cookie(&self, token: &str) -> HeaderValue {
        self.cookie(self.device_cookie_name(), token, DEVICE_COOKIE_SECS)
    }

    /// Starts a session for `user`: stores the hash, returns the token and the
    /// cookie to set.
    pub async fn start(
        &self,
        accounts: &dyn Accounts,
        user: &tern_domain::auth::UserId,
    ) -> Result<HeaderValue, AuthError> {
        let token = tokens::new_token().ok_or_else(randomness_failed)?;
        let now = unix_now();
        let session = Session {
            user: user.clone(),
            created_at: now,
            last_seen: now,
            expires_at: now + self.max_secs,
        };
        accounts
            .insert_session(&tokens::token_hash(&token), &session)
            .await?;
        Ok(self.session_cookie(&token, self.max_secs))
    }

    /// The live session a request's cookie names, with its user (active).
    /// An expired session is deleted on the way.
    pub async fn authenticate(
        &self,
        accounts: &dyn Accounts,
        headers: &HeaderMap,
    ) -> Result<SignedIn, AuthError> {
        let token = cookie_value(headers, self.session_cookie_name())
            .filter(|token| tokens::is_well_formed(token))
            .ok_or(AuthError::SignedOut)?;
        let token_hash = tokens::token_hash(token);
        let session = accounts
            .session(&token_hash)
            .await?
            .ok_or(AuthError::SignedOut)?;
        let now = unix_now();
        let expired =
            now >= session.expires_at || now.saturating_sub(session.last_seen) > self.idle_secs;
        let account = if expired {
            None
        } else {
            accounts
                .account(&session.user)
                .await?
                .filter(|account| account.active)
        };
        let Some(account) = account else {
            accounts.delete_session(&token_hash).await?;
            return Err(AuthError::SignedOut);
        };
        if now.saturating_sub(session.last_seen) >= self.refresh_secs() {
            // Bookkeeping for the idle timeout: two requests of one session at
            // once (a push and the event stream) may both try, and one may meet a
            // write conflict. The request itself is fine either way.
            if let Err(error) = accounts.touch_session(&token_hash, now).await {
                tracing::warn!(%error, "session last-seen time not recorded");
            }
        }
        Ok(SignedIn {
            account,
            token_hash,
            session,
        })
    }
}

/// Deletes expired sessions and invitations now and then (requests also delete
/// an expired session they meet), until `stop` turns true.
pub async fn sweep_expired(
    accounts: Arc<dyn Accounts>,
    rules: SessionRules,
    mut stop: watch::Receiver<bool>,
) {
    let every = Duration::from_secs(rules.idle_secs.clamp(1, 3_600));
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
                continue;
            }
        }
        if let Err(error) = accounts.delete_expired(unix_now(), rules.idle_secs).await {
            tracing::warn!(?error, "expired sessions not deleted; will retry");
        }
    }
}

pub(crate) fn randomness_failed() -> AuthError {
    tracing::error!("the operating system's random source failed");
    AuthError::ServerFault
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// A request from a signed-in, active user. Handlers that take it answer 401
/// `signed_out` without a live session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account: Account,
    /// Which session this is (its token's hash), for sign-out.
    pub token_hash: String,
    pub session: Session,
}

impl SignedIn {
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.account.id.clone(),
            access: self.account.identity().access(),
        }
    }
}

impl<S> FromRequestParts<S> for SignedIn
where
    S: Send + Sync,
    AccountsState: FromRef<S>,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthError> {
        let state = AccountsState::from_ref(state);
        let signed = state
            .auth
            .rules
            .authenticate(state.accounts.as_ref(), &parts.headers)
            .await;
        if let Err(AuthError::SignedOut) = &signed {
            tracing::info!(target: "audit", path = %parts.uri.path(), "request refused: no live session");
        }
        signed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_host_only_http_only_secure_and_lax() {
        let rules = SessionRules {
            idle_secs: 60,
            max_secs: 3_600,
            secure: true,
        };
        let cookie = rules.session_cookie("abc", 3_600);
        assert_eq!(
            cookie.to_str().expect("ascii"),
            "__Host-tern_session=abc; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=3600"
        );
        let plain = SessionRules {
            secure: false,
            ..rules
        };
        assert_eq!(
            plain.clear_session_cookie().to_str().expect("ascii"),
            "tern_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("tern_lang=de; __Host-tern_session=tok; x=y"),
        );
        assert_eq!(cookie_value(&headers, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie_value(&headers, PLAIN_SESSION_COOKIE), None);
    }
}
