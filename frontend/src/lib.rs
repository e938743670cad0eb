//! The browser entry point: the boot script calls [`hydrate`] once the wasm is loaded.

use wasm_bindgen::prelude::wasm_bindgen;

/// Attaches the app to the server-rendered page.
#[wasm_bindgen]
pub fn hydrate() {
    // The release build aborts on panic without a message (see scripts/build-site.sh), so
    // the hook only helps debug builds.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(tern_app::App);
}
