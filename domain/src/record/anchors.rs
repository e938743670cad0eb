//! Passages of a record's text that comments and suggestions are on: two
//! yrs sticky indexes each, the start associated after (it stays before
//! words typed at the passage's start), the end before (it stays after
//! words typed at its end), resolved against the record's live texts. A
//! passage whose words were all deleted collapses to a point.

use super::fields::{list_at, text_at, Place, Top};
use super::items::List;
use super::schema::{FieldDef, FieldType};
use super::{FieldPath, Record};
use std::collections::HashMap;
use yrs::branch::{Branch, BranchPtr};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Any, Assoc, GetString, IndexedSequence, ReadTxn, StickyIndex, TextRef, Transact};

/// Where a passage is now.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// On the record as a whole.
    Record,
    /// In the text at `path`, UTF-16 offsets `start..end`, now reading `text`.
    Text { start: u32, end: u32, text: String },
    /// Every word of the passage was deleted.
    Deleted,
    /// The paragraph or section it was in was removed (or merged away).
    Removed,
    /// The passage has not reached this device yet.
    Waiting,
}

/// The keys of a passage's two indexes in an entry.
pub(super) const START: &str = "s";
pub(super) const END: &str = "e";

/// Where a passage is: the text field, how it stands, and the offset its
/// start resolves to (for a collapsed passage, the point where it was).
pub(super) type Located = (Option<FieldPath>, Anchor, Option<u32>);

/// The two indexes of `start..end` (UTF-16) in `field`, encoded. An empty
/// range (a point, where an insertion goes) is two indexes after the
/// character before it, so it stays after that character.
pub(super) fn indexes<T: ReadTxn>(
    txn: &T,
    field: &TextRef,
    start: u32,
    end: u32,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let first = if start < end {
        field.sticky_index(txn, start, Assoc::After)?
    } else {
        field.sticky_index(txn, start, Assoc::Before)?
    };
    let last = field.sticky_index(txn, end, Assoc::Before)?;
    Some((first.encode_v1(), last.encode_v1()))
}

impl Record {
    /// Where each entry's passage is now (entries without indexes are
    /// `Removed`; the caller knows what they are).
    pub(super) fn locate_passages<'a>(
        &self,
        entries: impl Iterator<Item = &'a HashMap<String, Any>>,
    ) -> Vec<Located> {
        // Roots are taken before the read transaction opens (see `tops`).
        let tops: Vec<(&'static FieldDef, Top)> = self
            .def()
            .map(|def| {
                def.fields
                    .iter()
                    .filter(|field| field.is_text() || matches!(field.ty, FieldType::Items(_)))
                    .map(|field| (field, self.top(field)))
                    .collect()
            })
            .unwrap_or_default();
        let txn = self.doc().transact();
        let texts = live_texts(&txn, &tops);
        // What has arrived, to tell a passage not synced yet from a gone one.
        let known = txn.state_vector();
        entries
            .map(|entry| locate(&txn, &known, &texts, entry))
            .collect()
    }
}

/// Every text field of the record's live items (and the top level), by the
/// text's branch: where a passage's anchor says it is.
fn live_texts<T: ReadTxn>(
    txn: &T,
    tops: &[(&'static FieldDef, Top)],
) -> HashMap<BranchPtr, (FieldPath, TextRef)> {
    fn walk_items<T: ReadTxn>(
        txn: &T,
        list: &List,
        fields: &'static [FieldDef],
        at: &FieldPath,
        out: &mut HashMap<BranchPtr, (FieldPath, TextRef)>,
    ) {
        for id in list.ids(txn) {
            let Some(item) = list.live_item(txn, &id) else {
                continue;
            };
            let item_id = super::ItemId(id);
            for field in fields {
                let path = at.child(item_id.clone(), field.key);
                match field.ty {
                    FieldType::Text | FieldType::LongText => {
                        if let Some(text) = text_at(txn, Place::Item(&item), field.key) {
                            out.insert(branch_of(&text), (path, text));
                        }
                    }
                    FieldType::Items(items) => {
                        if let Some(inner) = list_at(txn, Place::Item(&item), field, items) {
                            walk_items(txn, &inner, items.fields, &path, out);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let mut out = HashMap::new();
    for (field, top) in tops {
        match (top, field.ty) {
            (Top::Text(text), _) => {
                out.insert(branch_of(text), (FieldPath::top(field.key), text.clone()));
            }
            (Top::Items(list), FieldType::Items(items)) => {
                walk_items(
                    txn,
                    list,
                    items.fields,
                    &FieldPath::top(field.key),
                    &mut out,
                );
            }
            _ => {}
        }
    }
    out
}

fn branch_of(text: &TextRef) -> BranchPtr {
    BranchPtr::from(AsRef::<Branch>::as_ref(text))
}

/// Where a passage is now, from its two sticky indexes: the text it is in
/// and its offsets there.
fn locate<T: ReadTxn>(
    txn: &T,
    known: &yrs::StateVector,
    texts: &HashMap<BranchPtr, (FieldPath, TextRef)>,
    map: &HashMap<String, Any>,
) -> Located {
    let index = |name: &str| match map.get(name) {
        Some(Any::Buffer(bytes)) => {
            crate::record::contain(|| StickyIndex::decode_v1(bytes).ok()).flatten()
        }
        _ => None,
    };
    let (Some(start), Some(end)) = (index(START), index(END)) else {
        return (None, Anchor::Removed, None);
    };
    let arrived = |sticky: &StickyIndex| {
        sticky
            .id()
            .is_none_or(|id| known.get(&id.client) > id.clock)
    };
    if !arrived(&start) || !arrived(&end) {
        return (None, Anchor::Waiting, None);
    }
    let offset = |sticky: &StickyIndex| crate::record::contain(|| sticky.get_offset(txn)).flatten();
    // Words collected away with their item, or a text no live item holds
    // (its paragraph removed or merged away, or the text replaced).
    let Some(first) = offset(&start) else {
        return (None, Anchor::Removed, None);
    };
    let Some((path, text)) = texts.get(&first.branch) else {
        return (None, Anchor::Removed, None);
    };
    let last = offset(&end).filter(|last| last.branch == first.branch);
    let anchor = match last {
        Some(last) if first.index < last.index => {
            let whole = text.get_string(txn);
            let (from, to) = (
                crate::markup::utf16_to_byte(&whole, first.index),
                crate::markup::utf16_to_byte(&whole, last.index),
            );
            Anchor::Text {
                start: first.index,
                end: last.index,
                text: whole[from..to].to_owned(),
            }
        }
        _ => Anchor::Deleted,
    };
    (Some(path.clone()), anchor, Some(first.index))
}
