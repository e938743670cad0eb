//! Reading and writing any field of any kind by its [`FieldPath`], from the
//! declaration alone.
//!
//! Where a value lives follows from its type. At the top level: text fields
//! are root texts named by their key, scalars (dates, choices, references,
//! e-mail, phone, links, flags) are entries of the `meta` map, sets and
//! per-member values are root maps of member → true / value, and an item list
//! is a root map of items plus a root array of their order (`<key>_order`).
//! Inside an item (a map), the same types sit under their keys. These are the
//! names documents written before the schema already use.

use super::date::Date;
use super::items::{List, REMOVED};
use super::path::{resolve, FieldPath, ItemId, Resolved};
use super::schema::{Choices, FieldDef, FieldType, ItemsDef, KindDef, Rule, SetOf, MAX_TAG_CHARS};
use super::text::splice_to;
use super::{Record, RecordId, RecordKind, Update};
use crate::region::{FocusArea, MEMBERS};
use serde_json::{Map as JsonMap, Value};
use yrs::{
    Any, ArrayPrelim, ArrayRef, GetString, In, Map, MapPrelim, MapRef, Out, ReadTxn, TextPrelim,
    TextRef, Transact, TransactionMut,
};

/// One change of one field. Which edits fit which type is checked: text goes
/// to text, e-mail, phone and link fields; a member to a set; an item to a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldEdit {
    /// The field's whole new text (applied as the smallest splice).
    Text(String),
    Date(Option<Date>),
    Choice(Option<String>),
    /// A reference and the kind of the record it points to.
    Ref(Option<(RecordId, RecordKind)>),
    /// Adds a value to a set, or takes it out.
    Include {
        value: String,
        included: bool,
    },
    /// Adds a record to a set of references, or takes it out.
    IncludeRef {
        target: RecordId,
        kind: RecordKind,
        included: bool,
    },
    /// Sets (`Some`) or clears one member state's value.
    Keyed {
        key: String,
        value: Option<String>,
    },
    Flag(bool),
    /// A new item at `position` among the list's items (clamped to the end).
    InsertItem {
        id: ItemId,
        position: usize,
    },
    MoveItem {
        id: ItemId,
        position: usize,
    },
    RemoveItem {
        id: ItemId,
    },
}

/// Why a field was not changed. A code, not a sentence: the app says it in
/// the user's language. Nothing changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("the record's kind is not known yet")]
    NoKind,
    #[error("the kind has no such field")]
    UnknownField,
    #[error("this kind of change does not fit the field")]
    WrongEdit,
    #[error("not a date in the form YYYY-MM-DD")]
    NotADate,
    #[error("{later} may not be before {earlier}")]
    EndBeforeStart {
        earlier: &'static str,
        later: &'static str,
    },
    #[error("not one of the field's choices")]
    UnknownChoice,
    #[error("not a member of the group")]
    UnknownMember,
    #[error("not a focus area")]
    UnknownFocusArea,
    #[error("a tag must be 1 to {MAX_TAG_CHARS} characters")]
    NotATag,
    #[error("the field does not take records of this kind")]
    WrongKind,
    #[error("a record cannot refer to itself here")]
    SelfReference,
    #[error("the item is not in the list (removed, or never there)")]
    NoSuchItem,
    #[error("an item with this id exists already")]
    ItemExists,
    #[error("not a valid item id")]
    BadItemId,
    #[error("not an e-mail address")]
    NotAnEmail,
    #[error("not a telephone number")]
    NotAPhone,
    #[error("not a web address (https://…)")]
    NotAUrl,
}

impl FieldError {
    /// The stable code the app's messages are keyed by (`error.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            FieldError::NoKind => "no_kind",
            FieldError::UnknownField => "unknown_field",
            FieldError::WrongEdit => "wrong_edit",
            FieldError::NotADate => "not_a_date",
            FieldError::EndBeforeStart { .. } => "end_before_start",
            FieldError::UnknownChoice => "unknown_choice",
            FieldError::UnknownMember => "unknown_member",
            FieldError::UnknownFocusArea => "unknown_focus_area",
            FieldError::NotATag => "not_a_tag",
            FieldError::WrongKind => "wrong_kind",
            FieldError::SelfReference => "self_reference",
            FieldError::NoSuchItem => "no_such_item",
            FieldError::ItemExists => "item_exists",
            FieldError::BadItemId => "bad_item_id",
            FieldError::NotAnEmail => "not_an_email",
            FieldError::NotAPhone => "not_a_phone",
            FieldError::NotAUrl => "not_a_url",
        }
    }
}

