//! Two people who set the same choice (a status, a date, a position) to
//! different values, neither having seen the other's: yrs keeps one value,
//! and without more the other person's choice would vanish silently. Each
//! such edit also leaves a claim, who set what, numbered one above the
//! highest the device had seen for that field. Two claims with the top number
//! and different values are a conflict; whoever settles it sets a value,
//! which numbers above both.
//!
//! Claims live in a root map under `field + U+001F + replica id`, so that
//! each replica writes only keys of its own and no concurrent write of a
//! claim can take another's place. The server refuses a claim in another
//! user's name (`auth::check_claims`).

use super::schema::{FieldDef, FieldType, KindDef};
use super::{Date, FieldEdit, FieldPath, Record, Stamp};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use yrs::{Any, Map, Out, Transact, TransactionMut};

const SEPARATOR: char = '\u{1f}';

/// One person's setting of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The value as the field stores it (`""` for cleared, `true`/`false`).
    pub value: String,
    pub user: String,
    pub name: String,
}

/// A field set to different values at once, not settled since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The field's path; for one member's entry of a per-member field,
    /// `path.<member code>`.
    pub field: String,
    /// One claim per value, in a stable order.
    pub claims: Vec<Claim>,
}

impl Conflict {
    /// The field in conflict as `def` declares it, and the member for one
    /// member's entry of a per-member field.
    pub fn target(&self, def: &KindDef) -> Option<(FieldPath, Option<String>, &'static FieldDef)> {
        let (path, member) = match self.field.rsplit_once('.') {
            Some((path, member)) => (path, Some(member.to_owned())),
            None => (self.field.as_str(), None),
        };
        let path = FieldPath::parse(def, path)?;
        let field = super::path::resolve(def, &path)?.field;
        Some((path, member, field))
    }

    /// The edit that keeps `claim`'s value (and so settles the conflict).
    pub fn keep(&self, def: &KindDef, claim: &Claim) -> Option<(FieldPath, FieldEdit)> {
        let (path, member, field) = self.target(def)?;
        let value = (!claim.value.is_empty()).then(|| claim.value.clone());
        let edit = match (field.ty, member) {
            (FieldType::PerMember(_), Some(key)) => FieldEdit::Keyed { key, value },
            (FieldType::Choice(_), None) => FieldEdit::Choice(value),
            (FieldType::Flag, None) => FieldEdit::Flag(claim.value == "true"),
            (FieldType::Date, None) => FieldEdit::Date(match value {
                Some(text) => Some(Date::parse(&text)?),
                None => None,
            }),
            _ => return None,
        };
        Some((path, edit))
    }
}

/// The field and value an edit claims, for the edits that choose a value.
pub(crate) fn claim_of(path: &FieldPath, edit: &FieldEdit) -> Option<(String, String)> {
    let field = path.to_string();
    Some(match edit {
        FieldEdit::Choice(value) => (field, value.clone().unwrap_or_default()),
        FieldEdit::Date(date) => (field, date.map(|date| date.to_string()).unwrap_or_default()),
        FieldEdit::Flag(on) => (field, on.to_string()),
        FieldEdit::Keyed { key, value } => {
            (format!("{field}.{key}"), value.clone().unwrap_or_default())
        }
        _ => return None,
    })
}

impl Record {
    /// Sets who edits through this replica from now (`None`: no claims are
    /// written, as on the server).
    pub fn set_author(&self, author: Option<&Stamp>) {
        *self.author.borrow_mut() = author.cloned();
    }

    /// Leaves the author's claim that `field` is now `value`.
    pub(crate) fn claim(&self, txn: &mut TransactionMut, field: &str, value: String) {
        let Some(author) = self.author.borrow().clone() else {
            return;
        };
        let prefix = format!("{field}{SEPARATOR}");
        let top = self
            .claims
            .iter(txn)
            .filter(|(key, _)| key.starts_with(&prefix))
            .filter_map(|(_, out)| read(&out).map(|(number, _)| number))
            .max()
            .unwrap_or(0);
        let mut entry = HashMap::new();
        entry.insert("n".to_owned(), Any::from((top + 1) as i64));
        entry.insert("value".to_owned(), Any::from(value));
        entry.insert("user".to_owned(), Any::from(author.user));
        entry.insert("name".to_owned(), Any::from(author.name));
        let key = format!("{prefix}{}", self.client_id());
        self.claims.insert(txn, key, Any::Map(Arc::new(entry)));
    }

    /// The fields in conflict, by path.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let txn = self.doc().transact();
        let mut fields: BTreeMap<String, (u64, Vec<Claim>)> = BTreeMap::new();
        for (key, out) in self.claims.iter(&txn) {
            let (Some((field, _)), Some((number, claim))) = (key.split_once(SEPARATOR), read(&out))
            else {
                continue;
            };
            let (top, claims) = fields.entry(field.to_owned()).or_insert((0, Vec::new()));
            if number > *top {
                *top = number;
                claims.clear();
            }
            if number == *top && !claims.iter().any(|known| known.value == claim.value) {
                claims.push(claim);
            }
        }
        fields
            .into_iter()
            .filter(|(_, (_, claims))| claims.len() > 1)
            .map(|(field, (_, mut claims))| {
                claims.sort_by(|a, b| (&a.name, &a.value).cmp(&(&b.name, &b.value)));
                Conflict { field, claims }
            })
            .collect()
    }

    /// Each claim's user, by key: what the server compares before and after
    /// an op.
    pub fn claim_users(&self) -> HashMap<String, String> {
        let txn = self.doc().transact();
        self.claims
            .iter(&txn)
            .filter_map(|(key, out)| Some((key.to_owned(), read(&out)?.1.user)))
            .collect()
    }
}

fn read(out: &Out) -> Option<(u64, Claim)> {
    let Out::Any(Any::Map(entry)) = out else {
        return None;
    };
    let text = |key: &str| match entry.get(key) {
        Some(Any::String(text)) => Some(text.to_string()),
        _ => None,
    };
    let number = match entry.get("n") {
        Some(Any::Number(n)) => u64::try_from((*n).as_i64()?).ok()?,
        _ => return None,
    };
    Some((
        number,
        Claim {
            value: text("value")?,
            user: text("user")?,
            name: text("name")?,
        },
    ))
}
