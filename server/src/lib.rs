//! Tern's server: renders the app shell, serves the built site and the API, and
//! keeps data in SurrealDB.
//!
//! Start-up follows one path for the binary and for tests: [`launch`] takes a
//! configuration, an already bound listener (tests bind port 0) and a shutdown
//! future, and returns once the server has stopped.

pub mod accounts;
mod clock;
pub mod config;
pub mod error;
mod export;
mod http;
mod records_api;
mod state;
pub mod storage;
mod sync_api;
pub mod telemetry;

pub use config::Config;
pub use error::StartupError;

use accounts::http::Auth;
use accounts::passwords::Passwords;
use accounts::Accounts;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use storage::{Storage, SurrealStorage};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Opens the database (applying migrations), then serves on `listener` until
/// `shutdown` resolves; in-flight requests are allowed to finish.
pub async fn launch(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    // Leptos spawns rendering work on this executor; a second call (tests) is harmless.
    let _ = any_spawner::Executor::init_tokio();
    let storage = Arc::new(SurrealStorage::open(&config).await?);
    accounts::bootstrap::bootstrap(&config, storage.as_ref()).await?;
    // Made once: sign-in verifies it for emails without a password to check.
    let passwords = Passwords::new()
        .await
        .map_err(|error| StartupError::Bootstrap(error.to_string()))?;
    let auth = Auth::new(&config, passwords);
    // Turns true when shutdown begins: event streams end, background tasks stop.
    let (stopping, stopping_rx) = watch::channel(false);
    let compaction = tokio::spawn(storage::compact_when_due(
        Arc::clone(&storage),
        stopping_rx.clone(),
    ));
    let sweeping = tokio::spawn(accounts::sessions::sweep_expired(
        Arc::clone(&storage) as Arc<dyn Accounts>,
        auth.rules.clone(),
        stopping_rx.clone(),
    ));
    let site = state::Site::load(&config.site_dir);
    let router = http::router(state::AppState {
        storage: Arc::clone(&storage) as Arc<dyn Storage>,
        accounts: storage as Arc<dyn Accounts>,
        auth: Arc::new(auth),
        site,
        stopping: stopping_rx,
    });

    let address = listener.local_addr().map_err(StartupError::Listen)?;
    // Tests and scripts read this exact phrase to learn the port chosen for port 0.
    tracing::info!("listening on http://{address}");
    // The peer address is what the sign-in rate limit counts by.
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        // Open event streams would otherwise hold graceful shutdown forever.
        stopping.send_replace(true);
    })
    .await
    .map_err(StartupError::Serve);
    // The compaction task holds the database; wait for it so a restart in the
    // same process finds the database released.
    let _ = compaction.await;
    let _ = sweeping.await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
