//! The record API beside sync, answered from the server's projections with
//! the same visibility as sync: finding records by their fields, and the
//! records that refer to one.

use crate::accounts::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::RecordQuery;
use axum::extract::{Path as UrlPath, Query, State};
use axum::Json;
use std::collections::BTreeMap;
use tern_domain::api::{FoundRecord, LinkFrom};
use tern_domain::record::{Date, RecordId, RecordKind};

/// `GET /api/records/v1?kind=<tag>&<field>=<value>&from=<date>&to=<date>`.
pub(crate) async fn find(
    State(state): State<AppState>,
    signed: SignedIn,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<Vec<FoundRecord>>, ApiError> {
    let query = parse(params)?;
    let found = state.storage.find(&signed.actor(), &query).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|(id, projection)| FoundRecord { id, projection })
            .collect(),
    ))
}

fn parse(mut params: BTreeMap<String, String>) -> Result<RecordQuery, ApiError> {
    let bad = |reason: String| ApiError::MalformedRecordQuery(reason);
    let kind = params
        .remove("kind")
        .and_then(|tag| RecordKind::parse(&tag))
        .ok_or_else(|| bad("`kind` must name a kind of record".into()))?;
    let date = |text: Option<String>| -> Result<Option<Date>, ApiError> {
        text.map(|text| {
            Date::parse(&text).ok_or_else(|| bad(format!("{text} is not a date (YYYY-MM-DD)")))
        })
        .transpose()
    };
    let from = date(params.remove("from"))?;
    let to = date(params.remove("to"))?;
    let during = match (from, to) {
        (None, None) => None,
        (from, to) => Some((
            from.unwrap_or(Date::from_days_since_epoch(-719_162)),
            to.unwrap_or(Date::from_days_since_epoch(2_932_896)),
        )),
    };
    RecordQuery::new(kind, params.into_iter().collect(), during)
        .map_err(|problem| bad(problem.to_string()))
}

/// `GET /api/records/v1/<id>/links`.
pub(crate) async fn links(
    State(state): State<AppState>,
    signed: SignedIn,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Vec<LinkFrom>>, ApiError> {
    let id: RecordId = id
        .parse()
        .map_err(|error: tern_domain::record::InvalidRecordId| {
            ApiError::MalformedRecordId(error.to_string())
        })?;
    Ok(Json(state.storage.links_to(&signed.actor(), id).await?))
}

/// `POST /api/admin/v1/erase/<id>`: the secretariat erases a record of
/// personal data. 204 when done; 403 for anyone else, 404 for a record that
/// is not there, 400 for a kind without personal data.
pub(crate) async fn erase(
    State(state): State<AppState>,
    signed: SignedIn,
    UrlPath(id): UrlPath<String>,
) -> Result<axum::http::StatusCode, crate::error::AuthError> {
    use crate::error::AuthError;
    use tern_domain::auth::Denied;
    let id: RecordId = id
        .parse()
        .map_err(|error: tern_domain::record::InvalidRecordId| {
            AuthError::InvalidInput(error.to_string())
        })?;
    match state.storage.erase(&signed.actor(), id).await? {
        Ok(()) => Ok(axum::http::StatusCode::NO_CONTENT),
        Err(Denied::NotInvited(rid)) => Err(AuthError::UnknownRecord(rid)),
        Err(denied @ Denied::NotPersonalData(_)) => Err(AuthError::InvalidInput(denied.to_wire())),
        Err(denied) => Err(AuthError::Forbidden(denied)),
    }
}
