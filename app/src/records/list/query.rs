//! A list's state as its address says it (`?country=PL&q=riga&sort=title`),
//! and which records it lets through.

use tern_domain::record::schema::{FieldType, Rule};
use tern_domain::record::{Date, KindDef, Projection};

/// The list's state, as in the address.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct ListState {
    /// Field key → the value a record must have (one of a set, or a choice).
    pub filters: Vec<(&'static str, String)>,
    /// Words the title or a listed line of text must hold (`?q=`).
    pub text: String,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Field key, or "" for newest first.
    pub sort: &'static str,
    pub descending: bool,
}

impl ListState {
    pub fn from_query(def: &'static KindDef, query: &str) -> ListState {
        let mut state = ListState::default();
        for pair in query.trim_start_matches('?').split('&') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = decode(value);
            match key {
                "q" => state.text = value,
                "from" => state.from = Date::parse(&value),
                "to" => state.to = Date::parse(&value),
                "sort" => {
                    state.sort = def
                        .all_fields()
                        .find(|field| field.key == value)
                        .map_or("", |field| field.key)
                }
                "desc" => state.descending = value == "1",
                _ => {
                    if let Some(field) = def
                        .all_fields()
                        .find(|field| field.key == key && field.filter)
                    {
                        state.filters.push((field.key, value));
                    }
                }
            }
        }
        state
    }

    pub fn to_query(&self) -> String {
        let mut parts: Vec<String> = self
            .filters
            .iter()
            .map(|(key, value)| format!("{key}={}", encode(value)))
            .collect();
        if !self.text.trim().is_empty() {
            parts.push(format!("q={}", encode(&self.text)));
        }
        if let Some(from) = self.from {
            parts.push(format!("from={from}"));
        }
        if let Some(to) = self.to {
            parts.push(format!("to={to}"));
        }
        if !self.sort.is_empty() {
            parts.push(format!("sort={}", self.sort));
        }
        if self.descending {
            parts.push("desc=1".into());
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    pub fn filter(&self, key: &str) -> String {
        self.filters
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }

    pub fn set_filter(&mut self, key: &'static str, value: String) {
        self.filters.retain(|(k, _)| *k != key);
        if !value.is_empty() {
            self.filters.push((key, value));
        }
    }
}

fn encode(text: &str) -> String {
    js_sys::encode_uri_component(text).into()
}

fn decode(text: &str) -> String {
    js_sys::decode_uri_component(text)
        .map(String::from)
        .unwrap_or_else(|_| text.to_owned())
}

/// The date fields a range filter looks at: a start and end pair (the range
/// overlaps the record's) or the first filterable date.
pub(super) fn range_fields(def: &KindDef) -> Option<(&'static str, Option<&'static str>)> {
    if let Some(Rule::NotBefore { earlier, later }) = def.rules.first() {
        return Some((earlier, Some(later)));
    }
    def.all_fields()
        .find(|field| field.filter && field.ty == FieldType::Date)
        .map(|field| (field.key, None))
}

/// The words of a text filter, lowercased; a record matches when each is in
/// its title or one of its listed lines of text.
pub(super) fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

fn has_words(words: &[String], def: &KindDef, projection: &Projection) -> bool {
    if words.is_empty() {
        return true;
    }
    let mut haystack = projection.title().to_lowercase();
    for field in def.all_fields() {
        if field.listed && matches!(field.ty, FieldType::Text | FieldType::Email) {
            if let Some(serde_json::Value::String(text)) = projection.get(field.key) {
                haystack.push('\n');
                haystack.push_str(&text.to_lowercase());
            }
        }
    }
    words.iter().all(|word| haystack.contains(word.as_str()))
}

pub(super) fn matches(
    state: &ListState,
    words: &[String],
    def: &KindDef,
    projection: &Projection,
) -> bool {
    if !has_words(words, def, projection) {
        return false;
    }
    for (key, wanted) in &state.filters {
        let ok = match projection.get(key) {
            Some(serde_json::Value::Array(values)) => {
                values.iter().any(|v| v.as_str() == Some(wanted))
            }
            Some(serde_json::Value::String(value)) => value == wanted,
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    if state.from.is_some() || state.to.is_some() {
        let Some((start, end)) = range_fields(def) else {
            return true;
        };
        let begins = projection.date(start);
        let ends = end.and_then(|end| projection.date(end)).or(begins);
        let (Some(begins), Some(ends)) = (begins, ends) else {
            return false;
        };
        if state.to.is_some_and(|to| begins > to) || state.from.is_some_and(|from| ends < from) {
            return false;
        }
    }
    true
}
