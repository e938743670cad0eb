//! Helpers for Tern's integration tests: the real server, launched in-process on
//! port 0 with its own temporary data, as the binary would run it, with a
//! secretariat account whose password the tests know.

use reqwest::header::{HeaderMap, HeaderValue, COOKIE, ORIGIN, SET_COOKIE};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tempfile::TempDir;
use tern_domain::auth::{
    Invitation, NewUser, Role, SessionInfo, SignInRequest, UserId, INVITATION_PATH, SIGN_IN_PATH,
    USERS_PATH,
};
use tern_server::config::Secret;
use tern_server::{launch, Config, StartupError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The secretariat account every test server starts with.
pub const ADMIN_EMAIL: &str = "secretariat@tern.test";
pub const ADMIN_PASSWORD: &str = "the secretariat's test password";

/// A running server and what it owns. Dropping it stops the server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    /// Signed in as the secretariat (and sending this server's `Origin`), so
    /// tests about something else need no ceremony.
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

/// A server with the given configuration (the listen address is always port
/// 0), the test secretariat unless the configuration names another, and
/// `client` signed in as it.
pub async fn spawn_app_with(mut config: Config) -> Result<TestApp, StartupError> {
    if config.admin_email.is_none() {
        config.admin_email = Some(ADMIN_EMAIL.to_owned());
        config.admin_password = Some(Secret(ADMIN_PASSWORD.to_owned()));
    }
    let mut app = spawn_app_signed_out(config).await?;
    let email = app.config.admin_email.clone().unwrap_or_default();
    let password = app
        .config
        .admin_password
        .as_ref()
        .map(|secret| secret.0.clone())
        .unwrap_or_default();
    app.client = app.signed_in_client(&email, &password).await;
    Ok(app)
}

/// A server as configured, with `client` signed out (it sends only `Origin`).
pub async fn spawn_app_signed_out(mut config: Config) -> Result<TestApp, StartupError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let address = format!("http://{}", listener.local_addr().expect("local addr"));
    config.listen = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let mut task = tokio::spawn(launch(config.clone(), listener, async {
        let _ = stopped.await;
    }));
    let client = client_with(&address, None);

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

/// A client that sends this server's `Origin` (as a browser does on a
/// state-changing request) and, if given, a `Cookie` header.
pub fn client_with(origin: &str, cookies: Option<&str>) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        ORIGIN,
        HeaderValue::from_str(origin).expect("origin header"),
    );
    if let Some(cookies) = cookies {
        headers.insert(
            COOKIE,
            HeaderValue::from_str(cookies).expect("cookie header"),
        );
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("http client")
}

/// The cookies a response sets, as `name=value` pairs (a cleared cookie has an
/// empty value). reqwest's own store would refuse `Secure` cookies over http.
pub fn set_cookies(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|cookie| cookie.split(';').next()?.split_once('='))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

/// Cookies a browser would hold for the server, updated from responses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jar(pub Vec<(String, String)>);

impl Jar {
    pub fn absorb(&mut self, response: &reqwest::Response) {
        for (name, value) in set_cookies(response) {
            self.0.retain(|(held, _)| *held != name);
            if !value.is_empty() {
                self.0.push((name, value));
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(held, _)| held == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn without(&self, name: &str) -> Jar {
        Jar(self
            .0
            .iter()
            .filter(|(held, _)| held != name)
            .cloned()
            .collect())
    }

    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A user a test created, signed in on their own client.
pub struct TestUser {
    pub id: UserId,
    pub email: String,
    pub password: String,
    pub role: Role,
    /// The cookies of the browser that accepted the invitation.
    pub jar: Jar,
    pub client: reqwest::Client,
}

static NEXT_USER: AtomicUsize = AtomicUsize::new(1);

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A client without cookies (signed out), sending this server's `Origin`.
    pub fn anonymous_client(&self) -> reqwest::Client {
        client_with(&self.address, None)
    }

    /// A client holding these cookies.
    pub fn client_for(&self, jar: &Jar) -> reqwest::Client {
        client_with(&self.address, Some(&jar.header()))
    }

    /// Signs in from a browser holding `jar` (empty: a new browser); the raw answer.
    pub async fn sign_in_from(&self, jar: &Jar, email: &str, password: &str) -> reqwest::Response {
        let client = if jar.0.is_empty() {
            self.anonymous_client()
        } else {
            self.client_for(jar)
        };
        client
            .post(self.url(SIGN_IN_PATH))
            .json(&SignInRequest {
                email: email.to_owned(),
                password: password.to_owned(),
            })
            .send()
            .await
            .expect("sign-in sent")
    }

    /// Signs in from a new browser; panics unless it works. Returns its cookies.
    pub async fn sign_in(&self, email: &str, password: &str) -> Jar {
        let response = self.sign_in_from(&Jar::default(), email, password).await;
        assert_eq!(response.status(), 200, "sign-in of {email} refused");
        let mut jar = Jar::default();
        jar.absorb(&response);
        jar
    }

    pub async fn signed_in_client(&self, email: &str, password: &str) -> reqwest::Client {
        let jar = self.sign_in(email, password).await;
        self.client_for(&jar)
    }

    /// Creates a user through the admin API (as the secretariat client).
    pub async fn invite(&self, new: &NewUser) -> Invitation {
        let response = self
            .client
            .post(self.url(USERS_PATH))
            .json(new)
            .send()
            .await
            .expect("create user sent");
        assert_eq!(response.status(), 201, "user not created");
        response.json().await.expect("an invitation")
    }

    /// Accepts an invitation from a new browser; the raw answer.
    pub async fn accept(&self, invitation: &Invitation, password: &str) -> reqwest::Response {
        let token = invitation
            .link
            .split_once('#')
            .map(|(_, token)| token.to_owned())
            .expect("a token after #");
        self.anonymous_client()
            .post(self.url(INVITATION_PATH))
            .json(&tern_domain::auth::AcceptInvitation {
                token,
                password: password.to_owned(),
            })
            .send()
            .await
            .expect("accept sent")
    }

    /// A new user of `role` (member of `member_state`), invited by the
    /// secretariat and signed in through their invitation.
    pub async fn create_user(&self, role: Role, member_state: Option<&str>) -> TestUser {
        let n = NEXT_USER.fetch_add(1, Ordering::Relaxed);
        let email = format!("{}{n}@tern.test", role.as_str());
        let password = format!("password of user {n}");
        let invitation = self
            .invite(&NewUser {
                name: format!("{} {n}", role.as_str()),
                email: email.clone(),
                role,
                member_state: member_state.map(str::to_owned),
                organisation: String::new(),
            })
            .await;
        let response = self.accept(&invitation, &password).await;
        assert_eq!(response.status(), 200, "invitation not accepted");
        let mut jar = Jar::default();
        jar.absorb(&response);
        let info: SessionInfo = response.json().await.expect("session info");
        assert_eq!(info.identity.role, role);
        TestUser {
            id: invitation.user,
            email,
            password,
            role,
            client: self.client_for(&jar),
            jar,
        }
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
