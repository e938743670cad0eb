//! HTTP: the router, the page handler, health, static assets and security headers.

use crate::error::ApiError;
use crate::state::AppState;
use crate::sync_api;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::{Arc, Mutex};
use tern_app::routes::Page;
use tern_app::{is_known_language, AssetManifest, LANGUAGE_COOKIE};
use tern_domain::api::{HealthReport, HealthStatus, API_PREFIX, EXPORT_PATH, HEALTH_PATH};
use tern_domain::sync::{EVENTS_PATH, MAX_PUSH_BYTES, PULL_PATH, PUSH_PATH, RECORDS_PATH};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Hashed assets never change under their name.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Pages, the service worker and the manifest must be revalidated every time, or
/// an update would never reach an installed app.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

pub fn router(state: AppState) -> Router {
    let pkg = Router::new()
        .fallback_service(
            ServeDir::new(state.site.dir.join("pkg"))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            IMMUTABLE,
        ))
        .layer(vary_on_encoding());
    let site_file = |name: &str| {
        tower_http::services::ServeFile::new(state.site.dir.join(name))
            .precompressed_br()
            .precompressed_gzip()
    };
    // A worker's own CSP governs its fetches: it must reach this origin to cache the shell.
    let service_worker = Router::new()
        .route_service("/sw.js", site_file("sw.js"))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; connect-src 'self'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("service-worker-allowed"),
            HeaderValue::from_static("/"),
        ));
    let revalidated = Router::new()
        .route_service("/manifest.webmanifest", site_file("manifest.webmanifest"))
        .merge(service_worker)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            REVALIDATE,
        ))
        .layer(vary_on_encoding());
    let icons = Router::new()
        .fallback_service(ServeDir::new(state.site.dir.join("icons")))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        ));

    let sync = Router::new()
        .route(PUSH_PATH, post(sync_api::sync_push))
        .route(PULL_PATH, get(sync_api::sync_pull))
        .route(EVENTS_PATH, get(sync_api::sync_events))
        .route(
            &format!("{RECORDS_PATH}/{{id}}"),
            get(sync_api::sync_record),
        )
        .layer(DefaultBodyLimit::max(MAX_PUSH_BYTES));
    let export = Router::new().route(
        &format!("{EXPORT_PATH}/{{id}}"),
        get(crate::export::export_record),
    );
    let records = Router::new()
        .route(tern_domain::api::FIND_PATH, get(crate::records_api::find))
        .route(
            &format!(
                "{}/{{id}}{}",
                tern_domain::api::FIND_PATH,
                tern_domain::api::LINKS_SUFFIX
            ),
            get(crate::records_api::links),
        )
        .route(
            &format!("{}/{{id}}", tern_domain::api::ERASE_PATH),
            post(crate::records_api::erase),
        );
    let app = Router::new()
        .route(HEALTH_PATH, get(health))
        .merge(sync)
        .merge(records)
        .merge(export)
        .merge(crate::accounts::http::routes())
        .nest("/pkg", pkg)
        .nest("/icons", icons)
        .merge(revalidated)
        .fallback(page_or_api_not_found)
        // Outside every API route: a foreign origin changes nothing, whatever the path.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::accounts::http::check_origin,
        ))
        .with_state(state);
    with_security_headers(app)
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// Precompressed files differ by `Accept-Encoding`; shared caches must know.
fn vary_on_encoding() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::VARY, HeaderValue::from_static("accept-encoding"))
}

async fn health(State(state): State<AppState>) -> Response {
    let version = env!("CARGO_PKG_VERSION").to_owned();
    match state.storage.schema_version().await {
        Ok(schema_version) => Json(HealthReport {
            status: HealthStatus::Ok,
            version,
            schema_version: Some(schema_version),
            reason: None,
        })
        .into_response(),
        Err(error) => {
            tracing::error!(error = ?error, "health check failed");
            let report = HealthReport {
                status: HealthStatus::Unavailable,
                version,
                schema_version: None,
                reason: Some("database unavailable".to_owned()),
            };
            (StatusCode::SERVICE_UNAVAILABLE, Json(report)).into_response()
        }
    }
}

/// Every path that is not an asset or an API route is a page: render the shell.
async fn page_or_api_not_found(State(state): State<AppState>, request: Request<Body>) -> Response {
    let path = request.uri().path();
    if path.starts_with(API_PREFIX) {
        return ApiError::NotFound(path.to_owned()).into_response();
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let not_found = Page::from_path(path) == Page::NotFound;
    let request = prefer_chosen_language(request);
    render_shell(state.site.assets.clone(), request, not_found).await
}

/// A language chosen in Settings wins over the browser's: the shell is rendered
/// from `Accept-Language`, so the cookie's choice is put there.
fn prefer_chosen_language(mut request: Request<Body>) -> Request<Body> {
    let chosen = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LANGUAGE_COOKIE)
        .map(|(_, value)| value.to_owned());
    let known = chosen.filter(|value| is_known_language(value));
    if let Some(value) = known.and_then(|v| HeaderValue::from_str(&v).ok()) {
        request.headers_mut().insert(header::ACCEPT_LANGUAGE, value);
    }
    request
}

async fn render_shell(
    assets: Option<AssetManifest>,
    request: Request<Body>,
    not_found: bool,
) -> Response {
    // The nonce Leptos puts on its inline hydration scripts must also be in the CSP
    // header; it is created inside the render, so the render hands it out here.
    let nonce_slot: Arc<Mutex<Option<Arc<str>>>> = Arc::default();
    let slot = Arc::clone(&nonce_slot);
    let render = leptos_axum::render_app_to_stream_with_context(
        move || {
            if let (Some(nonce), Ok(mut slot)) = (leptos::nonce::use_nonce(), slot.lock()) {
                *slot = Some(Arc::clone(nonce.as_inner()));
            }
        },
        move || tern_app::shell(assets.clone()),
    );
    let mut response = render(request).await;
    if not_found {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    let nonce = nonce_slot.lock().ok().and_then(|slot| slot.clone());
    if let Ok(csp) = HeaderValue::from_str(&page_csp(nonce.as_deref())) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, REVALIDATE);
    response
}

/// The policy for HTML pages: only this origin's scripts (plus Leptos's nonced
/// inline bootstrap data), wasm compilation allowed and nothing looser.
fn page_csp(nonce: Option<&str>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
         worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Headers every response carries; a page's own CSP wins over the strict default.
fn with_security_headers(router: Router) -> Router {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
}
