//! Tern's server: renders the app shell, serves the built site and the API, and
//! keeps data in SurrealDB.
//!
//! Start-up follows one path for the binary and for tests: [`launch`] takes a
//! configuration, an already bound listener (tests bind port 0) and a shutdown
//! future, and returns once the server has stopped.

pub mod config;
pub mod error;
mod http;
pub mod storage;
pub mod telemetry;

pub use config::Config;
pub use error::StartupError;

use std::future::Future;
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
    // Turns true when shutdown begins: event streams end and compaction stops.
    let (stopping, stopping_rx) = watch::channel(false);
    let compaction = tokio::spawn(storage::compact_when_due(
        Arc::clone(&storage),
        stopping_rx.clone(),
    ));
    let site = http::Site::load(&config.site_dir);
    let router = http::router(http::AppState {
        storage: storage as Arc<dyn Storage>,
        site,
        stopping: stopping_rx,
    });

    let address = listener.local_addr().map_err(StartupError::Listen)?;
    // Tests and scripts read this exact phrase to learn the port chosen for port 0.
    tracing::info!("listening on http://{address}");
    let served = axum::serve(listener, router)
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
