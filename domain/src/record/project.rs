//! A project: title, status, start and end date, focus areas, countries and a
//! description.

use super::{read_set, roots, Record, Update};
use crate::region::{FocusArea, MEMBERS};
use serde::{Deserialize, Serialize};
use yrs::{Map, MapRef, TextRef, Transact};

const DESCRIPTION: &str = "description";
const COUNTRIES: &str = "countries";
const START_DATE: &str = "start_date";
const END_DATE: &str = "end_date";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    #[default]
    Planned,
    Active,
    OnHold,
    Completed,
}

impl ProjectStatus {
    pub const ALL: [ProjectStatus; 4] = [
        ProjectStatus::Planned,
        ProjectStatus::Active,
        ProjectStatus::OnHold,
        ProjectStatus::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Planned => "planned",
            ProjectStatus::Active => "active",
            ProjectStatus::OnHold => "on_hold",
            ProjectStatus::Completed => "completed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// Why a project field was not changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectFieldError {
    #[error("“{0}” is not a date in the form YYYY-MM-DD")]
    NotADate(String),
    #[error("the end date {end} is before the start date {start}")]
    EndBeforeStart { start: String, end: String },
    #[error("“{0}” is not a member of the group")]
    UnknownCountry(String),
}

/// The plain-data projection of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub title: String,
    pub description: String,
    pub status: ProjectStatus,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub focus_areas: Vec<FocusArea>,
    /// Member codes (ISO 3166-1 alpha-2, or "EU").
    pub countries: Vec<String>,
}

/// Typed access to a project's document.
pub struct Project<'a> {
    record: &'a Record,
    // Taken before any transaction opens (see `Record`).
    title: TextRef,
    description: TextRef,
    focus_areas: MapRef,
    countries: MapRef,
}

impl<'a> Project<'a> {
    pub(super) fn new(record: &'a Record) -> Self {
        let doc = record.doc();
        Project {
            record,
            title: doc.get_or_insert_text(roots::TITLE),
            description: doc.get_or_insert_text(DESCRIPTION),
            focus_areas: doc.get_or_insert_map(roots::FOCUS_AREAS),
            countries: doc.get_or_insert_map(COUNTRIES),
        }
    }

    pub fn title(&self) -> String {
        self.record.read_text(&self.title)
    }

    pub fn set_title(&self, title: &str) -> Update {
        self.record.write_text(&self.title, title)
    }

    pub fn description(&self) -> String {
        self.record.read_text(&self.description)
    }

    pub fn set_description(&self, description: &str) -> Update {
        self.record.write_text(&self.description, description)
    }

    pub fn status(&self) -> ProjectStatus {
        self.record
            .meta_string(roots::STATUS)
            .and_then(|s| ProjectStatus::parse(&s))
            .unwrap_or_default()
    }

    pub fn set_status(&self, status: ProjectStatus) -> Update {
        self.record.set_meta(roots::STATUS, status.as_str())
    }

    pub fn start_date(&self) -> Option<String> {
        self.record
            .meta_string(START_DATE)
            .filter(|d| !d.is_empty())
    }

    pub fn end_date(&self) -> Option<String> {
        self.record.meta_string(END_DATE).filter(|d| !d.is_empty())
    }

    /// Sets both dates at once (either may be empty), so the pair is checked together.
    pub fn set_dates(
        &self,
        start: Option<&str>,
        end: Option<&str>,
    ) -> Result<Update, ProjectFieldError> {
        for date in [start, end].into_iter().flatten() {
            if !is_iso_date(date) {
                return Err(ProjectFieldError::NotADate(date.to_owned()));
            }
        }
        if let (Some(start), Some(end)) = (start, end) {
            // ISO dates order as strings.
            if end < start {
                return Err(ProjectFieldError::EndBeforeStart {
                    start: start.to_owned(),
                    end: end.to_owned(),
                });
            }
        }
        Ok(self.record.edit(|txn, record| {
            let meta = record.meta();
            meta.try_update(txn, START_DATE, start.unwrap_or_default());
            meta.try_update(txn, END_DATE, end.unwrap_or_default());
        }))
    }

    pub fn focus_areas(&self) -> Vec<FocusArea> {
        self.record.focus_areas_in(&self.focus_areas)
    }

    pub fn set_focus_area(&self, area: FocusArea, included: bool) -> Update {
        self.record
            .set_member(&self.focus_areas, area.as_str(), included)
    }

    /// Member codes, in the group's own order.
    pub fn countries(&self) -> Vec<String> {
        let txn = self.record.doc().transact();
        let members = read_set(&self.countries, &txn);
        MEMBERS
            .iter()
            .filter(|member| members.iter().any(|m| m == member.code))
            .map(|member| member.code.to_owned())
            .collect()
    }

    pub fn set_country(&self, code: &str, included: bool) -> Result<Update, ProjectFieldError> {
        if !MEMBERS.iter().any(|member| member.code == code) {
            return Err(ProjectFieldError::UnknownCountry(code.to_owned()));
        }
        Ok(self.record.set_member(&self.countries, code, included))
    }

    pub fn summary(&self) -> ProjectSummary {
        ProjectSummary {
            title: self.title(),
            description: self.description(),
            status: self.status(),
            start_date: self.start_date(),
            end_date: self.end_date(),
            focus_areas: self.focus_areas(),
            countries: self.countries(),
        }
    }
}

/// `YYYY-MM-DD` with a real month and a day that month can have.
fn is_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number =
        |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_checked_for_real_calendar_days() {
        for ok in ["2026-02-28", "2024-02-29", "2026-12-31"] {
            assert!(is_iso_date(ok), "{ok}");
        }
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-04-31",
            "abcd-ef-gh",
        ] {
            assert!(!is_iso_date(bad), "{bad}");
        }
    }
}
