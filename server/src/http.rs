//! HTTP: the router, the page handler, health, static assets and security headers.

use crate::accounts::http::Auth;
use crate::accounts::{Accounts, SignedIn};
use crate::error::ApiError;
use crate::storage::Storage;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{header, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tern_app::routes::Page;
use tern_app::{is_known_language, AssetManifest, LANGUAGE_COOKIE};
use tern_domain::api::{
    HealthReport, HealthStatus, API_PREFIX, EXPORT_PATH, HEALTH_PATH, MAX_RENDER_BYTES, RENDER_PATH,
};
use tern_domain::record::{validate_update, RecordId};
use tern_domain::sync::{
    self, DeviceId, PullQuery, PushRequest, PushResponse, Seq, EVENTS_PATH, MAX_PULL_LIMIT,
    MAX_PUSH_BYTES, PULL_PATH, PUSH_PATH, RECORDS_PATH,
};
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub accounts: Arc<dyn Accounts>,
    pub auth: Arc<Auth>,
    pub site: Site,
    /// Turns true when shutdown begins: long-lived responses (server-sent
    /// events) end, so graceful shutdown does not wait for them forever.
    pub stopping: watch::Receiver<bool>,
}

/// The built site: where its files are and the hashed names of this build's assets.
#[derive(Clone)]
pub struct Site {
    dir: PathBuf,
    assets: Option<AssetManifest>,
}

impl Site {
    /// Reads `asset-manifest.json`. A missing site is not fatal (the API still
    /// works), but pages will not hydrate, so say so loudly.
    pub fn load(dir: &Path) -> Site {
        let manifest = dir.join("asset-manifest.json");
        let assets = match std::fs::read(&manifest) {
            Ok(bytes) => match serde_json::from_slice::<AssetManifest>(&bytes) {
                Ok(assets) => Some(assets),
                Err(error) => {
                    tracing::warn!(path = %manifest.display(), %error, "asset manifest unreadable; pages will not hydrate");
                    None
                }
            },
            Err(_) => {
                tracing::warn!(path = %manifest.display(), "site not built (run scripts/build-site.sh); pages will not hydrate");
                None
            }
        };
        Site {
            dir: dir.to_path_buf(),
            assets,
        }
    }
}

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
        .route(PUSH_PATH, post(sync_push))
        .route(PULL_PATH, get(sync_pull))
        .route(EVENTS_PATH, get(sync_events))
        .route(&format!("{RECORDS_PATH}/{{id}}"), get(sync_record))
        .layer(DefaultBodyLimit::max(MAX_PUSH_BYTES));
    let export = Router::new()
        .route(
            &format!("{EXPORT_PATH}/{{id}}"),
            get(crate::export::export_record),
        )
        .route(RENDER_PATH, post(crate::export::render_markdown))
        .layer(DefaultBodyLimit::max(MAX_RENDER_BYTES));
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

/// `POST /api/sync/v1/push`: merge a device's outbox. The whole request is checked
/// before anything is applied, so a bad body changes no state.
async fn sync_push(
    State(state): State<AppState>,
    signed: SignedIn,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(MAX_PUSH_BYTES),
        _ => ApiError::MalformedSyncBody,
    })?;
    let request: PushRequest = sync::decode(&body).map_err(|_| ApiError::MalformedSyncBody)?;
    for op in &request.ops {
        validate_update(&op.update)
            .map_err(|problem| ApiError::MalformedUpdate(op.record.to_string(), problem))?;
    }
    let outcomes = state.storage.push(&signed.actor(), request.ops).await?;
    Ok(sync_body(&PushResponse { outcomes }))
}

#[derive(serde::Deserialize)]
struct PullParams {
    since: u64,
    limit: Option<u32>,
    device: Option<String>,
    kinds: Option<String>,
}

/// `GET /api/sync/v1/pull?since=<seq>&limit=<n>&device=<hex>&kinds=<tags>`: the
/// changes after a cursor (record states if the cursor is behind the compacted
/// log), of the kinds the device knows.
async fn sync_pull(
    State(state): State<AppState>,
    signed: SignedIn,
    params: Result<Query<PullParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|_| ApiError::MalformedSyncQuery)?;
    let device = params
        .device
        .map(|text| text.parse::<DeviceId>())
        .transpose()
        .map_err(|_| ApiError::MalformedSyncQuery)?;
    let query = PullQuery {
        since: Seq(params.since),
        limit: params.limit.unwrap_or(MAX_PULL_LIMIT),
        device,
        kinds: params.kinds.as_deref().map(PullQuery::parse_kinds),
    };
    let page = state.storage.pull(&signed.actor(), query).await?;
    Ok(sync_body(&page))
}

/// `GET /api/sync/v1/records/<id>`: one record's whole state as a `Change`
/// (its `seq` the record's latest), for a device whose copy cannot settle.
async fn sync_record(
    State(state): State<AppState>,
    signed: SignedIn,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    Ok(sync_body(&visible_record(&state, &signed, &id).await?))
}

/// The whole state of the record with the id in a path, if the user may read
/// it: 400 for a malformed id, and 404 alike for a record that does not exist
/// and one the user cannot see (no guessing which ids exist).
pub(crate) async fn visible_record(
    state: &AppState,
    signed: &SignedIn,
    id: &str,
) -> Result<tern_domain::sync::Change, ApiError> {
    let id: RecordId = id
        .parse()
        .map_err(|error: tern_domain::record::InvalidRecordId| {
            ApiError::MalformedRecordId(error.to_string())
        })?;
    state
        .storage
        .record(&signed.actor(), id)
        .await?
        .ok_or_else(|| ApiError::UnknownRecord(id.to_string()))
}

/// How often an idle event stream sends a comment, so proxies and the browser
/// keep it open.
const EVENTS_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /api/sync/v1/events`: server-sent events. The first event carries the
/// current last seq, then one `data: <seq>` each time the log grows (bursts are
/// coalesced into the newest seq). Ends when the server begins to shut down.
async fn sync_events(
    State(state): State<AppState>,
    _signed: SignedIn,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut seqs = state.storage.subscribe();
    let first = *seqs.borrow_and_update();
    let events = futures_util::stream::unfold(
        (seqs, state.stopping, Some(first)),
        |(mut seqs, mut stopping, pending)| async move {
            if *stopping.borrow() {
                return None;
            }
            if let Some(seq) = pending {
                return Some((Ok(seq_event(seq)), (seqs, stopping, None)));
            }
            tokio::select! {
                changed = seqs.changed() => {
                    changed.ok()?;
                    let seq = *seqs.borrow_and_update();
                    Some((Ok(seq_event(seq)), (seqs, stopping, None)))
                }
                // Shutdown began, or the server is gone: end the stream.
                _ = stopping.changed() => None,
            }
        },
    );
    Sse::new(events).keep_alive(KeepAlive::new().interval(EVENTS_KEEP_ALIVE))
}

fn seq_event(seq: Seq) -> Event {
    Event::default().data(seq.0.to_string())
}

fn sync_body<T: serde::Serialize>(message: &T) -> Response {
    (
        [(header::CONTENT_TYPE, sync::CONTENT_TYPE)],
        sync::encode(message),
    )
        .into_response()
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
