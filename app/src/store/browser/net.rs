//! Requests to the sync API over `fetch`, and why one failed.

use super::local::bytes_value;
use leptos::prelude::*;
use leptos::wasm_bindgen::{JsCast, JsValue};
use leptos::web_sys;
use serde::Deserialize;
use tern_domain::sync::{self};
use wasm_bindgen_futures::JsFuture;

/// Why a sync round stopped.
pub(super) enum SyncError {
    /// The server no longer accepts the session (401): wait for sign-in.
    SignedOut,
    /// 404: the record asked for is not on the server, or not one this user may see.
    NotFound,
    Failed(String),
}

impl From<String> for SyncError {
    fn from(reason: String) -> Self {
        SyncError::Failed(reason)
    }
}

pub(super) async fn post<T: for<'de> Deserialize<'de>>(
    path: &str,
    body: Vec<u8>,
) -> Result<T, SyncError> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&bytes_value(&body));
    let headers = web_sys::Headers::new().map_err(js_reason)?;
    headers
        .set("content-type", sync::CONTENT_TYPE)
        .map_err(js_reason)?;
    init.set_headers(&headers);
    fetch(path, &init).await
}

pub(super) async fn get<T: for<'de> Deserialize<'de>>(path: &str) -> Result<T, SyncError> {
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    fetch(path, &init).await
}

pub(super) async fn fetch<T: for<'de> Deserialize<'de>>(
    path: &str,
    init: &web_sys::RequestInit,
) -> Result<T, SyncError> {
    let response = JsFuture::from(window().fetch_with_str_and_init(path, init))
        .await
        .map_err(|_| "the server could not be reached".to_owned())?;
    let response: web_sys::Response = response.dyn_into().map_err(js_reason)?;
    match response.status() {
        401 => return Err(SyncError::SignedOut),
        404 => return Err(SyncError::NotFound),
        _ => {}
    }
    if !response.ok() {
        let status = response.status();
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise)
                .await
                .ok()
                .and_then(|text| text.as_string()),
            Err(_) => None,
        };
        let reason = text
            .and_then(|text| js_sys::JSON::parse(&text).ok())
            .and_then(|json| js_sys::Reflect::get(&json, &"reason".into()).ok())
            .and_then(|reason| reason.as_string())
            .unwrap_or_else(|| format!("the server answered {status}"));
        return Err(SyncError::Failed(reason));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(js_reason)?)
        .await
        .map_err(js_reason)?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    sync::decode(&bytes).map_err(|error| SyncError::Failed(error.to_string()))
}

pub(super) fn js_reason(value: JsValue) -> String {
    value
        .as_string()
        .or_else(|| {
            value
                .dyn_ref::<js_sys::Error>()
                .map(|error| String::from(error.message()))
        })
        .unwrap_or_else(|| "the browser refused the request".to_owned())
}
