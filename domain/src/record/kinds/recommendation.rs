//! A recommendation: title, summary, status, focus areas, a preamble,
//! numbered sections of a heading, an opening text and numbered paragraphs,
//! each member state's position, and the good practices it cites.
//! Consultations that informed it and projects that implement it point here
//! (its traceability).

use crate::record::schema::{Choices, FieldDef, FieldType as T, Guard, ItemsDef, KindDef, SetOf};
use crate::record::RecordKind;

pub static STATUS: Choices = Choices {
    name: "recommendation_status",
    options: &[
        "draft",
        // Out for comments, typically after an expert consultation.
        "in_consultation",
        // With the member states for their positions.
        "member_review",
        "adopted",
        "withdrawn",
    ],
    default: Some("draft"),
};

/// A member state's position.
pub static STANCE: Choices = Choices {
    name: "stance",
    options: &["support", "reservation", "objection"],
    default: None,
};

/// A section's numbered paragraphs (1.1, 1.2), the units a recommendation
/// is read, cited and commented by.
pub static PARAGRAPHS: ItemsDef = ItemsDef {
    fields: &[FieldDef::new("text", T::LongText).searchable()],
    title: None,
    rules: &[],
    order_root: None,
    numbered: true,
};

/// Numbered sections: a heading, an optional unnumbered opening text (what
/// sections held before they had paragraphs, kept so no draft loses its
/// text), then numbered paragraphs.
pub static SECTIONS: ItemsDef = ItemsDef {
    fields: &[
        FieldDef::new("heading", T::Text).searchable(),
        FieldDef::new("body", T::LongText).searchable(),
        FieldDef::new("paragraphs", T::Items(&PARAGRAPHS)).searchable(),
    ],
    title: Some("heading"),
    rules: &[],
    order_root: Some("section_order"),
    numbered: true,
};

pub static KIND: KindDef = KindDef {
    kind: RecordKind::Recommendation,
    tag: "recommendation",
    path: "recommendations",
    fields: &[
        FieldDef::new("title", T::Text).searchable().listed(),
        FieldDef::new("status", T::Choice(&STATUS))
            .guard(Guard::Secretariat)
            .listed()
            .filter(),
        FieldDef::new("summary", T::LongText).searchable(),
        FieldDef::new("focus_areas", T::Set(SetOf::FocusAreas)).filter(),
        // The unnumbered text before the sections ("Recalling ...", "Having regard to ...").
        FieldDef::new("preamble", T::LongText).searchable(),
        FieldDef::new("sections", T::Items(&SECTIONS)).searchable(),
        FieldDef::new("positions", T::PerMember(&STANCE)).guard(Guard::OwnMember),
        FieldDef::new("cites", T::Refs(&[RecordKind::GoodPractice])),
    ],
    title: "title",
    status: Some("status"),
    rules: &[],
    personal_data: false,
};
