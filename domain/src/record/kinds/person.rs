//! A person in the professional network. Personal data under the GDPR: the
//! record says on what basis Tern keeps it, and the secretariat can erase it.

use super::{MEMBER, SECTOR};
use crate::record::schema::{Choices, FieldDef, FieldType as T, KindDef, SetOf};
use crate::record::RecordKind;

/// Why Tern may keep a person's data.
pub static BASIS: Choices = Choices {
    name: "data_basis",
    options: &["consent", "public_role"],
    default: None,
};

pub static KIND: KindDef = KindDef {
    kind: RecordKind::Person,
    tag: "person",
    path: "people",
    fields: &[
        FieldDef::new("name", T::Text).searchable().listed(),
        FieldDef::new("position", T::Text).searchable().listed(),
        FieldDef::new("organisation", T::Ref(&[RecordKind::Organisation])).listed(),
        FieldDef::new("country", T::Choice(&MEMBER))
            .listed()
            .filter(),
        FieldDef::new("sector", T::Choice(&SECTOR)).filter(),
        FieldDef::new("expertise", T::Set(SetOf::FocusAreas)).filter(),
        FieldDef::new("tags", T::Set(SetOf::Tags))
            .searchable()
            .filter(),
        FieldDef::new("email", T::Email),
        FieldDef::new("phone", T::Phone),
        FieldDef::new("basis", T::Choice(&BASIS)),
        // The day consent was given, when that is the basis.
        FieldDef::new("consent_date", T::Date),
    ],
    title: "name",
    status: None,
    rules: &[],
    personal_data: true,
};
