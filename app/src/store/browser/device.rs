//! This browser profile and the page: device and replica ids, randomness,
//! clocks, downloads, storage estimates, recently edited records, and the
//! timings the benchmarks read.

use super::USER;
use crate::store::Workspace;
use gloo_storage::Storage as _;
use leptos::prelude::*;
use leptos::wasm_bindgen::{JsCast, JsValue};
use leptos::web_sys;
use tern_domain::auth::UserId;
use tern_domain::record::RecordId;
use tern_domain::sync::DeviceId;
use wasm_bindgen_futures::JsFuture;

pub(super) const DEVICE_KEY: &str = "tern.device";

/// Appends a duration to a global array (the newest 1,000) for the benchmarks.
pub(super) fn record_ms(name: &str, ms: f64) {
    let key = JsValue::from_str(name);
    let global = js_sys::global();
    let times = js_sys::Reflect::get(&global, &key)
        .ok()
        .and_then(|times| times.dyn_into::<js_sys::Array>().ok())
        .unwrap_or_else(|| {
            let times = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&global, &key, &times);
            times
        });
    if times.length() >= 1000 {
        times.shift();
    }
    times.push(&JsValue::from_f64(ms));
}

/// Lets the benchmarks read the size of this module's memory
/// (`globalThis.__ternMemory.buffer.byteLength`): the records live there.
pub(super) fn expose_memory() {
    let _ = js_sys::Reflect::set(
        &js_sys::global(),
        &JsValue::from_str("__ternMemory"),
        &leptos::wasm_bindgen::memory(),
    );
}

/// What the last start read from IndexedDB and how long it took, for
/// `bench/volume.mjs` as `globalThis.__ternStart = { records, projected,
/// openedAt, fetchedMs, listedMs, readMs, ms }`: `openedAt` in ms since the
/// page's navigation began, the others from then: until the listings arrived
/// from IndexedDB, were decoded and shown, everything was read and decoded,
/// and the replica was ready.
pub(super) struct StartFigures {
    pub records: usize,
    pub projected: usize,
    pub opened_at: f64,
    pub fetched_ms: f64,
    pub listed_ms: f64,
    pub read_ms: f64,
    pub ms: f64,
}

pub(super) fn record_start(start: StartFigures) {
    let figures = js_sys::Object::new();
    let set = |name: &str, value: f64| {
        let _ = js_sys::Reflect::set(&figures, &name.into(), &value.into());
    };
    set("records", start.records as f64);
    set("projected", start.projected as f64);
    set("openedAt", start.opened_at);
    set("fetchedMs", start.fetched_ms);
    set("listedMs", start.listed_ms);
    set("readMs", start.read_ms);
    set("ms", start.ms);
    let _ = js_sys::Reflect::set(&js_sys::global(), &"__ternStart".into(), &figures);
}

pub(in crate::store) fn now() -> f64 {
    window()
        .performance()
        .map_or_else(js_sys::Date::now, |p| p.now())
}

pub(super) fn ask_for_persistent_storage() {
    if let Ok(storage) = js_sys::Reflect::get(&window().navigator(), &"storage".into()) {
        if let Ok(storage) = storage.dyn_into::<web_sys::StorageManager>() {
            let _ = storage.persist();
        }
    }
}

/// How much this origin stores and may store, in bytes, and whether the
/// browser promised not to evict it.
pub(in crate::store) async fn storage_estimate() -> Option<(f64, f64, bool)> {
    let storage = js_sys::Reflect::get(&window().navigator(), &"storage".into())
        .ok()?
        .dyn_into::<web_sys::StorageManager>()
        .ok()?;
    let estimate = JsFuture::from(storage.estimate().ok()?).await.ok()?;
    let usage = js_sys::Reflect::get(&estimate, &"usage".into())
        .ok()?
        .as_f64()?;
    let quota = js_sys::Reflect::get(&estimate, &"quota".into())
        .ok()?
        .as_f64()?;
    let persisted = JsFuture::from(storage.persisted().ok()?)
        .await
        .ok()
        .and_then(|value| value.as_bool())
        .unwrap_or(false);
    Some((usage, quota, persisted))
}

/// "YYYY-MM-DD HH:MM" in the user's local time.
pub(super) fn local_timestamp() -> String {
    let date = js_sys::Date::new_0();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

pub(super) fn device_id() -> DeviceId {
    if let Ok(text) = gloo_storage::LocalStorage::get::<String>(DEVICE_KEY) {
        if let Ok(device) = text.parse() {
            return device;
        }
    }
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    let device = DeviceId(bytes);
    let _ = gloo_storage::LocalStorage::set(DEVICE_KEY, device.to_string());
    device
}

pub(super) fn random_client_id() -> u64 {
    let mut bytes = [0u8; 8];
    fill_random(&mut bytes);
    u64::from_le_bytes(bytes)
}

pub(in crate::store) fn fill_random(bytes: &mut [u8]) {
    let filled = window()
        .crypto()
        .and_then(|crypto| crypto.get_random_values_with_u8_array(bytes));
    if filled.is_err() {
        for byte in bytes.iter_mut() {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
}

/// "HH:MM" in the user's local time.
pub(super) fn clock_time() -> String {
    let date = js_sys::Date::new_0();
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// Offers text as a file download (Blob URL on a temporary link).
pub(in crate::store) fn download_text(name: &str, text: &str) {
    download_file(name, text, "text/plain;charset=utf-8");
}

/// Offers `text` as a file of the given media type, made on the device.
pub(in crate::store) fn download_file(name: &str, text: &str, media_type: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(link) = document().create_element("a") {
        if let Ok(link) = link.dyn_into::<web_sys::HtmlAnchorElement>() {
            link.set_href(&url);
            link.set_download(name);
            link.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// The records this user edited on this device lately, newest first.
pub(super) fn recent_key(user: &UserId) -> String {
    format!("tern.recent.{user}")
}

pub(super) fn load_recent(user: &UserId) -> Vec<RecordId> {
    gloo_storage::LocalStorage::get::<Vec<String>>(recent_key(user))
        .unwrap_or_default()
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect()
}

/// Puts `record` first in the recent list (kept to 20) and stores the list.
pub(super) fn remember_recent(workspace: Workspace, record: RecordId) {
    let mut recent = workspace.recent.get_untracked();
    if recent.first() == Some(&record) {
        return;
    }
    recent.retain(|id| *id != record);
    recent.insert(0, record);
    recent.truncate(20);
    if let Some(user) = USER.with_borrow(|slot| slot.as_ref().map(|(user, _)| user.clone())) {
        let ids: Vec<String> = recent.iter().map(ToString::to_string).collect();
        let _ = gloo_storage::LocalStorage::set(recent_key(&user), ids);
    }
    workspace.recent.set(recent);
}
