//! Moments as the user's language writes them, through the browser's own
//! `Intl` (no date tables in the wasm): "3 Dec 2026, 14:05" in English,
//! "03.12.2026, 14:05" in German, in the device's time zone.

use crate::i18n::*;
use leptos::wasm_bindgen::JsValue;

type I18n = leptos_i18n::I18nContext<Locale>;

/// A moment (Unix milliseconds) as a medium date and a short time.
pub fn date_time(i18n: I18n, unix_ms: u64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_ms as f64));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    date.to_locale_string(intl_locale(i18n), &options).into()
}

/// The locale `Intl` writes in: the group works in British English, so
/// English dates read "7 Dec 2026, 15:51", not the American default.
fn intl_locale(i18n: I18n) -> &'static str {
    match i18n.get_locale().as_str() {
        "en" => "en-GB",
        other => other,
    }
}

/// The same moment for `<time datetime>`, in UTC.
pub fn iso(unix_ms: u64) -> String {
    js_sys::Date::new(&JsValue::from_f64(unix_ms as f64))
        .to_iso_string()
        .into()
}