/// A top-level field's home, taken before a transaction opens (taking a root
/// inside one deadlocks).
#[derive(Clone)]
pub(crate) enum Top {
    Text(TextRef),
    Meta,
    Map(MapRef),
    Items(List),
}

/// Where a field is read or written: the document's top level or an item.
#[derive(Clone, Copy)]
enum Place<'a> {
    Top(&'a Top),
    Item(&'a MapRef),
}

fn order_key(field: &FieldDef, items: &ItemsDef, top: bool) -> String {
    match (top, items.order_root) {
        (true, Some(root)) => root.to_owned(),
        _ => format!("{}_order", field.key),
    }
}

/// Where an item step lands: inside the item, or at the top level.
fn place<'a>(item: &'a Option<MapRef>, top: &'a Top) -> Place<'a> {
    match item {
        Some(item) => Place::Item(item),
        None => Place::Top(top),
    }
}

impl Record {
    /// A path resolved against this record's kind, with the root its first
    /// step lives in (taken before any transaction opens).
    fn locate(&self, path: &FieldPath) -> Result<(Resolved, Top), FieldError> {
        let def = self.def().ok_or(FieldError::NoKind)?;
        let resolved = resolve(def, path).ok_or(FieldError::UnknownField)?;
        let first = resolved
            .lists
            .first()
            .map_or(resolved.field, |(list, _)| *list);
        let top = self.top(first);
        Ok((resolved, top))
    }

    /// The declaration of this record's kind; `None` until its kind is known.
    pub fn def(&self) -> Option<&'static KindDef> {
        Some(self.kind()?.def())
    }

    fn top(&self, field: &'static FieldDef) -> Top {
        if let Some((_, top)) = self.tops.borrow().iter().find(|(key, _)| *key == field.key) {
            return top.clone();
        }
        let top = self.take_top(field);
        self.tops.borrow_mut().push((field.key, top.clone()));
        top
    }

    fn take_top(&self, field: &FieldDef) -> Top {
        let doc = self.doc();
        match field.ty {
            FieldType::Text | FieldType::LongText => Top::Text(doc.get_or_insert_text(field.key)),
            FieldType::Set(_) | FieldType::Refs(_) | FieldType::PerMember(_) => {
                Top::Map(doc.get_or_insert_map(field.key))
            }
            FieldType::Items(items) => Top::Items(List {
                contents: doc.get_or_insert_map(field.key),
                order: doc.get_or_insert_array(order_key(field, items, true).as_str()),
            }),
            _ => Top::Meta,
        }
    }

    /// A field's value as plain data (see [`super::Projection`] for the
    /// shapes); `None` for a field the kind lacks or an item not in its list.
    pub fn read(&self, path: &FieldPath) -> Option<Value> {
        let (resolved, top) = self.locate(path).ok()?;
        let txn = self.doc().transact();
        let item = walk(&txn, &top, &resolved.lists)?;
        let place = place(&item, &top);
        Some(self.read_at(&txn, place, resolved.field))
    }

    /// A text field's text (also e-mail, phone and link fields); `None` for
    /// another kind of field or an item not in its list. Kept apart from
    /// [`Record::read`]: typing and sync read text, and should not carry every
    /// type's reader with them.
    pub fn text(&self, path: &FieldPath) -> Option<String> {
        let (resolved, top) = self.locate(path).ok()?;
        let txn = self.doc().transact();
        let item = walk(&txn, &top, &resolved.lists)?;
        let place = place(&item, &top);
        let key = resolved.field.key;
        match resolved.field.ty {
            FieldType::Text | FieldType::LongText => Some(
                text_at(&txn, place, key)
                    .map(|text| text.get_string(&txn))
                    .unwrap_or_default(),
            ),
            FieldType::Email | FieldType::Phone | FieldType::Url => {
                Some(scalar_string(&txn, self.meta(), place, key).unwrap_or_default())
            }
            _ => None,
        }
    }

    /// A record's name: its kind's title field.
    pub fn title(&self) -> String {
        self.def()
            .and_then(|def| self.text(&FieldPath::top(def.title)))
            .unwrap_or_default()
    }

    /// Makes a text field read `value`, as the smallest splice (what typing
    /// does). The same as [`Record::change`] with [`FieldEdit::Text`].
    pub fn set_text_at(&self, path: &FieldPath, value: &str) -> Result<Update, FieldError> {
        let (resolved, top) = self.locate(path)?;
        if !resolved.field.is_text() {
            return Err(FieldError::WrongEdit);
        }
        let mut txn = self.doc().transact_mut();
        let item = walk(&txn, &top, &resolved.lists).ok_or(FieldError::NoSuchItem)?;
        let key = resolved.field.key;
        let text = match (&item, &top) {
            (None, Top::Text(text)) => text.clone(),
            (None, _) => return Err(FieldError::WrongEdit),
            (Some(item), _) => match item.get(&txn, key) {
                Some(Out::YText(text)) => text,
                // An item older than the field: its text is made on first use.
                _ => item.insert(&mut txn, key, TextPrelim::new("")),
            },
        };
        splice_to(&text, &mut txn, value);
        Ok(Update(txn.encode_update_v1()))
    }

    /// The live items of a list field, in order (without reading them: a
    /// form asks for them on every change).
    pub fn item_ids(&self, list: &FieldPath) -> Vec<ItemId> {
        let Ok((resolved, top)) = self.locate(list) else {
            return Vec::new();
        };
        let FieldType::Items(items) = resolved.field.ty else {
            return Vec::new();
        };
        let txn = self.doc().transact();
        let Some(item) = walk(&txn, &top, &resolved.lists) else {
            return Vec::new();
        };
        let place = place(&item, &top);
        list_at(&txn, place, resolved.field, items)
            .map(|list| list.ids(&txn).into_iter().map(ItemId).collect())
            .unwrap_or_default()
    }

    /// Every field, top level, as one JSON object (the projection's fields).
    pub(crate) fn read_all(&self, def: &KindDef) -> JsonMap<String, Value> {
        let tops: Vec<(&FieldDef, Top)> = def
            .all_fields()
            .map(|field| (field, self.top(field)))
            .collect();
        let txn = self.doc().transact();
        tops.iter()
            .map(|(field, top)| {
                (
                    field.key.to_owned(),
                    self.read_at(&txn, Place::Top(top), field),
                )
            })
            .collect()
    }

    fn read_at<T: ReadTxn>(&self, txn: &T, place: Place, field: &FieldDef) -> Value {
        match field.ty {
            FieldType::Text | FieldType::LongText => Value::String(
                text_at(txn, place, field.key)
                    .map(|text| text.get_string(txn))
                    .unwrap_or_default(),
            ),
            FieldType::Email | FieldType::Phone | FieldType::Url => {
                Value::String(scalar_string(txn, self.meta(), place, field.key).unwrap_or_default())
            }
            FieldType::Date => scalar_string(txn, self.meta(), place, field.key)
                .and_then(|text| Date::parse(&text))
                .map_or(Value::Null, |date| Value::String(date.to_string())),
            FieldType::Choice(choices) => scalar_string(txn, self.meta(), place, field.key)
                .filter(|value| choices.contains(value))
                .or_else(|| choices.default.map(str::to_owned))
                .map_or(Value::Null, Value::String),
            FieldType::Ref(_) => scalar_string(txn, self.meta(), place, field.key)
                .filter(|id| id.parse::<RecordId>().is_ok())
                .map_or(Value::Null, Value::String),
            FieldType::Flag => Value::Bool(matches!(
                scalar(txn, self.meta(), place, field.key),
                Some(Out::Any(Any::Bool(true)))
            )),
            FieldType::Set(of) => {
                let members = map_at(txn, place, field.key)
                    .map(|map| map.keys(txn).map(str::to_owned).collect::<Vec<_>>())
                    .unwrap_or_default();
                Value::Array(
                    canonical_set(of, members)
                        .into_iter()
                        .map(Value::String)
                        .collect(),
                )
            }
            FieldType::Refs(_) => {
                let mut ids: Vec<String> = map_at(txn, place, field.key)
                    .map(|map| {
                        map.keys(txn)
                            .filter(|id| id.parse::<RecordId>().is_ok())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                ids.sort_unstable();
                Value::Array(ids.into_iter().map(Value::String).collect())
            }
            FieldType::PerMember(choices) => {
                let mut entries: Vec<(String, String)> = map_at(txn, place, field.key)
                    .map(|map| {
                        map.iter(txn)
                            .filter_map(|(code, value)| match value {
                                Out::Any(Any::String(value)) if choices.contains(&value) => {
                                    Some((code.to_owned(), value.to_string()))
                                }
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                entries.sort_unstable();
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(code, value)| (code, Value::String(value)))
                        .collect(),
                )
            }
            FieldType::Items(items) => {
                let Some(list) = list_at(txn, place, field, items) else {
                    return Value::Array(Vec::new());
                };
                Value::Array(
                    list.ids(txn)
                        .into_iter()
                        .filter_map(|id| {
                            let item = list.live_item(txn, &id)?;
                            let mut object = JsonMap::new();
                            object.insert("id".to_owned(), Value::String(id));
                            for sub in items.fields {
                                object.insert(
                                    sub.key.to_owned(),
                                    self.read_at(txn, Place::Item(&item), sub),
                                );
                            }
                            Some(Value::Object(object))
                        })
                        .collect(),
                )
            }
        }
    }

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
        self.apply(&mut txn, place, field, edit)?;
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

/// Walks from the top through the item steps; `None` if an item is missing
/// or removed, `Some(None)` for a top-level field.
fn walk<T: ReadTxn>(
    txn: &T,
    top: &Top,
    lists: &[(&'static FieldDef, ItemId)],
) -> Option<Option<MapRef>> {
    let mut current: Option<MapRef> = None;
    for (field, id) in lists {
        let FieldType::Items(items) = field.ty else {
            return None;
        };
        let list = match &current {
            None => match top {
                Top::Items(list) => list.clone(),
                _ => return None,
            },
            Some(item) => list_at(txn, Place::Item(item), field, items)?,
        };
        current = Some(list.live_item(txn, &id.0)?);
    }
    Some(current)
}

fn text_at<T: ReadTxn>(txn: &T, place: Place, key: &str) -> Option<TextRef> {
    match place {
        Place::Top(Top::Text(text)) => Some(text.clone()),
        Place::Item(item) => match item.get(txn, key)? {
            Out::YText(text) => Some(text),
            _ => None,
        },
        Place::Top(_) => None,
    }
}

fn scalar<T: ReadTxn>(txn: &T, meta: &MapRef, place: Place, key: &str) -> Option<Out> {
    match place {
        Place::Top(_) => meta.get(txn, key),
        Place::Item(item) => item.get(txn, key),
    }
}

fn scalar_string<T: ReadTxn>(txn: &T, meta: &MapRef, place: Place, key: &str) -> Option<String> {
    match scalar(txn, meta, place, key)? {
        Out::Any(Any::String(text)) if !text.is_empty() => Some(text.to_string()),
        _ => None,
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

fn map_at<T: ReadTxn>(txn: &T, place: Place, key: &str) -> Option<MapRef> {
    match place {
        Place::Top(Top::Map(map)) => Some(map.clone()),
        Place::Item(item) => match item.get(txn, key)? {
            Out::YMap(map) => Some(map),
            _ => None,
        },
        Place::Top(_) => None,
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

fn list_at<T: ReadTxn>(txn: &T, place: Place, field: &FieldDef, items: &ItemsDef) -> Option<List> {
    match place {
        Place::Top(Top::Items(list)) => Some(list.clone()),
        Place::Item(item) => {
            let contents = match item.get(txn, field.key)? {
                Out::YMap(map) => map,
                _ => return None,
            };
            let order = match item.get(txn, &order_key(field, items, false))? {
                Out::YArray(array) => array,
                _ => return None,
            };
            Some(List { contents, order })
        }
        Place::Top(_) => None,
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

/// A set's members in the order its kind of set keeps, unknown ones dropped.
fn canonical_set(of: SetOf, mut members: Vec<String>) -> Vec<String> {
    let ordered = |order: &mut dyn Iterator<Item = &'static str>| -> Vec<String> {
        order
            .filter(|known| members.iter().any(|member| member == known))
            .map(str::to_owned)
            .collect()
    };
    match of {
        SetOf::Members => ordered(&mut MEMBERS.iter().map(|member| member.code)),
        SetOf::FocusAreas => ordered(&mut FocusArea::ALL.iter().map(|area| area.as_str())),
        SetOf::Choices(Choices { options, .. }) => ordered(&mut options.iter().copied()),
        SetOf::Tags => {
            members.retain(|tag| !tag.trim().is_empty());
            members.sort_by_key(|tag| tag.to_lowercase());
            members
        }
    }
}
