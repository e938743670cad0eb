//! The browser half of the session: the saved identity, and JSON calls to the
//! account API (`tern_domain::auth`).

use super::{Failure, Session, SESSION_KEY};
use gloo_storage::Storage as _;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_bindgen::{JsCast, JsValue};
use leptos::web_sys;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tern_domain::auth::{SessionInfo, SESSION_PATH};
use wasm_bindgen_futures::JsFuture;

/// Reads the saved identity, then asks the server whether the session still holds.
pub(super) fn start(session: Session) {
    if let Ok(info) = gloo_storage::LocalStorage::get::<SessionInfo>(SESSION_KEY) {
        session.members.set(info.members);
        session.identity.set(Some(info.identity));
    }
    session.known.set(true);
    // Another tab signed in (or out): follow it.
    let listener = window_event_listener(leptos::ev::storage, move |event| {
        if event.key().as_deref() != Some(SESSION_KEY) {
            return;
        }
        match gloo_storage::LocalStorage::get::<SessionInfo>(SESSION_KEY) {
            Ok(info) => confirmed(session, info),
            Err(_) => reload(),
        }
    });
    std::mem::forget(listener);
    let online = window_event_listener(leptos::ev::online, move |_| refresh(session));
    std::mem::forget(online);
    refresh(session);
}

/// Confirms the session with the server (role changes arrive this way).
fn refresh(session: Session) {
    if session.identity.get_untracked().is_none() || !window().navigator().on_line() {
        return;
    }
    spawn_local(async move {
        match call::<(), SessionInfo>("GET", SESSION_PATH, None).await {
            Ok(info) => confirmed(session, info),
            Err(Failure::SignedOut(_)) => session.expired.set(true),
            Err(_) => {}
        }
    });
}

pub(super) fn confirmed(session: Session, info: SessionInfo) {
    let previous = session.identity.get_untracked();
    let _ = gloo_storage::LocalStorage::set(SESSION_KEY, &info);
    if previous.is_some_and(|previous| previous.user != info.identity.user) {
        // This page holds another user's workspace.
        reload();
        return;
    }
    // Unchanged values are not set again: every reader would re-render.
    if session
        .members
        .with_untracked(|members| *members != info.members)
    {
        session.members.set(info.members);
    }
    if session
        .identity
        .with_untracked(|identity| identity.as_ref() != Some(&info.identity))
    {
        session.identity.set(Some(info.identity));
    }
    if session.expired.get_untracked() {
        session.expired.set(false);
    }
}

pub(super) fn forget_identity() {
    gloo_storage::LocalStorage::delete(SESSION_KEY);
    let _ = window().location().set_href("/");
}

fn reload() {
    let _ = window().location().reload();
}

pub(super) async fn call<B: Serialize, T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<&B>,
) -> Result<T, Failure> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let json = serde_json::to_string(body).map_err(|_| Failure::Offline)?;
        init.set_body(&JsValue::from_str(&json));
        if let Ok(headers) = web_sys::Headers::new() {
            let _ = headers.set("content-type", "application/json");
            init.set_headers(&headers);
        }
    }
    let response = JsFuture::from(window().fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| Failure::Offline)?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| Failure::Offline)?;
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let status = response.status();
    if !response.ok() {
        let reason = serde_json::from_str::<tern_domain::api::ErrorBody>(&text)
            .map(|body| body.reason)
            .unwrap_or_else(|_| format!("the server answered {status}"));
        return Err(if status == 401 {
            Failure::SignedOut(reason)
        } else {
            Failure::Refused(status, reason)
        });
    }
    // An empty answer reads as JSON `null`, for calls answered with no body.
    let text = if text.trim().is_empty() {
        "null"
    } else {
        &text
    };
    serde_json::from_str(text)
        .map_err(|_| Failure::Refused(status, "the server's answer did not read".to_owned()))
}
