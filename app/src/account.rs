//! Signing in and out, choosing a password from an invitation, the account part
//! of Settings, and the secretariat's page of users and member states.
//!
//! These talk to the account API (`tern_domain::auth`) and need a connection;
//! offline, they say so instead of failing silently. The records themselves
//! keep working offline with the last confirmed identity (see `session`).

use crate::i18n::*;
use crate::labels::role_label;
use crate::session::{call, forget_identity, use_session, Failure};
use crate::status::use_online;
use crate::store::use_workspace;
use crate::widgets::FormMessage;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tern_domain::auth::{
    check_new_password, is_plausible_email, AcceptInvitation, Invitation, MemberState,
    MemberStateChange, NewUser, PasswordChange, PasswordProblem, Role, SessionInfo, SignInRequest,
    SignedOutOthers, UserChange, UserEntry, INVITATION_PATH, MEMBERS_PATH, PASSWORD_PATH,
    SIGN_IN_PATH, SIGN_OUT_OTHERS_PATH, SIGN_OUT_PATH, USERS_PATH, USER_INVITATION_SUFFIX,
};

type I18n = leptos_i18n::I18nContext<Locale>;

fn password_problem(i18n: I18n, problem: PasswordProblem) -> &'static str {
    match problem {
        PasswordProblem::TooShort => t_string!(i18n, password_too_short),
        PasswordProblem::TooLong => t_string!(i18n, password_too_long),
        PasswordProblem::IsTheEmail => t_string!(i18n, password_is_email),
    }
}

/// The sign-in form. After sign-in the page shows the user's own workspace
/// (another user's identity on this page means a reload into theirs).
#[component]
pub fn SignInForm(#[prop(optional)] email: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let email = RwSignal::new(email.unwrap_or_default());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<(bool, String)>);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (email, password) = (email.get_untracked(), password.get_untracked());
        if !is_plausible_email(&email) {
            message.set(Some((false, t_string!(i18n, sign_in_bad_email).to_owned())));
            return;
        }
        if password.is_empty() {
            message.set(Some((
                false,
                t_string!(i18n, sign_in_no_password).to_owned(),
            )));
            return;
        }
        let offline = t_string!(i18n, needs_connection);
        busy.set(true);
        message.set(None);
        spawn_local(async move {
            let request = SignInRequest { email, password };
            match call::<_, SessionInfo>("POST", SIGN_IN_PATH, Some(&request)).await {
                Ok(info) => session.confirmed(info),
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="sign-in" on:submit=submit novalidate>
            <div class="field">
                <label for="sign-in-email">{move || t_string!(i18n, sign_in_email)}</label>
                <input type="email" id="sign-in-email" autocomplete="username" required
                    prop:value=move || email.get()
                    on:input=move |event| email.set(event_target_value(&event)) />
            </div>
            <div class="field">
                <label for="sign-in-password">{move || t_string!(i18n, sign_in_password)}</label>
                <input type="password" id="sign-in-password" autocomplete="current-password" required
                    prop:value=move || password.get()
                    on:input=move |event| password.set(event_target_value(&event)) />
            </div>
            <FormMessage id="sign-in-message" message />
            <button type="submit" class="primary" id="sign-in" disabled=move || busy.get()>
                {move || t_string!(i18n, sign_in_button)}
            </button>
        </form>
    }
}

/// What a device without a signed-in user shows instead of any page.
#[component]
pub fn SignInScreen() -> impl IntoView {
    let i18n = use_i18n();
    Effect::new(move |_| {
        document().set_title(&format!("{} · Tern", t_string!(i18n, sign_in_title)))
    });
    view! {
        <h1>{move || t_string!(i18n, sign_in_title)}</h1>
        <p class="lead">{move || t_string!(i18n, sign_in_intro)}</p>
        <SignInForm />
        <p class="hint">{move || t_string!(i18n, sign_in_first_time)}</p>
    }
}

/// Shown when the server no longer accepts the session: the work goes on, the
/// edits wait, and the user can sign in again right here.
#[component]
pub fn SessionEndedBanner() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let workspace = use_workspace();
    view! {
        <Show when=move || session.expired.get()>
            <div id="session-ended" class="local-problem" role="alert">
                <p>
                    {move || t_string!(i18n, session_ended)} " "
                    {move || match workspace.waiting() {
                        0 => String::new(),
                        n => format!("{n} {}", t_string!(i18n, session_ended_waiting)),
                    }}
                </p>
                <SignInForm email=session
                    .identity
                    .get_untracked()
                    .map(|identity| identity.email)
                    .unwrap_or_default() />
            </div>
        </Show>
    }
}

/// The signed-in user's name and role in the header.
#[component]
pub fn IdentityBadge() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    view! {
        {move || session.identity.get().map(|identity| view! {
            <a id="identity" class="identity" href="/settings">
                {identity.name} " · " {role_label(i18n, identity.role)}
                {identity.member_state.map(|code| format!(" · {code}"))}
            </a>
        })}
    }
}

