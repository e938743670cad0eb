//! Random tokens (sessions, invitations, devices) and what the server keeps of
//! them: a SHA-256 hash, so a copy of the database opens no session.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Bytes of randomness in a token: 256 bits.
pub const TOKEN_BYTES: usize = 32;

/// A fresh token as sent to the browser (base64url, 43 characters), or `None`
/// if the operating system's random source failed.
pub fn new_token() -> Option<String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).ok()?;
    Some(encode(&bytes))
}

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database holds of a token: its SHA-256, hex. A token needs no slow
/// hash: it has 256 random bits, nothing to guess.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether `text` could be a token this server made (so a cookie of any other
/// shape is not even looked up).
pub fn is_well_formed(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new user id: 32 lowercase hex digits (see `UserId::is_well_formed`).
pub fn new_user_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// A password for the first secretariat account when the operator gave none:
/// 20 characters from an alphabet without look-alikes (about 115 bits).
pub fn new_password() -> Option<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut password = String::with_capacity(20);
    while password.len() < 20 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).ok()?;
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        for byte in bytes {
            if usize::from(byte) < limit && password.len() < 20 {
                password.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    Some(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_and_stored_only_as_hashes() {
        let token = new_token().expect("randomness");
        assert!(is_well_formed(&token), "{token}");
        assert_ne!(new_token(), Some(token.clone()));
        let hash = token_hash(&token);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&token));
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&"a".repeat(42).replace('a', "=")));
        let password = new_password().expect("randomness");
        assert_eq!(password.chars().count(), 20);
        assert!(tern_domain::auth::check_new_password(&password, "a@b.org").is_ok());
    }
}
