//! What every handler shares: storage, accounts, the auth rules, the built
//! site, and the shutdown signal. Handlers that need only part of it take that
//! part (`AccountsState` for the account handlers and the `SignedIn`
//! extractor), through axum's `FromRef`, so they need not know this struct.

use crate::accounts::http::Auth;
use crate::accounts::{Accounts, AccountsState};
use crate::storage::Storage;
use axum::extract::FromRef;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tern_app::AssetManifest;
use tokio::sync::watch;

#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub accounts: Arc<dyn Accounts>,
    pub auth: Arc<Auth>,
    pub site: Site,
    /// Turns true when shutdown begins: long-lived responses (server-sent
    /// events) end, so graceful shutdown does not wait for them forever.
    pub stopping: watch::Receiver<bool>,
}

/// The built site: where its files are and the hashed names of this build's assets.
#[derive(Clone)]
pub struct Site {
    pub(crate) dir: PathBuf,
    pub(crate) assets: Option<AssetManifest>,
}

impl Site {
    /// Reads `asset-manifest.json`. A missing site is not fatal (the API still
    /// works), but pages will not hydrate, so say so loudly.
    pub fn load(dir: &Path) -> Site {
        let manifest = dir.join("asset-manifest.json");
        let assets = match std::fs::read(&manifest) {
            Ok(bytes) => match serde_json::from_slice::<AssetManifest>(&bytes) {
                Ok(assets) => Some(assets),
                Err(error) => {
                    tracing::warn!(path = %manifest.display(), %error, "asset manifest unreadable; pages will not hydrate");
                    None
                }
            },
            Err(_) => {
                tracing::warn!(path = %manifest.display(), "site not built (run scripts/build-site.sh); pages will not hydrate");
                None
            }
        };
        Site {
            dir: dir.to_path_buf(),
            assets,
        }
    }
}

impl FromRef<AppState> for AccountsState {
    fn from_ref(state: &AppState) -> AccountsState {
        AccountsState {
            accounts: Arc::clone(&state.accounts),
            auth: Arc::clone(&state.auth),
        }
    }
}
