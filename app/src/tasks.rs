//! Yielding to the browser between long steps of work. A page's start is
//! several steps (drawing the frame, reading the workspace, drawing the page,
//! the first sync); run as one task they leave a tap unanswered for as long as
//! they all take, four times longer on a phone's slower CPU than on a laptop.

/// Resolves in a later task of the page.
#[cfg(feature = "hydrate")]
pub async fn next_task() {
    use leptos::prelude::window;
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback(&resolve);
    });
    // Pages await it inside `Suspend`, whose futures must be `Send`; a page's
    // code runs on the browser's one thread.
    let _ = send_wrapper::SendWrapper::new(wasm_bindgen_futures::JsFuture::from(promise)).await;
}

/// The server renders no page (pages render only in the browser), so nothing
/// waits here.
#[cfg(not(feature = "hydrate"))]
pub async fn next_task() {}
