//! Who a user is and what they may do: roles, the access rules both sides apply,
//! and the account API's shapes.
//!
//! The server is the authority: it applies [`Access`] to every request and every
//! sync op. The app applies the same rules only to hide what a user may not do,
//! so a user is not invited to make an edit the server would refuse.
//!
//! Account API bodies are JSON (small and rare, unlike sync messages). Paths are
//! stable names, like the sync protocol's.

use crate::record::schema::{FieldType, Guard, KindDef};
use crate::record::{CommentEntries, MarkKind, Record, RecordKind, Stamp, DECISION_SEPARATOR};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `POST` [`SignInRequest`] → [`SessionInfo`], and the session cookie.
pub const SIGN_IN_PATH: &str = "/api/auth/v1/sign-in";
/// `POST` (no body): ends this session on the server and clears the cookie.
pub const SIGN_OUT_PATH: &str = "/api/auth/v1/sign-out";
/// `POST` (no body) → [`SignedOutOthers`]: ends every other session of the user.
pub const SIGN_OUT_OTHERS_PATH: &str = "/api/auth/v1/sign-out-others";
/// `GET` → [`SessionInfo`] of the signed-in user; 401 without a live session.
pub const SESSION_PATH: &str = "/api/auth/v1/session";
/// `POST` [`PasswordChange`]: the signed-in user changes their own password.
pub const PASSWORD_PATH: &str = "/api/auth/v1/password";
/// `POST` [`AcceptInvitation`] → [`SessionInfo`]: a new user (or one whose
/// password was reset) chooses a password with the token of their link.
pub const INVITATION_PATH: &str = "/api/auth/v1/invitation";
/// The page an invitation link opens; the token follows in the fragment
/// (`/welcome#<token>`), so it never reaches a server log or a `Referer`.
pub const WELCOME_PAGE: &str = "/welcome";

/// `GET` → `Vec<UserEntry>`; `POST` [`NewUser`] → [`Invitation`]. Secretariat only.
pub const USERS_PATH: &str = "/api/admin/v1/users";
/// `POST {USERS_PATH}/<user id>` [`UserChange`] → [`UserEntry`];
/// `POST {USERS_PATH}/<user id>/invitation` → a fresh [`Invitation`] (a password
/// reset: the old password and every session end).
pub const USER_INVITATION_SUFFIX: &str = "/invitation";
/// `GET` → `Vec<MemberState>`; `POST` [`MemberStateChange`] → `Vec<MemberState>`.
/// Reading is for every signed-in user; changing is for the secretariat.
pub const MEMBERS_PATH: &str = "/api/admin/v1/members";
/// `GET ?record=<id>` → `Vec<Grant>`; `POST` [`Grant`]: invites a contributor or
/// an observer to a record, or (with `granted: false`) withdraws the invitation.
pub const GRANTS_PATH: &str = "/api/admin/v1/grants";

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes: argon2 would take any length, but
/// a megabyte "password" is an attack on the server, not a secret.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What a user is in the group's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The Children's Unit: administers users and everything else.
    Secretariat,
    /// Represents one member state or the European Commission.
    Member,
    /// An expert or partner invited to specific recommendations or projects.
    Contributor,
    /// Reads what they are given, changes nothing.
    Observer,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Secretariat,
        Role::Member,
        Role::Contributor,
        Role::Observer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Secretariat => "secretariat",
            Role::Member => "member",
            Role::Contributor => "contributor",
            Role::Observer => "observer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

/// A user's id: 32 lowercase hex digits, chosen by the server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub String);

impl UserId {
    /// Whether `text` has the shape of a user id (so it can be used in a path or
    /// a database name without escaping).
    pub fn is_well_formed(text: &str) -> bool {
        text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The signed-in user as the app knows them; kept on the device so it works
/// offline with the last known identity and role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub user: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// The member state (ISO code, or "EU") a member represents; also set for
    /// other roles when they work for one state's ministry.
    #[serde(default)]
    pub member_state: Option<String>,
    /// The organisation, in the user's own words (a ministry, an NGO, the CBSS).
    #[serde(default)]
    pub organisation: String,
}

impl Identity {
    pub fn access(&self) -> Access {
        Access {
            role: self.role,
            member_state: self.member_state.clone(),
        }
    }
}

/// A member state or the European Commission, as the server's reference data
/// holds it: the secretariat can mark a member inactive (Russia since 2022).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberState {
    pub code: String,
    pub name: String,
    pub active: bool,
}

