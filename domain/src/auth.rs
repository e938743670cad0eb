//! Who a user is and what they may do: roles, the access rules both sides apply,
//! and the account API's shapes.
//!
//! The server is the authority: it applies [`Access`] to every request and every
//! sync op. The app applies the same rules only to hide what a user may not do,
//! so a user is not invited to make an edit the server would refuse.
//!
//! Account API bodies are JSON (small and rare, unlike sync messages). Paths are
//! stable names, like the sync protocol's.

use crate::record::{RecommendationStatus, Record, RecordKind, Stance};
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

/// What one user may do, by role and member state. Which records a contributor
/// or observer can see is the server's list of grants, not part of this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub role: Role,
    pub member_state: Option<String>,
}

/// Why the server refused an edit or a request; the text is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("observers can read records but not change them")]
    ReadOnly,
    #[error("only the secretariat and members can create {0}")]
    CannotCreate(&'static str),
    #[error("only the secretariat can change a recommendation's status")]
    StatusIsSecretariats,
    #[error("members record only their own state's position; {0} is another member's")]
    NotYourPosition(String),
    #[error("only members and the secretariat record positions")]
    PositionsAreMembers,
    #[error("only the secretariat can do this")]
    SecretariatOnly,
    /// A record a contributor or observer was not invited to, whether it exists
    /// or not: the answer is the same, so guessing ids reveals nothing.
    #[error(
        "there is no record {0} that you can see (only the secretariat and members create records)"
    )]
    NotInvited(String),
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
            Role::Contributor => Err(Denied::CannotCreate(match kind {
                RecordKind::Recommendation => "recommendations",
                RecordKind::Project => "projects",
            })),
        }
    }

    pub fn can_set_recommendation_status(&self) -> bool {
        self.role == Role::Secretariat
    }

    /// Whether the user may record `code`'s position on a recommendation: the
    /// secretariat for any member (it records them in meetings), a member for
    /// their own state only.
    pub fn can_record_position(&self, code: &str) -> bool {
        match self.role {
            Role::Secretariat => true,
            Role::Member => self.member_state.as_deref() == Some(code),
            Role::Contributor | Role::Observer => false,
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
        if before.status != after.status && !self.can_set_recommendation_status() {
            return Err(Denied::StatusIsSecretariats);
        }
        let codes = before.positions.keys().chain(after.positions.keys());
        for code in codes {
            if before.positions.get(code) != after.positions.get(code)
                && !self.can_record_position(code)
            {
                return Err(match self.role {
                    Role::Member => Denied::NotYourPosition(code.clone()),
                    _ => Denied::PositionsAreMembers,
                });
            }
        }
        Ok(())
    }
}

/// The fields of a record that not every editor may change, read before and
/// after an op to tell whether the op changed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardedFields {
    /// A recommendation's status (`None` for a project, or no record yet).
    pub status: Option<RecommendationStatus>,
    /// A recommendation's member positions, by member code.
    pub positions: BTreeMap<String, Stance>,
}

impl GuardedFields {
    /// Reads the guarded fields of `record` (cheap: a few map lookups).
    pub fn of(record: &Record) -> GuardedFields {
        match record.as_recommendation() {
            Some(recommendation) => GuardedFields {
                status: Some(recommendation.status()),
                positions: recommendation.positions().into_iter().collect(),
            },
            None => GuardedFields::default(),
        }
    }

    /// The guarded fields of a record that does not exist yet: a new record's
    /// first op may set them only as a new record has them.
    pub fn of_new(kind: RecordKind) -> GuardedFields {
        match kind {
            RecordKind::Recommendation => GuardedFields {
                status: Some(RecommendationStatus::default()),
                positions: BTreeMap::new(),
            },
            RecordKind::Project => GuardedFields::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RecordId;

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

    #[test]
    fn only_the_secretariat_changes_a_recommendations_status() {
        let record = recommendation();
        let before = GuardedFields::of(&record);
        record
            .as_recommendation()
            .expect("recommendation")
            .set_status(RecommendationStatus::Adopted);
        let after = GuardedFields::of(&record);
        assert_eq!(
            access(Role::Secretariat).check_edit(&before, &after),
            Ok(())
        );
        assert_eq!(
            member("FI").check_edit(&before, &after),
            Err(Denied::StatusIsSecretariats)
        );
        assert_eq!(
            access(Role::Contributor).check_edit(&before, &after),
            Err(Denied::StatusIsSecretariats)
        );
        assert_eq!(
            access(Role::Observer).check_edit(&before, &after),
            Err(Denied::ReadOnly)
        );
    }

    #[test]
    fn a_member_records_only_their_own_states_position() {
        let record = recommendation();
        let rec = record.as_recommendation().expect("recommendation");
        let before = GuardedFields::of(&record);
        rec.set_position("FI", Some(Stance::Reservation));
        let finnish = GuardedFields::of(&record);
        assert_eq!(member("FI").check_edit(&before, &finnish), Ok(()));
        assert_eq!(
            member("SE").check_edit(&before, &finnish),
            Err(Denied::NotYourPosition("FI".into()))
        );
        assert_eq!(
            access(Role::Contributor).check_edit(&before, &finnish),
            Err(Denied::PositionsAreMembers)
        );
        assert_eq!(
            access(Role::Secretariat).check_edit(&before, &finnish),
            Ok(())
        );
        // Withdrawing a position is a change of it too.
        rec.set_position("FI", None);
        let withdrawn = GuardedFields::of(&record);
        assert_eq!(
            member("SE").check_edit(&finnish, &withdrawn),
            Err(Denied::NotYourPosition("FI".into()))
        );
        // Text edits touch no guarded field: open to contributors.
        let before_text = GuardedFields::of(&record);
        rec.set_title("On early intervention");
        assert_eq!(
            access(Role::Contributor).check_edit(&before_text, &GuardedFields::of(&record)),
            Ok(())
        );
    }

    #[test]
    fn creating_records_is_for_the_secretariat_and_members() {
        for kind in [RecordKind::Recommendation, RecordKind::Project] {
            assert_eq!(access(Role::Secretariat).check_create(kind), Ok(()));
            assert_eq!(member("DK").check_create(kind), Ok(()));
            assert!(access(Role::Contributor).check_create(kind).is_err());
            assert_eq!(
                access(Role::Observer).check_create(kind),
                Err(Denied::ReadOnly)
            );
        }
        assert_eq!(
            GuardedFields::of_new(RecordKind::Recommendation),
            GuardedFields::of(&recommendation())
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