/// `/welcome#<token>`: a new user (or one whose password was reset) chooses a password.
#[component]
pub fn Welcome() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    Effect::new(move |_| {
        document().set_title(&format!("{} · Tern", t_string!(i18n, welcome_title)))
    });
    let token = window()
        .location()
        .hash()
        .unwrap_or_default()
        .trim_start_matches('#')
        .to_owned();
    let password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<(bool, String)>);
    let has_token = !token.is_empty();
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (new, again) = (password.get_untracked(), repeat.get_untracked());
        if let Err(problem) = check_new_password(&new, "") {
            message.set(Some((false, password_problem(i18n, problem).to_owned())));
            return;
        }
        if new != again {
            message.set(Some((false, t_string!(i18n, password_mismatch).to_owned())));
            return;
        }
        let offline = t_string!(i18n, needs_connection);
        let request = AcceptInvitation {
            token: token.clone(),
            password: new,
        };
        busy.set(true);
        spawn_local(async move {
            match call::<_, SessionInfo>("POST", INVITATION_PATH, Some(&request)).await {
                Ok(info) => {
                    session.confirmed(info);
                    // The token leaves the address bar and history.
                    let _ = window().location().replace("/");
                }
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
            busy.set(false);
        });
    };
    view! {
        <h1>{move || t_string!(i18n, welcome_title)}</h1>
        {if has_token {
            view! {
                <p class="lead">{move || t_string!(i18n, welcome_intro)}</p>
                <form class="sign-in" on:submit=submit novalidate>
                    <PasswordFields password repeat />
                    <FormMessage id="welcome-message" message />
                    <button type="submit" class="primary" id="welcome-submit" disabled=move || busy.get()>
                        {move || t_string!(i18n, welcome_button)}
                    </button>
                </form>
            }
            .into_any()
        } else {
            view! { <p role="alert">{move || t_string!(i18n, welcome_no_token)}</p> }.into_any()
        }}
    }
}

/// A new password and its repetition, with the rules as a hint.
#[component]
fn PasswordFields(password: RwSignal<String>, repeat: RwSignal<String>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="field">
            <label for="new-password">{move || t_string!(i18n, password_new)}</label>
            <input type="password" id="new-password" autocomplete="new-password"
                aria-describedby="new-password-hint"
                prop:value=move || password.get()
                on:input=move |event| password.set(event_target_value(&event)) />
            <p id="new-password-hint" class="hint">{move || t_string!(i18n, password_rules)}</p>
        </div>
        <div class="field">
            <label for="repeat-password">{move || t_string!(i18n, password_repeat)}</label>
            <input type="password" id="repeat-password" autocomplete="new-password"
                prop:value=move || repeat.get()
                on:input=move |event| repeat.set(event_target_value(&event)) />
        </div>
    }
}

