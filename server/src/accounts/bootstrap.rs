//! The first secretariat account, from the operator's configuration. Tern has
//! no built-in account or default password: without TERN_ADMIN_EMAIL on an
//! empty database, nobody can sign in, and the log says how to fix that.

use super::passwords;
use super::tokens;
use crate::clock::unix_now;
use crate::config::{Config, ADMIN_PASSWORD_VAR};
use crate::error::{one_line, StartupError};
use crate::storage::accounts::{Account, Accounts};
use tern_domain::auth::{check_new_password, is_plausible_email, normalize_email, Role, UserId};

/// Creates the secretariat account `config` names unless an account has its
/// email. A password from TERN_ADMIN_PASSWORD must pass the new-password
/// check; without one, a generated password is printed once to stderr.
pub async fn bootstrap(config: &Config, accounts: &dyn Accounts) -> Result<(), StartupError> {
    // The operator sees the database's own words (one line), unlike a client.
    let failed =
        |crate::error::StorageError::Unavailable(error)| StartupError::Bootstrap(one_line(&error));
    let Some(email) = config.admin_email.as_deref() else {
        if !accounts.any_account().await.map_err(failed)? {
            tracing::warn!(
                "no accounts yet, so nobody can sign in: start Tern once with \
                 TERN_ADMIN_EMAIL=you@example.org (and optionally {ADMIN_PASSWORD_VAR}) \
                 to create the first secretariat account"
            );
        }
        return Ok(());
    };
    let email = normalize_email(email);
    if !is_plausible_email(&email) {
        return Err(StartupError::AdminEmail(email));
    }
    // A bad password is refused even when the account exists: the operator
    // should learn of it now, not when the database is new.
    if let Some(password) = &config.admin_password {
        check_new_password(&password.0, &email).map_err(StartupError::AdminPassword)?;
    }
    if accounts
        .account_by_email(&email)
        .await
        .map_err(failed)?
        .is_some()
    {
        return Ok(());
    }
    let (password, generated) = match &config.admin_password {
        Some(password) => (password.0.clone(), false),
        None => (
            tokens::new_password()
                .ok_or_else(|| StartupError::Bootstrap("no randomness".to_owned()))?,
            true,
        ),
    };
    let hash = passwords::hash(password.clone())
        .await
        .map_err(|error| StartupError::Bootstrap(error.to_string()))?;
    let id =
        tokens::new_user_id().ok_or_else(|| StartupError::Bootstrap("no randomness".to_owned()))?;
    let account = Account {
        id: UserId(id),
        email: email.clone(),
        name: config.admin_name.trim().to_owned(),
        role: Role::Secretariat,
        member_state: None,
        organisation: String::new(),
        active: true,
        password_hash: Some(hash),
    };
    if !accounts
        .insert_account(&account, unix_now())
        .await
        .map_err(failed)?
    {
        return Ok(());
    }
    tracing::info!(target: "audit", user = %account.id, email = %email, "first secretariat account created");
    if generated {
        // Once, to the operator's terminal; never to the log.
        eprintln!("{}", first_sign_in_block(&email, &password));
    }
    Ok(())
}

/// What the operator reads when Tern made the first password.
pub fn first_sign_in_block(email: &str, password: &str) -> String {
    format!(
        "\n==================== Tern: first sign-in ====================\n\
         email:    {email}\n\
         password: {password}\n\
         Change it in Settings after signing in. It is shown only this once.\n\
         =============================================================\n"
    )
}
