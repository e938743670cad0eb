//! What a list's cells say, how a column sorts, and a cell in the CSV.

use crate::i18n::*;
use crate::labels;
use crate::store::use_workspace;
use tern_domain::record::schema::{FieldDef, FieldType, SetOf};
use tern_domain::record::{Projection, RecordId};
use tern_domain::region::MEMBERS;

type I18n = leptos_i18n::I18nContext<Locale>;

/// A cell's text: choices and members by their labels, sets joined.
pub(super) fn cell(i18n: I18n, field: &FieldDef, projection: &Projection) -> String {
    let Some(value) = projection.get(field.key) else {
        return String::new();
    };
    let one = |value: &str| -> String {
        match field.ty {
            FieldType::Choice(choices) => labels::choice(i18n, choices, value),
            FieldType::Set(SetOf::Members) => MEMBERS
                .iter()
                .find(|m| m.code == value)
                .map_or_else(|| value.to_owned(), |m| m.name.to_owned()),
            FieldType::Set(SetOf::FocusAreas) => labels::focus_area(i18n, value),
            FieldType::Set(SetOf::Choices(choices)) => labels::choice(i18n, choices, value),
            FieldType::Ref(_) => value
                .parse::<RecordId>()
                .ok()
                .and_then(|target| use_workspace().projection(target))
                .map(|target| target.title().to_owned())
                .unwrap_or_default(),
            _ => value.to_owned(),
        }
    };
    match value {
        serde_json::Value::String(text) => one(text),
        serde_json::Value::Array(values) => {
            let texts: Vec<String> = values
                .iter()
                .filter_map(|value| value.as_str())
                .map(one)
                .collect();
            if matches!(field.ty, FieldType::Set(SetOf::Tags)) {
                labels::reading_order(texts).join(", ")
            } else {
                texts.join(", ")
            }
        }
        serde_json::Value::Bool(true) => "✓".into(),
        _ => String::new(),
    }
}

pub(super) fn sort_key(field: &'static str, projection: &Projection) -> String {
    match projection.get(field) {
        Some(serde_json::Value::String(text)) => text.to_lowercase(),
        Some(serde_json::Value::Array(values)) => values
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(",")
            .to_lowercase(),
        _ => String::new(),
    }
}

/// One CSV field, quoted when it must be (RFC 4180); a leading `= + - @` is
/// neutralised so a spreadsheet does not run it as a formula.
pub(super) fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Tallinn"), "Tallinn");
        assert_eq!(csv_field("Riga, Latvia"), "\"Riga, Latvia\"");
        assert_eq!(csv_field("the \"Barnahus\""), "\"the \"\"Barnahus\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
