//! Tern against a separate SurrealDB server over `ws://`, as a deployment that
//! outgrew one machine runs it.

use std::path::Path;
use std::time::Duration;
use tern_domain::api::{HealthReport, HealthStatus};
use tern_server::storage::{latest_schema_version, SurrealStorage};
use tern_server::Config;
use tern_tests::{spawn_app_with, SurrealServer, SURREAL_PASSWORD, SURREAL_USER};

fn surreal_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_surreal-test-server"))
}

fn remote_config(data_dir: &Path, url: &str) -> Config {
    let mut config = Config::for_data_dir(data_dir);
    config.database_url = Some(url.to_owned());
    config.db_user = Some(SURREAL_USER.to_owned());
    config.db_password = Some(SURREAL_PASSWORD.to_owned());
    config
}

#[tokio::test]
async fn tern_runs_on_a_remote_surrealdb_and_its_data_survives_a_database_restart() {
    let surreal_data = tempfile::tempdir().expect("temp dir");
    let tern_data = tempfile::tempdir().expect("temp dir");
    let surreal = SurrealServer::start(surreal_binary(), &surreal_data.path().join("db")).await;
    let config = remote_config(tern_data.path(), &surreal.url);

    let app = spawn_app_with(config.clone())
        .await
        .expect("Tern starts on ws://");
    let report: HealthReport = app.get("/healthz").await.json().await.expect("health");
    assert_eq!(report.status, HealthStatus::Ok);
    let created = SurrealStorage::open(&config)
        .await
        .expect("open remote")
        .created_at()
        .await
        .expect("created_at");
    // Nothing of the database is kept in Tern's own data dir in remote mode.
    assert!(!tern_data.path().join("db").exists());

    // The database server goes away and comes back on the same data.
    let surreal = surreal.restart(surreal_binary()).await;

    // The running server recovers its connection without a restart of its own.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = app.get("/healthz").await;
        if response.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Tern did not reconnect to SurrealDB in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    app.stop().await;

    let reopened = SurrealStorage::open(&config).await.expect("reopen remote");
    assert_eq!(reopened.created_at().await.expect("created_at"), created);
    assert_eq!(
        reopened.applied_migrations().await.expect("migrations"),
        (1..=latest_schema_version()).collect::<Vec<u32>>()
    );
    drop(surreal);
}

#[tokio::test]
async fn wrong_credentials_for_a_remote_database_stop_start_up_with_a_reason() {
    let surreal_data = tempfile::tempdir().expect("temp dir");
    let tern_data = tempfile::tempdir().expect("temp dir");
    let surreal = SurrealServer::start(surreal_binary(), &surreal_data.path().join("db")).await;
    let mut config = remote_config(tern_data.path(), &surreal.url);
    config.db_password = Some("wrong".into());
    let error = spawn_app_with(config).await.err().expect("start-up fails");
    let message = error.to_string();
    assert!(message.contains("refused the credentials"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
}