/// What [`SESSION_PATH`], [`SIGN_IN_PATH`] and [`INVITATION_PATH`] answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub identity: Identity,
    pub members: Vec<MemberState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptInvitation {
    pub token: String,
    pub password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOutOthers {
    pub ended: u32,
}

/// A user as the secretariat's user list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEntry {
    pub identity: Identity,
    /// False once the secretariat disabled the account: it cannot sign in, and
    /// its sessions have ended.
    pub active: bool,
    /// Whether the user has chosen a password (else their invitation is open).
    pub has_password: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub role: Role,
    #[serde(default)]
    pub member_state: Option<String>,
    #[serde(default)]
    pub organisation: String,
}

/// A change the secretariat makes to a user; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChange {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    /// `Some(None)` clears the member state.
    #[serde(default)]
    pub member_state: Option<Option<String>>,
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// A one-time link for a new user to choose a password. The secretariat passes
/// it on; the server keeps only a hash of the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub user: UserId,
    /// `/welcome#<token>`, to be put after the server's origin.
    pub link: String,
    /// Unix seconds after which the link no longer works.
    pub expires_at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberStateChange {
    pub code: String,
    pub active: bool,
}

/// A contributor or observer invited to one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub record: crate::record::RecordId,
    pub user: UserId,
    pub granted: bool,
}

/// Why a new password is refused; the same check runs in the app as the user
/// types and on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("the password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("the password must not be the email address")]
    IsTheEmail,
}

/// Checks a password a user chooses (not one they sign in with).
pub fn check_new_password(password: &str, email: &str) -> Result<(), PasswordProblem> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordProblem::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if normalize_email(password) == normalize_email(email) {
        return Err(PasswordProblem::IsTheEmail);
    }
    Ok(())
}

pub use crate::email::{is_plausible_email, normalize_email};

/// What one user may do, by role and member state. Which records a contributor
/// or observer can see is the server's list of grants, not part of this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub role: Role,
    pub member_state: Option<String>,
}

/// Why the server refused an edit or a request. The app shows it in the
/// user's language by [`Denied::code`]; the English text is for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("observers can read records but not change them")]
    ReadOnly,
    #[error("only the secretariat and members can create records of kind {}", .0.as_str())]
    CannotCreate(RecordKind),
    /// A field only the secretariat changes (a recommendation's status).
    #[error("only the secretariat can change the field {0}")]
    SecretariatField(String),
    /// Another member state's entry of a per-member field (a position).
    #[error("members record only their own state's entry; {0} is another member's")]
    NotYourState(String),
    /// A per-member field changed by someone who represents no member.
    #[error("only members and the secretariat change the field {0}")]
    MembersOnly(String),
    #[error("only the secretariat can do this")]
    SecretariatOnly,
    /// A record a contributor or observer was not invited to, whether it exists
    /// or not: the answer is the same, so guessing ids reveals nothing.
    #[error(
        "there is no record {0} that you can see (only the secretariat and members create records)"
    )]
    NotInvited(String),
    /// The record was erased (personal data); nothing can be added to it.
    #[error("the record {0} was erased")]
    Erased(String),
    /// Only records of personal data are erased; others are removed.
    #[error("records of kind {} hold no personal data to erase", .0.as_str())]
    NotPersonalData(RecordKind),
    /// An edit stamped with another user's name, or a stamp taken away.
    #[error("an edit carries the name of the user who made it, and no other")]
    ForeignStamp,
    /// A text longer than its field holds, or a record larger than Tern
    /// keeps (`record::limits`): the field's path, or `record`.
    #[error("the edit makes {0} larger than Tern holds")]
    TooLarge(String),
    /// A comment changed, or deleted, by someone other than its author, or a
    /// comment or mark made in another's name.
    #[error("only its author writes, changes or deletes a comment")]
    NotYourComment,
    /// A suggestion decided again (accepted twice, or accepted after it was
    /// rejected): the first decision stands.
    #[error("the suggestion was accepted or rejected already")]
    Decided,
}

