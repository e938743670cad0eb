//! Who is signed in on this device.
//!
//! The server knows sessions by an HttpOnly cookie the app never sees. The app
//! keeps the last identity the server confirmed (localStorage), so it opens and
//! works offline with that identity and role; the server still checks every
//! request. Each user's records live in their own IndexedDB database, so a
//! colleague signing in on the same browser does not see them.
//!
//! When the server says the session ended (401), the app keeps working and its
//! edits stay queued; they sync after the same user signs in again.

use leptos::prelude::*;
use tern_domain::auth::{Access, Identity, MemberState, SessionInfo};

#[cfg(feature = "hydrate")]
mod api;

/// Why an account API call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No network, or the server could not be reached.
    Offline,
    /// 401: no live session (or, for sign-in, wrong email or password: the reason says).
    SignedOut(String),
    /// Any other refusal, with the server's reason.
    Refused(u16, String),
}

impl Failure {
    /// The sentence to show; `offline` is the caller's words for no network.
    pub fn reason(&self, offline: &str) -> String {
        match self {
            Failure::Offline => offline.to_owned(),
            Failure::SignedOut(reason) | Failure::Refused(_, reason) => reason.clone(),
        }
    }
}

/// One JSON call to the account API; `body` is sent as JSON when given.
/// (Pages run only in the browser; the server build never calls it.)
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub async fn call<B: serde::Serialize, T: serde::de::DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<&B>,
) -> Result<T, Failure> {
    #[cfg(feature = "hydrate")]
    return api::call(method, path, body).await;
    #[cfg(not(feature = "hydrate"))]
    Err(Failure::Offline)
}

/// Forgets the identity on this device and shows the sign-in form; the
/// user's records stay in their own database for their next sign-in.
pub fn forget_identity() {
    #[cfg(feature = "hydrate")]
    api::forget_identity();
}

/// localStorage key of the last confirmed [`SessionInfo`] (JSON).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const SESSION_KEY: &str = "tern.session";

#[derive(Clone, Copy)]
pub struct Session {
    /// The signed-in user as the server last confirmed them.
    pub identity: RwSignal<Option<Identity>>,
    /// The member states and whether each takes part today.
    pub members: RwSignal<Vec<MemberState>>,
    /// True once the saved identity has been read (after hydration).
    pub known: RwSignal<bool>,
    /// The server no longer accepts this device's session; edits stay queued.
    pub expired: RwSignal<bool>,
}

pub fn provide_session() {
    let session = Session {
        identity: RwSignal::new(None),
        members: RwSignal::new(Vec::new()),
        known: RwSignal::new(false),
        expired: RwSignal::new(false),
    };
    provide_context(session);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| api::start(session));
}

pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(|| {
        provide_session();
        expect_context::<Session>()
    })
}

impl Session {
    /// What the signed-in user may do; `None` before sign-in.
    pub fn access(self) -> Option<Access> {
        self.identity
            .with(|identity| identity.as_ref().map(Identity::access))
    }

    /// Whether the signed-in user may change records at all.
    pub fn can_edit(self) -> bool {
        self.access()
            .is_some_and(|access| access.can_edit_records())
    }

    pub fn is_secretariat(self) -> bool {
        self.access()
            .is_some_and(|access| access.check_secretariat().is_ok())
    }

    /// A member's name by code, from the server's list (or the built-in one).
    pub fn member_name(self, code: &str) -> String {
        self.members
            .with(|members| {
                members
                    .iter()
                    .find(|member| member.code == code)
                    .map(|member| member.name.clone())
            })
            .or_else(|| {
                tern_domain::region::MEMBERS
                    .iter()
                    .find(|member| member.code == code)
                    .map(|member| member.name.to_owned())
            })
            .unwrap_or_else(|| code.to_owned())
    }

    /// The members to list: the server's reference data once known, else the built-in list.
    pub fn member_list(self) -> Vec<MemberState> {
        let members = self.members.get();
        if !members.is_empty() {
            return members;
        }
        tern_domain::region::MEMBERS
            .iter()
            .map(|member| MemberState {
                code: member.code.to_owned(),
                name: member.name.to_owned(),
                active: member.active,
            })
            .collect()
    }

    /// Takes a session the server just confirmed. A different user than the
    /// one whose data this page holds means a different workspace: the page
    /// reloads to open it.
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    pub fn confirmed(self, info: SessionInfo) {
        #[cfg(feature = "hydrate")]
        api::confirmed(self, info);
    }
}
