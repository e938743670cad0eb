//! Configuration from flags and `TERN_*` environment variables.

use crate::error::StartupError;
use crate::telemetry::LogFormat;
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "tern",
    version,
    about = "Tern: the EGCC's offline-first workspace"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "TERN_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Folder for Tern's own data (the embedded database lives in `<data-dir>/db`).
    #[arg(long, env = "TERN_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL: `surrealkv://<path>` (embedded, on disk), `mem://` (embedded,
    /// gone at exit), or `ws://host:port` / `wss://host:port` for a remote SurrealDB.
    /// Default: the embedded engine under the data dir.
    #[arg(long = "db", env = "TERN_DB")]
    pub database_url: Option<String>,

    /// Namespace on the database server.
    #[arg(long, env = "TERN_DB_NAMESPACE", default_value = "tern")]
    pub db_namespace: String,

    /// Database name within the namespace.
    #[arg(long, env = "TERN_DB_DATABASE", default_value = "tern")]
    pub db_database: String,

    /// Root user for a remote SurrealDB (ignored for embedded engines).
    #[arg(long, env = "TERN_DB_USER")]
    pub db_user: Option<String>,

    /// Password of that user; prefer the environment variable to the flag.
    #[arg(long, env = "TERN_DB_PASSWORD", hide_env_values = true)]
    pub db_password: Option<String>,

    /// The built site (`scripts/build-site.sh` output): hashed wasm, js, css, manifest, icons.
    #[arg(long, env = "TERN_SITE_DIR", default_value = "target/site")]
    pub site_dir: PathBuf,

    /// Sync: a device not seen for this many seconds (default 30 days) no longer
    /// holds back log compaction; when it returns it catches up from record states.
    #[arg(long, env = "TERN_SYNC_DEVICE_EXPIRY_SECS", default_value_t = 30 * 24 * 3600)]
    pub sync_device_expiry_secs: u64,

    /// Sync: the log keeps at most this many changes, however far behind a device is.
    #[arg(long, env = "TERN_SYNC_LOG_MAX_ENTRIES", default_value_t = 100_000)]
    pub sync_log_max_entries: u64,

    /// Sync: compact the log at most once per this many seconds (0: after every push or pull).
    #[arg(long, env = "TERN_SYNC_COMPACT_EVERY_SECS", default_value_t = 60)]
    pub sync_compact_every_secs: u64,

    /// Log line format.
    #[arg(long, env = "TERN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// The first secretariat account: created at start if no account has this
    /// email. Its password comes from the environment variable TERN_ADMIN_PASSWORD
    /// (never a flag); without it a password is generated and printed once to stderr.
    #[arg(long, env = "TERN_ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// The name of that first secretariat account.
    #[arg(long, env = "TERN_ADMIN_NAME", default_value = "Secretariat")]
    pub admin_name: String,

    /// From TERN_ADMIN_PASSWORD only (see `Config::load`): a flag would show in `ps`.
    #[arg(skip)]
    pub admin_password: Option<Secret>,

    /// The origin users open Tern at (e.g. https://tern.example.org). State-changing
    /// API requests must come from it; without it, the request's own Host is trusted.
    #[arg(long, env = "TERN_PUBLIC_ORIGIN")]
    pub public_origin: Option<String>,

    /// Behind a reverse proxy: the header it puts the client's address in (e.g.
    /// X-Forwarded-For or X-Real-IP; the last address in it counts), so the
    /// sign-in limits count clients rather than the proxy. Only set this when
    /// every request comes through that proxy: clients can write the header too.
    #[arg(long, env = "TERN_CLIENT_ADDRESS_HEADER")]
    pub client_address_header: Option<String>,

    /// Session cookies without `Secure` and without the `__Host-` prefix, for a
    /// deployment served over plain HTTP on an address other than localhost
    /// (browsers accept Secure cookies over http only on localhost and 127.0.0.1).
    #[arg(long, env = "TERN_INSECURE_COOKIES")]
    pub insecure_cookies: bool,

    /// A session unused for this many seconds ends (default 14 days).
    #[arg(long, env = "TERN_SESSION_IDLE_SECS", default_value_t = 14 * 24 * 3600)]
    pub session_idle_secs: u64,

    /// A session ends this many seconds after sign-in, used or not (default 30 days).
    #[arg(long, env = "TERN_SESSION_MAX_SECS", default_value_t = 30 * 24 * 3600)]
    pub session_max_secs: u64,

    /// An invitation link (new user or password reset) works this many seconds (default 7 days).
    #[arg(long, env = "TERN_INVITATION_SECS", default_value_t = 7 * 24 * 3600)]
    pub invitation_secs: u64,

    /// Sign-in attempts allowed per client address per minute.
    #[arg(long, env = "TERN_SIGN_IN_PER_IP_PER_MINUTE", default_value_t = 10)]
    pub sign_in_per_ip_per_minute: u32,

    /// Failed sign-ins allowed per account per 15 minutes from devices that never
    /// signed in to it (a device that did has its own, separate allowance, so
    /// guessing from elsewhere cannot lock the owner out).
    #[arg(long, env = "TERN_SIGN_IN_FAILURES_PER_ACCOUNT", default_value_t = 5)]
    pub sign_in_failures_per_account: u32,
}

