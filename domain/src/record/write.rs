//! Changing any field by its [`FieldPath`]: an edit checked against the
//! field's type and the kind's rules, then applied in one transaction.

use super::date::Date;
use super::items::{List, MERGED_INTO, MERGED_TEXT, REMOVED};
use super::path::FieldPath;
use super::schema::{FieldDef, FieldType, ItemsDef, Rule, SetOf};
use super::{Record, Update};
use yrs::{
    Any, ArrayPrelim, ArrayRef, GetString, In, Map, MapPrelim, MapRef, Out, ReadTxn, Text,
    TextPrelim, Transact, TransactionMut,
};

/// One change of one field. Which edits fit which type is checked: text goes
use super::fields::*;

impl Record {
    /// Changes one field. Refused edits change nothing and say why.
    pub fn change(&self, path: &FieldPath, edit: FieldEdit) -> Result<Update, FieldError> {
        let (resolved, top) = self.locate(path)?;
        let field = resolved.field;
        super::checks::check_edit_fits(self.id(), field, &edit)?;
        if let (true, FieldEdit::Text(text)) = (field.is_text(), &edit) {
            return self.set_text_at(path, text);
        }
        let rules: &[Rule] = match resolved.lists.last() {
            Some((list, _)) => match list.ty {
                FieldType::Items(items) => items.rules,
                _ => &[],
            },
            None => self.def().map_or(&[], |def| def.rules),
        };
        let mut txn = self.doc().transact_mut();
        let item = walk(&txn, &top, &resolved.lists).ok_or(FieldError::NoSuchItem)?;
        let place = place(&item, &top);
        if let FieldEdit::Date(Some(date)) = &edit {
            self.check_date_rules(&txn, place, field.key, *date, rules)?;
        }
        let claim = super::conflicts::claim_of(path, &edit);
        self.apply(&mut txn, place, field, edit)?;
        if let Some((field, value)) = claim {
            self.claim(&mut txn, &field, value);
        }
        Ok(Update(txn.encode_update_v1()))
    }

    fn check_date_rules<T: ReadTxn>(
        &self,
        txn: &T,
        place: Place,
        key: &str,
        date: Date,
        rules: &[Rule],
    ) -> Result<(), FieldError> {
        let other = |key: &str| {
            scalar_string(txn, self.meta(), place, key).and_then(|text| Date::parse(&text))
        };
        for rule in rules {
            let Rule::NotBefore { earlier, later } = *rule;
            let broken = if key == earlier {
                other(later).is_some_and(|end| end < date)
            } else if key == later {
                other(earlier).is_some_and(|start| date < start)
            } else {
                false
            };
            if broken {
                return Err(FieldError::EndBeforeStart { earlier, later });
            }
        }
        Ok(())
    }

