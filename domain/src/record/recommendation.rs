//! A recommendation: title, summary, status, focus areas, and ordered sections
//! each with a heading and a body.

use super::{roots, Record, Update};
use crate::region::FocusArea;
use serde::{Deserialize, Serialize};
use yrs::{
    Any, Array, ArrayRef, GetString, Map, MapPrelim, MapRef, Out, TextPrelim, TextRef, Transact,
};

const SUMMARY: &str = "summary";
/// The order of sections: an array of section ids.
const SECTION_ORDER: &str = "section_order";
/// Section content by id. Content lives apart from the order so that moving a
/// section (delete + insert of its id) never copies, and so never loses, the
/// text someone is typing into it at the same time.
const SECTIONS: &str = "sections";
/// Member positions: member code → stance (one map entry per member, so two
/// members recording at once never touch the same entry).
const POSITIONS: &str = "positions";
const HEADING: &str = "heading";
const BODY: &str = "body";
/// A removed section is marked, not dropped: a concurrent move must not revive it.
const REMOVED: &str = "removed";

/// Where a recommendation stands in the group's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationStatus {
    #[default]
    Draft,
    /// Out for comments, typically after an expert consultation.
    InConsultation,
    /// With the member states for their positions.
    MemberReview,
    Adopted,
    Withdrawn,
}

impl RecommendationStatus {
    pub const ALL: [RecommendationStatus; 5] = [
        RecommendationStatus::Draft,
        RecommendationStatus::InConsultation,
        RecommendationStatus::MemberReview,
        RecommendationStatus::Adopted,
        RecommendationStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecommendationStatus::Draft => "draft",
            RecommendationStatus::InConsultation => "in_consultation",
            RecommendationStatus::MemberReview => "member_review",
            RecommendationStatus::Adopted => "adopted",
            RecommendationStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// A member state's position on a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    Support,
    Reservation,
    Objection,
}

impl Stance {
    pub const ALL: [Stance; 3] = [Stance::Support, Stance::Reservation, Stance::Objection];

    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Support => "support",
            Stance::Reservation => "reservation",
            Stance::Objection => "objection",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|stance| stance.as_str() == text)
    }
}

/// A section's id, unique within its recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SectionId(pub String);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub id: SectionId,
    pub heading: String,
    pub body: String,
}

/// The plain-data projection of a recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecommendationSummary {
    pub title: String,
    pub summary: String,
    pub status: RecommendationStatus,
    pub focus_areas: Vec<FocusArea>,
    pub sections: Vec<Section>,
    /// Member positions, by member code.
    #[serde(default)]
    pub positions: Vec<(String, Stance)>,
}

/// Typed access to a recommendation's document.
pub struct Recommendation<'a> {
    record: &'a Record,
    // Taken before any transaction opens (see `Record`).
    title: TextRef,
    summary: TextRef,
    focus_areas: MapRef,
    order: ArrayRef,
    contents: MapRef,
    positions: MapRef,
}

impl<'a> Recommendation<'a> {
    pub(super) fn new(record: &'a Record) -> Self {
        let doc = record.doc();
        Recommendation {
            record,
            title: doc.get_or_insert_text(roots::TITLE),
            summary: doc.get_or_insert_text(SUMMARY),
            focus_areas: doc.get_or_insert_map(roots::FOCUS_AREAS),
            order: doc.get_or_insert_array(SECTION_ORDER),
            contents: doc.get_or_insert_map(SECTIONS),
            positions: doc.get_or_insert_map(POSITIONS),
        }
    }

    pub fn title(&self) -> String {
        self.record.read_text(&self.title)
    }

    pub fn set_title(&self, title: &str) -> Update {
        self.record.write_text(&self.title, title)
    }

    pub fn summary_text(&self) -> String {
        self.record.read_text(&self.summary)
    }

    pub fn set_summary_text(&self, summary: &str) -> Update {
        self.record.write_text(&self.summary, summary)
    }

    pub fn status(&self) -> RecommendationStatus {
        self.record
            .meta_string(roots::STATUS)
            .and_then(|s| RecommendationStatus::parse(&s))
            .unwrap_or_default()
    }

    pub fn set_status(&self, status: RecommendationStatus) -> Update {
        self.record.set_meta(roots::STATUS, status.as_str())
    }

    /// Recorded positions, by member code (codes in ascending order).
    pub fn positions(&self) -> Vec<(String, Stance)> {
        let txn = self.record.doc().transact();
        let mut positions: Vec<(String, Stance)> = self
            .positions
            .iter(&txn)
            .filter_map(|(code, value)| match value {
                Out::Any(Any::String(stance)) => Some((code.to_owned(), Stance::parse(&stance)?)),
                _ => None,
            })
            .collect();
        positions.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        positions
    }

    /// Records (`Some`) or withdraws (`None`) a member's position.
    pub fn set_position(&self, code: &str, stance: Option<Stance>) -> Update {
        self.record.edit(|txn, _| match stance {
            Some(stance) => {
                self.positions.try_update(txn, code, stance.as_str());
            }
            None => {
                self.positions.remove(txn, code);
            }
        })
    }

    pub fn focus_areas(&self) -> Vec<FocusArea> {
        self.record.focus_areas_in(&self.focus_areas)
    }

    pub fn set_focus_area(&self, area: FocusArea, included: bool) -> Update {
        self.record
            .set_member(&self.focus_areas, area.as_str(), included)
    }

