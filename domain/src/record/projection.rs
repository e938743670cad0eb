//! A record's fields as plain data: what lists, filters, backlinks, search,
//! export and the server's queries read, without loading the yrs document.
//!
//! Shapes, by field type: text, e-mail, phone and link fields are strings
//! (`""` when empty); a date is `"YYYY-MM-DD"` or `null`; a choice is its
//! value (the default when unset) or `null`; a set is an array in its
//! canonical order; a reference is an id or `null`; references are an array
//! of ids; per-member values an object of member code → value; a flag a bool;
//! an item list an array of objects with `"id"` and the item's fields.

use super::date::Date;
use super::schema::{FieldDef, FieldType, KindDef};
use super::{Record, RecordId, RecordKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map as JsonMap, Value};

/// Bumped when the shape of projections changes; the server re-projects rows
/// stored under an older version (2: tags by code point, not folded case;
/// 3: the stamp of the last edit, `_changed`).
pub const PROJECTION_VERSION: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    pub kind: RecordKind,
    #[serde(flatten)]
    pub fields: JsonMap<String, Value>,
}

/// A reference from one record to another, found in a reference field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Link {
    pub target: RecordId,
    /// The field that holds it: a top-level key, or `list.field` inside items.
    pub field: String,
}

impl Record {
    /// This record's projection; `None` until its kind is known.
    pub fn projection(&self) -> Option<Projection> {
        let def = self.def()?;
        let mut fields = self.read_all(def);
        if let Some(stamp) = self.stamp() {
            fields.insert(super::STAMP.to_owned(), stamp.to_json());
        }
        Some(Projection {
            kind: def.kind,
            fields,
        })
    }
}

impl Projection {
    pub fn def(&self) -> &'static KindDef {
        self.kind.def()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// A text field's text (`""` when missing).
    pub fn text(&self, key: &str) -> &str {
        self.get(key).and_then(Value::as_str).unwrap_or_default()
    }

    /// The record's name, from its kind's title field.
    pub fn title(&self) -> &str {
        self.text(self.def().title)
    }

    /// Who changed the record last, and when, if an edit was stamped.
    pub fn stamp(&self) -> Option<super::Stamp> {
        super::Stamp::from_json(self.get(super::STAMP)?)
    }

    /// The status value, if the kind has one.
    pub fn status(&self) -> Option<&str> {
        self.get(self.def().status?).and_then(Value::as_str)
    }

    pub fn date(&self, key: &str) -> Option<Date> {
        Date::parse(self.get(key)?.as_str()?)
    }

    pub fn choice(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    pub fn flag(&self, key: &str) -> bool {
        self.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    /// A set's values (or a reference list's ids, as text).
    pub fn set(&self, key: &str) -> Vec<&str> {
        match self.get(key) {
            Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The records a reference field points to (one or many).
    pub fn refs(&self, key: &str) -> Vec<RecordId> {
        match self.get(key) {
            Some(Value::String(id)) => id.parse().ok().into_iter().collect(),
            Some(Value::Array(ids)) => ids
                .iter()
                .filter_map(|id| id.as_str()?.parse().ok())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A per-member field's entries, by member code.
    pub fn per_member(&self, key: &str) -> Vec<(&str, &str)> {
        match self.get(key) {
            Some(Value::Object(entries)) => entries
                .iter()
                .filter_map(|(code, value)| Some((code.as_str(), value.as_str()?)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// An item list's items, as objects with `"id"`.
    pub fn items(&self, key: &str) -> &[Value] {
        match self.get(key) {
            Some(Value::Array(items)) => items,
            _ => &[],
        }
    }

    pub fn archived(&self) -> bool {
        self.flag(super::schema::ARCHIVED)
    }

    pub fn deleted(&self) -> bool {
        self.flag(super::schema::DELETED)
    }

    /// This projection without its long texts (top-level and in items): what
    /// a device keeps of every record for lists, filters and backlinks. Long
    /// text is most of a record's size and is read from the open record.
    pub fn listing(mut self) -> Projection {
        strip_long_text(self.def().fields, &mut self.fields);
        self
    }

    /// Every reference this record makes, items' included, each target once
    /// per field, in the order of the fields.
    pub fn links(&self) -> Vec<Link> {
        let mut links = Vec::new();
        collect_links(self.def().fields, &self.fields, "", &mut links);
        links
    }

    /// The searchable text, field by field and item by item in order, one
    /// field per line (the title first).
    pub fn plain_text(&self) -> String {
        let mut text = String::new();
        text.push_str(self.title());
        text.push('\n');
        collect_text(
            self.def().fields,
            &self.fields,
            Some(self.def().title),
            &mut text,
        );
        text
    }
}

fn collect_links(
    fields: &[FieldDef],
    values: &JsonMap<String, Value>,
    prefix: &str,
    links: &mut Vec<Link>,
) {
    for field in fields {
        let name = format!("{prefix}{}", field.key);
        match (field.ty, values.get(field.key)) {
            (FieldType::Ref(_), Some(Value::String(id))) => {
                if let Ok(target) = id.parse() {
                    add_link(links, target, &name);
                }
            }
            (FieldType::Refs(_), Some(Value::Array(ids))) => {
                for id in ids {
                    if let Some(Ok(target)) = id.as_str().map(str::parse) {
                        add_link(links, target, &name);
                    }
                }
            }
            (FieldType::Items(items), Some(Value::Array(list))) => {
                for item in list {
                    if let Value::Object(item) = item {
                        collect_links(items.fields, item, &format!("{name}."), links);
                    }
                }
            }
            _ => {}
        }
    }
}

fn strip_long_text(fields: &[FieldDef], values: &mut JsonMap<String, Value>) {
    for field in fields {
        match field.ty {
            FieldType::LongText => {
                values.remove(field.key);
            }
            FieldType::Items(items) => {
                if let Some(Value::Array(list)) = values.get_mut(field.key) {
                    for item in list {
                        if let Value::Object(item) = item {
                            strip_long_text(items.fields, item);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Adds a link unless it is there: a record makes few, and sorting to
/// deduplicate would add the sort's code to the browser's first load.
fn add_link(links: &mut Vec<Link>, target: RecordId, field: &str) {
    if !links
        .iter()
        .any(|link| link.target == target && link.field == field)
    {
        links.push(Link {
            target,
            field: field.to_owned(),
        });
    }
}

fn collect_text(
    fields: &[FieldDef],
    values: &JsonMap<String, Value>,
    skip: Option<&str>,
    text: &mut String,
) {
    for field in fields {
        if !field.searchable || Some(field.key) == skip {
            continue;
        }
        match (field.ty, values.get(field.key)) {
            (FieldType::Items(items), Some(Value::Array(list))) => {
                for item in list {
                    if let Value::Object(item) = item {
                        collect_text(items.fields, item, None, text);
                    }
                }
            }
            (_, Some(Value::String(value))) if !value.is_empty() => {
                text.push_str(value);
                text.push('\n');
            }
            (FieldType::Set(_), Some(Value::Array(values))) => {
                let words: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                if !words.is_empty() {
                    text.push_str(&words.join(", "));
                    text.push('\n');
                }
            }
            _ => {}
        }
    }
}
