//! When the app stops. The release wasm aborts on any panic
//! (`-Cpanic=immediate-abort`), and after that no Rust code runs and the app's
//! state (its `RefCell`s, an open IndexedDB transaction) cannot be trusted.
//! The boot script (`public/boot.js`) notices the abort and shows this banner,
//! which the frame renders hidden so that its words come from the locales in
//! the user's language like every other text. What was saved on the device is
//! safe: IndexedDB only holds committed transactions.
//!
//! The ids below are the boot script's contract; it uses the same strings.

use crate::i18n::*;
use leptos::prelude::*;

/// The banner; `boot.js` removes `hidden`, fills the error text and makes the
/// rest of the page inert.
const BANNER_ID: &str = "stopped-banner";
/// Set before the app starts by a browser test's init script: enables
/// [`TEST_PANIC_EVENT`].
const TEST_HOOKS_FLAG: &str = "__ternTestHooks";
/// Test-only: panics inside the app, which the release build turns into a real
/// abort, so the banner is tested as a user would meet it.
const TEST_PANIC_EVENT: &str = "tern:test-panic";

#[component]
pub fn StoppedBanner() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div id=BANNER_ID class="stopped-banner" role="alert" hidden=true
            data-copied=move || t_string!(i18n, stopped_copied)>
            <p class="stopped-message">{move || t_string!(i18n, stopped_message)}</p>
            <button type="button" id="stopped-reload">{move || t_string!(i18n, stopped_reload)}</button>
            <details>
                <summary>{move || t_string!(i18n, stopped_details)}</summary>
                <label for="stopped-error">{move || t_string!(i18n, stopped_error_label)}</label>
                <textarea id="stopped-error" readonly=true rows="6" spellcheck="false"></textarea>
                <button type="button" id="stopped-copy">{move || t_string!(i18n, stopped_copy)}</button>
            </details>
        </div>
    }
}

/// Listens for [`TEST_PANIC_EVENT`] if a test asked for it; does nothing for
/// everyone else. Call once, after hydration.
pub fn listen_for_test_panic() {
    let asked =
        js_sys::Reflect::get(&window(), &TEST_HOOKS_FLAG.into()).is_ok_and(|flag| flag.is_truthy());
    if asked {
        // Never removed: the page's whole life.
        let _listener = window_event_listener_untyped(TEST_PANIC_EVENT, |_| {
            panic!("{TEST_PANIC_EVENT}: a panic a test asked for")
        });
    }
}
