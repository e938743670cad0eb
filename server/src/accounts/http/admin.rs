//! The secretariat's handlers: users and their invitations, member states, grants.

use super::super::sessions::{randomness_failed, SignedIn};
use super::super::tokens;
use super::super::AccountsState;
use super::*;
use crate::clock::unix_now;
use crate::error::AuthError;
use crate::storage::accounts::{Account, Accounts, GrantChange};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tern_domain::auth::{
    is_plausible_email, normalize_email, Grant, Invitation, MemberState, MemberStateChange,
    NewUser, Role, UserChange, UserEntry, UserId, WELCOME_PAGE,
};
use tern_domain::record::RecordId;

/// Makes a fresh invitation link for `user`, replacing any open one.
pub(super) async fn invite(state: &AccountsState, user: &UserId) -> Result<Invitation, AuthError> {
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
pub(super) fn check_profile(account: &Account, members: &[MemberState]) -> Result<(), AuthError> {
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
pub(super) async fn list_users(
    State(state): State<AccountsState>,
    signed: SignedIn,
) -> Result<Json<Vec<UserEntry>>, AuthError> {
    require_secretariat(&signed, "list users")?;
    let accounts = state.accounts.all_accounts().await?;
    Ok(Json(accounts.iter().map(Account::entry).collect()))
}

/// `POST USERS_PATH`: creates a user without a password and answers their
/// invitation link (secretariat only).
pub(super) async fn create_user(
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

pub(super) async fn account_at(accounts: &dyn Accounts, id: &str) -> Result<Account, AuthError> {
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
pub(super) async fn change_user(
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
pub(super) async fn reset_user(
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
pub(super) async fn list_members(
    State(state): State<AccountsState>,
    _signed: SignedIn,
) -> Result<Json<Vec<MemberState>>, AuthError> {
    Ok(Json(state.accounts.member_states().await?))
}

/// `POST MEMBERS_PATH`: marks a member active or not (secretariat only).
pub(super) async fn change_member(
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
pub(super) struct GrantsQuery {
    record: String,
}

pub(super) fn parse_record(text: &str) -> Result<RecordId, AuthError> {
    text.parse::<RecordId>()
        .map_err(|error| AuthError::InvalidInput(error.to_string()))
}

pub(super) async fn grants_of(
    accounts: &dyn Accounts,
    record: RecordId,
) -> Result<Vec<Grant>, AuthError> {
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
pub(super) async fn list_grants(
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
pub(super) async fn change_grant(
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
