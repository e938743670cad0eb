//! Errors of the server's two layers: start-up (fatal, shown to the operator as one
//! line) and requests (mapped to a status and a JSON reason, never database internals).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::path::PathBuf;
use std::time::Duration;
use tern_domain::api::ErrorBody;
use tern_domain::auth::{Denied, PasswordProblem};

/// Why the server could not start. Each message is one line, fit for stderr.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("unsupported database URL `{url}`: use surrealkv://<path>, mem://, ws://<host:port> or wss://<host:port>")]
    UnsupportedDatabaseUrl { url: String },

    #[error("data directory {} is not usable: {source}", path.display())]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot open the database at {location}: {reason}")]
    DatabaseOpen { location: String, reason: String },

    #[error("the database at {location} refused the credentials: {reason}")]
    DatabaseAuth { location: String, reason: String },

    #[error("database migration {version} ({name}) failed: {reason}")]
    Migration {
        version: u32,
        name: &'static str,
        reason: String,
    },

    #[error("the database schema is at version {found}, newer than this build knows ({known}); run a newer Tern")]
    SchemaTooNew { found: u32, known: u32 },

    #[error("cannot read the listening address: {0}")]
    Listen(std::io::Error),

    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),

    #[error("TERN_ADMIN_EMAIL `{0}` is not an email address")]
    AdminEmail(String),

    #[error("TERN_ADMIN_PASSWORD is not acceptable: {0}")]
    AdminPassword(PasswordProblem),

    #[error("cannot create the first secretariat account: {0}")]
    Bootstrap(String),
}

/// What the storage layer reports to request handlers.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database could not be reached or answered with an error. The detail is
    /// logged, never sent to a client.
    #[error("database unavailable")]
    Unavailable(#[source] surrealdb::Error),
}

/// An API request's failure, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no API endpoint at {0}")]
    NotFound(String),

    #[error("the body is larger than {0} bytes; send the outbox in smaller pushes")]
    TooLarge(usize),

    #[error("the body is not a sync v1 message")]
    MalformedSyncBody,

    #[error("the update for record {0} is refused ({1}); nothing was applied")]
    MalformedUpdate(String, tern_domain::record::RecordError),

    #[error("the query needs `since` (a number) and optionally `limit` (a number) and `device` (32 hex digits)")]
    MalformedSyncQuery,

    #[error("{0}")]
    MalformedRecordId(String),

    #[error("no record {0} on the server")]
    UnknownRecord(String),

    #[error("the record query is not valid: {0}")]
    MalformedRecordQuery(String),

    #[error("the database is unavailable")]
    Storage(#[from] StorageError),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::MalformedSyncBody => (StatusCode::BAD_REQUEST, "malformed_body"),
            ApiError::MalformedUpdate(..) => (StatusCode::BAD_REQUEST, "malformed_update"),
            ApiError::MalformedSyncQuery => (StatusCode::BAD_REQUEST, "malformed_query"),
            ApiError::MalformedRecordId(_) => (StatusCode::BAD_REQUEST, "malformed_record_id"),
            ApiError::UnknownRecord(_) => (StatusCode::NOT_FOUND, "unknown_record"),
            ApiError::MalformedRecordQuery(_) => (StatusCode::BAD_REQUEST, "malformed_query"),
            ApiError::Storage(StorageError::Unavailable(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Storage(StorageError::Unavailable(source)) = &self {
            // The detail is for the operator's log, never for the client.
            tracing::error!(error = %source, "storage failure");
        }
        let body = ErrorBody {
            error: code.to_owned(),
            reason: self.to_string(),
        };
        (status, Json(body)).into_response()
    }
}

/// An account or access request's failure, as the client sees it. The texts
/// never tell whether an account exists.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("you are signed out; sign in again")]
    SignedOut,

    /// The same answer for an unknown email, a wrong password, a disabled
    /// account and one whose password is not chosen yet.
    #[error("The email or password is not right.")]
    InvalidCredentials,

    #[error("The current password is not right.")]
    WrongCurrentPassword,

    #[error("{0}")]
    Forbidden(Denied),

    #[error("this request did not come from Tern's own pages")]
    ForbiddenOrigin,

    #[error("too many attempts; try again in {} seconds", retry_after_secs(.0))]
    TooManyAttempts(Duration),

    #[error("{0}")]
    InvalidInput(String),

    #[error(
        "the invitation link has expired or was already used; ask the secretariat for a new one"
    )]
    InvalidInvitation,

    #[error("an account with this email already exists")]
    EmailTaken,

    #[error("no user {0}")]
    UnknownUser(String),

    #[error("no record {0} on the server")]
    UnknownRecord(String),

    /// The machine failed (random source, hashing task); the detail is logged.
    #[error("the server could not complete this; try again")]
    ServerFault,

    #[error("the database is unavailable")]
    Storage(#[from] StorageError),
}

/// Whole seconds, rounded up: `Retry-After: 0` would invite an instant retry.
pub(crate) fn retry_after_secs(wait: &Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl AuthError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AuthError::SignedOut => (StatusCode::UNAUTHORIZED, "signed_out"),
            AuthError::InvalidCredentials | AuthError::WrongCurrentPassword => {
                (StatusCode::UNAUTHORIZED, "invalid_credentials")
            }
            AuthError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AuthError::ForbiddenOrigin => (StatusCode::FORBIDDEN, "forbidden_origin"),
            AuthError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            AuthError::InvalidInput(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
            AuthError::InvalidInvitation => (StatusCode::BAD_REQUEST, "invalid_invitation"),
            AuthError::EmailTaken => (StatusCode::CONFLICT, "email_taken"),
            AuthError::UnknownUser(_) => (StatusCode::NOT_FOUND, "unknown_user"),
            AuthError::UnknownRecord(_) => (StatusCode::NOT_FOUND, "unknown_record"),
            AuthError::ServerFault => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
            AuthError::Storage(StorageError::Unavailable(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let AuthError::Storage(StorageError::Unavailable(source)) = &self {
            tracing::error!(error = %source, "storage failure");
        }
        let body = ErrorBody {
            error: code.to_owned(),
            reason: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if let AuthError::TooManyAttempts(wait) = &self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs(wait)),
            );
        }
        response
    }
}

/// The first line of an error's text: database errors can span several lines,
/// and a start-up message must stay one line.
pub(crate) fn one_line(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or_default().trim().to_owned()
}
