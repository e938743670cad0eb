//! The frame around every page: the banner for a stopped app, skip link,
//! header with connection state, navigation, update banner, main region and
//! footer.

use crate::account::{SessionEndedBanner, SignInScreen};
use crate::header::AppHeader;
use crate::i18n::*;
use crate::pages::PageView;
use crate::routes::Page;
use crate::session::use_session;
use crate::stopped::StoppedBanner;
use crate::store::{use_workspace, LocalProblem};
use crate::use_mounted;
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
        <a class="skip-link" href="#main">{move || t_string!(i18n, skip_to_content)}</a>
        <AppHeader page />
        <Show when=move || mounted.get()>
            <LocalProblemBanner />
            <SessionEndedBanner />
        </Show>
        <UpdateBanner />
        <main id="main" tabindex="-1">
            {move || {
                // Without a signed-in user on this device, every page but the
                // invitation page is the sign-in form.
                // Each view has a column of its own (`.page`), as wide as it needs
                // from its first paint; `main` keeps one width, so nothing already
                // on screen moves when a page replaces the opening paragraph.
                if mounted.get() && signed_out.get() && page.get() != Page::Welcome {
                    view! { <div class="page"><SignInScreen /></div> }.into_any()
                } else if mounted.get() && known.get() {
                    let page = page.get();
                    let wide = matches!(page, Page::Record(..));
                    view! { <div class="page" class:wide=wide><PageView page /></div> }.into_any()
                } else {
                    // What the server's shell shows until the app runs: the same for
                    // every route, no user data, and a paragraph as large as the page's
                    // first text, so the first paint is the largest (LCP before the wasm).
                    view! {
                        <div class="page">
                            <p class="lead loading opening">{move || t_string!(i18n, opening_workspace)}</p>
                        </div>
                    }
                    .into_any()
                }
            }}
        </main>
        <footer class="app-footer">
            <p>{move || t_string!(i18n, footer_text)}</p>
        </footer>
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
                <span>{move || t_string!(i18n, update_available)}</span>
                <button type="button" on:click=apply>{move || t_string!(i18n, update_reload)}</button>
            </div>
        </Show>
    }
}

/// Offers every record on the device as a text file. The text is made by
/// page code (fetched, or from the service worker's cache, on first use), so
/// the frame does not carry every kind's reader.
fn download_edits(workspace: crate::store::Workspace) {
    leptos::task::spawn_local(async move {
        if let Ok(text) = crate::pages::edits_as_text().await {
            workspace.download_file("tern-edits.txt", &text, "text/plain;charset=utf-8");
        }
    });
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
                    <button type="button" on:click=move |_| download_edits(workspace)>
                        {move || t_string!(i18n, export_edits)}
                    </button>
                </div>
            }
        })}
    }
}
