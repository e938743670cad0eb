//! Whether an edit fits its field and holds a value the field can take,
//! checked before a document is touched (a refused edit changes nothing).

use super::fields::{FieldEdit, FieldError};
use super::path::ItemId;
use super::schema::{FieldDef, FieldType, SetOf, MAX_TAG_CHARS};
use super::{RecordId, RecordKind};
use crate::region::{FocusArea, MEMBERS};

/// Checks that an edit fits its field and holds a value the field can take,
/// before anything is touched.
pub(super) fn check_edit_fits(
    own_id: RecordId,
    field: &FieldDef,
    edit: &FieldEdit,
) -> Result<(), FieldError> {
    match (field.ty, edit) {
        (FieldType::Text | FieldType::LongText, FieldEdit::Text(text)) => {
            let max = field.ty.max_chars().unwrap_or(usize::MAX);
            check(
                !super::schema::too_long(text, max),
                FieldError::TooLong { max },
            )
        }
        (FieldType::Email, FieldEdit::Text(text)) => check(
            text.trim().is_empty() || crate::email::is_plausible_email(text),
            FieldError::NotAnEmail,
        ),
        (FieldType::Phone, FieldEdit::Text(text)) => check(is_phone(text), FieldError::NotAPhone),
        (FieldType::Url, FieldEdit::Text(text)) => check(is_url(text), FieldError::NotAUrl),
        (FieldType::Date, FieldEdit::Date(_)) => Ok(()),
        (FieldType::Flag, FieldEdit::Flag(_)) => Ok(()),
        (FieldType::Choice(choices), FieldEdit::Choice(value)) => check(
            value.as_deref().is_none_or(|value| choices.contains(value)),
            FieldError::UnknownChoice,
        ),
        (FieldType::Ref(kinds), FieldEdit::Ref(target)) => match target {
            None => Ok(()),
            Some((id, kind)) => check_target(own_id, kinds, *id, *kind),
        },
        (
            FieldType::Refs(kinds),
            FieldEdit::IncludeRef {
                target,
                kind,
                included,
            },
        ) => {
            if *included {
                check_target(own_id, kinds, *target, *kind)
            } else {
                Ok(())
            }
        }
        (FieldType::Set(of), FieldEdit::Include { value, included }) => {
            if !included {
                return Ok(());
            }
            match of {
                SetOf::Members => check(
                    MEMBERS.iter().any(|member| member.code == value),
                    FieldError::UnknownMember,
                ),
                SetOf::FocusAreas => check(
                    FocusArea::ALL.iter().any(|area| area.as_str() == value),
                    FieldError::UnknownFocusArea,
                ),
                SetOf::Tags => {
                    let count = value.trim().chars().count();
                    check((1..=MAX_TAG_CHARS).contains(&count), FieldError::NotATag)
                }
                SetOf::Choices(choices) => {
                    check(choices.contains(value), FieldError::UnknownChoice)
                }
            }
        }
        (FieldType::PerMember(choices), FieldEdit::Keyed { key, value }) => {
            check(
                MEMBERS.iter().any(|member| member.code == key),
                FieldError::UnknownMember,
            )?;
            check(
                value.as_deref().is_none_or(|value| choices.contains(value)),
                FieldError::UnknownChoice,
            )
        }
        (FieldType::Items(_), FieldEdit::InsertItem { id, .. }) => {
            check(ItemId::is_well_formed(&id.0), FieldError::BadItemId)
        }
        (FieldType::Items(_), FieldEdit::MoveItem { .. } | FieldEdit::RemoveItem { .. }) => Ok(()),
        (FieldType::Items(items), FieldEdit::MergeItem { id, into }) => {
            check(items.flowing_text().is_some(), FieldError::WrongEdit)?;
            check(id != into, FieldError::WrongEdit)
        }
        (FieldType::Items(items), FieldEdit::SplitItem { new_id, .. }) => {
            check(items.flowing_text().is_some(), FieldError::WrongEdit)?;
            check(ItemId::is_well_formed(&new_id.0), FieldError::BadItemId)
        }
        _ => Err(FieldError::WrongEdit),
    }
}

fn check(ok: bool, error: FieldError) -> Result<(), FieldError> {
    if ok {
        Ok(())
    } else {
        Err(error)
    }
}

fn check_target(
    own_id: RecordId,
    kinds: &[RecordKind],
    target: RecordId,
    kind: RecordKind,
) -> Result<(), FieldError> {
    check(kinds.contains(&kind), FieldError::WrongKind)?;
    check(target != own_id, FieldError::SelfReference)
}

/// Digits, spaces and `+ - ( ) .`, with 5 to 20 digits; empty clears it.
fn is_phone(text: &str) -> bool {
    let text = text.trim();
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    text.is_empty()
        || ((5..=20).contains(&digits)
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b" +-().".contains(&b)))
}

/// `http://` or `https://`, a host with a dot, no spaces; empty clears it.
fn is_url(text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() {
        return true;
    }
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && !text.chars().any(char::is_whitespace)
                && text.len() <= 2_000
        }
        None => false,
    }
}
