//! E-mail addresses as people type them: a leaf both accounts and record
//! fields use.

/// Emails are compared trimmed and lowercased: officials type them both ways.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether `email` looks like an address (one `@`, something on each side, a dot
/// in the domain, no spaces). Delivery is the only real check; this catches typos.
pub fn is_plausible_email(email: &str) -> bool {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
                && email.len() <= 254
        }
        None => false,
    }
}