/// Settings: who is signed in, password, sign-out, other devices.
#[component]
pub fn AccountSettings() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let workspace = use_workspace();
    let online = use_online();
    let message = RwSignal::new(None::<(bool, String)>);
    let current = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let password_message = RwSignal::new(None::<(bool, String)>);

    let sign_out = move |_| {
        let offline = t_string!(i18n, needs_connection);
        spawn_local(async move {
            match call::<(), ()>("POST", SIGN_OUT_PATH, None).await {
                // Already ended on the server is as good as ended now.
                Ok(()) | Err(Failure::SignedOut(_)) => forget_identity(),
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
        });
    };
    let sign_out_others = move |_| {
        let offline = t_string!(i18n, needs_connection);
        let ended_words = t_string!(i18n, account_others_ended);
        spawn_local(async move {
            match call::<(), SignedOutOthers>("POST", SIGN_OUT_OTHERS_PATH, None).await {
                Ok(answer) => message.set(Some((true, format!("{ended_words} {}", answer.ended)))),
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
        });
    };
    let change_password = move |event: SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let email = session
            .identity
            .get_untracked()
            .map(|identity| identity.email)
            .unwrap_or_default();
        let (old, new, again) = (
            current.get_untracked(),
            password.get_untracked(),
            repeat.get_untracked(),
        );
        if let Err(problem) = check_new_password(&new, &email) {
            password_message.set(Some((false, password_problem(i18n, problem).to_owned())));
            return;
        }
        if new != again {
            password_message.set(Some((false, t_string!(i18n, password_mismatch).to_owned())));
            return;
        }
        let offline = t_string!(i18n, needs_connection);
        let done = t_string!(i18n, password_changed);
        busy.set(true);
        spawn_local(async move {
            let request = PasswordChange { current: old, new };
            match call::<_, ()>("POST", PASSWORD_PATH, Some(&request)).await {
                Ok(()) => {
                    current.set(String::new());
                    password.set(String::new());
                    repeat.set(String::new());
                    password_message.set(Some((true, done.to_owned())));
                }
                Err(failure) => password_message.set(Some((false, failure.reason(offline)))),
            }
            busy.set(false);
        });
    };

    view! {
        <section aria-labelledby="settings-account">
            <h2 id="settings-account">{move || t_string!(i18n, account_heading)}</h2>
            {move || session.identity.get().map(|identity| view! {
                <dl class="facts">
                    <dt>{move || t_string!(i18n, account_name)}</dt>
                    <dd id="account-name">{identity.name}</dd>
                    <dt>{move || t_string!(i18n, sign_in_email)}</dt>
                    <dd>{identity.email}</dd>
                    <dt>{move || t_string!(i18n, account_role)}</dt>
                    <dd id="account-role">{role_label(i18n, identity.role)}</dd>
                    {identity.member_state.map(|code| view! {
                        <dt>{move || t_string!(i18n, account_member_state)}</dt>
                        <dd>{session.member_name(&code)}</dd>
                    })}
                </dl>
            })}
            <p class="hint">
                {move || match workspace.waiting() {
                    0 => t_string!(i18n, account_sign_out_hint).to_owned(),
                    n => format!("{n} {}", t_string!(i18n, account_sign_out_waiting)),
                }}
            </p>
            <p class="actions">
                <button type="button" id="sign-out" on:click=sign_out disabled=move || !online.get()>
                    {move || t_string!(i18n, account_sign_out)}
                </button>
                <button type="button" id="sign-out-others" on:click=sign_out_others
                    disabled=move || !online.get()>
                    {move || t_string!(i18n, account_sign_out_others)}
                </button>
            </p>
            <FormMessage id="account-message" message />
            <h3>{move || t_string!(i18n, password_heading)}</h3>
            <form on:submit=change_password novalidate>
                <div class="field">
                    <label for="current-password">{move || t_string!(i18n, password_current)}</label>
                    <input type="password" id="current-password" autocomplete="current-password"
                        prop:value=move || current.get()
                        on:input=move |event| current.set(event_target_value(&event)) />
                </div>
                <PasswordFields password repeat />
                <FormMessage id="password-message" message=password_message />
                <button type="submit" id="change-password" disabled=move || busy.get() || !online.get()>
                    {move || t_string!(i18n, password_change)}
                </button>
            </form>
        </section>
    }
}

