//! The server over HTTP: health, the page shell, headers, and start-up behaviour.

use tern_domain::api::{ErrorBody, HealthReport, HealthStatus};
use tern_server::storage::{latest_schema_version, SurrealStorage};
use tern_server::{Config, StartupError};
use tern_tests::{spawn_app, spawn_app_with};

#[tokio::test]
async fn health_check_reports_the_database_schema() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let report: HealthReport = response.json().await.expect("health JSON");
    assert_eq!(report.status, HealthStatus::Ok);
    assert_eq!(report.schema_version, Some(latest_schema_version()));
    assert!(latest_schema_version() >= 1);
}

/// Every route gets the same shell (up to the per-response CSP nonce): that is
/// what lets the service worker answer any path offline with one cached page.
#[tokio::test]
async fn every_route_renders_the_same_shell_without_user_data() {
    let app = spawn_app().await;
    let mut shells = Vec::new();
    for path in [
        "/",
        "/recommendations",
        "/recommendations/0193b7a0-7e2c-7c4e-9a1b-2f3d4e5f6a7b",
        "/projects",
        "/projects/abc-123",
        "/consultations",
        "/network",
        "/sync",
        "/settings",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in CSP {csp}"))
            .to_owned();
        let body = response.text().await.expect("body");
        assert!(
            body.contains("<main id=\"main\""),
            "{path}: no main landmark"
        );
        assert!(
            !body.contains("0193b7a0"),
            "{path}: record id leaked into server HTML"
        );
        shells.push((path, body.replace(&nonce, "NONCE")));
    }
    let (first_path, first) = &shells[0];
    for (path, shell) in &shells[1..] {
        assert_eq!(shell, first, "shell of {path} differs from {first_path}");
    }
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy_and_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/settings").await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("missing header {name}"))
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("'unsafe-eval'"), "{csp}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "same-origin");
    assert_eq!(header("cache-control"), "no-cache");

    // Every inline script Leptos emits carries the nonce the header allows.
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("nonce")
        .to_owned();
    let body = response.text().await.expect("body");
    for script in body.split("<script").skip(1) {
        let tag = script.split('>').next().unwrap_or_default();
        let inline = !tag.contains("src=");
        let empty = script
            .split('>')
            .nth(1)
            .is_some_and(|rest| rest.starts_with("</script"));
        if inline && !empty {
            assert!(
                tag.contains(&nonce),
                "inline script without the nonce: <script{tag}>"
            );
        }
    }
}

#[tokio::test]
async fn unknown_paths_are_404_pages_and_unknown_api_calls_are_404_json() {
    let app = spawn_app().await;
    let page = app.get("/no/such/page").await;
    assert_eq!(page.status(), 404);
    assert!(page
        .text()
        .await
        .expect("body")
        .contains("<main id=\"main\""));

    let api = app.get("/api/nothing-here").await;
    assert_eq!(api.status(), 404);
    let body: ErrorBody = api.json().await.expect("JSON error");
    assert_eq!(body.error, "not_found");
}

#[tokio::test]
async fn pages_do_not_change_state_on_other_methods() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/recommendations"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn html_is_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/"))
        .header("accept-encoding", "br")
        .send()
        .await
        .expect("request");
    assert_eq!(
        response
            .headers()
            .get("content-encoding")
            .map(|v| v.as_bytes()),
        Some(&b"br"[..])
    );
}

#[tokio::test]
async fn a_second_start_reuses_the_data_dir_without_reapplying_migrations() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let config = Config::for_data_dir(data_dir.path());

    let first = spawn_app_with(config.clone()).await.expect("first start");
    first.stop().await;
    let storage = SurrealStorage::open(&config).await.expect("reopen");
    let created = storage.created_at().await.expect("created_at");
    assert!(!created.is_empty());
    drop(storage);

    let second = spawn_app_with(config.clone()).await.expect("second start");
    second.stop().await;
    let storage = SurrealStorage::open(&config).await.expect("reopen");
    assert_eq!(
        storage.created_at().await.expect("created_at"),
        created,
        "data was recreated"
    );
    let expected: Vec<u32> = (1..=latest_schema_version()).collect();
    assert_eq!(
        storage.applied_migrations().await.expect("migrations"),
        expected
    );
}

#[tokio::test]
async fn an_unsupported_database_url_stops_start_up_with_a_reason() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(data_dir.path());
    config.database_url = Some("nonsense://x".into());
    let error = spawn_app_with(config).await.err().expect("start-up fails");
    assert!(
        matches!(error, StartupError::UnsupportedDatabaseUrl { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("nonsense://x"));
}

#[tokio::test]
async fn an_unusable_data_dir_stops_start_up_with_a_reason() {
    let parent = tempfile::tempdir().expect("temp dir");
    let file = parent.path().join("a-file");
    std::fs::write(&file, b"not a folder").expect("write");
    let config = Config::for_data_dir(file.join("data"));
    let error = spawn_app_with(config).await.err().expect("start-up fails");
    assert!(matches!(error, StartupError::DataDir { .. }), "{error}");
}
