//! Helpers for Tern's integration tests: the real server, launched in-process on
//! port 0 with its own temporary data, as the binary would run it.

use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;
use tern_server::{launch, Config, StartupError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server and what it owns. Dropping it stops the server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub client: reqwest::Client,
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), StartupError>>>,
    // Held so the folder lives as long as the server; `None` when the caller owns it.
    _data_dir: Option<TempDir>,
}

/// A server with a fresh embedded database in a temporary folder.
pub async fn spawn_app() -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary data dir");
    let config = Config::for_data_dir(data_dir.path());
    let mut app = spawn_app_with(config).await.expect("server starts");
    app._data_dir = Some(data_dir);
    app
}

/// A server with the given configuration; the listen address is always port 0.
pub async fn spawn_app_with(mut config: Config) -> Result<TestApp, StartupError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let address = format!("http://{}", listener.local_addr().expect("local addr"));
    config.listen = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let mut task = tokio::spawn(launch(config.clone(), listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");

    // Ready when /healthz answers; a start-up error ends the task first.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if task.is_finished() {
            return match (&mut task).await.expect("server task") {
                Err(error) => Err(error),
                Ok(()) => panic!("server stopped before it was ready"),
            };
        }
        if let Ok(response) = client.get(format!("{address}/healthz")).send().await {
            if response.status().is_success() {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "server not ready in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(TestApp {
        address,
        client,
        config,
        stop: Some(stop),
        task: Some(task),
        _data_dir: None,
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// Stops the server gracefully and waits until it has released its data.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("server stops within 30 s")
                .expect("server task");
            result.expect("server ran without error");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A real SurrealDB server in a child process, listening on loopback.
pub struct SurrealServer {
    pub url: String,
    pub port: u16,
    data: PathBuf,
    child: tokio::process::Child,
}

pub const SURREAL_USER: &str = "root";
pub const SURREAL_PASSWORD: &str = "tern-test-password";

impl SurrealServer {
    /// Starts `surreal-test-server` (built by Cargo for these tests) on a free port.
    pub async fn start(binary: &Path, data: &Path) -> SurrealServer {
        let port = free_port();
        Self::start_on(binary, data, port).await
    }

    pub async fn start_on(binary: &Path, data: &Path, port: u16) -> SurrealServer {
        let child = tokio::process::Command::new(binary)
            .args([
                "start",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--user",
                SURREAL_USER,
                "--pass",
                SURREAL_PASSWORD,
                "--log",
                "warn",
                "--no-banner",
            ])
            .arg(format!("surrealkv://{}", data.display()))
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("surreal-test-server starts");
        let server = SurrealServer {
            url: format!("ws://127.0.0.1:{port}"),
            port,
            data: data.to_path_buf(),
            child,
        };
        server.wait_until_ready().await;
        server
    }

    async fn wait_until_ready(&self) {
        let client = reqwest::Client::new();
        let health = format!("http://127.0.0.1:{}/health", self.port);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while tokio::time::Instant::now() < deadline {
            if let Ok(response) = client.get(&health).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("SurrealDB server not ready on port {} in 60 s", self.port);
    }

    /// Stops the server (SIGKILL: nothing unsynced may be relied on) and starts it
    /// again on the same port and data.
    pub async fn restart(mut self, binary: &Path) -> SurrealServer {
        self.child.kill().await.expect("kill surreal");
        let _ = self.child.wait().await;
        Self::start_on(binary, &self.data, self.port).await
    }
}

/// A port that was free a moment ago. Racy in principle, fine on a test machine.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}
