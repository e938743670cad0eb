//! The record schema: every kind of record declared once, as data.
//!
//! A kind is a [`KindDef`]: its fields ([`FieldDef`]: a key, a [`FieldType`],
//! who may change it, whether lists show and filter it, whether search reads
//! it) and the rules that span fields. Everything else derives from the
//! declaration: reading and writing a field by its [`super::FieldPath`], the
//! projection, plain text, links, the guarded-field check both sides apply,
//! list columns and filters, and, in the app, the generic form.
//!
//! Where a field lives in the yrs document follows from its type (see
//! [`super::fields`]), so a declared key is a stored name: renaming one
//! orphans existing data.

use super::RecordKind;

/// The type of a field: what it holds and so how it is stored and edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// One line of CRDT text (concurrent typing merges).
    Text,
    /// Paragraphs of CRDT text.
    LongText,
    /// A calendar day ([`super::Date`]).
    Date,
    /// One value from a fixed list (last writer wins).
    Choice(&'static Choices),
    /// Any number of values; two people adding different ones keep both.
    Set(SetOf),
    /// One record of the given kinds.
    Ref(&'static [RecordKind]),
    /// Any number of records of the given kinds.
    Refs(&'static [RecordKind]),
    /// One value from a fixed list per member state (a member's position).
    PerMember(&'static Choices),
    Email,
    Phone,
    /// An `https://` or `http://` address.
    Url,
    /// On or off.
    Flag,
    /// An ordered list of items, each with fields of its own (sections,
    /// agenda items, participants, milestones).
    Items(&'static ItemsDef),
}

/// What a [`FieldType::Set`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOf {
    /// Member codes of [`crate::region::MEMBERS`], kept in the group's order.
    Members,
    /// [`crate::region::FocusArea`] names, in their canonical order.
    FocusAreas,
    /// Free words (trimmed, at most [`MAX_TAG_CHARS`]), in alphabetical order.
    Tags,
    /// Values of a fixed list, in the list's order.
    Choices(&'static Choices),
}

/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 60;

/// The longest one-line text (a title, a heading), in characters.
pub const MAX_TEXT_CHARS: usize = 1_000;

/// The longest long text (a preamble, a paragraph, a description), in
/// characters: about 40 pages. A whole recommendation is many of them.
pub const MAX_LONG_TEXT_CHARS: usize = 100_000;

impl FieldType {
    /// The most characters a text field holds.
    pub fn max_chars(&self) -> Option<usize> {
        match self {
            FieldType::Text => Some(MAX_TEXT_CHARS),
            FieldType::LongText => Some(MAX_LONG_TEXT_CHARS),
            _ => None,
        }
    }
}

/// Whether `text` is longer than `max` characters (without counting them
/// when its bytes already fit).
pub fn too_long(text: &str, max: usize) -> bool {
    text.len() > max && text.chars().count() > max
}

/// A fixed list of values. `name` names the list for labels (`choice.<name>.<value>`
/// in the app's schema locale files), so kinds can share one (sectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choices {
    pub name: &'static str,
    pub options: &'static [&'static str],
    /// What an unset field reads as (a new recommendation is a draft).
    pub default: Option<&'static str>,
}

impl Choices {
    pub fn contains(&self, value: &str) -> bool {
        self.options.contains(&value)
    }
}

/// An item list: the fields of each item and the rules among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemsDef {
    pub fields: &'static [FieldDef],
    /// The sub-field that names an item (for outlines), if one does: a
    /// participant is named by the person it refers to.
    pub title: Option<&'static str>,
    pub rules: &'static [Rule],
    /// The array root holding a top-level list's order, when it is not
    /// `<key>_order` (recommendations' sections predate the convention).
    pub order_root: Option<&'static str>,
    /// Items are numbered from their order (1., 2.; inside a numbered item
    /// 1.1, 1.2), never by what anyone typed: see [`number`].
    pub numbered: bool,
}

/// An item's number from its position in each numbered list it is in,
/// outermost first, counting from 0: `[0]` is "1.", `[1, 2]` is "2.3".
pub fn number(positions: &[usize]) -> String {
    let mut number = positions
        .iter()
        .map(|position| (position + 1).to_string())
        .collect::<Vec<_>>()
        .join(".");
    if positions.len() == 1 {
        number.push('.');
    }
    number
}

impl ItemsDef {
    pub fn field(&self, key: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|field| field.key == key)
    }

    /// The one long text each item is, when the items are parts of one
    /// flowing text (a recommendation's paragraphs): such items split in
    /// two at a point of their text.
    pub fn flowing_text(&self) -> Option<&'static str> {
        match self.fields {
            [field] if field.ty == FieldType::LongText && self.title.is_none() => Some(field.key),
            _ => None,
        }
    }
}

/// Who may change a field, beyond "anyone who may edit the record".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone who may edit the record.
    Editors,
    /// The secretariat only (a recommendation's status).
    Secretariat,
    /// Per member state: a member changes only their own state's entry, the
    /// secretariat any (it records positions in meetings). [`FieldType::PerMember`] only.
    OwnMember,
}

/// A rule that spans fields of one kind (or of one item list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Two date fields: `later` may not be before `earlier` when both are set.
    NotBefore {
        earlier: &'static str,
        later: &'static str,
    },
}

/// One field of a kind or of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// The stored name, the key in paths, projections and labels.
    pub key: &'static str,
    pub ty: FieldType,
    pub guard: Guard,
    /// Read by search and plain text.
    pub searchable: bool,
    /// Shown as a column in the kind's list.
    pub listed: bool,
    /// Offered as a filter of the kind's list.
    pub filter: bool,
}