/// The secretariat's page: users (invite, role, member state, disable, new
/// sign-in link) and which member states take part. Needs a connection.
#[component]
pub fn UsersPage() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let online = use_online();
    Effect::new(move |_| document().set_title(&format!("{} · Tern", t_string!(i18n, users_title))));
    let users = RwSignal::new(None::<Vec<UserEntry>>);
    let message = RwSignal::new(None::<(bool, String)>);
    let link = RwSignal::new(None::<String>);
    let reload = move || {
        let offline = t_string!(i18n, needs_connection);
        spawn_local(async move {
            match call::<(), Vec<UserEntry>>("GET", USERS_PATH, None).await {
                Ok(list) => users.set(Some(list)),
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
            if let Ok(members) = call::<(), Vec<MemberState>>("GET", MEMBERS_PATH, None).await {
                session.members.set(members);
            }
        });
    };
    Effect::new(move |_| {
        if online.get() {
            reload();
        }
    });
    let show_invitation = move |invitation: Invitation| {
        let origin = window().location().origin().unwrap_or_default();
        link.set(Some(format!("{origin}{}", invitation.link)));
    };
    let change_user = move |user: String, change: UserChange| {
        let offline = t_string!(i18n, needs_connection);
        spawn_local(async move {
            let path = format!("{USERS_PATH}/{user}");
            match call::<_, UserEntry>("POST", &path, Some(&change)).await {
                Ok(_) => reload(),
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
        });
    };
    let new_link = move |user: String| {
        let offline = t_string!(i18n, needs_connection);
        spawn_local(async move {
            let path = format!("{USERS_PATH}/{user}{USER_INVITATION_SUFFIX}");
            match call::<(), Invitation>("POST", &path, None).await {
                Ok(invitation) => {
                    show_invitation(invitation);
                    reload();
                }
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
        });
    };

    view! {
        <h1>{move || t_string!(i18n, users_title)}</h1>
        {move || (!session.is_secretariat()).then(|| view! {
            <p role="alert">{move || t_string!(i18n, users_secretariat_only)}</p>
        })}
        {move || (!online.get()).then(|| view! { <p role="status">{move || t_string!(i18n, needs_connection)}</p> })}
        <FormMessage id="users-message" message />
        <NewUserForm on_created=move |invitation| { show_invitation(invitation); reload(); } />
        {move || link.get().map(|link| view! {
            <div class="field invitation">
                <label for="invitation-link">{move || t_string!(i18n, users_link_label)}</label>
                <input type="text" id="invitation-link" readonly prop:value=link />
                <p class="hint">{move || t_string!(i18n, users_link_hint)}</p>
            </div>
        })}
        <section aria-labelledby="users-list">
            <h2 id="users-list">{move || t_string!(i18n, users_list_heading)}</h2>
            <div class="table-scroll"><table class="users">
                <thead>
                    <tr>
                        <th scope="col">{move || t_string!(i18n, account_name)}</th>
                        <th scope="col">{move || t_string!(i18n, sign_in_email)}</th>
                        <th scope="col">{move || t_string!(i18n, account_role)}</th>
                        <th scope="col">{move || t_string!(i18n, users_state)}</th>
                        <th scope="col">{move || t_string!(i18n, users_actions)}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || users.get().unwrap_or_default().into_iter().map(|entry| {
                        let user = entry.identity.user.0.clone();
                        let (for_role, for_link, for_active) = (user.clone(), user.clone(), user.clone());
                        let active = entry.active;
                        let state = if !entry.active {
                            t_string!(i18n, users_disabled)
                        } else if entry.has_password {
                            t_string!(i18n, users_active)
                        } else {
                            t_string!(i18n, users_invited)
                        };
                        let role = entry.identity.role;
                        view! {
                            <tr data-email=entry.identity.email.clone()>
                                <td>{entry.identity.name.clone()}</td>
                                <td>{entry.identity.email.clone()}</td>
                                <td>
                                    <select class="user-role" aria-label=t_string!(i18n, account_role)
                                        on:change=move |event| {
                                            if let Some(role) = Role::parse(&event_target_value(&event)) {
                                                change_user(for_role.clone(), UserChange { role: Some(role), ..UserChange::default() });
                                            }
                                        }>
                                        {Role::ALL.into_iter().map(|option| view! {
                                            <option value=option.as_str() selected=option == role>
                                                {role_label(i18n, option)}
                                            </option>
                                        }).collect_view()}
                                    </select>
                                    {entry.identity.member_state.clone().map(|code| format!(" · {code}"))}
                                </td>
                                <td>{state}</td>
                                <td class="actions">
                                    <button type="button" class="new-link" on:click=move |_| new_link(for_link.clone())>
                                        {move || t_string!(i18n, users_new_link)}
                                    </button>
                                    <button type="button" class="toggle-active" on:click=move |_| {
                                        change_user(for_active.clone(), UserChange { active: Some(!active), ..UserChange::default() });
                                    }>
                                        {if active { t_string!(i18n, users_disable) } else { t_string!(i18n, users_enable) }}
                                    </button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table></div>
        </section>
        <MemberStates message />
    }
}

#[component]
fn NewUserForm(on_created: impl Fn(Invitation) + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member);
    let member_state = RwSignal::new(String::new());
    let organisation = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let new_user = NewUser {
            name: name.get_untracked().trim().to_owned(),
            email: email.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
            member_state: Some(member_state.get_untracked()).filter(|code| !code.is_empty()),
            organisation: organisation.get_untracked().trim().to_owned(),
        };
        if new_user.name.is_empty() {
            message.set(Some((false, t_string!(i18n, users_need_name).to_owned())));
            return;
        }
        if !is_plausible_email(&new_user.email) {
            message.set(Some((false, t_string!(i18n, sign_in_bad_email).to_owned())));
            return;
        }
        if new_user.role == Role::Member && new_user.member_state.is_none() {
            message.set(Some((false, t_string!(i18n, users_need_state).to_owned())));
            return;
        }
        let offline = t_string!(i18n, needs_connection);
        let created = t_string!(i18n, users_created);
        spawn_local(async move {
            match call::<_, Invitation>("POST", USERS_PATH, Some(&new_user)).await {
                Ok(invitation) => {
                    name.set(String::new());
                    email.set(String::new());
                    organisation.set(String::new());
                    message.set(Some((true, created.to_owned())));
                    on_created(invitation);
                }
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
        });
    };
    view! {
        <section aria-labelledby="users-new">
            <h2 id="users-new">{move || t_string!(i18n, users_new_heading)}</h2>
            <form on:submit=submit novalidate>
                <div class="field">
                    <label for="new-user-name">{move || t_string!(i18n, account_name)}</label>
                    <input type="text" id="new-user-name" prop:value=move || name.get()
                        on:input=move |event| name.set(event_target_value(&event)) />
                </div>
                <div class="field">
                    <label for="new-user-email">{move || t_string!(i18n, sign_in_email)}</label>
                    <input type="email" id="new-user-email" prop:value=move || email.get()
                        on:input=move |event| email.set(event_target_value(&event)) />
                </div>
                <div class="field">
                    <label for="new-user-role">{move || t_string!(i18n, account_role)}</label>
                    <select id="new-user-role" on:change=move |event| {
                        if let Some(chosen) = Role::parse(&event_target_value(&event)) {
                            role.set(chosen);
                        }
                    }>
                        {Role::ALL.into_iter().map(|option| view! {
                            <option value=option.as_str() selected=move || role.get() == option>
                                {role_label(i18n, option)}
                            </option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="new-user-state">{move || t_string!(i18n, account_member_state)}</label>
                    <select id="new-user-state" on:change=move |event| member_state.set(event_target_value(&event))>
                        <option value="">{move || t_string!(i18n, users_no_state)}</option>
                        {move || session.member_list().into_iter().filter(|member| member.active).map(|member| view! {
                            <option value=member.code.clone()>{member.name.clone()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="new-user-organisation">{move || t_string!(i18n, users_organisation)}</label>
                    <input type="text" id="new-user-organisation" prop:value=move || organisation.get()
                        on:input=move |event| organisation.set(event_target_value(&event)) />
                </div>
                <FormMessage id="new-user-message" message />
                <button type="submit" class="primary" id="create-user">{move || t_string!(i18n, users_create)}</button>
            </form>
        </section>
    }
}

/// Which member states take part; the secretariat changes it.
#[component]
fn MemberStates(message: RwSignal<Option<(bool, String)>>) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let toggle = move |code: String, active: bool| {
        let offline = t_string!(i18n, needs_connection);
        spawn_local(async move {
            let change = MemberStateChange { code, active };
            match call::<_, Vec<MemberState>>("POST", MEMBERS_PATH, Some(&change)).await {
                Ok(members) => session.members.set(members),
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
        });
    };
    view! {
        <section aria-labelledby="users-members">
            <h2 id="users-members">{move || t_string!(i18n, users_members_heading)}</h2>
            <ul class="checks">
                {move || session.member_list().into_iter().map(|member| {
                    let dom_id = format!("member-active-{}", member.code);
                    let code = member.code.clone();
                    view! {
                        <li>
                            <input type="checkbox" id=dom_id.clone() prop:checked=member.active
                                on:change=move |event| toggle(code.clone(), event_target_checked(&event)) />
                            <label for=dom_id>{member.name.clone()}</label>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
