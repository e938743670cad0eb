//! Records' projections and links in the database: written by every push
//! (with the record, in its transaction), made again at start-up for rows an
//! older build projected, and read by queries that apply the same visibility
//! rule as sync. What a projection holds is the domain's business
//! (`Record::projection`); this is only where it is stored and found.

use super::Actor;
use super::{SurrealStorage, PULL_BYTE_BUDGET};
use crate::error::StorageError;
use surrealdb::types::{Bytes, SurrealValue};
use tern_domain::api::LinkFrom;
use tern_domain::record::schema::{FieldType, Rule};
use tern_domain::record::{Date, Projection, Record, RecordId, RecordKind, PROJECTION_VERSION};

/// The version stamped on rows this build projects.
pub(super) const VERSION: i64 = PROJECTION_VERSION as i64;

/// Records projected again per transaction at start-up.
const REPROJECT_BATCH: i64 = 200;

/// A row of `record_link`.
#[derive(Debug, Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
pub(super) struct LinkRow {
    source: String,
    target: String,
    field: String,
}

/// What a write stores beside a record's state.
pub(super) struct Projected {
    pub projection: serde_json::Value,
    pub links: Vec<LinkRow>,
}

/// A record's projection and links as stored (an empty object for a record
/// whose kind is not known, or an erased one).
pub(super) fn project(record: &Record) -> Projected {
    let Some(projection) = record.projection() else {
        return Projected {
            projection: serde_json::Value::Object(Default::default()),
            links: Vec::new(),
        };
    };
    let links = projection
        .links()
        .into_iter()
        .map(|link| LinkRow {
            source: record.id().to_string(),
            target: link.target.to_string(),
            field: link.field,
        })
        .collect();
    Projected {
        projection: serde_json::Value::Object(projection.fields),
        links,
    }
}

/// A question about records, answered from projections: the records of one
/// kind, with given values in its filterable set or choice fields, and (for a
/// kind with a start and an end) active at some time in a date range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordQuery {
    pub kind: RecordKind,
    /// Field key → a value the field must hold (a member of a set, or the choice).
    pub with: Vec<(&'static str, String)>,
    /// The record's start..end overlaps this range (both ends included).
    pub during: Option<(Date, Date)>,
}

/// Why a [`RecordQuery`] cannot be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryProblem {
    #[error("{0} is not a field the list of this kind filters by")]
    NotAFilter(String),
    #[error("this kind has no start and end to compare a date range with")]
    NoDates,
}

impl RecordQuery {
    /// A query of `kind` with `with` filters named by field key; a key the kind
    /// does not filter by is refused (so no text reaches the query unchecked).
    pub fn new(
        kind: RecordKind,
        with: Vec<(String, String)>,
        during: Option<(Date, Date)>,
    ) -> Result<RecordQuery, QueryProblem> {
        let def = kind.def();
        let with = with
            .into_iter()
            .map(|(key, value)| {
                def.all_fields()
                    .find(|field| field.key == key && field.filter && field.ty != FieldType::Date)
                    .map(|field| (field.key, value))
                    .ok_or(QueryProblem::NotAFilter(key))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if during.is_some() && def.rules.is_empty() {
            return Err(QueryProblem::NoDates);
        }
        Ok(RecordQuery { kind, with, during })
    }

    /// The SurrealQL condition. Field keys come from the declaration (checked in
    /// [`RecordQuery::new`]); values are bound as `$v0`, `$v1`, ….
    fn condition(&self) -> String {
        let mut parts = vec![
            "kind = $kind".to_owned(),
            "projection.deleted != true".to_owned(),
        ];
        let def = self.kind.def();
        for (index, (key, _)) in self.with.iter().enumerate() {
            let field = def.field(key).map(|field| field.ty);
            parts.push(match field {
                Some(FieldType::Set(_)) => format!("projection.{key} CONTAINS $v{index}"),
                _ => format!("projection.{key} = $v{index}"),
            });
        }
        if self.during.is_some() {
            if let Some(Rule::NotBefore { earlier, later }) = def.rules.first() {
                // ISO dates compare as text.
                parts.push(format!(
                    "projection.{earlier} != NULL AND projection.{earlier} <= $to \
                     AND (projection.{later} = NULL OR projection.{later} >= $from)"
                ));
            }
        }
        parts.join(" AND ")
    }
}

#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct ProjectionRow {
    rid: String,
    kind: String,
    projection: serde_json::Value,
}

#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct StaleRow {
    rid: String,
    doc_state: Bytes,
}

#[derive(Clone, SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct Reprojected {
    rid: String,
    projection: serde_json::Value,
    projection_version: i64,
}

#[derive(SurrealValue)]
#[surreal(crate = "surrealdb::types")]
struct LinkSourceRow {
    source: String,
    field: String,
}

