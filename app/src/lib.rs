#![recursion_limit = "256"]
//! Tern's user interface: Leptos components and the routes they answer, rendered
//! to HTML on the server (feature `ssr`) and hydrated in the browser (feature
//! `hydrate`).
//!
//! The server renders the same route-independent shell for every path: header,
//! navigation, footer, and a placeholder in `<main>`. The page itself is rendered
//! in the browser once hydrated. That keeps user data out of server HTML, and lets
//! the service worker answer a never-visited path offline with any cached shell
//! without breaking hydration.

// The macro form is deprecated upstream in favour of build-script code generation;
// it still generates the same module, without a build dependency to compile.
#[allow(deprecated)]
mod i18n_gen {
    leptos_i18n::load_locales!();
}
pub use i18n_gen::i18n;

mod account;
pub mod assets;
mod dates;
mod header;
pub mod labels;
mod layout;
mod overview;
mod pages;
mod records;
pub mod routes;
pub mod session;
mod status;
mod stopped;
pub mod store;
mod tasks;
mod theme;
mod widgets;

pub use assets::AssetManifest;

use i18n::I18nContextProvider;
use leptos::prelude::*;
use leptos_meta::provide_meta_context;
use leptos_router::components::Router;

/// Name of the `<meta>` that carries the build id into the browser (shown in Settings).
pub const BUILD_META: &str = "tern-build";

/// The cookie that carries a language chosen in Settings, so the server renders
/// the shell in it. (leptos_i18n's own cookie support pulls a date library into
/// the wasm for little gain; this is one line of `document.cookie`.)
pub const LANGUAGE_COOKIE: &str = "tern_lang";

/// Whether the app has a translation for this language tag (as in `en`, `de`).
pub fn is_known_language(tag: &str) -> bool {
    use leptos_i18n::Locale as _;
    i18n::Locale::get_all()
        .iter()
        .any(|locale| locale.as_str() == tag)
}

/// The whole HTML document, rendered on the server around [`App`].
#[cfg(feature = "ssr")]
pub fn shell(assets: Option<AssetManifest>) -> impl IntoView {
    use leptos_meta::MetaTags;
    let build_id = assets
        .as_ref()
        .map_or_else(|| "unbuilt".to_owned(), |a| a.build_id.clone());
    let head_assets = assets.map(|assets| {
        view! {
            <link rel="stylesheet" href=assets.css />
            <link rel="modulepreload" href=assets.app_js />
            <link rel="modulepreload" href=assets.split_js />
            <script type="module" src=assets.boot_js></script>
        }
    });
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta
                    name="description"
                    content="The workspace of the CBSS Children's Unit and the Expert Group for Cooperation on Children at Risk."
                />
                <meta name="theme-color" content="#0b3d66" />
                <meta name=BUILD_META content=build_id />
                <title>"Tern"</title>
                <link rel="manifest" href="/manifest.webmanifest" />
                <link rel="icon" type="image/png" href="/icons/favicon-32.png" />
                <link rel="apple-touch-icon" href="/icons/icon-192.png" />
                {head_assets}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// True once the page has hydrated in the browser; always false on the server.
///
/// Anything that differs between routes, or depends on the browser, renders only
/// when this is true, so every server render is the same shell.
#[derive(Clone, Copy)]
pub struct Mounted(pub ReadSignal<bool>);

pub fn use_mounted() -> ReadSignal<bool> {
    use_context::<Mounted>()
        .map(|mounted| mounted.0)
        .unwrap_or_else(|| signal(false).0)
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let (mounted, set_mounted) = signal(false);
    provide_context(Mounted(mounted));
    status::provide_online();
    session::provide_session();
    store::provide_workspace();
    // Effects run only in the browser, after hydration. Drawing the page is a
    // task of its own after hydration's: together they are a long task on a
    // phone (see `tasks`).
    Effect::new(move |_| {
        set_timeout(
            move || {
                set_mounted.set(true);
                if let Some(root) = document().document_element() {
                    // Tests and tools wait for this; it means the page is interactive.
                    let _ = root.set_attribute("data-hydrated", "true");
                }
                stopped::listen_for_test_panic();
            },
            std::time::Duration::ZERO,
        );
    });

    view! {
        <I18nContextProvider>
            // First, before anything else is created under the i18n context.
            {no_effects_on_the_server()}
            <Router>
                <layout::Layout />
            </Router>
        </I18nContextProvider>
    }
}

/// On the server, stops every effect created so far from ever running.
///
/// `I18nContextProvider` creates an isomorphic effect (leptos_i18n 0.6.2,
/// `init_context_inner`: it writes the language-cookie signal), which runs on
/// the server too, as a spawned task on the next tick. When the render's owner
/// was disposed before that tick (a short response, a client that went away)
/// it read the disposed locale signal and panicked (`tests/tests/rendering.rs`
/// saw it in about one request in a hundred). Pausing the owner as the
/// provider's first child, microseconds after the effect exists, makes its
/// task skip the run; a server render needs no effect, since the shell is the
/// same for every request.
fn no_effects_on_the_server() {
    #[cfg(all(feature = "ssr", not(feature = "hydrate")))]
    if let Some(owner) = Owner::current() {
        owner.pause();
    }
}