/// A secret from the environment: kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The environment variable of the first secretariat account's password.
pub const ADMIN_PASSWORD_VAR: &str = "TERN_ADMIN_PASSWORD";

impl Config {
    /// Flags and environment, as the binary reads them: clap's, plus the admin
    /// password, which is read from the environment only.
    pub fn load() -> Self {
        let mut config = Config::parse();
        config.admin_password = std::env::var(ADMIN_PASSWORD_VAR).ok().map(Secret);
        config
    }

    /// A configuration for tests and tools: defaults everywhere but the given folders.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let mut config = Config::parse_from(["tern"]);
        config.data_dir = data_dir.into();
        config
    }

    /// Where the database is, with its kind decided from the URL scheme.
    pub fn database_location(&self) -> Result<DatabaseLocation, StartupError> {
        let Some(url) = &self.database_url else {
            return Ok(DatabaseLocation::Embedded(format!(
                "surrealkv://{}",
                self.data_dir.join("db").display()
            )));
        };
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        match scheme {
            Some("surrealkv") | Some("mem") => Ok(DatabaseLocation::Embedded(url.clone())),
            Some("ws") | Some("wss") => Ok(DatabaseLocation::Remote(url.clone())),
            _ => Err(StartupError::UnsupportedDatabaseUrl {
                url: redact_credentials(url),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// An engine inside this process (`surrealkv://`, `mem://`).
    Embedded(String),
    /// A SurrealDB server reached over WebSocket.
    Remote(String),
}

/// Hides `user:password@` in a URL before it is shown in a message or a log.
fn redact_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_db(url: &str) -> Config {
        let mut config = Config::for_data_dir("/srv/tern");
        config.database_url = Some(url.into());
        config
    }

    #[test]
    fn default_database_is_embedded_under_the_data_dir() {
        let config = Config::for_data_dir("/srv/tern");
        assert_eq!(
            config.database_location().expect("valid"),
            DatabaseLocation::Embedded("surrealkv:///srv/tern/db".into())
        );
    }

    #[test]
    fn scheme_decides_embedded_or_remote() {
        assert!(matches!(
            with_db("ws://db.internal:8000").database_location(),
            Ok(DatabaseLocation::Remote(_))
        ));
        assert!(matches!(
            with_db("mem://").database_location(),
            Ok(DatabaseLocation::Embedded(_))
        ));
    }

    #[test]
    fn unknown_scheme_is_refused_without_echoing_credentials() {
        let error = with_db("nonsense://admin:hunter2@x")
            .database_location()
            .expect_err("an unknown scheme is refused");
        let message = error.to_string();
        assert!(message.contains("nonsense://***@x"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}