impl SurrealStorage {
    /// Projects again every record stored under an older projection version
    /// (all of them, the first time this build opens a database of the build
    /// before the schema), in batches of one transaction each. Runs at start-up,
    /// before any request. Returns how many were projected.
    pub(super) async fn reproject_stale(&self) -> Result<usize, StorageError> {
        let mut done = 0;
        loop {
            let mut response = self
                .db
                .query("SELECT rid, doc_state FROM synced_record WHERE projection_version < $version LIMIT $batch")
                .bind(("version", VERSION))
                .bind(("batch", REPROJECT_BATCH))
                .await
                .and_then(|response| response.check())
                .map_err(StorageError::Unavailable)?;
            let rows: Vec<StaleRow> = response.take(0).map_err(StorageError::Unavailable)?;
            if rows.is_empty() {
                return Ok(done);
            }
            let mut updates = Vec::with_capacity(rows.len());
            let mut sources = Vec::with_capacity(rows.len());
            let mut links = Vec::new();
            for row in &rows {
                let projected = match row
                    .rid
                    .parse::<RecordId>()
                    .ok()
                    .and_then(|id| Record::load(id, 0, &row.doc_state).ok())
                {
                    Some(record) => project(&record),
                    None => {
                        // Stamped anyway, or start-up would try it forever; sync
                        // serves its state as before.
                        tracing::warn!(record = %row.rid, "a stored record does not load; projected as empty");
                        Projected {
                            projection: serde_json::Value::Object(Default::default()),
                            links: Vec::new(),
                        }
                    }
                };
                sources.push(row.rid.clone());
                links.extend(projected.links);
                updates.push(Reprojected {
                    rid: row.rid.clone(),
                    projection: projected.projection,
                    projection_version: VERSION,
                });
            }
            let mut script = String::from("BEGIN TRANSACTION;\n");
            script.push_str("FOR $r IN $updates { UPDATE synced_record SET projection = $r.projection, projection_version = $r.projection_version WHERE rid = $r.rid; };\n");
            script.push_str("DELETE record_link WHERE source IN $sources;\n");
            if !links.is_empty() {
                script.push_str("INSERT INTO record_link $links;\n");
            }
            script.push_str("COMMIT TRANSACTION;");
            self.db
                .query(script)
                .bind(("updates", updates))
                .bind(("sources", sources))
                .bind(("links", links))
                .await
                .and_then(|response| response.check())
                .map_err(StorageError::Unavailable)?;
            done += rows.len();
        }
    }

    /// The projections that answer `query`, of records `actor` may see.
    pub(super) async fn find_visible(
        &self,
        actor: &Actor,
        query: &RecordQuery,
    ) -> Result<Vec<(RecordId, Projection)>, StorageError> {
        let visible = self.visible_records(actor).await?;
        let mut condition = query.condition();
        if visible.is_some() {
            condition.push_str(" AND rid IN $visible");
        }
        let mut request = self
            .db
            .query(format!(
                "SELECT rid, kind, projection FROM synced_record WHERE {condition} ORDER BY rid"
            ))
            .bind(("kind", query.kind.as_str().to_owned()));
        for (index, (_, value)) in query.with.iter().enumerate() {
            request = request.bind((format!("v{index}"), value.clone()));
        }
        if let Some((from, to)) = query.during {
            request = request
                .bind(("from", from.to_string()))
                .bind(("to", to.to_string()));
        }
        if let Some(visible) = visible {
            request = request.bind(("visible", visible.into_iter().collect::<Vec<_>>()));
        }
        let mut response = request
            .await
            .and_then(|response| response.check())
            .map_err(StorageError::Unavailable)?;
        let rows: Vec<ProjectionRow> = response.take(0).map_err(StorageError::Unavailable)?;
        let mut bytes = 0;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let id = row.rid.parse().ok()?;
                let kind = RecordKind::parse(&row.kind)?;
                let serde_json::Value::Object(fields) = row.projection else {
                    return None;
                };
                Some((id, Projection { kind, fields }))
            })
            // An answer is bounded like a pull page.
            .take_while(|(_, projection)| {
                bytes += projection.fields.len() * 64 + projection.plain_text().len();
                bytes <= PULL_BYTE_BUDGET * 4
            })
            .collect())
    }

    /// The records that refer to `target` and that `actor` may see.
    pub(super) async fn links_visible(
        &self,
        actor: &Actor,
        target: RecordId,
    ) -> Result<Vec<LinkFrom>, StorageError> {
        let visible = self.visible_records(actor).await?;
        let mut response = self
            .db
            .query("SELECT source, field FROM record_link WHERE target = $target ORDER BY source, field")
            .bind(("target", target.to_string()))
            .await
            .and_then(|response| response.check())
            .map_err(StorageError::Unavailable)?;
        let rows: Vec<LinkSourceRow> = response.take(0).map_err(StorageError::Unavailable)?;
        Ok(rows
            .into_iter()
            .filter(|row| {
                visible
                    .as_ref()
                    .is_none_or(|visible| visible.contains(&row.source))
            })
            .filter_map(|row| {
                Some(LinkFrom {
                    source: row.source.parse().ok()?,
                    field: row.field,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_take_only_the_fields_a_list_filters_by() {
        let date = |text| Date::parse(text).expect("a date");
        let query = RecordQuery::new(
            RecordKind::Project,
            vec![("countries".into(), "PL".into())],
            Some((date("2026-01-01"), date("2026-06-30"))),
        )
        .expect("a query");
        let condition = query.condition();
        assert!(
            condition.contains("projection.countries CONTAINS $v0"),
            "{condition}"
        );
        assert!(
            condition.contains("projection.start_date <= $to"),
            "{condition}"
        );
        assert_eq!(
            RecordQuery::new(
                RecordKind::Project,
                vec![("title; DELETE synced_record".into(), "x".into())],
                None
            ),
            Err(QueryProblem::NotAFilter(
                "title; DELETE synced_record".into()
            ))
        );
        assert_eq!(
            RecordQuery::new(
                RecordKind::Organisation,
                Vec::new(),
                Some((date("2026-01-01"), date("2026-01-02")))
            ),
            Err(QueryProblem::NoDates)
        );
    }
}
