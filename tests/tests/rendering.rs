//! Server rendering leaves nothing behind that runs after the response: no
//! effect may outlive the render's reactive owner (leptos_i18n's language
//! effect once did, and panicked on the disposed locale signal).
//!
//! Its own test binary: it replaces the process's panic hook to count panics
//! on any thread, the server's worker threads included.

use std::sync::Mutex;
use std::time::Duration;
use tern_tests::spawn_app;

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_pages_leave_no_effect_that_panics_later() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut panics) = PANICS.lock() {
            panics.push(info.to_string());
        }
    }));
    let app = spawn_app().await;
    // Responses read to the end, and responses dropped as soon as their
    // headers arrive (the render's owner goes at once), many at a time.
    for round in 0..40 {
        let mut requests = tokio::task::JoinSet::new();
        for n in 0..10 {
            let request = app.client.get(app.url("/projects")).send();
            requests.spawn(async move {
                let response = request.await.expect("response");
                assert_eq!(response.status(), 200);
                if (round + n) % 2 == 0 {
                    let _ = response.text().await;
                }
            });
        }
        while let Some(done) = requests.join_next().await {
            done.expect("request task");
        }
    }
    // A spawned effect runs on a later tick; give every one the chance.
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::panic::set_hook(previous);
    let panics = PANICS.lock().map(|p| p.clone()).unwrap_or_default();
    assert!(
        panics.is_empty(),
        "{} panics, first: {}",
        panics.len(),
        panics[0]
    );
}
