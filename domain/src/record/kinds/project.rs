//! A project: title, status, start and end date, focus areas, countries, a
//! description, and the recommendations it implements.

use crate::record::schema::{Choices, FieldDef, FieldType as T, KindDef, Rule, SetOf};
use crate::record::RecordKind;

pub static STATUS: Choices = Choices {
    name: "project_status",
    options: &["planned", "active", "on_hold", "completed"],
    default: Some("planned"),
};

pub static KIND: KindDef = KindDef {
    kind: RecordKind::Project,
    tag: "project",
    path: "projects",
    fields: &[
        FieldDef::new("title", T::Text).searchable().listed(),
        FieldDef::new("status", T::Choice(&STATUS))
            .listed()
            .filter(),
        FieldDef::new("start_date", T::Date).listed().filter(),
        FieldDef::new("end_date", T::Date).listed().filter(),
        FieldDef::new("focus_areas", T::Set(SetOf::FocusAreas)).filter(),
        FieldDef::new("countries", T::Set(SetOf::Members))
            .listed()
            .filter(),
        FieldDef::new("description", T::LongText).searchable(),
        FieldDef::new("implements", T::Refs(&[RecordKind::Recommendation])),
    ],
    title: "title",
    status: Some("status"),
    rules: &[Rule::NotBefore {
        earlier: "start_date",
        later: "end_date",
    }],
    personal_data: false,
};
