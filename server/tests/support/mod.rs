//! The real `tern` binary in a child process, and a device that talks to it over
//! HTTP, for the kill test and the sync benchmark. Cargo builds the binary for
//! this package's tests and names it in `CARGO_BIN_EXE_tern`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tern_domain::auth::{
    AcceptInvitation, Invitation, NewUser, Role, SignInRequest, INVITATION_PATH, SIGN_IN_PATH,
    USERS_PATH,
};
use tern_domain::client::Replica;
use tern_domain::sync::{self, PullResponse, PushRequest, PushResponse, MAX_PUSH_BYTES, PUSH_PATH};

/// The secretariat account the binary creates at start for these tests.
pub const ADMIN_EMAIL: &str = "secretariat@tern.test";
pub const ADMIN_PASSWORD: &str = "the secretariat's test password";

pub struct Tern {
    pub address: String,
    child: Child,
}

impl Tern {
    /// Starts `tern` on port 0 with the embedded database under `data`, and waits
    /// for the line that says where it listens.
    pub fn start(data: &Path) -> Tern {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(["--site-dir"])
            .arg(data.join("no-site"))
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .env("TERN_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("TERN_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tern starts");
        let stdout = child.stdout.take().expect("stdout");
        let (found, address) = mpsc::channel();
        // Reads the log to the end, so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let _ = found.send(line[at + "listening on ".len()..].trim().to_owned());
                }
            }
        });
        let address = address
            .recv_timeout(Duration::from_secs(60))
            .expect("tern listening within 60 s");
        Tern { address, child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// SIGKILL: no shutdown code runs, nothing unsynced can be flushed.
    pub fn kill(mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }
}

impl Drop for Tern {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client sending the server's `Origin` and, if given, cookies (kept by
/// hand: reqwest's store refuses `Secure` cookies over http).
fn client(base: &str, cookies: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ORIGIN,
        reqwest::header::HeaderValue::from_str(base).expect("origin"),
    );
    if let Some(cookies) = cookies {
        headers.insert(
            reqwest::header::COOKIE,
            reqwest::header::HeaderValue::from_str(cookies).expect("cookie"),
        );
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// The cookies a response sets, as one `Cookie` header.
fn cookies_of(response: &reqwest::Response) -> String {
    let cookies: Vec<&str> = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok()?.split(';').next())
        .collect();
    cookies.join("; ")
}

/// A client signed in as the secretariat.
pub async fn signed_in_client(base: &str) -> reqwest::Client {
    let response = client(base, None)
        .post(format!("{base}{SIGN_IN_PATH}"))
        .json(&SignInRequest {
            email: ADMIN_EMAIL.to_owned(),
            password: ADMIN_PASSWORD.to_owned(),
        })
        .send()
        .await
        .expect("sign-in");
    assert_eq!(response.status(), 200, "sign-in refused");
    client(base, Some(&cookies_of(&response)))
}

/// A client signed in as a new member for Finland, created by the secretariat.
pub async fn signed_in_member(base: &str) -> reqwest::Client {
    let admin = signed_in_client(base).await;
    let created = admin
        .post(format!("{base}{USERS_PATH}"))
        .json(&NewUser {
            name: "Benchmark member".to_owned(),
            email: "member@tern.test".to_owned(),
            role: Role::Member,
            member_state: Some("FI".to_owned()),
            organisation: String::new(),
        })
        .send()
        .await
        .expect("create user");
    assert_eq!(created.status(), 201, "user not created");
    let invitation: Invitation = created.json().await.expect("invitation");
    let token = invitation.link.split_once('#').expect("token").1.to_owned();
    let accepted = client(base, None)
        .post(format!("{base}{INVITATION_PATH}"))
        .json(&AcceptInvitation {
            token,
            password: "the member's password".to_owned(),
        })
        .send()
        .await
        .expect("accept");
    assert_eq!(accepted.status(), 200, "invitation refused");
    client(base, Some(&cookies_of(&accepted)))
}

/// Body bytes sent and received, for the benchmark's figures.
#[derive(Debug, Default, Clone, Copy)]
pub struct Traffic {
    pub requests: usize,
    pub sent: usize,
    pub received: usize,
}

pub async fn push(
    client: &reqwest::Client,
    base: &str,
    request: &PushRequest,
    traffic: &mut Traffic,
) -> Result<PushResponse, String> {
    let body = sync::encode(request);
    traffic.requests += 1;
    traffic.sent += body.len();
    let response = client
        .post(format!("{base}{PUSH_PATH}"))
        .header("content-type", sync::CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .map_err(|error| error.to_string())?;
    if response.status() != 200 {
        return Err(format!("push answered {}", response.status()));
    }
    let bytes = response.bytes().await.map_err(|error| error.to_string())?;
    traffic.received += bytes.len();
    sync::decode(&bytes).map_err(|error| error.to_string())
}

/// Pushes the whole outbox in requests of at most `MAX_PUSH_BYTES`.
pub async fn push_outbox(
    client: &reqwest::Client,
    base: &str,
    replica: &mut Replica,
    traffic: &mut Traffic,
) {
    while let Some(request) = replica.next_push(MAX_PUSH_BYTES - 4_096) {
        let answer = push(client, base, &request, traffic).await.expect("push");
        let acknowledged = replica.acknowledge(&answer);
        assert!(
            acknowledged.rejected.is_empty(),
            "{:?}",
            acknowledged.rejected
        );
    }
}

/// Pulls until the server says complete.
pub async fn pull_everything(
    client: &reqwest::Client,
    base: &str,
    replica: &mut Replica,
    traffic: &mut Traffic,
) {
    loop {
        let query = replica.next_pull();
        traffic.requests += 1;
        let response = client
            .get(format!("{base}{}", query.path()))
            .send()
            .await
            .expect("pull");
        assert_eq!(response.status(), 200);
        let bytes = response.bytes().await.expect("body");
        traffic.received += bytes.len();
        let page: PullResponse = sync::decode(&bytes).expect("a pull page");
        let pulled = replica.apply_pull(query.since, &page).expect("in order");
        assert!(pulled.unmergeable.is_empty(), "{:?}", pulled.unmergeable);
        if page.complete {
            return;
        }
    }
}
