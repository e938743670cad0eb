//! The hashed asset names of one build, written by `scripts/build-site.sh` into
//! `asset-manifest.json` and read by the server to render the page head.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AssetManifest {
    /// Identifies the build; shown in Settings and used to name the offline cache.
    pub build_id: String,
    /// The module that loads the wasm, hydrates the page and registers the service worker.
    pub boot_js: String,
    pub app_js: String,
    pub app_wasm: String,
    pub css: String,
    /// wasm-split's loader of the page modules; the glue imports it.
    pub split_js: String,
    /// False in development builds, where a service worker would serve stale code.
    pub service_worker: bool,
}
