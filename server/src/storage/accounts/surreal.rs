//! The [`Accounts`] trait on SurrealDB: rows, queries and the transactions
//! that commit a grant with its log row.

use super::super::{to_i64, to_u64, StoredChange, SurrealStorage};
use super::*;
use crate::error::StorageError;
use async_trait::async_trait;
use std::collections::HashSet;
use surrealdb::types::{Bytes, SurrealValue};
use tern_domain::auth::{MemberState, Role, UserId};
use tern_domain::record::RecordId;
use tern_domain::region::MEMBERS;
use tern_domain::sync::Seq;

#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct AccountRow {
    uid: String,
    email: String,
    name: String,
    role: String,
    member_state: Option<String>,
    organisation: String,
    active: bool,
    password_hash: Option<String>,
    created_at: i64,
}

impl AccountRow {
    fn into_account(self) -> Option<Account> {
        Some(Account {
            id: UserId(self.uid),
            email: self.email,
            name: self.name,
            role: Role::parse(&self.role)?,
            member_state: self.member_state,
            organisation: self.organisation,
            active: self.active,
            password_hash: self.password_hash,
        })
    }
}

const ACCOUNT_FIELDS: &str =
    "uid, email, name, role, member_state, organisation, active, password_hash, created_at";

#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct SessionRow {
    token_hash: String,
    user: String,
    created_at: i64,
    last_seen: i64,
    expires_at: i64,
}

#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct MemberRow {
    code: String,
    name: String,
    active: bool,
    position: i64,
}

#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct RecordToLog {
    kind: String,
    doc_state: Bytes,
}

fn unavailable(error: surrealdb::Error) -> StorageError {
    StorageError::Unavailable(error)
}

impl SurrealStorage {
    /// Adds the members of the build's list that the database does not have yet
    /// (all of them at first start); never touches an existing member's flag.
    pub(crate) async fn seed_member_states(&self) -> Result<(), surrealdb::Error> {
        let mut response = self
            .db
            .query("SELECT VALUE code FROM member_state")
            .await?
            .check()?;
        let known: Vec<String> = response.take(0)?;
        let missing: Vec<MemberRow> = MEMBERS
            .iter()
            .zip(0i64..)
            .filter(|(member, _)| !known.iter().any(|code| code == member.code))
            .map(|(member, position)| MemberRow {
                code: member.code.to_owned(),
                name: member.name.to_owned(),
                active: member.active,
                position,
            })
            .collect();
        if !missing.is_empty() {
            self.db
                .query("INSERT INTO member_state $rows")
                .bind(("rows", missing))
                .await?
                .check()?;
        }
        Ok(())
    }

    /// The records a user was invited to (contributors and observers see only these).
    pub(crate) async fn granted_records(
        &self,
        user: &UserId,
    ) -> Result<HashSet<String>, StorageError> {
        let mut response = self
            .db
            .query("SELECT VALUE rid FROM record_grant WHERE user = $user")
            .bind(("user", user.0.clone()))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let rids: Vec<String> = response.take(0).map_err(unavailable)?;
        Ok(rids.into_iter().collect())
    }

    async fn accounts_where(
        &self,
        condition: &str,
        value: String,
    ) -> Result<Vec<Account>, StorageError> {
        let mut response = self
            .db
            .query(format!(
                "SELECT {ACCOUNT_FIELDS} FROM account {condition} ORDER BY created_at, uid"
            ))
            .bind(("value", value))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let rows: Vec<AccountRow> = response.take(0).map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .filter_map(AccountRow::into_account)
            .collect())
    }
}

#[async_trait]
impl Accounts for SurrealStorage {
    async fn any_account(&self) -> Result<bool, StorageError> {
        let mut response = self
            .db
            .query("SELECT VALUE uid FROM account LIMIT 1")
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let found: Vec<String> = response.take(0).map_err(unavailable)?;
        Ok(!found.is_empty())
    }

    async fn account(&self, id: &UserId) -> Result<Option<Account>, StorageError> {
        Ok(self
            .accounts_where("WHERE uid = $value", id.0.clone())
            .await?
            .into_iter()
            .next())
    }

    async fn account_by_email(&self, email: &str) -> Result<Option<Account>, StorageError> {
        Ok(self
            .accounts_where("WHERE email = $value", email.to_owned())
            .await?
            .into_iter()
            .next())
    }

    async fn all_accounts(&self) -> Result<Vec<Account>, StorageError> {
        self.accounts_where("", String::new()).await
    }