impl Denied {
    /// The stable code the app's messages are keyed by (`denied.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            Denied::ReadOnly => "read_only",
            Denied::CannotCreate(_) => "cannot_create",
            Denied::SecretariatField(_) => "secretariat_field",
            Denied::NotYourState(_) => "not_your_state",
            Denied::MembersOnly(_) => "members_only",
            Denied::SecretariatOnly => "secretariat_only",
            Denied::NotInvited(_) => "not_invited",
            Denied::ForeignStamp => "foreign_stamp",
            Denied::Erased(_) => "erased",
            Denied::NotPersonalData(_) => "not_personal_data",
            Denied::TooLarge(_) => "too_large",
            Denied::NotYourComment => "not_your_comment",
            Denied::Decided => "decided",
        }
    }

    /// What the message names: a field, a member, a record, a kind.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Denied::CannotCreate(kind) | Denied::NotPersonalData(kind) => Some(kind.as_str()),
            Denied::SecretariatField(subject)
            | Denied::NotYourState(subject)
            | Denied::MembersOnly(subject)
            | Denied::NotInvited(subject)
            | Denied::Erased(subject)
            | Denied::TooLarge(subject) => Some(subject),
            Denied::ReadOnly
            | Denied::SecretariatOnly
            | Denied::ForeignStamp
            | Denied::NotYourComment
            | Denied::Decided => None,
        }
    }

    /// The reason as sync v1 carries it (`OpOutcome::Rejected`): the English
    /// text, which a device built before codes shows as it is, then the code
    /// and subject in brackets, which [`Denied::from_wire`] reads back.
    pub fn to_wire(&self) -> String {
        match self.subject() {
            Some(subject) => format!("{self} [{}:{subject}]", self.code()),
            None => format!("{self} [{}]", self.code()),
        }
    }

    /// Reads [`Denied::to_wire`]; `None` for any other text.
    pub fn from_wire(text: &str) -> Option<Denied> {
        let inner = text.strip_suffix(']')?.rsplit_once(" [")?.1;
        let (code, subject) = match inner.split_once(':') {
            Some((code, subject)) => (code, Some(subject.to_owned())),
            None => (inner, None),
        };
        Some(match (code, subject) {
            ("read_only", None) => Denied::ReadOnly,
            ("secretariat_only", None) => Denied::SecretariatOnly,
            ("foreign_stamp", None) => Denied::ForeignStamp,
            ("not_your_comment", None) => Denied::NotYourComment,
            ("decided", None) => Denied::Decided,
            ("cannot_create", Some(kind)) => Denied::CannotCreate(RecordKind::parse(&kind)?),
            ("secretariat_field", Some(field)) => Denied::SecretariatField(field),
            ("not_your_state", Some(code)) => Denied::NotYourState(code),
            ("members_only", Some(field)) => Denied::MembersOnly(field),
            ("not_invited", Some(id)) => Denied::NotInvited(id),
            ("erased", Some(id)) => Denied::Erased(id),
            ("too_large", Some(what)) => Denied::TooLarge(what),
            ("not_personal_data", Some(kind)) => Denied::NotPersonalData(RecordKind::parse(&kind)?),
            _ => return None,
        })
    }
}

impl Access {
    pub fn secretariat() -> Access {
        Access {
            role: Role::Secretariat,
            member_state: None,
        }
    }

    /// Whether the user sees every record (else only those they were invited to).
    pub fn sees_every_record(&self) -> bool {
        matches!(self.role, Role::Secretariat | Role::Member)
    }

    pub fn can_edit_records(&self) -> bool {
        self.role != Role::Observer
    }

    pub fn check_create(&self, kind: RecordKind) -> Result<(), Denied> {
        match self.role {
            Role::Secretariat | Role::Member => Ok(()),
            Role::Observer => Err(Denied::ReadOnly),
            Role::Contributor => Err(Denied::CannotCreate(kind)),
        }
    }

    /// Whether the user may change a field with this guard at all (for a
    /// per-member field: some member's entry).
    pub fn may_change(&self, guard: Guard) -> bool {
        match guard {
            Guard::Editors => self.can_edit_records(),
            Guard::Secretariat => self.role == Role::Secretariat,
            Guard::OwnMember => match self.role {
                Role::Secretariat => true,
                Role::Member => self.member_state.is_some(),
                Role::Contributor | Role::Observer => false,
            },
        }
    }

