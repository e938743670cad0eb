//! Shapes of the server's HTTP API that are not page HTML.
//!
//! Endpoint paths are stable names: an old client cached by a service worker must
//! keep working against a newer server, so a path, once published, only ever
//! gains fields.

use serde::{Deserialize, Serialize};

/// Liveness and readiness of a Tern server, as answered by [`HEALTH_PATH`].
pub const HEALTH_PATH: &str = "/healthz";

/// Everything under this prefix is API, never a page: the service worker leaves it
/// to the network and the server never renders the app shell for it.
pub const API_PREFIX: &str = "/api/";

/// `GET {EXPORT_PATH}/<record id>`: a recommendation as one HTML document, to
/// circulate or print (long texts rendered by `crate::markup`, then cleaned once
/// more with ammonia).
pub const EXPORT_PATH: &str = "/api/export/v1/records";

/// `GET {FIND_PATH}?kind=<tag>[&<field>=<value>…][&from=<date>&to=<date>]` →
/// `Vec<`[`FoundRecord`]`>`: the records of a kind the user may see, with the
/// given values in fields the kind's list filters by, and (for a kind with a
/// start and an end) active at some time from `from` to `to`. Answered from
/// the server's projections; the same visibility as sync.
pub const FIND_PATH: &str = "/api/records/v1";

/// `GET {FIND_PATH}/<id>/links` → `Vec<`[`LinkFrom`]`>`: the records that refer
/// to one record, of those the user may see.
pub const LINKS_SUFFIX: &str = "/links";

/// `POST {ERASE_PATH}/<id>`: the secretariat erases a record of personal data
/// (a person) from the server, its log, and every device at its next sync.
pub const ERASE_PATH: &str = "/api/admin/v1/erase";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundRecord {
    pub id: crate::record::RecordId,
    pub projection: crate::record::Projection,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFrom {
    pub source: crate::record::RecordId,
    /// The field that holds the reference: `informs`, `participants.person`.
    pub field: String,
}

/// Body of [`HEALTH_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    pub status: HealthStatus,
    /// The server's own version (the workspace version).
    pub version: String,
    /// The schema version the database is at, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u32>,
    /// Why the server is not healthy, in words fit for an operator; never database internals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Unavailable,
}

/// The JSON body of every API error: a stable machine-readable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_report_omits_absent_fields_and_round_trips() {
        let report = HealthReport {
            status: HealthStatus::Unavailable,
            version: "0.1.0".into(),
            schema_version: None,
            reason: Some("database unreachable".into()),
        };
        let json = serde_json::to_string(&report).expect("serialises");
        assert_eq!(
            json,
            r#"{"status":"unavailable","version":"0.1.0","reason":"database unreachable"}"#
        );
        let back: HealthReport = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, report);
    }
}