    async fn insert_account(&self, account: &Account, now: u64) -> Result<bool, StorageError> {
        if self.account_by_email(&account.email).await?.is_some() {
            return Ok(false);
        }
        let row = AccountRow {
            uid: account.id.0.clone(),
            email: account.email.clone(),
            name: account.name.clone(),
            role: account.role.as_str().to_owned(),
            member_state: account.member_state.clone(),
            organisation: account.organisation.clone(),
            active: account.active,
            password_hash: account.password_hash.clone(),
            created_at: to_i64(now),
        };
        let created = self
            .db
            .query("CREATE type::record('account', $uid) CONTENT $row")
            .bind(("uid", account.id.0.clone()))
            .bind(("row", row))
            .await
            .and_then(|response| response.check());
        match created {
            Ok(_) => Ok(true),
            // Two requests for one email at once: the unique index decides.
            Err(error) if error.to_string().contains("already contains") => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn save_profile(&self, account: &Account) -> Result<(), StorageError> {
        self.db
            .query(
                "UPDATE account SET name = $name, role = $role, member_state = $member_state, \
                 organisation = $organisation, active = $active WHERE uid = $uid",
            )
            .bind(("uid", account.id.0.clone()))
            .bind(("name", account.name.clone()))
            .bind(("role", account.role.as_str()))
            .bind(("member_state", account.member_state.clone()))
            .bind(("organisation", account.organisation.clone()))
            .bind(("active", account.active))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        Ok(())
    }

    async fn set_password_hash(
        &self,
        user: &UserId,
        hash: Option<&str>,
    ) -> Result<(), StorageError> {
        self.db
            .query("UPDATE account SET password_hash = $hash WHERE uid = $uid")
            .bind(("uid", user.0.clone()))
            .bind(("hash", hash.map(str::to_owned)))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        Ok(())
    }

    async fn insert_session(
        &self,
        token_hash: &str,
        session: &Session,
    ) -> Result<(), StorageError> {
        let row = SessionRow {
            token_hash: token_hash.to_owned(),
            user: session.user.0.clone(),
            created_at: to_i64(session.created_at),
            last_seen: to_i64(session.last_seen),
            expires_at: to_i64(session.expires_at),
        };
        self.db
            .query("CREATE type::record('user_session', $key) CONTENT $row")
            .bind(("key", token_hash.to_owned()))
            .bind(("row", row))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StorageError> {
        let mut response = self
            .db
            .query("SELECT token_hash, user, created_at, last_seen, expires_at FROM type::record('user_session', $key)")
            .bind(("key", token_hash.to_owned()))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let rows: Vec<SessionRow> = response.take(0).map_err(unavailable)?;
        Ok(rows.into_iter().next().map(|row| Session {
            user: UserId(row.user),
            created_at: to_u64(row.created_at),
            last_seen: to_u64(row.last_seen),
            expires_at: to_u64(row.expires_at),
        }))
    }

    async fn touch_session(&self, token_hash: &str, now: u64) -> Result<(), StorageError> {
        self.db
            .query("UPDATE type::record('user_session', $key) SET last_seen = $now")
            .bind(("key", token_hash.to_owned()))
            .bind(("now", to_i64(now)))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StorageError> {
        self.db
            .query("DELETE type::record('user_session', $key)")
            .bind(("key", token_hash.to_owned()))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        Ok(())
    }

    async fn delete_sessions_of(
        &self,
        user: &UserId,
        except: Option<&str>,
    ) -> Result<u32, StorageError> {
        let mut response = self
            .db
            .query("DELETE user_session WHERE user = $user AND token_hash != $except RETURN BEFORE")
            .bind(("user", user.0.clone()))
            // No token hashes to this: the empty string excepts nothing.
            .bind(("except", except.unwrap_or_default().to_owned()))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let ended: Vec<SessionRow> = response.take(0).map_err(unavailable)?;
        Ok(u32::try_from(ended.len()).unwrap_or(u32::MAX))
    }

    async fn delete_expired(&self, now: u64, idle_secs: u64) -> Result<(), StorageError> {
        self.db
            .query("DELETE user_session WHERE expires_at <= $now OR last_seen < $idle_since")
            .query("DELETE invitation WHERE expires_at <= $now")
            .bind(("now", to_i64(now)))
            .bind(("idle_since", to_i64(now.saturating_sub(idle_secs))))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        Ok(())
    }

    async fn replace_invitation(
        &self,
        user: &UserId,
        token_hash: &str,
        expires_at: u64,
    ) -> Result<(), StorageError> {
        self.db
            .query(
                "BEGIN TRANSACTION;
                 DELETE invitation WHERE user = $user;
                 CREATE invitation SET token_hash = $hash, user = $user, expires_at = $expires_at;
                 COMMIT TRANSACTION;",
            )
            .bind(("user", user.0.clone()))
            .bind(("hash", token_hash.to_owned()))
            .bind(("expires_at", to_i64(expires_at)))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        Ok(())
    }

    async fn invitation(&self, token_hash: &str, now: u64) -> Result<Option<UserId>, StorageError> {
        let mut response = self
            .db
            .query(
                "SELECT VALUE user FROM invitation WHERE token_hash = $hash AND expires_at > $now",
            )
            .bind(("hash", token_hash.to_owned()))
            .bind(("now", to_i64(now)))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let users: Vec<String> = response.take(0).map_err(unavailable)?;
        Ok(users.into_iter().next().map(UserId))
    }

    async fn take_invitation(
        &self,
        token_hash: &str,
        now: u64,
    ) -> Result<Option<UserId>, StorageError> {
        let mut response = self
            .db
            .query("DELETE invitation WHERE token_hash = $hash AND expires_at > $now RETURN BEFORE")
            .bind(("hash", token_hash.to_owned()))
            .bind(("now", to_i64(now)))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        #[derive(SurrealValue)]
        #[surreal(crate = "surrealdb::types")]
        struct Taken {
            user: String,
        }
        let taken: Vec<Taken> = response.take(0).map_err(unavailable)?;
        Ok(taken.into_iter().next().map(|row| UserId(row.user)))
    }

    async fn delete_invitations_of(&self, user: &UserId) -> Result<(), StorageError> {
        self.db
            .query("DELETE invitation WHERE user = $user")
            .bind(("user", user.0.clone()))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        Ok(())
    }

    async fn device_known(&self, token_hash: &str, user: &UserId) -> Result<bool, StorageError> {
        let mut response = self
            .db
            .query("SELECT VALUE user FROM known_device WHERE token_hash = $hash AND user = $user")
            .bind(("hash", token_hash.to_owned()))
            .bind(("user", user.0.clone()))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let found: Vec<String> = response.take(0).map_err(unavailable)?;
        Ok(!found.is_empty())
    }

    async fn remember_device(
        &self,
        token_hash: &str,
        user: &UserId,
        now: u64,
    ) -> Result<(), StorageError> {
        if self.device_known(token_hash, user).await? {
            return Ok(());
        }
        self.db
            .query("CREATE known_device SET token_hash = $hash, user = $user, created_at = $now")
            .bind(("hash", token_hash.to_owned()))
            .bind(("user", user.0.clone()))
            .bind(("now", to_i64(now)))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        Ok(())
    }

    async fn member_states(&self) -> Result<Vec<MemberState>, StorageError> {
        let mut response = self
            .db
            .query("SELECT code, name, active, position FROM member_state ORDER BY position")
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let rows: Vec<MemberRow> = response.take(0).map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .map(|row| MemberState {
                code: row.code,
                name: row.name,
                active: row.active,
            })
            .collect())
    }

    async fn set_member_active(&self, code: &str, active: bool) -> Result<bool, StorageError> {
        let mut response = self
            .db
            .query("UPDATE member_state SET active = $active WHERE code = $code RETURN VALUE code")
            .bind(("code", code.to_owned()))
            .bind(("active", active))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let changed: Vec<String> = response.take(0).map_err(unavailable)?;
        Ok(!changed.is_empty())
    }

    async fn grants_of_record(&self, record: RecordId) -> Result<Vec<UserId>, StorageError> {
        let mut response = self
            .db
            .query("SELECT VALUE user FROM record_grant WHERE rid = $rid ORDER BY user")
            .bind(("rid", record.to_string()))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let users: Vec<String> = response.take(0).map_err(unavailable)?;
        Ok(users.into_iter().map(UserId).collect())
    }

    async fn set_grant(
        &self,
        record: RecordId,
        user: &UserId,
        granted: bool,
        now: u64,
    ) -> Result<GrantChange, StorageError> {
        // Under the writer lock: the log row gets the next seq in commit order.
        let mut last = self.writer.lock().await;
        let rid = record.to_string();
        let mut response = self
            .db
            .query("SELECT kind, doc_state FROM synced_record WHERE rid = $rid LIMIT 1")
            .query("SELECT VALUE user FROM record_grant WHERE rid = $rid AND user = $user")
            .bind(("rid", rid.clone()))
            .bind(("user", user.0.clone()))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        let stored: Vec<RecordToLog> = response.take(0).map_err(unavailable)?;
        let existing: Vec<String> = response.take(1).map_err(unavailable)?;
        let Some(stored) = stored.into_iter().next() else {
            return Ok(GrantChange::UnknownRecord);
        };
        let already = !existing.is_empty();
        if granted == already {
            return Ok(GrantChange::Unchanged);
        }
        if !granted {
            self.db
                .query("DELETE record_grant WHERE rid = $rid AND user = $user")
                .bind(("rid", rid))
                .bind(("user", user.0.clone()))
                .await
                .and_then(|response| response.check())
                .map_err(unavailable)?;
            return Ok(GrantChange::Changed);
        }
        let next = Seq(last.0 + 1);
        let change = StoredChange {
            seq: to_i64(next.0),
            op: format!("grant:{user}"),
            rid: rid.clone(),
            kind: stored.kind,
            payload: stored.doc_state,
        };
        self.db
            .query(
                "BEGIN TRANSACTION;
                 CREATE record_grant SET rid = $rid, user = $user, created_at = $now;
                 UPDATE synced_record SET updated_seq = $seq WHERE rid = $rid;
                 INSERT INTO sync_change $change;
                 COMMIT TRANSACTION;",
            )
            .bind(("rid", rid))
            .bind(("user", user.0.clone()))
            .bind(("now", to_i64(now)))
            .bind(("seq", to_i64(next.0)))
            .bind(("change", change))
            .await
            .and_then(|response| response.check())
            .map_err(unavailable)?;
        *last = next;
        self.events.send_replace(next);
        Ok(GrantChange::Changed)
    }
}