    fn apply(
        &self,
        txn: &mut TransactionMut,
        place: Place,
        field: &FieldDef,
        edit: FieldEdit,
    ) -> Result<(), FieldError> {
        let key = field.key;
        match edit {
            // Text fields take the typing path, `set_text_at`; this is e-mail,
            // phone and links.
            FieldEdit::Text(value) => {
                set_scalar(txn, self.meta(), place, key, Some(value.trim().into()));
            }
            FieldEdit::Date(date) => {
                set_scalar(
                    txn,
                    self.meta(),
                    place,
                    key,
                    Some(date.map(|d| d.to_string()).unwrap_or_default().into()),
                );
            }
            FieldEdit::Choice(value) => {
                set_scalar(
                    txn,
                    self.meta(),
                    place,
                    key,
                    Some(value.unwrap_or_default().into()),
                );
            }
            FieldEdit::Ref(target) => {
                let value = target.map(|(id, _)| id.to_string()).unwrap_or_default();
                set_scalar(txn, self.meta(), place, key, Some(value.into()));
            }
            FieldEdit::Flag(on) => set_scalar(txn, self.meta(), place, key, Some(Any::Bool(on))),
            FieldEdit::Include { value, included } => {
                let set = map_for_write(txn, place, key)?;
                let value = match field.ty {
                    FieldType::Set(SetOf::Tags) => value.trim().to_owned(),
                    _ => value,
                };
                include(txn, &set, &value, included);
            }
            FieldEdit::IncludeRef {
                target, included, ..
            } => {
                let set = map_for_write(txn, place, key)?;
                include(txn, &set, &target.to_string(), included);
            }
            FieldEdit::Keyed { key: member, value } => {
                let map = map_for_write(txn, place, key)?;
                match value {
                    Some(value) => {
                        map.try_update(txn, member.as_str(), value.as_str());
                    }
                    None => {
                        map.remove(txn, &member);
                    }
                }
            }
            FieldEdit::InsertItem { id, position } => {
                let FieldType::Items(items) = field.ty else {
                    return Err(FieldError::WrongEdit);
                };
                let list = list_for_write(txn, place, field, items)?;
                if list.knows(txn, &id.0) {
                    return Err(FieldError::ItemExists);
                }
                let visible = list.ids(txn);
                list.contents
                    .insert(txn, id.0.as_str(), new_item(items.fields));
                list.place(txn, &visible, position, &id.0);
            }
            FieldEdit::MoveItem { id, position } => {
                let FieldType::Items(items) = field.ty else {
                    return Err(FieldError::WrongEdit);
                };
                let list = list_at(txn, place, field, items).ok_or(FieldError::NoSuchItem)?;
                if list.live_item(txn, &id.0).is_none() {
                    return Err(FieldError::NoSuchItem);
                }
                let visible: Vec<String> = list
                    .ids(txn)
                    .into_iter()
                    .filter(|other| *other != id.0)
                    .collect();
                list.unplace(txn, &id.0);
                list.place(txn, &visible, position, &id.0);
            }
            FieldEdit::SplitItem { id, new_id, at } => {
                let FieldType::Items(items) = field.ty else {
                    return Err(FieldError::WrongEdit);
                };
                let key = items.flowing_text().ok_or(FieldError::WrongEdit)?;
                let list = list_at(txn, place, field, items).ok_or(FieldError::NoSuchItem)?;
                let item = list.live_item(txn, &id.0).ok_or(FieldError::NoSuchItem)?;
                if list.knows(txn, &new_id.0) {
                    return Err(FieldError::ItemExists);
                }
                let text = match item.get(txn, key) {
                    Some(Out::YText(text)) => text,
                    _ => item.insert(txn, key, TextPrelim::new("")),
                };
                let whole = text.get_string(txn);
                let units = whole.encode_utf16().count() as u32;
                let at = at.min(units);
                // The offset counts UTF-16 units; a split inside a character's
                // surrogate pair is refused rather than breaking the character.
                let head: Vec<u16> = whole.encode_utf16().take(at as usize).collect();
                let head = String::from_utf16(&head).map_err(|_| FieldError::WrongEdit)?;
                let tail = whole[head.len()..].to_owned();
                text.remove_range(txn, at, units - at);
                let visible = list.ids(txn);
                let position = visible
                    .iter()
                    .position(|other| *other == id.0)
                    .map_or(visible.len(), |p| p + 1);
                let mut new = new_item(items.fields);
                new.insert(key.into(), In::from(TextPrelim::new(tail.as_str())));
                list.contents.insert(txn, new_id.0.as_str(), new);
                list.place(txn, &visible, position, &new_id.0);
            }
            FieldEdit::MergeItem { id, into } => {
                let FieldType::Items(items) = field.ty else {
                    return Err(FieldError::WrongEdit);
                };
                let key = items.flowing_text().ok_or(FieldError::WrongEdit)?;
                if id == into {
                    return Err(FieldError::WrongEdit);
                }
                let list = list_at(txn, place, field, items).ok_or(FieldError::NoSuchItem)?;
                let item = list.live_item(txn, &id.0).ok_or(FieldError::NoSuchItem)?;
                let target = list.live_item(txn, &into.0).ok_or(FieldError::NoSuchItem)?;
                let joined = match item.get(txn, key) {
                    Some(Out::YText(text)) => text.get_string(txn),
                    _ => String::new(),
                };
                let text = match target.get(txn, key) {
                    Some(Out::YText(text)) => text,
                    _ => target.insert(txn, key, TextPrelim::new("")),
                };
                let existing = text.get_string(txn);
                // One space between two sentences, unless one side has it.
                let space = !existing.is_empty()
                    && !joined.is_empty()
                    && !existing.ends_with(char::is_whitespace)
                    && !joined.starts_with(char::is_whitespace);
                let end = existing.encode_utf16().count() as u32;
                text.insert(
                    txn,
                    end,
                    &format!("{}{joined}", if space { " " } else { "" }),
                );
                item.insert(txn, MERGED_INTO, into.0.as_str());
                item.insert(txn, MERGED_TEXT, joined.as_str());
            }
            FieldEdit::RemoveItem { id } => {
                let FieldType::Items(items) = field.ty else {
                    return Err(FieldError::WrongEdit);
                };
                let list = list_at(txn, place, field, items).ok_or(FieldError::NoSuchItem)?;
                let item = list.live_item(txn, &id.0).ok_or(FieldError::NoSuchItem)?;
                item.insert(txn, REMOVED, true);
                list.unplace(txn, &id.0);
            }
        }
        Ok(())
    }
}

