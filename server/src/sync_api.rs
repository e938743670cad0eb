//! The sync API: push a device's outbox, pull the log after a cursor, one
//! record's whole state, and live events when the log grows.

use crate::accounts::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tern_domain::record::{validate_update, RecordId};
use tern_domain::sync::{
    self, DeviceId, PullQuery, PushRequest, PushResponse, Seq, MAX_PULL_LIMIT, MAX_PUSH_BYTES,
};

/// `POST /api/sync/v1/push`: merge a device's outbox. The whole request is checked
/// before anything is applied, so a bad body changes no state.
pub(crate) async fn sync_push(
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
pub(crate) struct PullParams {
    since: u64,
    limit: Option<u32>,
    device: Option<String>,
    kinds: Option<String>,
}

/// `GET /api/sync/v1/pull?since=<seq>&limit=<n>&device=<hex>&kinds=<tags>`: the
/// changes after a cursor (record states if the cursor is behind the compacted
/// log), of the kinds the device knows.
pub(crate) async fn sync_pull(
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
pub(crate) async fn sync_record(
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
pub(crate) async fn sync_events(
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
