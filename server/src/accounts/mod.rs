//! Accounts and access: who is signed in, and what they may do.
//!
//! - `passwords`: argon2id hashing and verification (with the dummy hash that
//!   keeps unknown emails as slow as wrong passwords).
//! - `tokens`: random tokens and the SHA-256 the server keeps of them.
//! - `sessions`: cookies, timeouts and the [`SignedIn`] extractor every
//!   protected handler takes.
//! - `limits`: the in-memory rate limits of sign-in and password endpoints.
//! - `http`: the account, admin and origin-check handlers.
//! - `bootstrap`: the first secretariat account at start-up.

pub mod bootstrap;
pub mod http;
pub mod limits;
pub mod passwords;
pub mod sessions;
pub mod tokens;

pub use crate::storage::accounts::{Account, Accounts};
pub use crate::storage::Actor;
pub use sessions::SignedIn;

use std::sync::Arc;

/// What the account handlers and the [`SignedIn`] extractor need of the
/// server's state (taken from it with axum's `FromRef`).
#[derive(Clone)]
pub struct AccountsState {
    pub accounts: Arc<dyn Accounts>,
    pub auth: Arc<http::Auth>,
}
