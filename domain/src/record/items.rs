//! Ordered item lists with stable ids (sections, agenda items, participants,
//! milestones): an array of ids for the order plus a map of id → item.
//!
//! Content lives apart from the order so that moving an item (delete + insert
//! of its id) never copies, and so never loses, the text someone is typing
//! into it at the same time. A removed item is marked, not dropped, so a
//! concurrent move cannot revive it.

use yrs::{Any, Array, ArrayRef, GetString, Map, MapRef, Out, ReadTxn, TransactionMut};

/// The mark a removed item carries.
pub(crate) const REMOVED: &str = "removed";
/// The marks a merged paragraph carries: the item it was joined onto, and
/// its text then (see `FieldEdit::MergeItem`).
pub(crate) const MERGED_INTO: &str = "merged_into";
pub(crate) const MERGED_TEXT: &str = "merged_text";

/// An item list's two halves, as found in a document.
#[derive(Clone)]
pub(crate) struct List {
    pub contents: MapRef,
    pub order: ArrayRef,
}

impl List {
    /// Item ids in display order: each once, removed and unknown ones left out.
    pub fn ids<T: ReadTxn>(&self, txn: &T) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.order
            .iter(txn)
            .filter_map(|value| match value {
                Out::Any(Any::String(id)) => Some(id.to_string()),
                _ => None,
            })
            // Two people moving one item at once leave its id twice; the first wins.
            .filter(|id| seen.insert(id.clone()))
            .filter(|id| self.live_item(txn, id).is_some())
            .collect()
    }

    /// The item's map, unless it is unknown, removed or merged away.
    pub fn live_item<T: ReadTxn>(&self, txn: &T, id: &str) -> Option<MapRef> {
        match self.contents.get(txn, id) {
            Some(Out::YMap(item)) => {
                (!is_removed(txn, &item) && self.merged_onto(txn, &item).is_none()).then_some(item)
            }
            _ => None,
        }
    }

    /// The item a merged item's words are in, while they are: its text is
    /// still the text joined, and that item is still there. (Words typed into
    /// it since, or the other's removal, bring a merged item back.)
    pub fn merged_onto<T: ReadTxn>(&self, txn: &T, item: &MapRef) -> Option<String> {
        let Some(Out::Any(Any::String(into))) = item.get(txn, MERGED_INTO) else {
            return None;
        };
        let Some(Out::Any(Any::String(joined))) = item.get(txn, MERGED_TEXT) else {
            return None;
        };
        let into_there = matches!(self.contents.get(txn, &into), Some(Out::YMap(target)) if !is_removed(txn, &target));
        let text = item
            .iter(txn)
            .find_map(|(_, value)| match value {
                Out::YText(text) => Some(text.get_string(txn)),
                _ => None,
            })
            .unwrap_or_default();
        (into_there && text == *joined).then(|| into.to_string())
    }

    /// The live items that were merged onto another and came back (words
    /// were typed into them meanwhile): their page says why.
    pub fn merged_back<T: ReadTxn>(&self, txn: &T) -> Vec<String> {
        self.ids(txn)
            .into_iter()
            .filter(|id| {
                self.live_item(txn, id)
                    .is_some_and(|item| item.get(txn, MERGED_INTO).is_some())
            })
            .collect()
    }

    /// Whether an item with this id exists, removed or not (ids are never reused).
    pub fn knows<T: ReadTxn>(&self, txn: &T, id: &str) -> bool {
        self.contents.get(txn, id).is_some()
    }

    /// Puts `id` at `position` among `visible` (the live ids without it; the
    /// array may also hold duplicates and removed ids, which are skipped).
    pub fn place(&self, txn: &mut TransactionMut, visible: &[String], position: usize, id: &str) {
        let index = match visible.get(position) {
            None => self.order.len(txn),
            Some(anchor) => self
                .order
                .iter(txn)
                .position(
                    |value| matches!(value, Out::Any(Any::String(ref id)) if id.as_ref() == anchor),
                )
                .and_then(|index| u32::try_from(index).ok())
                .unwrap_or_else(|| self.order.len(txn)),
        };
        self.order.insert(txn, index, id);
    }

    /// Takes every occurrence of `id` out of the order.
    pub fn unplace(&self, txn: &mut TransactionMut, id: &str) {
        let indexes: Vec<u32> = self
            .order
            .iter(txn)
            .enumerate()
            .filter(|(_, value)| {
                matches!(value, Out::Any(Any::String(ref other)) if other.as_ref() == id)
            })
            .filter_map(|(index, _)| u32::try_from(index).ok())
            .collect();
        for index in indexes.into_iter().rev() {
            self.order.remove(txn, index);
        }
    }
}

fn is_removed<T: ReadTxn>(txn: &T, item: &MapRef) -> bool {
    matches!(item.get(txn, REMOVED), Some(Out::Any(Any::Bool(true))))
}
