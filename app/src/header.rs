//! The header and main navigation: one row on every screen. On wide screens
//! it shows the connection, sync state and identity, and the navigation bar
//! below it; on narrow ones (below 40rem, see `style/main.css`) those fold
//! into a compact sync indicator that opens them as a panel, and a Menu
//! button that opens the navigation, so the work starts near the top.

use crate::account::IdentityBadge;
use crate::i18n::*;
use crate::labels::section_label;
use crate::routes::{Page, Section, USERS_PATH};
use crate::session::use_session;
use crate::status::{CompactSync, ConnectionStatus, SyncIndicator};
use crate::use_mounted;
use leptos::prelude::*;

/// The DOM ids the toggles control (`aria-controls`), and what closes them.
const STATUS_PANEL: &str = "header-status";
const STATUS_TOGGLE: &str = "status-toggle";
const NAV: &str = "app-nav";
const MENU_TOGGLE: &str = "menu-toggle";

#[component]
pub fn AppHeader(page: Memo<Page>) -> impl IntoView {
    let i18n = use_i18n();
    let mounted = use_mounted();
    let status_open = RwSignal::new(false);
    let menu_open = RwSignal::new(false);
    close_on_navigation_escape_and_outside(page, status_open, menu_open);
    let toggle = |open: RwSignal<bool>, other: RwSignal<bool>| {
        move |_| {
            other.set(false);
            open.update(|open| *open = !*open);
        }
    };
    view! {
        <header class="app-header">
            <a class="brand" href="/">
                <img class="brand-mark" src="/icons/favicon-32.png" alt="" width="32" height="32" />
                <span class="brand-name">{move || t_string!(i18n, app_name)}</span>
                <span class="brand-tagline">{move || t_string!(i18n, app_tagline)}</span>
            </a>
            <button type="button" id=STATUS_TOGGLE class="status-toggle" aria-controls=STATUS_PANEL
                aria-expanded=move || status_open.get().to_string()
                on:click=toggle(status_open, menu_open)>
                <CompactSync />
            </button>
            <div class="header-status" id=STATUS_PANEL data-open=move || status_open.get().to_string()>
                <ConnectionStatus />
                <Show when=move || mounted.get()>
                    <SyncIndicator />
                    <IdentityBadge />
                </Show>
            </div>
            <button type="button" id=MENU_TOGGLE class="menu-toggle" aria-controls=NAV
                aria-expanded=move || menu_open.get().to_string()
                on:click=toggle(menu_open, status_open)>
                <span class="menu-icon" aria-hidden="true"></span>
                <span class="menu-toggle-word">{move || t_string!(i18n, menu)}</span>
            </button>
        </header>
        <MainNav page open=menu_open />
    }
}

#[component]
fn MainNav(page: Memo<Page>, open: RwSignal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    let mounted = use_mounted();
    let session = use_session();
    view! {
        <nav class="app-nav" id=NAV aria-label=move || t_string!(i18n, nav_label)
            data-open=move || open.get().to_string()>
            <ul>
                {Section::ALL
                    .into_iter()
                    .map(|section| view! { <li><NavLink section page /></li> })
                    .collect_view()}
                {move || (mounted.get() && session.is_secretariat()).then(|| view! {
                    <li>
                        <a href=USERS_PATH aria-current=move || (page.get() == Page::Users).then_some("page")>
                            {move || t_string!(i18n, nav_users)}
                        </a>
                    </li>
                })}
            </ul>
        </nav>
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

/// An open panel or menu closes when the page changes, on Escape (focus goes
/// back to its button), and on a click outside it and its button.
fn close_on_navigation_escape_and_outside(
    page: Memo<Page>,
    status_open: RwSignal<bool>,
    menu_open: RwSignal<bool>,
) {
    Effect::new(move |_| {
        page.track();
        status_open.set(false);
        menu_open.set(false);
    });
    Effect::new(move |_| {
        let panels = [
            (status_open, STATUS_PANEL, STATUS_TOGGLE),
            (menu_open, NAV, MENU_TOGGLE),
        ];
        let keys = window_event_listener(leptos::ev::keydown, move |event| {
            if event.key() != "Escape" {
                return;
            }
            for (open, _, toggle) in panels {
                if open.get_untracked() {
                    open.set(false);
                    focus(toggle);
                }
            }
        });
        let clicks = window_event_listener(leptos::ev::pointerdown, move |event| {
            use leptos::wasm_bindgen::JsCast;
            let Some(target) = event
                .target()
                .and_then(|target| target.dyn_into::<leptos::web_sys::Element>().ok())
            else {
                return;
            };
            for (open, panel, toggle) in panels {
                let inside = [panel, toggle]
                    .iter()
                    .any(|id| target.closest(&format!("#{id}")).ok().flatten().is_some());
                if open.get_untracked() && !inside {
                    open.set(false);
                }
            }
        });
        on_cleanup(move || {
            keys.remove();
            clicks.remove();
        });
    });
}

fn focus(id: &str) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(element) = document()
        .get_element_by_id(id)
        .and_then(|element| element.dyn_into::<leptos::web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}
