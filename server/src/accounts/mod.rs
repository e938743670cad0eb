//! Accounts and access: who is signed in, and what they may do.
//!
//! - `passwords`: argon2id hashing and verification (with the dummy hash that
//!   keeps unknown emails as slow as wrong passwords).
//! - `tokens`: random tokens and the SHA-256 the server keeps of them.
//! - `store`: the [`Accounts`] trait over the database.
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
pub mod store;
pub mod tokens;

pub use sessions::SignedIn;
pub use store::{Account, Accounts};

use tern_domain::auth::{Access, UserId};

/// Whom a storage call acts for: the signed-in user and what their role allows.
/// Which records a contributor or observer sees is read from their grants by
/// the storage itself, in the same order as the changes it checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub access: Access,
}

impl Actor {
    /// Full access, for tools and tests that drive the storage directly.
    pub fn secretariat(user: UserId) -> Actor {
        Actor {
            user,
            access: Access::secretariat(),
        }
    }
}
