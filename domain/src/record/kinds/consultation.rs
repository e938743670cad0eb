//! An expert consultation: when and where, who organised it and who took part
//! in what role, its agenda, outcomes and agreed follow-ups, and the
//! recommendations it informs.

use crate::record::schema::{Choices, FieldDef, FieldType as T, ItemsDef, KindDef, Rule, SetOf};
use crate::record::RecordKind;

pub static FORMAT: Choices = Choices {
    name: "consultation_format",
    options: &["in_person", "online", "hybrid"],
    default: None,
};

pub static ROLE: Choices = Choices {
    name: "participant_role",
    options: &["speaker", "expert", "member_representative", "observer"],
    default: None,
};

pub static PARTICIPANTS: ItemsDef = ItemsDef {
    fields: &[
        FieldDef::new("person", T::Ref(&[RecordKind::Person])),
        FieldDef::new("role", T::Choice(&ROLE)),
    ],
    title: None,
    rules: &[],
    order_root: None,
    numbered: false,
};

pub static AGENDA: ItemsDef = ItemsDef {
    fields: &[
        FieldDef::new("title", T::Text).searchable(),
        FieldDef::new("notes", T::LongText).searchable(),
    ],
    title: Some("title"),
    rules: &[],
    order_root: None,
    numbered: false,
};

pub static OUTCOMES: ItemsDef = ItemsDef {
    fields: &[FieldDef::new("text", T::LongText).searchable()],
    title: Some("text"),
    rules: &[],
    order_root: None,
    numbered: false,
};

pub static FOLLOW_UPS: ItemsDef = ItemsDef {
    fields: &[
        FieldDef::new("title", T::Text).searchable(),
        FieldDef::new(
            "owner",
            T::Ref(&[RecordKind::Person, RecordKind::Organisation]),
        ),
        FieldDef::new("due_date", T::Date),
        FieldDef::new("done", T::Flag),
    ],
    title: Some("title"),
    rules: &[],
    order_root: None,
    numbered: false,
};

pub static KIND: KindDef = KindDef {
    kind: RecordKind::Consultation,
    tag: "consultation",
    path: "consultations",
    fields: &[
        FieldDef::new("title", T::Text).searchable().listed(),
        FieldDef::new("start_date", T::Date).listed().filter(),
        FieldDef::new("end_date", T::Date),
        FieldDef::new("format", T::Choice(&FORMAT))
            .listed()
            .filter(),
        // City and country in words, or the platform of an online meeting.
        FieldDef::new("venue", T::Text).searchable().listed(),
        FieldDef::new("organiser", T::Ref(&[RecordKind::Organisation])),
        FieldDef::new("focus_areas", T::Set(SetOf::FocusAreas)).filter(),
        FieldDef::new("countries", T::Set(SetOf::Members)).filter(),
        FieldDef::new("description", T::LongText).searchable(),
        FieldDef::new("participants", T::Items(&PARTICIPANTS)),
        FieldDef::new("agenda", T::Items(&AGENDA)).searchable(),
        FieldDef::new("outcomes", T::Items(&OUTCOMES)).searchable(),
        FieldDef::new("follow_ups", T::Items(&FOLLOW_UPS)).searchable(),
        FieldDef::new("informs", T::Refs(&[RecordKind::Recommendation])),
    ],
    title: "title",
    status: None,
    rules: &[Rule::NotBefore {
        earlier: "start_date",
        later: "end_date",
    }],
    personal_data: false,
};
