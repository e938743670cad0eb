//! Naming one field of one record: a top-level field, or a field of an item
//! in a list, at any depth (`sections/<item id>/body`).

use super::schema::{FieldDef, FieldType, KindDef};
use serde::{Deserialize, Serialize};

/// An item's id, unique within its list; made at random by the device that
/// adds the item, so two devices never pick the same one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemId(pub String);

impl ItemId {
    /// Whether `text` can be an item id: what devices make (hex) and what old
    /// documents hold, letters, digits, `-` and `_`, at most 64 bytes, so it
    /// can sit in a path and a DOM id without escaping.
    pub fn is_well_formed(text: &str) -> bool {
        !text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

impl std::fmt::Display for ItemId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A field of a record. Keys are the declared ones (`&'static`), so a path is
/// built from the schema or parsed against it, never from a stray string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath {
    /// The item lists walked through, outermost first: (list field, item).
    pub items: Vec<(&'static str, ItemId)>,
    pub field: &'static str,
}

impl FieldPath {
    /// A top-level field.
    pub fn top(field: &'static str) -> FieldPath {
        FieldPath {
            items: Vec::new(),
            field,
        }
    }

    /// A field of an item of a top-level list.
    pub fn item(list: &'static str, item: ItemId, field: &'static str) -> FieldPath {
        FieldPath {
            items: vec![(list, item)],
            field,
        }
    }

    /// The same list one level down: a field of `item` in this path's list field.
    pub fn child(&self, item: ItemId, field: &'static str) -> FieldPath {
        let mut items = self.items.clone();
        items.push((self.field, item));
        FieldPath { items, field }
    }

    /// The list this path's item is in, if the path is inside one.
    pub fn innermost_item(&self) -> Option<&ItemId> {
        self.items.last().map(|(_, item)| item)
    }

    /// Reads `list/item/…/field` against a kind, so every key is one it declares.
    pub fn parse(def: &KindDef, text: &str) -> Option<FieldPath> {
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len().is_multiple_of(2) {
            return None;
        }
        let mut fields: Vec<&'static FieldDef> = def.all_fields().collect();
        let mut items = Vec::new();
        for pair in parts[..parts.len() - 1].chunks(2) {
            let list = fields.iter().find(|field| field.key == pair[0])?;
            let FieldType::Items(list_def) = list.ty else {
                return None;
            };
            if !ItemId::is_well_formed(pair[1]) {
                return None;
            }
            items.push((list.key, ItemId(pair[1].to_owned())));
            fields = list_def.fields.iter().collect();
        }
        let last = parts[parts.len() - 1];
        let field = fields.iter().find(|field| field.key == last)?;
        Some(FieldPath {
            items,
            field: field.key,
        })
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (list, item) in &self.items {
            write!(f, "{list}/{item}/")?;
        }
        f.write_str(self.field)
    }
}

/// A path resolved against its kind: the declaration of every step.
pub(crate) struct Resolved {
    /// The item lists walked through, with their declarations.
    pub lists: Vec<(&'static FieldDef, ItemId)>,
    pub field: &'static FieldDef,
}

/// Resolves `path` against `def`; `None` if it names a field the kind lacks.
pub(crate) fn resolve(def: &KindDef, path: &FieldPath) -> Option<Resolved> {
    let mut lists = Vec::new();
    let mut scope: &'static [FieldDef] = &[];
    let mut top = true;
    let find = |scope: &'static [FieldDef], top: bool, key: &str| -> Option<&'static FieldDef> {
        if top {
            def.field(key)
        } else {
            scope.iter().find(|field| field.key == key)
        }
    };
    for (list, item) in &path.items {
        let list_def = find(scope, top, list)?;
        let FieldType::Items(items) = list_def.ty else {
            return None;
        };
        lists.push((list_def, item.clone()));
        scope = items.fields;
        top = false;
    }
    let field = find(scope, top, path.field)?;
    Some(Resolved { lists, field })
}
