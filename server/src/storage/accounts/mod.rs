//! Accounts, sessions, invitations, member states and grants in the database,
//! behind the [`Accounts`] trait (implemented by the same [`SurrealStorage`]
//! that holds the records, so a grant and its log row commit together).

mod surreal;

use crate::error::StorageError;
use async_trait::async_trait;
use tern_domain::auth::{Identity, MemberState, Role, UserEntry, UserId};
use tern_domain::record::RecordId;

/// A user as the server keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: UserId,
    /// Normalized: trimmed, lowercase.
    pub email: String,
    pub name: String,
    pub role: Role,
    pub member_state: Option<String>,
    pub organisation: String,
    pub active: bool,
    /// The argon2id PHC string; `None` until an invitation is accepted.
    pub password_hash: Option<String>,
}

impl Account {
    pub fn identity(&self) -> Identity {
        Identity {
            user: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role,
            member_state: self.member_state.clone(),
            organisation: self.organisation.clone(),
        }
    }

    pub fn entry(&self) -> UserEntry {
        UserEntry {
            identity: self.identity(),
            active: self.active,
            has_password: self.password_hash.is_some(),
        }
    }
}

/// A session as stored (the token itself never is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: UserId,
    pub created_at: u64,
    pub last_seen: u64,
    pub expires_at: u64,
}

/// What a grant request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantChange {
    /// The record does not exist.
    UnknownRecord,
    /// The grant was added (and the record's state logged for the invitee) or withdrawn.
    Changed,
    /// It was already so.
    Unchanged,
}

/// What the account endpoints ask of the database.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Whether any account exists.
    async fn any_account(&self) -> Result<bool, StorageError>;
    async fn account(&self, id: &UserId) -> Result<Option<Account>, StorageError>;
    /// `email` must be normalized.
    async fn account_by_email(&self, email: &str) -> Result<Option<Account>, StorageError>;
    async fn all_accounts(&self) -> Result<Vec<Account>, StorageError>;
    /// Creates the account; `false` if its email is taken.
    async fn insert_account(&self, account: &Account, now: u64) -> Result<bool, StorageError>;
    /// Saves name, role, member state, organisation and the active flag.
    async fn save_profile(&self, account: &Account) -> Result<(), StorageError>;
    async fn set_password_hash(
        &self,
        user: &UserId,
        hash: Option<&str>,
    ) -> Result<(), StorageError>;

    async fn insert_session(&self, token_hash: &str, session: &Session)
        -> Result<(), StorageError>;
    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StorageError>;
    async fn touch_session(&self, token_hash: &str, now: u64) -> Result<(), StorageError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StorageError>;
    /// Ends every session of `user` but `except`; returns how many ended.
    async fn delete_sessions_of(
        &self,
        user: &UserId,
        except: Option<&str>,
    ) -> Result<u32, StorageError>;
    /// Deletes sessions past their absolute end or idle longer than `idle_secs`,
    /// and expired invitations.
    async fn delete_expired(&self, now: u64, idle_secs: u64) -> Result<(), StorageError>;

    /// Replaces the user's open invitations with this one.
    async fn replace_invitation(
        &self,
        user: &UserId,
        token_hash: &str,
        expires_at: u64,
    ) -> Result<(), StorageError>;
    /// The user an open, unexpired invitation is for.
    async fn invitation(&self, token_hash: &str, now: u64) -> Result<Option<UserId>, StorageError>;
    /// Deletes the invitation and says whose it was, if it was open and unexpired:
    /// of two requests with one token, only one gets the user.
    async fn take_invitation(
        &self,
        token_hash: &str,
        now: u64,
    ) -> Result<Option<UserId>, StorageError>;
    async fn delete_invitations_of(&self, user: &UserId) -> Result<(), StorageError>;

    async fn device_known(&self, token_hash: &str, user: &UserId) -> Result<bool, StorageError>;
    async fn remember_device(
        &self,
        token_hash: &str,
        user: &UserId,
        now: u64,
    ) -> Result<(), StorageError>;

    async fn member_states(&self) -> Result<Vec<MemberState>, StorageError>;
    /// `false` if no member has the code.
    async fn set_member_active(&self, code: &str, active: bool) -> Result<bool, StorageError>;

    async fn grants_of_record(&self, record: RecordId) -> Result<Vec<UserId>, StorageError>;
    /// Adds or withdraws a grant. Adding one appends the record's whole state to
    /// the log under a new seq, so the invitee's next pull brings the record
    /// whatever their cursor (for everyone else it merges as a no-op).
    async fn set_grant(
        &self,
        record: RecordId,
        user: &UserId,
        granted: bool,
        now: u64,
    ) -> Result<GrantChange, StorageError>;
}
