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
use super::items::List;
use super::path::{resolve, FieldPath, ItemId, Resolved};
use super::schema::{Choices, FieldDef, FieldType, ItemsDef, KindDef, SetOf, MAX_TAG_CHARS};
use super::text::splice_to;
use super::{Record, RecordId, RecordKind, Update};
use crate::region::{FocusArea, MEMBERS};
use serde_json::{Map as JsonMap, Value};
use yrs::{Any, GetString, Map, MapRef, Out, ReadTxn, TextPrelim, TextRef, Transact};

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
    /// Splits an item of a list whose items are one flowing text each
    /// ([`ItemsDef::flowing_text`], a recommendation's paragraphs) in two:
    /// the text after `at` (UTF-16 units, as browsers count) moves into a new
    /// item `new_id` right after it. Text a colleague types meanwhile into the
    /// part that moved stays in the first item: nobody's words are lost.
    SplitItem {
        id: ItemId,
        new_id: ItemId,
        at: u32,
    },
    /// Joins item `id` of such a list onto the end of item `into`'s text and
    /// hides it. It stays hidden only while its text is what was joined and
    /// `into` is still there: words a colleague typed into it meanwhile, or
    /// the removal of `into`, bring it back, so a merge hides nobody's words.
    MergeItem {
        id: ItemId,
        into: ItemId,
    },
}

