//! Which items of a record (a recommendation's sections, say) hold this
//! device's changes that the server has not taken yet, so an outline can mark
//! them. Noted as edits are made, by the top-level item each edit changes
//! ([`FieldEdit::top_item`]); kept in localStorage so a reload keeps the
//! marks; shown only while the record itself is not synced, and forgotten at
//! the record's first edit after it was.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use tern_domain::record::{ItemId, RecordId};

/// localStorage key: `{ "<record id>": ["<item id>", …] }`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const KEY: &str = "tern.unsynced-items";

type Marks = BTreeMap<RecordId, BTreeSet<ItemId>>;

thread_local! {
    /// Read from localStorage at first use.
    static MARKS: RefCell<Option<Marks>> = const { RefCell::new(None) };
}

fn with_marks<T>(f: impl FnOnce(&mut Marks) -> T) -> T {
    MARKS.with_borrow_mut(|marks| f(marks.get_or_insert_with(load)))
}

/// Notes that `item` of `record` changed. `fresh`: the record had nothing
/// unsynced before this edit, so earlier marks are stale.
pub(super) fn note(record: RecordId, item: &ItemId, fresh: bool) {
    let changed = with_marks(|marks| {
        let items = marks.entry(record).or_default();
        if fresh {
            items.clear();
        }
        items.insert(item.clone())
    });
    if changed || fresh {
        with_marks(|marks| save(marks));
    }
}

/// The items of `record` marked, whether or not still current: the caller
/// shows them only while the record is not synced.
pub(super) fn items(record: RecordId) -> Vec<ItemId> {
    with_marks(|marks| {
        marks
            .get(&record)
            .map(|items| items.iter().cloned().collect())
            .unwrap_or_default()
    })
}

/// Drops the marks of a record that is synced.
pub(super) fn forget(record: RecordId) {
    if with_marks(|marks| marks.remove(&record).is_some()) {
        with_marks(|marks| save(marks));
    }
}

#[cfg(feature = "hydrate")]
fn load() -> Marks {
    use gloo_storage::Storage;
    gloo_storage::LocalStorage::get::<BTreeMap<String, Vec<String>>>(KEY)
        .map(|stored| {
            stored
                .into_iter()
                .filter_map(|(record, items)| {
                    Some((
                        record.parse().ok()?,
                        items.into_iter().map(ItemId).collect(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(not(feature = "hydrate"))]
fn load() -> Marks {
    Marks::new()
}

#[cfg(feature = "hydrate")]
fn save(marks: &Marks) {
    use gloo_storage::Storage;
    let stored: BTreeMap<String, Vec<&str>> = marks
        .iter()
        .filter(|(_, items)| !items.is_empty())
        .map(|(record, items)| {
            let items = items.iter().map(|item| item.0.as_str()).collect();
            (record.to_string(), items)
        })
        .collect();
    // A full storage only loses a hint; the edit itself is saved elsewhere.
    let _ = gloo_storage::LocalStorage::set(KEY, stored);
}

#[cfg(not(feature = "hydrate"))]
fn save(_: &Marks) {}
