//! How much a record holds. The domain refuses a text longer than its field
//! (`FieldError::TooLong`, for edits made through it); the server checks what
//! devices push, which need not come through it: an op may not make a text
//! longer than its field holds, nor the record's document larger than
//! [`MAX_RECORD_BYTES`], unless it was so already and the op does not grow it
//! (a record written before the limits stays editable).

use super::schema::{FieldDef, MAX_TEXT_CHARS};
use super::Record;
use serde_json::Value;
use std::collections::HashMap;

/// The largest a record's document may grow by a device's edits: about 80
/// long texts at their limit, far beyond any recommendation.
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;

/// What an op is measured by: each text field's length (characters) and
/// limit, by path, and the document's encoded size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sizes {
    texts: HashMap<String, (usize, usize)>,
    bytes: usize,
}

/// What made an op too large: a field's path, or `record`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge(pub String);

impl Record {
    /// This record's sizes (reads every text: once per pushed op).
    pub fn sizes(&self) -> Sizes {
        let mut texts = HashMap::new();
        if let (Some(def), Some(projection)) = (self.def(), self.projection()) {
            measure(def.fields, &projection.fields, "", &mut texts);
        }
        Sizes {
            texts,
            bytes: self.state().len(),
        }
    }
}

fn measure(
    fields: &[FieldDef],
    values: &serde_json::Map<String, Value>,
    prefix: &str,
    texts: &mut HashMap<String, (usize, usize)>,
) {
    for field in fields {
        let path = format!("{prefix}{}", field.key);
        match (field.ty.max_chars(), values.get(field.key)) {
            (Some(max), Some(Value::String(text))) => {
                texts.insert(path, (text.chars().count(), max));
            }
            (None, Some(Value::Array(items))) => {
                let super::schema::FieldType::Items(def) = field.ty else {
                    continue;
                };
                for item in items {
                    let Value::Object(item) = item else { continue };
                    let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
                    measure(def.fields, item, &format!("{path}.{id}."), texts);
                }
            }
            _ => {}
        }
    }
}

impl Sizes {
    /// Whether ops of `pending` bytes in all, applied since these sizes were
    /// measured, may have taken a text or the record past its limit: only
    /// then is it worth measuring again (reading every text). An op that
    /// adds `n` characters carries at least `n` bytes, so a text with more
    /// room than that, and a new text (of a field with at least
    /// [`MAX_TEXT_CHARS`]), cannot have gone over.
    pub fn may_exceed(&self, pending: usize) -> bool {
        let room = self
            .texts
            .values()
            .map(|&(length, max)| max.saturating_sub(length))
            .min()
            .unwrap_or(usize::MAX)
            .min(MAX_TEXT_CHARS);
        pending > room || self.bytes + pending > MAX_RECORD_BYTES
    }

    /// Whether an op that changed the record from `self` to `after` stays
    /// within the limits, or did not grow what was over them already.
    pub fn check_growth(&self, after: &Sizes) -> Result<(), TooLarge> {
        for (path, &(length, max)) in &after.texts {
            let before = self.texts.get(path).map_or(0, |&(length, _)| length);
            if length > max && length > before {
                return Err(TooLarge(path.clone()));
            }
        }
        if after.bytes > MAX_RECORD_BYTES && after.bytes > self.bytes {
            return Err(TooLarge("record".to_owned()));
        }
        Ok(())
    }
}
