//! A good practice collected across the region: where, for whom, what it
//! does and what it achieved, where it comes from, and whom to contact.

use crate::record::schema::{FieldDef, FieldType as T, KindDef, SetOf};
use crate::record::RecordKind;

pub static KIND: KindDef = KindDef {
    kind: RecordKind::GoodPractice,
    tag: "good_practice",
    path: "good-practices",
    fields: &[
        FieldDef::new("title", T::Text).searchable().listed(),
        FieldDef::new("countries", T::Set(SetOf::Members))
            .listed()
            .filter(),
        FieldDef::new("focus_areas", T::Set(SetOf::FocusAreas)).filter(),
        FieldDef::new("target_group", T::Text).searchable().listed(),
        FieldDef::new("description", T::LongText).searchable(),
        FieldDef::new("results", T::LongText).searchable(),
        // A consultation or project it came from, or a publication.
        FieldDef::new(
            "source",
            T::Ref(&[RecordKind::Consultation, RecordKind::Project]),
        ),
        FieldDef::new("source_link", T::Url),
        FieldDef::new("contact", T::Ref(&[RecordKind::Organisation])),
        FieldDef::new("tags", T::Set(SetOf::Tags))
            .searchable()
            .filter(),
    ],
    title: "title",
    status: None,
    rules: &[],
    personal_data: false,
};