impl FieldDef {
    pub const fn new(key: &'static str, ty: FieldType) -> FieldDef {
        FieldDef {
            key,
            ty,
            guard: Guard::Editors,
            searchable: false,
            listed: false,
            filter: false,
        }
    }

    pub const fn guard(self, guard: Guard) -> FieldDef {
        FieldDef { guard, ..self }
    }

    pub const fn searchable(self) -> FieldDef {
        FieldDef {
            searchable: true,
            ..self
        }
    }

    pub const fn listed(self) -> FieldDef {
        FieldDef {
            listed: true,
            ..self
        }
    }

    pub const fn filter(self) -> FieldDef {
        FieldDef {
            filter: true,
            ..self
        }
    }

    /// Whether the field is CRDT text (typed, merged character by character).
    pub fn is_text(&self) -> bool {
        matches!(self.ty, FieldType::Text | FieldType::LongText)
    }

    /// The kinds a reference field accepts (empty for other fields).
    pub fn targets(&self) -> &'static [RecordKind] {
        match self.ty {
            FieldType::Ref(kinds) | FieldType::Refs(kinds) => kinds,
            _ => &[],
        }
    }
}

/// A kind of record, declared once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindDef {
    pub kind: RecordKind,
    /// The stored name (`meta.kind`), in URLs and labels (`kind.<tag>`).
    pub tag: &'static str,
    /// The URL segment of its list and records (`/consultations/<id>`).
    pub path: &'static str,
    pub fields: &'static [FieldDef],
    /// The field that names a record (a text field).
    pub title: &'static str,
    /// The field lists call its status, if it has one (a choice).
    pub status: Option<&'static str>,
    pub rules: &'static [Rule],
    /// Holds personal data (GDPR): the secretariat can erase a record of it.
    pub personal_data: bool,
}

/// Fields every kind has, after its own.
pub const ARCHIVED: &str = "archived";
pub const DELETED: &str = "deleted";
pub static SYSTEM_FIELDS: [FieldDef; 2] = [
    // Gone from lists, found under "Archived", restorable by its editors.
    FieldDef::new(ARCHIVED, FieldType::Flag),
    // Removed by the secretariat: referrers show "removed".
    FieldDef::new(DELETED, FieldType::Flag).guard(Guard::Secretariat),
];

impl KindDef {
    /// A field of this kind by key, its own or a system field.
    pub fn field(&self, key: &str) -> Option<&'static FieldDef> {
        self.fields
            .iter()
            .chain(SYSTEM_FIELDS.iter())
            .find(|field| field.key == key)
    }

    /// Every top-level field: the kind's own, then the system fields.
    pub fn all_fields(&self) -> impl Iterator<Item = &'static FieldDef> {
        self.fields.iter().chain(SYSTEM_FIELDS.iter())
    }

    /// Fields not every editor may change.
    pub fn guarded_fields(&self) -> impl Iterator<Item = &'static FieldDef> {
        self.all_fields()
            .filter(|field| field.guard != Guard::Editors)
    }
}

/// Checks a declaration: what a typo in a kind file would break, found by a
/// test instead of a user.
pub fn check_declaration(def: &KindDef) -> Result<(), String> {
    fn check_fields(
        owner: &str,
        fields: &[FieldDef],
        rules: &[Rule],
        title: Option<&str>,
    ) -> Result<(), String> {
        let mut keys = std::collections::BTreeSet::new();
        for field in fields {
            if !keys.insert(field.key) {
                return Err(format!("{owner}: field {} declared twice", field.key));
            }
            // A leading `_` is the record's own bookkeeping (the stamp, `_changed`).
            if field.key.is_empty()
                || field.key.starts_with('_')
                || !field
                    .key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                return Err(format!("{owner}: key {:?} is not snake_case", field.key));
            }
            if field.guard == Guard::OwnMember && !matches!(field.ty, FieldType::PerMember(_)) {
                return Err(format!(
                    "{owner}.{}: OwnMember guards PerMember only",
                    field.key
                ));
            }
            if let FieldType::Choice(choices) | FieldType::PerMember(choices) = field.ty {
                if let Some(default) = choices.default {
                    if !choices.contains(default) {
                        return Err(format!("{owner}.{}: default not an option", field.key));
                    }
                }
            }
            if let FieldType::Items(items) = field.ty {
                check_fields(
                    &format!("{owner}.{}", field.key),
                    items.fields,
                    items.rules,
                    items.title,
                )?;
            }
        }
        if let Some(title) = title {
            if !fields
                .iter()
                .any(|field| field.key == title && field.is_text())
            {
                return Err(format!("{owner}: title {title} is not a text field"));
            }
        }
        for rule in rules {
            let Rule::NotBefore { earlier, later } = rule;
            for key in [earlier, later] {
                if !fields
                    .iter()
                    .any(|field| field.key == *key && field.ty == FieldType::Date)
                {
                    return Err(format!("{owner}: rule names {key}, not a date field"));
                }
            }
        }
        Ok(())
    }
    check_fields(def.tag, def.fields, def.rules, Some(def.title))?;
    if let Some(status) = def.status {
        if !matches!(def.field(status).map(|f| f.ty), Some(FieldType::Choice(_))) {
            return Err(format!("{}: status {status} is not a choice", def.tag));
        }
    }
    if def
        .fields
        .iter()
        .any(|field| SYSTEM_FIELDS.iter().any(|system| system.key == field.key))
    {
        return Err(format!("{}: a field shadows a system field", def.tag));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_follow_positions_in_each_list() {
        assert_eq!(number(&[0]), "1.");
        assert_eq!(number(&[11]), "12.");
        assert_eq!(number(&[1, 2]), "2.3");
        assert_eq!(number(&[0, 9, 0]), "1.10.1");
    }
}
