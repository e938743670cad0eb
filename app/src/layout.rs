//! The frame around every page: the banner for a stopped app, skip link,
//! header with connection state, navigation, update banner, main region and
//! footer.

use crate::account::{IdentityBadge, SessionEndedBanner, SignInScreen};
use crate::i18n::*;
use crate::pages::PageView;
use crate::routes::{Page, Section, USERS_PATH};
use crate::session::use_session;
use crate::stopped::StoppedBanner;
use crate::store::{use_workspace, LocalProblem, SyncPhase};
use crate::use_mounted;
use leptos::ev;
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use leptos_router::location::{BrowserUrl, LocationProvider};

/// Raised by the boot script when a new version has installed and waits.
const UPDATE_AVAILABLE_EVENT: &str = "tern:update-available";
/// Raised towards the boot script when the user asks to switch to the new version.
const APPLY_UPDATE_EVENT: &str = "tern:apply-update";
/// Set by the boot script when the update was found before this app was listening.
const UPDATE_WAITING_FLAG: &str = "__ternUpdateWaiting";

#[component]
pub fn Layout() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let page = Memo::new(move |_| Page::from_path(&location.pathname.get()));
    let mounted = use_mounted();
    let session = use_session();
    // Only signing in or out re-renders the page; a refreshed identity (a role
    // change) updates what depends on it in place, and typing is never interrupted.
    let signed_out =
        Memo::new(move |_| session.known.get() && session.identity.with(Option::is_none));
    let known = Memo::new(move |_| session.known.get());
    complete_navigations(location.pathname);
    move_focus_to_main_on_navigation(page);

    view! {
        <StoppedBanner />
        <a class="skip-link" href="#main">{t!(i18n, skip_to_content)}</a>
        <header class="app-header">
            <a class="brand" href="/">
                <img class="brand-mark" src="/icons/favicon-32.png" alt="" width="32" height="32" />
                <span class="brand-name">{t!(i18n, app_name)}</span>
                <span class="brand-tagline">{t!(i18n, app_tagline)}</span>
            </a>
            <div class="header-status">
                <ConnectionStatus />
                <Show when=move || mounted.get()>
                    <SyncIndicator />
                    <IdentityBadge />
                </Show>
            </div>
        </header>
        <Show when=move || mounted.get()>
            <LocalProblemBanner />
            <SessionEndedBanner />
        </Show>
        <nav class="app-nav" aria-label=move || t_string!(i18n, nav_label)>
            <ul>
                {Section::ALL
                    .into_iter()
                    .map(|section| view! { <li><NavLink section page /></li> })
                    .collect_view()}
                {move || (mounted.get() && session.is_secretariat()).then(|| view! {
                    <li>
                        <a href=USERS_PATH aria-current=move || (page.get() == Page::Users).then_some("page")>
                            {t!(i18n, nav_users)}
                        </a>
                    </li>
                })}
            </ul>
        </nav>
        <UpdateBanner />
        <main id="main" tabindex="-1">
            {move || {
                // Without a signed-in user on this device, every page but the
                // invitation page is the sign-in form.
                if mounted.get() && signed_out.get() && page.get() != Page::Welcome {
                    view! { <SignInScreen /> }.into_any()
                } else if mounted.get() && known.get() {
                    view! { <PageView page=page.get() /> }.into_any()
                } else {
                    view! { <p class="loading">{t!(i18n, loading)}</p> }.into_any()
                }
            }}
        </main>
        <footer class="app-footer">
            <p>{t!(i18n, footer_text)}</p>
        </footer>
    }
}

pub fn section_label(i18n: leptos_i18n::I18nContext<Locale>, section: Section) -> &'static str {
    match section {
        Section::Overview => t_string!(i18n, nav_overview),
        Section::Recommendations => t_string!(i18n, nav_recommendations),
        Section::Projects => t_string!(i18n, nav_projects),
        Section::Consultations => t_string!(i18n, nav_consultations),
        Section::Network => t_string!(i18n, nav_network),
        Section::Sync => t_string!(i18n, nav_sync),
        Section::Settings => t_string!(i18n, nav_settings),
    }
}

#[component]
fn NavLink(section: Section, page: Memo<Page>) -> impl IntoView {
    let i18n = use_i18n();
    let mounted = use_mounted();
    // Marked only after hydration: the server shell is the same for every route.
    let current =
        move || (mounted.get() && page.get().section() == Some(section)).then_some("page");
    view! {
        <a href=section.path() aria-current=current>
            {move || section_label(i18n, section)}
        </a>
    }
}

/// The router puts a new URL in the address bar only once the route view says it
/// has rendered (its `<Routes>` would). Pages here are chosen by
/// [`Page::from_path`], the same function the server uses, so say it here.
fn complete_navigations(pathname: Memo<String>) {
    Effect::new(move |_| {
        pathname.track();
        if let Some(browser_url) = use_context::<BrowserUrl>() {
            browser_url.ready_to_complete();
        }
    });
}

/// After an in-app navigation, focus moves to the new page so screen readers
/// announce it; the first render leaves focus where the browser put it.
fn move_focus_to_main_on_navigation(page: Memo<Page>) {
    Effect::new(move |previous: Option<Page>| {
        let current = page.get();
        if previous.is_some_and(|previous| previous != current) {
            if let Some(main) = document().get_element_by_id("main") {
                use leptos::wasm_bindgen::JsCast;
                if let Ok(main) = main.dyn_into::<leptos::web_sys::HtmlElement>() {
                    let _ = main.focus();
                }
            }
        }
        current
    });
}

/// Whether the browser has a network, as `navigator.onLine` and its events say.
#[derive(Clone, Copy)]
struct Online(ReadSignal<bool>);

