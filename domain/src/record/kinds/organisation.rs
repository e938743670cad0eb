//! An organisation: a ministry, an NGO, a university, an international body.
//! Its people are the persons whose organisation it is (backlinks).

use super::{MEMBER, SECTOR};
use crate::record::schema::{FieldDef, FieldType as T, KindDef};
use crate::record::RecordKind;

pub static KIND: KindDef = KindDef {
    kind: RecordKind::Organisation,
    tag: "organisation",
    path: "organisations",
    fields: &[
        FieldDef::new("name", T::Text).searchable().listed(),
        FieldDef::new("country", T::Choice(&MEMBER))
            .listed()
            .filter(),
        FieldDef::new("sector", T::Choice(&SECTOR))
            .listed()
            .filter(),
        FieldDef::new("website", T::Url),
        FieldDef::new("parent", T::Ref(&[RecordKind::Organisation])),
        FieldDef::new("description", T::LongText).searchable(),
    ],
    title: "name",
    status: None,
    rules: &[],
    personal_data: false,
};
