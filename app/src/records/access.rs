//! Who was invited to one record: contributors edit it, observers read it.
//! The secretariat's panel on every record; needs the server.

use crate::i18n::*;
use crate::labels::role_label;
use crate::session::call;
use crate::status::use_online;
use crate::widgets::FormMessage;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tern_domain::auth::{Grant, Role, UserEntry, GRANTS_PATH, USERS_PATH};

/// The secretariat's view of who was invited to one record: contributors edit
/// it, observers read it. Members and the secretariat see every record anyway.
#[component]
pub fn RecordAccess(id: tern_domain::record::RecordId) -> impl IntoView {
    let i18n = use_i18n();
    let online = use_online();
    let users = RwSignal::new(Vec::<UserEntry>::new());
    let invited = RwSignal::new(Vec::<tern_domain::auth::UserId>::new());
    let chosen = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let grants_path = format!("{GRANTS_PATH}?record={id}");
    let load = move |path: String| {
        spawn_local(async move {
            if let Ok(list) = call::<(), Vec<UserEntry>>("GET", USERS_PATH, None).await {
                users.set(list);
            }
            if let Ok(grants) = call::<(), Vec<Grant>>("GET", &path, None).await {
                invited.set(grants.into_iter().map(|grant| grant.user).collect());
            }
        });
    };
    Effect::new({
        let grants_path = grants_path.clone();
        move |_| {
            if online.get() {
                load(grants_path.clone());
            }
        }
    });
    let change = move |user: String, granted: bool| {
        let offline = t_string!(i18n, needs_connection);
        let grant = Grant {
            record: id,
            user: tern_domain::auth::UserId(user),
            granted,
        };
        spawn_local(async move {
            match call::<_, Vec<Grant>>("POST", GRANTS_PATH, Some(&grant)).await {
                Ok(grants) => {
                    invited.set(grants.into_iter().map(|grant| grant.user).collect());
                    message.set(None);
                }
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
        });
    };
    // Only people who need an invitation to see the record.
    let candidates = move || {
        users
            .get()
            .into_iter()
            .filter(|entry| {
                entry.active && matches!(entry.identity.role, Role::Contributor | Role::Observer)
            })
            .collect::<Vec<_>>()
    };
    view! {
        <section class="record-access" aria-labelledby="access-heading">
            <h2 id="access-heading">{move || t_string!(i18n, access_heading)}</h2>
            <p class="hint">{move || t_string!(i18n, access_hint)}</p>
            {move || (!online.get()).then(|| view! { <p role="status">{t_string!(i18n, needs_connection)}</p> })}
            <ul class="invited">
                {move || {
                    let invited = invited.get();
                    candidates()
                        .into_iter()
                        .filter(|entry| invited.contains(&entry.identity.user))
                        .map(|entry| {
                            let user = entry.identity.user.0.clone();
                            view! {
                                <li>
                                    {entry.identity.name.clone()} " · " {role_label(i18n, entry.identity.role)} " "
                                    <button type="button" class="uninvite" on:click=move |_| change(user.clone(), false)>
                                        {move || t_string!(i18n, access_remove)}
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <div class="field">
                <label for="invite-user">{move || t_string!(i18n, access_choose)}</label>
                <select id="invite-user" on:change=move |event| chosen.set(event_target_value(&event))>
                    <option value="">"—"</option>
                    {move || {
                        let invited = invited.get();
                        candidates()
                            .into_iter()
                            .filter(|entry| !invited.contains(&entry.identity.user))
                            .map(|entry| view! {
                                <option value=entry.identity.user.0.clone()>
                                    {entry.identity.name.clone()} " · " {role_label(i18n, entry.identity.role)}
                                </option>
                            })
                            .collect_view()
                    }}
                </select>
            </div>
            <button type="button" id="invite" disabled=move || !online.get() on:click=move |_| {
                let user = chosen.get_untracked();
                if !user.is_empty() {
                    change(user, true);
                }
            }>
                {move || t_string!(i18n, access_invite)}
            </button>
            <FormMessage id="access-message" message />
        </section>
    }
}
