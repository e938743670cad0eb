//! Who changed a record last, and when.
//!
//! A device writes a stamp into the record with each edit (see
//! `Replica::edit_stamped`): the user and the time of the edit, made offline
//! or not, so "changed by Anna, 3 December" reads the same on every device
//! once synced. Concurrent stamps resolve like any map value in yrs: one of
//! them stays, whole. The server refuses an op whose stamp names someone else
//! (`auth::check_stamp`), so nobody writes in another's name.

use super::{Record, Update};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use yrs::{Any, Map, Out, Transact};

/// The key in the record's `meta` map, and in its projection. Declared field
/// keys never start with `_` (`schema::check_declaration`).
pub const STAMP: &str = "_changed";

/// A device restamps a record it keeps editing at most this often: a stamp
/// per keystroke would only grow the log.
pub const RESTAMP_AFTER_MS: u64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The account's id (`auth::UserId`).
    pub user: String,
    /// Their name when they made the edit.
    pub name: String,
    /// Unix time of the edit, in milliseconds.
    pub at: u64,
}

impl Stamp {
    /// As projections carry it (`{"user", "name", "at"}`).
    pub fn to_json(&self) -> Value {
        json!({ "user": self.user, "name": self.name, "at": self.at })
    }

    pub fn from_json(value: &Value) -> Option<Stamp> {
        Some(Stamp {
            user: value.get("user")?.as_str()?.to_owned(),
            name: value.get("name")?.as_str()?.to_owned(),
            at: value.get("at")?.as_u64()?,
        })
    }

    fn to_any(&self) -> Any {
        let mut map = HashMap::new();
        map.insert("user".to_owned(), Any::from(self.user.as_str()));
        map.insert("name".to_owned(), Any::from(self.name.as_str()));
        // Milliseconds fit a JavaScript-safe integer until the year 287,396.
        map.insert(
            "at".to_owned(),
            Any::from(self.at.min(i64::MAX as u64) as i64),
        );
        Any::Map(Arc::new(map))
    }

    fn from_any(any: &Any) -> Option<Stamp> {
        let Any::Map(map) = any else { return None };
        let text = |key: &str| match map.get(key) {
            Some(Any::String(text)) => Some(text.to_string()),
            _ => None,
        };
        let at = match map.get("at") {
            Some(Any::Number(at)) => u64::try_from((*at).as_i64()?).ok()?,
            _ => return None,
        };
        Some(Stamp {
            user: text("user")?,
            name: text("name")?,
            at,
        })
    }
}

impl Record {
    /// The last stamp written, if any edit was stamped.
    pub fn stamp(&self) -> Option<Stamp> {
        let txn = self.doc().transact();
        match self.meta().get(&txn, STAMP)? {
            Out::Any(any) => Stamp::from_any(&any),
            _ => None,
        }
    }

    /// Writes `stamp`, unless the record already carries one by the same user
    /// at most [`RESTAMP_AFTER_MS`] older (then `None`).
    pub fn restamp(&self, stamp: &Stamp) -> Option<Update> {
        if let Some(current) = self.stamp() {
            let recent = stamp.at.saturating_sub(current.at) < RESTAMP_AFTER_MS;
            if current.user == stamp.user && current.name == stamp.name && recent {
                return None;
            }
        }
        Some(self.edit(|txn, record| {
            record.meta().insert(txn, STAMP, stamp.to_any());
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RecordId, RecordKind};

    fn stamp(user: &str, at: u64) -> Stamp {
        Stamp {
            user: user.to_owned(),
            name: format!("{user} Name"),
            at,
        }
    }

    #[test]
    fn a_stamp_travels_with_the_record_and_is_renewed_only_when_due() {
        let id = RecordId::v7(1_700_000_000_000, [1; 10]);
        let (record, created) = Record::create(id, RecordKind::Project, 1);
        assert_eq!(record.stamp(), None);
        let first = record.restamp(&stamp("anna", 1_000)).expect("first stamp");
        assert!(
            record.restamp(&stamp("anna", 30_000)).is_none(),
            "same user within a minute"
        );
        let later = record.restamp(&stamp("anna", 70_000)).expect("a minute on");
        let copy = Record::empty(id, 2);
        for update in [&created, &first, &later] {
            copy.apply_update(&update.0).expect("applies");
        }
        assert_eq!(copy.stamp(), Some(stamp("anna", 70_000)));
        assert!(
            copy.restamp(&stamp("jonas", 70_001)).is_some(),
            "another user"
        );
        assert_eq!(copy.stamp().map(|s| s.user), Some("jonas".to_owned()));
        let projected = copy.projection().expect("kind known");
        assert_eq!(
            projected.stamp(),
            Some(stamp("jonas", 70_001)),
            "projections carry it"
        );
    }
}