pub fn use_online() -> ReadSignal<bool> {
    use_context::<Online>()
        .map(|online| online.0)
        .unwrap_or_else(|| signal(true).0)
}

/// Provides [`use_online`] to the whole app; call once, near the root.
pub fn provide_online() {
    // Starts as the server assumed (online) so hydration matches, then follows the browser.
    let (online, set_online) = signal(true);
    Effect::new(move |_| {
        set_online.set(window().navigator().on_line());
        let on = window_event_listener(ev::online, move |_| set_online.set(true));
        let off = window_event_listener(ev::offline, move |_| set_online.set(false));
        on_cleanup(move || {
            on.remove();
            off.remove();
        });
    });
    provide_context(Online(online));
}

#[component]
pub fn ConnectionStatus() -> impl IntoView {
    let i18n = use_i18n();
    let online = use_online();
    let state = move || if online.get() { "online" } else { "offline" };
    let label = move || {
        if online.get() {
            t_string!(i18n, status_online)
        } else {
            t_string!(i18n, status_offline)
        }
    };
    let hint = move || {
        if online.get() {
            t_string!(i18n, status_online_hint)
        } else {
            t_string!(i18n, status_offline_hint)
        }
    };
    view! {
        <p id="connection-status" class="connection-status" role="status" data-state=state title=hint>
            <span class="connection-dot" aria-hidden="true"></span>
            {label}
        </p>
    }
}

#[component]
fn UpdateBanner() -> impl IntoView {
    let i18n = use_i18n();
    let (available, set_available) = signal(false);
    Effect::new(move |_| {
        let waiting = js_sys::Reflect::get(&window(), &UPDATE_WAITING_FLAG.into())
            .is_ok_and(|flag| flag.is_truthy());
        if waiting {
            set_available.set(true);
        }
        let listener =
            window_event_listener_untyped(UPDATE_AVAILABLE_EVENT, move |_| set_available.set(true));
        on_cleanup(move || listener.remove());
    });
    let apply = move |_| {
        if let Ok(event) = leptos::web_sys::CustomEvent::new(APPLY_UPDATE_EVENT) {
            let _ = window().dispatch_event(&event);
        }
    };
    view! {
        <Show when=move || available.get()>
            <div id="update-banner" class="update-banner" role="status">
                <span>{t!(i18n, update_available)}</span>
                <button type="button" on:click=apply>{t!(i18n, update_reload)}</button>
            </div>
        </Show>
    }
}

/// What sync is doing, in words: offline · N changes waiting · syncing ·
/// synced at 14:02 · failed with its reason.
fn sync_words(i18n: leptos_i18n::I18nContext<Locale>, online: bool) -> (&'static str, String) {
    let workspace = use_workspace();
    let waiting = workspace.waiting();
    let waiting_words = match waiting {
        0 => None,
        1 => Some(t_string!(i18n, sync_one_waiting).to_owned()),
        n => Some(format!("{n} {}", t_string!(i18n, sync_many_waiting))),
    };
    let phase = workspace.phase.get();
    if !online {
        let words = match waiting_words {
            Some(waiting) => format!("{} · {waiting}", t_string!(i18n, sync_state_offline)),
            None => t_string!(i18n, sync_state_offline).to_owned(),
        };
        return ("offline", words);
    }
    match phase {
        SyncPhase::Starting => ("starting", t_string!(i18n, sync_state_starting).to_owned()),
        SyncPhase::Syncing => ("syncing", t_string!(i18n, sync_state_syncing).to_owned()),
        SyncPhase::SignedOut => {
            let words = match waiting_words {
                Some(waiting) => format!("{} · {waiting}", t_string!(i18n, sync_state_signed_out)),
                None => t_string!(i18n, sync_state_signed_out).to_owned(),
            };
            ("signed-out", words)
        }
        SyncPhase::Failed(reason) => (
            "error",
            format!("{} {reason}", t_string!(i18n, sync_state_error)),
        ),
        SyncPhase::Idle => match (waiting_words, workspace.synced_at.get()) {
            (Some(waiting), _) => ("waiting", waiting),
            (None, Some(time)) => (
                "synced",
                format!("{} {time}", t_string!(i18n, sync_state_synced_at)),
            ),
            (None, None) => ("waiting", t_string!(i18n, sync_state_not_yet).to_owned()),
        },
    }
}

/// The header's sync state; links to the Sync page.
#[component]
fn SyncIndicator() -> impl IntoView {
    let i18n = use_i18n();
    let online = use_online();
    let words = Memo::new(move |_| sync_words(i18n, online.get()));
    view! {
        <a id="sync-status" class="sync-status" href="/sync" data-state=move || words.get().0
            aria-live="polite">
            {move || words.get().1}
        </a>
    }
}

/// The same words, as a paragraph on the Sync page.
#[component]
pub fn SyncSummary() -> impl IntoView {
    let i18n = use_i18n();
    let online = use_online();
    let words = Memo::new(move |_| sync_words(i18n, online.get()));
    view! { <p id="sync-summary" data-state=move || words.get().0>{move || words.get().1}</p> }
}

/// Shown when edits cannot be saved on the device: they are kept in this
/// window, and the user can download them.
#[component]
fn LocalProblemBanner() -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    view! {
        {move || workspace.local_problem.get().map(|problem| {
            let words = match problem {
                LocalProblem::QuotaExceeded => t_string!(i18n, local_quota_exceeded).to_owned(),
                LocalProblem::Unavailable(reason) => {
                    format!("{} {reason}", t_string!(i18n, local_unavailable))
                }
            };
            view! {
                <div id="local-problem" class="local-problem" role="alert">
                    <span>{words}</span>
                    <button type="button" on:click=move |_| workspace.download_export()>
                        {t!(i18n, export_edits)}
                    </button>
                </div>
            }
        })}
    }
}