impl FieldEdit {
    /// The top-level item `edit` of the field at `path` changes, as (list,
    /// item): the item the path is in, or the item a list edit adds, moves or
    /// removes. `None` for a field outside every list. An outline marks such
    /// items while their change is not synced.
    pub fn top_item<'a>(&'a self, path: &'a FieldPath) -> Option<(&'static str, &'a ItemId)> {
        if let Some((list, item)) = path.items.first() {
            return Some((list, item));
        }
        match self {
            FieldEdit::InsertItem { id, .. }
            | FieldEdit::MoveItem { id, .. }
            | FieldEdit::RemoveItem { id }
            | FieldEdit::SplitItem { id, .. } => Some((path.field, id)),
            FieldEdit::MergeItem { into, .. } => Some((path.field, into)),
            _ => None,
        }
    }
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
    #[error("the text is longer than the field's {max} characters")]
    TooLong { max: usize },
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
            FieldError::TooLong { .. } => "too_long",
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
pub(super) enum Place<'a> {
    Top(&'a Top),
    Item(&'a MapRef),
}

pub(super) fn order_key(field: &FieldDef, items: &ItemsDef, top: bool) -> String {
    match (top, items.order_root) {
        (true, Some(root)) => root.to_owned(),
        _ => format!("{}_order", field.key),
    }
}

/// Where an item step lands: inside the item, or at the top level.
pub(super) fn place<'a>(item: &'a Option<MapRef>, top: &'a Top) -> Place<'a> {
    match item {
        Some(item) => Place::Item(item),
        None => Place::Top(top),
    }
}

impl Record {
    /// A path resolved against this record's kind, with the root its first
    /// step lives in (taken before any transaction opens).
    pub(super) fn locate(&self, path: &FieldPath) -> Result<(Resolved, Top), FieldError> {
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

    pub(super) fn top(&self, field: &'static FieldDef) -> Top {
        if let Some((_, top)) = self.tops.borrow().iter().find(|(key, _)| *key == field.key) {
            return top.clone();
        }
        let top = self.take_top(field);
        self.tops.borrow_mut().push((field.key, top.clone()));
        top
    }

    pub(super) fn take_top(&self, field: &FieldDef) -> Top {
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
        if let Some(max) = resolved.field.ty.max_chars() {
            if super::schema::too_long(value, max) {
                return Err(FieldError::TooLong { max });
            }
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
        self.in_list(list, |txn, list| list.ids(txn))
    }

    /// The items of a list that were merged onto another and came back
    /// because words were typed into them meanwhile: the user is told.
    pub fn merged_back(&self, list: &FieldPath) -> Vec<ItemId> {
        self.in_list(list, |txn, list| list.merged_back(txn))
    }

    /// Item ids `read` finds in a list field (none if it is not one).
    fn in_list(
        &self,
        list: &FieldPath,
        read: impl FnOnce(&yrs::Transaction, List) -> Vec<String>,
    ) -> Vec<ItemId> {
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
            .map(|list| read(&txn, list).into_iter().map(ItemId).collect())
            .unwrap_or_default()
    }

    /// Every field, top level, as one JSON object (the projection's fields).
    pub(crate) fn read_all(&self, def: &KindDef) -> JsonMap<String, Value> {
        let tops: Vec<(&FieldDef, Top)> = def
            .all_fields()
            .map(|field| (field, self.top(field)))
            .collect();
        let txn = self.doc().transact();
        // Inserted one by one: collecting into the map would sort, and the
        // sort's code would join the browser's first load.
        let mut fields = JsonMap::new();
        for (field, top) in &tops {
            fields.insert(
                field.key.to_owned(),
                self.read_at(&txn, Place::Top(top), field),
            );
        }
        fields
    }

    pub(super) fn read_at<T: ReadTxn>(&self, txn: &T, place: Place, field: &FieldDef) -> Value {
        match field.ty {
            FieldType::Text | FieldType::LongText => Value::String(
                text_at(txn, place, field.key)
                    .map(|text| text.get_string(txn))
                    .unwrap_or_default(),
            ),
            FieldType::Email | FieldType::Phone | FieldType::Url => {
                Value::String(scalar_string(txn, self.meta(), place, field.key).unwrap_or_default())
            }
            // `parse` reads only the canonical form, so a date that reads is
            // kept as written (formatting it again would cost the first load).
            FieldType::Date => scalar_string(txn, self.meta(), place, field.key)
                .filter(|text| Date::parse(text).is_some())
                .map_or(Value::Null, Value::String),
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
                let mut entries = JsonMap::new();
                if let Some(map) = map_at(txn, place, field.key) {
                    for (code, value) in map.iter(txn) {
                        if let Out::Any(Any::String(value)) = value {
                            if choices.contains(&value) {
                                entries.insert(code.to_owned(), Value::String(value.to_string()));
                            }
                        }
                    }
                }
                Value::Object(entries)
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
}

/// Walks from the top through the item steps; `None` if an item is missing
/// or removed, `Some(None)` for a top-level field.
pub(super) fn walk<T: ReadTxn>(
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

pub(super) fn text_at<T: ReadTxn>(txn: &T, place: Place, key: &str) -> Option<TextRef> {
    match place {
        Place::Top(Top::Text(text)) => Some(text.clone()),
        Place::Item(item) => match item.get(txn, key)? {
            Out::YText(text) => Some(text),
            _ => None,
        },
        Place::Top(_) => None,
    }
}

pub(super) fn scalar<T: ReadTxn>(txn: &T, meta: &MapRef, place: Place, key: &str) -> Option<Out> {
    match place {
        Place::Top(_) => meta.get(txn, key),
        Place::Item(item) => item.get(txn, key),
    }
}

pub(super) fn scalar_string<T: ReadTxn>(
    txn: &T,
    meta: &MapRef,
    place: Place,
    key: &str,
) -> Option<String> {
    match scalar(txn, meta, place, key)? {
        Out::Any(Any::String(text)) if !text.is_empty() => Some(text.to_string()),
        _ => None,
    }
}

pub(super) fn map_at<T: ReadTxn>(txn: &T, place: Place, key: &str) -> Option<MapRef> {
    match place {
        Place::Top(Top::Map(map)) => Some(map.clone()),
        Place::Item(item) => match item.get(txn, key)? {
            Out::YMap(map) => Some(map),
            _ => None,
        },
        Place::Top(_) => None,
    }
}

pub(super) fn list_at<T: ReadTxn>(
    txn: &T,
    place: Place,
    field: &FieldDef,
    items: &ItemsDef,
) -> Option<List> {
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

/// A set's members in the order its kind of set keeps, unknown ones dropped.
pub(super) fn canonical_set(of: SetOf, mut members: Vec<String>) -> Vec<String> {
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
            // By code point: folding case needs Unicode's case tables, which
            // would join the browser's first load. Screens that show tags
            // order them for reading.
            members.retain(|tag| !tag.trim().is_empty());
            members.sort_unstable();
            members
        }
    }
}