    /// Section ids in display order: each once, removed ones left out.
    fn ordered_ids<T: yrs::ReadTxn>(&self, txn: &T) -> Vec<String> {
        let contents = &self.contents;
        let mut seen = std::collections::HashSet::new();
        self.order
            .iter(txn)
            .filter_map(|value| match value {
                Out::Any(Any::String(id)) => Some(id.to_string()),
                _ => None,
            })
            // Two people moving one section at once leave its id twice; the first wins.
            .filter(|id| seen.insert(id.clone()))
            .filter(|id| match contents.get(txn, id) {
                Some(Out::YMap(section)) => {
                    !matches!(section.get(txn, REMOVED), Some(Out::Any(Any::Bool(true))))
                }
                _ => false,
            })
            .collect()
    }

    pub fn sections(&self) -> Vec<Section> {
        let txn = self.record.doc().transact();
        let contents = &self.contents;
        self.ordered_ids(&txn)
            .into_iter()
            .filter_map(|id| {
                let Some(Out::YMap(section)) = contents.get(&txn, &id) else {
                    return None;
                };
                let text = |key: &str| match section.get(&txn, key) {
                    Some(Out::YText(text)) => text.get_string(&txn),
                    _ => String::new(),
                };
                Some(Section {
                    heading: text(HEADING),
                    body: text(BODY),
                    id: SectionId(id),
                })
            })
            .collect()
    }

    /// The sections' ids in order, without reading their text.
    pub fn section_ids(&self) -> Vec<SectionId> {
        let txn = self.record.doc().transact();
        self.ordered_ids(&txn).into_iter().map(SectionId).collect()
    }

    /// One section's heading; `None` for an unknown section.
    pub fn section_heading(&self, id: &SectionId) -> Option<String> {
        self.section_text(id, HEADING)
    }

    /// One section's body; `None` for an unknown section.
    pub fn section_body(&self, id: &SectionId) -> Option<String> {
        self.section_text(id, BODY)
    }

    fn section_text(&self, id: &SectionId, key: &str) -> Option<String> {
        let txn = self.record.doc().transact();
        match self.contents.get(&txn, &id.0)? {
            Out::YMap(section) => match section.get(&txn, key)? {
                Out::YText(text) => Some(text.get_string(&txn)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Adds a section at `position` among the current sections (clamped to the end).
    /// `id` must be new: callers derive it from a fresh [`super::RecordId`] or similar.
    pub fn insert_section(&self, position: usize, id: &SectionId, heading: &str) -> Update {
        let contents = &self.contents;
        let order = &self.order;
        let visible = {
            let txn = self.record.doc().transact();
            self.ordered_ids(&txn)
        };
        self.record.edit(|txn, _| {
            contents.insert(
                txn,
                id.0.as_str(),
                MapPrelim::from([
                    (HEADING, yrs::In::from(TextPrelim::new(heading))),
                    (BODY, yrs::In::from(TextPrelim::new(""))),
                ]),
            );
            let index = array_index_for(order, txn, &visible, position);
            order.insert(txn, index, id.0.as_str());
        })
    }

    /// Moves a section to `position` among the sections (clamped to the end).
    pub fn move_section(&self, id: &SectionId, position: usize) -> Update {
        let order = &self.order;
        let visible: Vec<String> = {
            let txn = self.record.doc().transact();
            self.ordered_ids(&txn)
                .into_iter()
                .filter(|other| *other != id.0)
                .collect()
        };
        self.record.edit(|txn, _| {
            remove_from_order(order, txn, &id.0);
            let index = array_index_for(order, txn, &visible, position);
            order.insert(txn, index, id.0.as_str());
        })
    }

    pub fn remove_section(&self, id: &SectionId) -> Update {
        let contents = &self.contents;
        let order = &self.order;
        self.record.edit(|txn, _| {
            if let Some(Out::YMap(section)) = contents.get(txn, &id.0) {
                section.insert(txn, REMOVED, true);
            }
            remove_from_order(order, txn, &id.0);
        })
    }

    pub fn set_section_heading(&self, id: &SectionId, heading: &str) -> Option<Update> {
        self.edit_section_text(id, HEADING, heading)
    }

    pub fn set_section_body(&self, id: &SectionId, body: &str) -> Option<Update> {
        self.edit_section_text(id, BODY, body)
    }

    fn edit_section_text(&self, id: &SectionId, key: &str, value: &str) -> Option<Update> {
        let text = {
            let txn = self.record.doc().transact();
            match self.contents.get(&txn, &id.0)? {
                Out::YMap(section) => match section.get(&txn, key)? {
                    Out::YText(text) => text,
                    _ => return None,
                },
                _ => return None,
            }
        };
        Some(self.record.write_text(&text, value))
    }

    pub fn summary(&self) -> RecommendationSummary {
        RecommendationSummary {
            title: self.title(),
            summary: self.summary_text(),
            status: self.status(),
            focus_areas: self.focus_areas(),
            sections: self.sections(),
            positions: self.positions(),
        }
    }
}

/// The array index at which an item lands at `position` among `visible` ids
/// (the array may also hold duplicates and removed ids, which are skipped).
fn array_index_for(
    order: &ArrayRef,
    txn: &yrs::TransactionMut,
    visible: &[String],
    position: usize,
) -> u32 {
    let Some(anchor) = visible.get(position) else {
        return order.len(txn);
    };
    order
        .iter(txn)
        .position(|value| matches!(value, Out::Any(Any::String(ref id)) if id.as_ref() == anchor))
        .and_then(|index| u32::try_from(index).ok())
        .unwrap_or_else(|| order.len(txn))
}

fn remove_from_order(order: &ArrayRef, txn: &mut yrs::TransactionMut, id: &str) {
    let indexes: Vec<u32> = order
        .iter(txn)
        .enumerate()
        .filter(
            |(_, value)| matches!(value, Out::Any(Any::String(ref other)) if other.as_ref() == id),
        )
        .filter_map(|(index, _)| u32::try_from(index).ok())
        .collect();
    for index in indexes.into_iter().rev() {
        order.remove(txn, index);
    }
}
