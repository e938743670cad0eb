//! The `tern` binary: parse the configuration, bind, and hand over to [`tern_server::launch`].

use std::process::ExitCode;
use tern_server::{launch, shutdown_signal, Config};

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::load();
    tern_server::telemetry::init(config.log_format);
    // A configuration mistake is reported before anything is touched, the port included.
    if let Err(error) = config.database_location() {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {}: {error}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    match launch(config, listener, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One readable line, never a panic trace: operators read this first.
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
