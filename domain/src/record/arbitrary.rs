//! Random edits of any kind of record, from its declaration: what the seeded
//! convergence tests (here and through the real server) make replicas do.
//! Only in tests and with the `testing` feature.

use super::path::FieldPath;
use super::schema::{FieldDef, FieldType, SetOf};
use super::{Date, FieldEdit, ItemId, Record, RecordId, RecordKind, Update};
use crate::region::{FocusArea, MEMBERS};

/// Words with the characters that break naive text handling.
pub const WORDS: [&str; 10] = [
    "child",
    " rights",
    " Østersjø",
    " Ąžuolas",
    " care",
    " 🇪🇪",
    " barnahus",
    " prevention",
    "\n",
    " Ümlaut",
];

/// A few record ids of every kind for reference fields to point at.
pub fn target(kind: RecordKind, n: u8) -> RecordId {
    RecordId::v7(1_700_000_000_000 + kind as u64, [n; 10])
}

/// A random change of `text`: a word inserted or a stretch deleted.
pub fn random_text(below: &mut dyn FnMut(usize) -> usize, current: &str) -> String {
    let chars: Vec<char> = current.chars().collect();
    let at = below(chars.len() + 1);
    if !chars.is_empty() && below(100) < 30 {
        let end = (at + 1 + below(8)).min(chars.len());
        let start = at.min(end.saturating_sub(1));
        chars[..start].iter().chain(chars[end..].iter()).collect()
    } else {
        let word = WORDS[below(WORDS.len())];
        chars[..at]
            .iter()
            .copied()
            .chain(word.chars())
            .chain(chars[at..].iter().copied())
            .collect()
    }
}

/// One random edit of one random field (items included, at any depth).
/// `fresh` names a new item uniquely (the replica and the step). `None` when
/// the chosen edit was refused (a date rule, a removed item): that is normal.
pub fn random_edit(
    record: &Record,
    below: &mut dyn FnMut(usize) -> usize,
    fresh: &str,
) -> Option<Update> {
    let def = record.def()?;
    let fields: Vec<&'static FieldDef> = def.all_fields().collect();
    let field = fields[below(fields.len())];
    edit_field(record, below, fresh, FieldPath::top(field.key), field, 0)
}

fn edit_field(
    record: &Record,
    below: &mut dyn FnMut(usize) -> usize,
    fresh: &str,
    path: FieldPath,
    field: &'static FieldDef,
    depth: usize,
) -> Option<Update> {
    let edit = match field.ty {
        FieldType::Text | FieldType::LongText => {
            let current = record.text(&path).unwrap_or_default();
            FieldEdit::Text(random_text(below, &current))
        }
        FieldType::Email => FieldEdit::Text(["a@b.org", "anna@sm.ee", ""][below(3)].into()),
        FieldType::Phone => FieldEdit::Text(["+372 612 3456", "", "040 123 456"][below(3)].into()),
        FieldType::Url => {
            FieldEdit::Text(["https://cbss.org/", "", "http://a.fi"][below(3)].into())
        }
        FieldType::Date => FieldEdit::Date(
            (below(5) > 0).then(|| Date::from_days_since_epoch(20_000 + below(800) as i64)),
        ),
        FieldType::Flag => FieldEdit::Flag(below(2) == 0),
        FieldType::Choice(choices) => FieldEdit::Choice(
            (below(6) > 0).then(|| choices.options[below(choices.options.len())].to_owned()),
        ),
        FieldType::Ref(kinds) => FieldEdit::Ref((below(5) > 0).then(|| {
            let kind = kinds[below(kinds.len())];
            (target(kind, below(3) as u8), kind)
        })),
        FieldType::Refs(kinds) => {
            let kind = kinds[below(kinds.len())];
            FieldEdit::IncludeRef {
                target: target(kind, below(3) as u8),
                kind,
                included: below(10) < 6,
            }
        }
        FieldType::Set(of) => FieldEdit::Include {
            value: match of {
                SetOf::Members => MEMBERS[below(MEMBERS.len())].code.to_owned(),
                SetOf::FocusAreas => FocusArea::ALL[below(4)].as_str().to_owned(),
                SetOf::Tags => ["foster care", "Barnahus", "ĄŽ"][below(3)].to_owned(),
                SetOf::Choices(choices) => choices.options[below(choices.options.len())].into(),
            },
            included: below(10) < 6,
        },
        FieldType::PerMember(choices) => FieldEdit::Keyed {
            key: MEMBERS[below(MEMBERS.len())].code.to_owned(),
            value: (below(5) > 0).then(|| choices.options[below(choices.options.len())].into()),
        },
        FieldType::Items(items) => {
            let ids = record.item_ids(&path);
            match below(7) {
                // Paragraphs split at a random point of their text...
                6 if !ids.is_empty() && items.flowing_text().is_some() => {
                    let item = ids[below(ids.len())].clone();
                    let length = items
                        .flowing_text()
                        .and_then(|key| record.text(&path.child(item.clone(), key)))
                        .map_or(0, |text| text.encode_utf16().count());
                    FieldEdit::SplitItem {
                        id: item,
                        new_id: ItemId(format!("{fresh}-{depth}")),
                        at: u32::try_from(below(length + 2)).unwrap_or(0),
                    }
                }
                // Or join the one before.
                5 if ids.len() > 1 && items.flowing_text().is_some() => {
                    let at = 1 + below(ids.len() - 1);
                    FieldEdit::MergeItem {
                        id: ids[at].clone(),
                        into: ids[at - 1].clone(),
                    }
                }
                0 | 1 => FieldEdit::InsertItem {
                    id: ItemId(format!("{fresh}-{depth}")),
                    position: below(ids.len() + 1),
                },
                2 if !ids.is_empty() => FieldEdit::MoveItem {
                    id: ids[below(ids.len())].clone(),
                    position: below(ids.len()),
                },
                3 if ids.len() > 2 => FieldEdit::RemoveItem {
                    id: ids[below(ids.len())].clone(),
                },
                _ if !ids.is_empty() => {
                    let item = ids[below(ids.len())].clone();
                    let sub = &items.fields[below(items.fields.len())];
                    return edit_field(
                        record,
                        below,
                        fresh,
                        path.child(item, sub.key),
                        sub,
                        depth + 1,
                    );
                }
                _ => FieldEdit::InsertItem {
                    id: ItemId(format!("{fresh}-{depth}")),
                    position: 0,
                },
            }
        }
    };
    record.change(&path, edit).ok()
}