/// Sets a scalar; an unchanged value makes no edit.
fn set_scalar(
    txn: &mut TransactionMut,
    meta: &MapRef,
    place: Place,
    key: &str,
    value: Option<Any>,
) {
    let map = match place {
        Place::Top(_) => meta,
        Place::Item(item) => item,
    };
    if let Some(value) = value {
        map.try_update(txn, key, value);
    }
}

/// A set's map, made inside an item that predates the field. Top-level maps
/// are roots, taken before the transaction.
fn map_for_write(txn: &mut TransactionMut, place: Place, key: &str) -> Result<MapRef, FieldError> {
    if let Some(map) = map_at(txn, place, key) {
        return Ok(map);
    }
    match place {
        Place::Item(item) => Ok(item.insert(txn, key, MapPrelim::default())),
        Place::Top(_) => Err(FieldError::WrongEdit),
    }
}

fn list_for_write(
    txn: &mut TransactionMut,
    place: Place,
    field: &FieldDef,
    items: &ItemsDef,
) -> Result<List, FieldError> {
    if let Some(list) = list_at(txn, place, field, items) {
        return Ok(list);
    }
    match place {
        Place::Item(item) => {
            let contents: MapRef = item.insert(txn, field.key, MapPrelim::default());
            let order: ArrayRef = item.insert(
                txn,
                order_key(field, items, false).as_str(),
                ArrayPrelim::default(),
            );
            Ok(List { contents, order })
        }
        Place::Top(_) => Err(FieldError::WrongEdit),
    }
}

/// A new item with an empty container for each text, set and list sub-field,
/// so two people typing into a new item's field never each make their own.
fn new_item(fields: &[FieldDef]) -> MapPrelim {
    let mut item = MapPrelim::default();
    for field in fields {
        match field.ty {
            FieldType::Text | FieldType::LongText => {
                item.insert(field.key.into(), In::from(TextPrelim::new("")));
            }
            FieldType::Set(_) | FieldType::Refs(_) | FieldType::PerMember(_) => {
                item.insert(field.key.into(), In::from(MapPrelim::default()));
            }
            FieldType::Items(items) => {
                item.insert(field.key.into(), In::from(MapPrelim::default()));
                item.insert(
                    order_key(field, items, false).into(),
                    In::from(ArrayPrelim::default()),
                );
            }
            _ => {}
        }
    }
    item
}

fn include(txn: &mut TransactionMut, set: &MapRef, value: &str, included: bool) {
    if included {
        set.try_update(txn, value, true);
    } else {
        set.remove(txn, value);
    }
}
