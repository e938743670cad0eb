//! Connectivity and live events from the server (SSE): sync when the network
//! comes back and when the server's log grows; save when the page is hidden.

use super::session;
use super::sync_loop::{checkpoint_now, request_sync};
use crate::store::{Workspace, REPLICA};
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use std::cell::RefCell;
use std::time::Duration;
use tern_domain::client::Replica;
use tern_domain::sync::EVENTS_PATH;

/// While online, the device also syncs on this timer (live events may be cut).
pub(super) const SYNC_INTERVAL: Duration = Duration::from_secs(30);

/// A live-event stream the server refused is opened again after this long.
pub(super) const EVENTS_RETRY: Duration = Duration::from_secs(5);

thread_local! {
    static EVENTS: RefCell<Option<web_sys::EventSource>> = const { RefCell::new(None) };
}

pub(super) fn listen_for_connectivity(workspace: Workspace) {
    let online = window_event_listener(leptos::ev::online, move |_| {
        open_events(workspace);
        request_sync(workspace);
    });
    let offline = window_event_listener(leptos::ev::offline, move |_| close_events());
    // Text being typed is saved before the page goes away or into the background.
    let hide = window_event_listener(leptos::ev::pagehide, move |_| {
        workspace.flush_drafts();
        checkpoint_now(workspace);
    });
    let hidden = window_event_listener(leptos::ev::visibilitychange, move |_| {
        if document().visibility_state() == web_sys::VisibilityState::Hidden {
            workspace.flush_drafts();
            checkpoint_now(workspace);
        }
    });
    // These live as long as the page.
    std::mem::forget((online, offline, hide, hidden));
    let timer = set_interval_with_handle(move || request_sync(workspace), SYNC_INTERVAL);
    std::mem::forget(timer);
    if window().navigator().on_line() {
        open_events(workspace);
    }
}

/// Live events: the server says its log grew; pull if it is past our cursor.
pub(super) fn open_events(workspace: Workspace) {
    close_events();
    let Ok(events) = web_sys::EventSource::new(EVENTS_PATH) else {
        return;
    };
    let on_message = leptos::wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(
        move |event: web_sys::MessageEvent| {
            let latest = event
                .data()
                .as_string()
                .and_then(|text| text.trim().parse::<u64>().ok());
            let cursor = REPLICA.with_borrow(|replica| replica.as_ref().map(Replica::cursor));
            if let (Some(latest), Some(cursor)) = (latest, cursor) {
                if latest > cursor.0 {
                    request_sync(workspace);
                }
            }
        },
    );
    events.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    // The browser retries a dropped stream by itself, but gives up for good on
    // an error answer (a server restarting, a passing database conflict): try
    // again a little later, and sync meanwhile in case an event was missed.
    let on_error = leptos::wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
        let closed = EVENTS.with_borrow(|slot| {
            slot.as_ref()
                .is_some_and(|events| events.ready_state() == web_sys::EventSource::CLOSED)
        });
        if closed {
            set_timeout(
                move || {
                    let expired = session().is_some_and(|session| session.expired.get_untracked());
                    if window().navigator().on_line() && !expired {
                        open_events(workspace);
                        request_sync(workspace);
                    }
                },
                EVENTS_RETRY,
            );
        }
    });
    events.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    EVENTS.with_borrow_mut(|slot| *slot = Some(events));
}

pub(super) fn close_events() {
    EVENTS.with_borrow_mut(|slot| {
        if let Some(events) = slot.take() {
            events.close();
        }
    });
}
