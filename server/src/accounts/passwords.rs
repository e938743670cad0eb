//! Password hashes: argon2id with fixed parameters, always off the async threads.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Memory per hash in KiB (19 MiB: OWASP's minimum for argon2id with t = 2).
pub const MEMORY_KIB: u32 = 19_456;
/// Passes over the memory.
pub const ITERATIONS: u32 = 2;
/// Lanes; one, since each hash runs on one blocking thread.
pub const PARALLELISM: u32 = 1;

/// Why a password could not be hashed: only the machine's failures, never the
/// password's (those are `PasswordProblem`s, checked before).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("the operating system's random source failed")]
    Randomness,
    #[error("argon2 refused to hash: {0}")]
    Argon2(String),
    #[error("the hashing task ended abnormally")]
    Task,
}

fn hasher() -> Argon2<'static> {
    // The parameters are constants within argon2's bounds; `DEFAULT` is only the
    // unreachable fallback (it has the same values in argon2 0.5).
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or(Params::DEFAULT);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_now(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| HashError::Randomness)?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|error| HashError::Argon2(error.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| HashError::Argon2(error.to_string()))
}

/// Hashes and checks passwords. Holds a hash of a random password, made once at
/// start-up with the same parameters, that sign-in verifies against when the
/// email has no password to check: an unknown email then takes as long as a
/// wrong password, so the timing does not tell which accounts exist.
#[derive(Clone)]
pub struct Passwords {
    dummy: Arc<str>,
    /// How many verifications ran (real or dummy), for tests and metrics.
    verified: Arc<AtomicU64>,
}

impl Passwords {
    pub async fn new() -> Result<Passwords, HashError> {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|_| HashError::Randomness)?;
        let dummy = hash(crate::accounts::tokens::encode(&random)).await?;
        Ok(Passwords {
            dummy: dummy.into(),
            verified: Arc::default(),
        })
    }

    /// Whether `password` matches `stored`. Without a stored hash (no such
    /// account, or no password chosen yet) the dummy hash is verified all the
    /// same and the answer is false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> bool {
        let real = stored.is_some();
        let against = stored.unwrap_or_else(|| self.dummy.to_string());
        let verified = Arc::clone(&self.verified);
        let matched = tokio::task::spawn_blocking(move || {
            verified.fetch_add(1, Ordering::Relaxed);
            PasswordHash::new(&against)
                .is_ok_and(|hash| hasher().verify_password(password.as_bytes(), &hash).is_ok())
        })
        .await
        .unwrap_or(false);
        real && matched
    }

    /// Verifications run so far.
    pub fn verifications(&self) -> u64 {
        self.verified.load(Ordering::Relaxed)
    }
}

/// Hashes a new password (PHC string: `$argon2id$v=19$m=19456,t=2,p=1$…`) on a
/// blocking thread.
pub async fn hash(password: String) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|_| HashError::Task)?
}

/// The argon2 parameters a stored hash was made with: (algorithm, m, t, p).
pub fn parameters_of(stored: &str) -> Option<(String, u32, u32, u32)> {
    let hash = PasswordHash::new(stored).ok()?;
    let params = Params::try_from(&hash).ok()?;
    Some((
        hash.algorithm.as_str().to_owned(),
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_at_least_the_required_cost() {
        let stored = hash("correct horse battery".into()).await.expect("hashes");
        let (algorithm, m, t, p) = parameters_of(&stored).expect("a PHC string");
        assert_eq!(algorithm, "argon2id");
        assert!(m >= 19_456, "m = {m}");
        assert!(t >= 2, "t = {t}");
        assert_eq!(p, 1);
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
    }

    #[tokio::test]
    async fn a_missing_hash_is_verified_against_the_dummy_and_never_matches() {
        let passwords = Passwords::new().await.expect("dummy hash");
        let stored = hash("a password of some length".into())
            .await
            .expect("hashes");
        assert!(
            passwords
                .verify("a password of some length".into(), Some(stored.clone()))
                .await
        );
        assert!(!passwords.verify("wrong".into(), Some(stored)).await);
        assert_eq!(passwords.verifications(), 2);
        // No account (or no password yet): argon2 still runs, once, and says no.
        assert!(!passwords.verify("anything".into(), None).await);
        assert_eq!(passwords.verifications(), 3);
        // Even the dummy's own password does not get in.
        let (algorithm, m, t, _) = parameters_of(&passwords.dummy).expect("PHC");
        assert_eq!(
            (algorithm.as_str(), m, t),
            ("argon2id", MEMORY_KIB, ITERATIONS)
        );
    }
}