    /// Whether the user may change `code`'s entry of a per-member field (a
    /// position): the secretariat any (it records them in meetings), a member
    /// their own state's only.
    pub fn may_change_entry(&self, code: &str) -> bool {
        match self.role {
            Role::Secretariat => true,
            Role::Member => self.member_state.as_deref() == Some(code),
            Role::Contributor | Role::Observer => false,
        }
    }

    /// Whether the user may erase a record of `kind`: the secretariat, and
    /// only records of personal data (a person).
    pub fn check_erase(&self, kind: RecordKind) -> Result<(), Denied> {
        self.check_secretariat()?;
        if kind.def().personal_data {
            Ok(())
        } else {
            Err(Denied::NotPersonalData(kind))
        }
    }

    pub fn check_secretariat(&self) -> Result<(), Denied> {
        if self.role == Role::Secretariat {
            Ok(())
        } else {
            Err(Denied::SecretariatOnly)
        }
    }

    /// Checks an edit of a record the user can see, given the guarded fields
    /// before and after it. Everything not guarded is open to every role that
    /// edits at all.
    pub fn check_edit(&self, before: &GuardedFields, after: &GuardedFields) -> Result<(), Denied> {
        if !self.can_edit_records() {
            return Err(Denied::ReadOnly);
        }
        let keys = before.values.keys().chain(after.values.keys());
        for key in keys {
            let (was, now) = (before.values.get(key), after.values.get(key));
            if was == now {
                continue;
            }
            match (was, now) {
                (Some(GuardedValue::PerMember(was)), Some(GuardedValue::PerMember(now))) => {
                    for code in was.keys().chain(now.keys()) {
                        if was.get(code) != now.get(code) && !self.may_change_entry(code) {
                            return Err(match self.role {
                                Role::Member => Denied::NotYourState(code.clone()),
                                _ => Denied::MembersOnly((*key).to_owned()),
                            });
                        }
                    }
                }
                _ => {
                    if !self.may_change(Guard::Secretariat) {
                        return Err(Denied::SecretariatField((*key).to_owned()));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Checks the stamp an op leaves on a record ([`crate::record::Stamp`]): a
/// changed stamp names the user who sent the op, and none is taken away.
pub fn check_stamp(
    user: &UserId,
    before: Option<&Stamp>,
    after: Option<&Stamp>,
) -> Result<(), Denied> {
    match (before, after) {
        (_, Some(after)) if before != Some(after) && after.user != user.0 => {
            Err(Denied::ForeignStamp)
        }
        (Some(_), None) => Err(Denied::ForeignStamp),
        _ => Ok(()),
    }
}

/// Checks the claims an op leaves (`record::conflicts`, keyed claim → user):
/// every claim it adds or changes names `user`, and it takes none away.
pub fn check_claims(
    user: &UserId,
    before: &std::collections::HashMap<String, String>,
    after: &std::collections::HashMap<String, String>,
) -> Result<(), Denied> {
    let foreign = after
        .iter()
        .any(|(key, by)| before.get(key) != Some(by) && *by != user.0);
    let taken = before.keys().any(|key| !after.contains_key(key));
    if foreign || taken {
        Err(Denied::ForeignStamp)
    } else {
        Ok(())
    }
}

/// Checks the comments an op leaves (`record::comments`): a comment is
/// written, changed and deleted by its author only, a thread is resolved or
/// reopened in the name of who does it, and only the secretariat hides a
/// comment. Marks are never taken away.
pub fn check_comments(
    access: &Access,
    user: &UserId,
    before: &CommentEntries,
    after: &CommentEntries,
) -> Result<(), Denied> {
    check_own_entries(user, before, after)?;
    for (key, now) in &after.marks {
        if before.marks.get(key) == Some(now) {
            continue;
        }
        if author(Some(now)) != Some(&user.0) {
            return Err(Denied::NotYourComment);
        }
        if CommentEntries::mark_kind(key) == MarkKind::Hidden {
            access.check_secretariat()?;
        }
    }
    if before
        .marks
        .keys()
        .any(|key| !after.marks.contains_key(key))
    {
        return Err(Denied::NotYourComment);
    }
    Ok(())
}

fn author(entry: Option<&yrs::Any>) -> Option<&str> {
    entry.and_then(CommentEntries::user_of)
}

/// Every entry added, changed or taken away is the user's own.
fn check_own_entries(
    user: &UserId,
    before: &CommentEntries,
    after: &CommentEntries,
) -> Result<(), Denied> {
    let keys = before.comments.keys().chain(after.comments.keys());
    for key in keys {
        let (was, now) = (before.comments.get(key), after.comments.get(key));
        if was == now {
            continue;
        }
        let own = |entry: Option<&yrs::Any>| entry.is_none() || author(entry) == Some(&user.0);
        if !own(was) || !own(now) {
            return Err(Denied::NotYourComment);
        }
    }
    Ok(())
}

/// Checks the suggestions an op leaves (`record::suggestions`): written by
/// their author only, decided by someone who may edit in their own name,
/// and decided once: a decision is never changed or taken away.
pub fn check_suggestions(
    access: &Access,
    user: &UserId,
    before: &CommentEntries,
    after: &CommentEntries,
) -> Result<(), Denied> {
    check_own_entries(user, before, after)?;
    let suggestion = |key: &str| key.split(DECISION_SEPARATOR).next().map(str::to_owned);
    for (key, now) in &after.marks {
        match before.marks.get(key) {
            Some(was) if was == now => continue,
            Some(_) => return Err(Denied::Decided),
            None => {}
        }
        // Decided before under another key: made at the same time elsewhere.
        if before
            .marks
            .keys()
            .any(|known| suggestion(known) == suggestion(key))
        {
            return Err(Denied::Decided);
        }
        if !access.can_edit_records() {
            return Err(Denied::ReadOnly);
        }
        if author(Some(now)) != Some(&user.0) {
            return Err(Denied::NotYourComment);
        }
    }
    if before
        .marks
        .keys()
        .any(|key| !after.marks.contains_key(key))
    {
        return Err(Denied::Decided);
    }
    Ok(())
}

/// A guarded field's value, as compared before and after an op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardedValue {
    /// A secretariat field, as its projected JSON.
    Whole(String),
    /// A per-member field: member code → value.
    PerMember(BTreeMap<String, String>),
}

/// The fields of a record that not every editor may change (from its kind's
/// declaration), read before and after an op to tell whether it changed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardedFields {
    pub values: BTreeMap<&'static str, GuardedValue>,
}

impl GuardedFields {
    /// Reads the guarded fields of `record` (cheap: a few map lookups).
    pub fn of(record: &Record) -> GuardedFields {
        let Some(def) = record.def() else {
            return GuardedFields::default();
        };
        let values = def
            .guarded_fields()
            .filter_map(|field| {
                let value = record.read(&crate::record::FieldPath::top(field.key))?;
                Some((field.key, guarded_value(field.ty, value)))
            })
            .collect();
        GuardedFields { values }
    }

    /// The guarded fields of a record that does not exist yet: a new record's
    /// first op may set them only as a new record has them.
    pub fn of_new(kind: RecordKind) -> GuardedFields {
        let def: &KindDef = kind.def();
        let values = def
            .guarded_fields()
            .map(|field| {
                let value = match field.ty {
                    FieldType::Choice(choices) => {
                        choices.default.map_or(serde_json::Value::Null, |d| {
                            serde_json::Value::String(d.into())
                        })
                    }
                    FieldType::Flag => serde_json::Value::Bool(false),
                    FieldType::PerMember(_) => serde_json::Value::Object(Default::default()),
                    FieldType::Set(_) | FieldType::Refs(_) | FieldType::Items(_) => {
                        serde_json::Value::Array(Vec::new())
                    }
                    FieldType::Date | FieldType::Ref(_) => serde_json::Value::Null,
                    FieldType::Text
                    | FieldType::LongText
                    | FieldType::Email
                    | FieldType::Phone
                    | FieldType::Url => serde_json::Value::String(String::new()),
                };
                (field.key, guarded_value(field.ty, value))
            })
            .collect();
        GuardedFields { values }
    }
}

fn guarded_value(ty: FieldType, value: serde_json::Value) -> GuardedValue {
    match (ty, value) {
        (FieldType::PerMember(_), serde_json::Value::Object(entries)) => GuardedValue::PerMember(
            entries
                .into_iter()
                .filter_map(|(code, value)| Some((code, value.as_str()?.to_owned())))
                .collect(),
        ),
        (_, value) => GuardedValue::Whole(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{FieldEdit, FieldPath, RecordId};

    fn member(code: &str) -> Access {
        Access {
            role: Role::Member,
            member_state: Some(code.to_owned()),
        }
    }

    fn access(role: Role) -> Access {
        Access {
            role,
            member_state: None,
        }
    }

    fn recommendation() -> Record {
        Record::create(
            RecordId::v7(1_760_000_000_000, [1; 10]),
            RecordKind::Recommendation,
            1,
        )
        .0
    }

    fn set_status(record: &Record, status: &str) {
        record
            .change(
                &FieldPath::top("status"),
                FieldEdit::Choice(Some(status.into())),
            )
            .expect("status");
    }

    fn set_position(record: &Record, code: &str, stance: Option<&str>) {
        record
            .change(
                &FieldPath::top("positions"),
                FieldEdit::Keyed {
                    key: code.into(),
                    value: stance.map(str::to_owned),
                },
            )
            .expect("position");
    }

    #[test]
    fn only_the_secretariat_changes_a_recommendations_status() {
        let record = recommendation();
        let before = GuardedFields::of(&record);
        set_status(&record, "adopted");
        let after = GuardedFields::of(&record);
        let status = Err(Denied::SecretariatField("status".into()));
        assert_eq!(
            access(Role::Secretariat).check_edit(&before, &after),
            Ok(())
        );
        assert_eq!(member("FI").check_edit(&before, &after), status);
        assert_eq!(
            access(Role::Contributor).check_edit(&before, &after),
            status
        );
        assert_eq!(
            access(Role::Observer).check_edit(&before, &after),
            Err(Denied::ReadOnly)
        );
        // A project's status is open to its editors: its declaration has no guard.
        let project = Record::create(
            RecordId::v7(1_760_000_000_000, [2; 10]),
            RecordKind::Project,
            1,
        )
        .0;
        let before = GuardedFields::of(&project);
        set_status(&project, "active");
        assert_eq!(
            access(Role::Contributor).check_edit(&before, &GuardedFields::of(&project)),
            Ok(())
        );
    }

    #[test]
    fn a_member_records_only_their_own_states_position() {
        let record = recommendation();
        let before = GuardedFields::of(&record);
        set_position(&record, "FI", Some("reservation"));
        let finnish = GuardedFields::of(&record);
        assert_eq!(member("FI").check_edit(&before, &finnish), Ok(()));
        assert_eq!(
            member("SE").check_edit(&before, &finnish),
            Err(Denied::NotYourState("FI".into()))
        );
        assert_eq!(
            access(Role::Contributor).check_edit(&before, &finnish),
            Err(Denied::MembersOnly("positions".into()))
        );
        assert_eq!(
            access(Role::Secretariat).check_edit(&before, &finnish),
            Ok(())
        );
        // Withdrawing a position is a change of it too.
        set_position(&record, "FI", None);
        let withdrawn = GuardedFields::of(&record);
        assert_eq!(
            member("SE").check_edit(&finnish, &withdrawn),
            Err(Denied::NotYourState("FI".into()))
        );
        // Text edits touch no guarded field: open to contributors.
        let before_text = GuardedFields::of(&record);
        record
            .set_text("title", "On early intervention")
            .expect("title");
        assert_eq!(
            access(Role::Contributor).check_edit(&before_text, &GuardedFields::of(&record)),
            Ok(())
        );
    }

    #[test]
    fn deleting_is_the_secretariats_and_archiving_every_editors() {
        let record = recommendation();
        let flag = |key: &'static str, on: bool| {
            record
                .change(&FieldPath::top(key), FieldEdit::Flag(on))
                .expect("flag");
        };
        let before = GuardedFields::of(&record);
        flag("archived", true);
        assert_eq!(
            access(Role::Contributor).check_edit(&before, &GuardedFields::of(&record)),
            Ok(())
        );
        let before = GuardedFields::of(&record);
        flag("deleted", true);
        let after = GuardedFields::of(&record);
        assert_eq!(
            member("DK").check_edit(&before, &after),
            Err(Denied::SecretariatField("deleted".into()))
        );
        assert_eq!(
            access(Role::Secretariat).check_edit(&before, &after),
            Ok(())
        );
    }

    #[test]
    fn creating_records_is_for_the_secretariat_and_members() {
        for kind in RecordKind::ALL {
            assert_eq!(access(Role::Secretariat).check_create(kind), Ok(()));
            assert_eq!(member("DK").check_create(kind), Ok(()));
            assert_eq!(
                access(Role::Contributor).check_create(kind),
                Err(Denied::CannotCreate(kind))
            );
            assert_eq!(
                access(Role::Observer).check_create(kind),
                Err(Denied::ReadOnly)
            );
            let new = Record::create(RecordId::v7(1_760_000_000_000, [3; 10]), kind, 1).0;
            assert_eq!(
                GuardedFields::of_new(kind),
                GuardedFields::of(&new),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn refusals_travel_as_text_old_devices_show_and_codes_new_ones_read() {
        let all = [
            Denied::ReadOnly,
            Denied::CannotCreate(RecordKind::GoodPractice),
            Denied::SecretariatField("status".into()),
            Denied::NotYourState("FI".into()),
            Denied::MembersOnly("positions".into()),
            Denied::SecretariatOnly,
            Denied::NotInvited("0190".into()),
            Denied::Erased("0190".into()),
            Denied::NotPersonalData(RecordKind::Project),
            Denied::ForeignStamp,
        ];
        for denied in all {
            let wire = denied.to_wire();
            assert!(wire.starts_with(&denied.to_string()), "{wire}");
            assert_eq!(Denied::from_wire(&wire), Some(denied));
        }
        assert_eq!(Denied::from_wire("observers can read records"), None);
        assert_eq!(Denied::from_wire("x [cannot_create:spaceship]"), None);
    }

    #[test]
    fn nobody_stamps_an_edit_with_another_users_name() {
        let stamp = |user: &str, at| Stamp {
            user: user.into(),
            name: "N".into(),
            at,
        };
        let anna = UserId("anna".into());
        let (old, own, foreign) = (stamp("jonas", 1), stamp("anna", 2), stamp("jonas", 3));
        assert_eq!(check_stamp(&anna, None, None), Ok(()));
        assert_eq!(
            check_stamp(&anna, Some(&old), Some(&old)),
            Ok(()),
            "unchanged"
        );
        assert_eq!(check_stamp(&anna, Some(&old), Some(&own)), Ok(()));
        assert_eq!(check_stamp(&anna, None, Some(&own)), Ok(()));
        assert_eq!(
            check_stamp(&anna, Some(&old), Some(&foreign)),
            Err(Denied::ForeignStamp)
        );
        assert_eq!(
            check_stamp(&anna, Some(&old), None),
            Err(Denied::ForeignStamp)
        );
    }

    #[test]
    fn passwords_and_emails_are_checked_as_users_type_them() {
        assert_eq!(
            check_new_password("short", "a@b.org"),
            Err(PasswordProblem::TooShort)
        );
        // Twelve characters, not twelve bytes.
        assert_eq!(check_new_password("ääääääääääää", "a@b.org"), Ok(()));
        assert_eq!(
            check_new_password(" Anna@Example.org ", "anna@example.org"),
            Err(PasswordProblem::IsTheEmail)
        );
        assert_eq!(
            check_new_password(&"x".repeat(MAX_PASSWORD_BYTES + 1), "a@b.org"),
            Err(PasswordProblem::TooLong)
        );
        for good in ["anna@example.org", " jonas.berg@sm.ee "] {
            assert!(is_plausible_email(good), "{good}");
        }
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.org",
            "anna@example",
            "a b@c.org",
            "a@b@c.org",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
        assert_eq!(normalize_email(" Anna@Example.ORG"), "anna@example.org");
        assert!(UserId::is_well_formed(&"0a".repeat(16)));
        assert!(!UserId::is_well_formed("0A"));
    }
}
