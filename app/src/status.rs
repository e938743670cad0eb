//! Where the device stands, in words: the connection, and what sync is doing.
//! Leaf widgets the frame and the pages both show.

use crate::i18n::*;
use crate::store::{use_workspace, SyncPhase};
use leptos::ev;
use leptos::prelude::*;

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
        SyncPhase::EngineMissing => (
            "error",
            t_string!(i18n, sync_state_engine_missing).to_owned(),
        ),
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
pub fn SyncIndicator() -> impl IntoView {
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

/// The header's one-word sync state for narrow screens, inside the button
/// that opens the details (in the header): a coloured dot and "Synced",
/// "Offline · 3", "Syncing…". Before the app runs it says what the server
/// assumed (online), as [`ConnectionStatus`] does.
#[component]
pub fn CompactSync() -> impl IntoView {
    let i18n = use_i18n();
    let online = use_online();
    let mounted = crate::use_mounted();
    let workspace = use_workspace();
    let state = Memo::new(move |_| {
        if mounted.get() {
            sync_words(i18n, online.get()).0
        } else {
            "online"
        }
    });
    let word = move || {
        let waiting = workspace.waiting();
        let counted = |word: &str| match waiting {
            0 => word.to_owned(),
            n => format!("{word} · {n}"),
        };
        match state.get() {
            "online" => t_string!(i18n, status_online).to_owned(),
            "offline" => counted(t_string!(i18n, status_offline)),
            "waiting" => counted(t_string!(i18n, status_short_waiting)),
            "synced" => t_string!(i18n, status_short_synced).to_owned(),
            "syncing" => t_string!(i18n, sync_state_syncing).to_owned(),
            "signed-out" => counted(t_string!(i18n, sync_state_signed_out)),
            "starting" => t_string!(i18n, sync_state_starting).to_owned(),
            _ => t_string!(i18n, status_short_failed).to_owned(),
        }
    };
    view! {
        <span class="visually-hidden">{move || t_string!(i18n, status_details)} " "</span>
        <span class="status-dot" data-state=move || state.get() aria-hidden="true"></span>
        <span class="status-word">{word}</span>
    }
}
