//! Turning "the field now reads X" into the smallest CRDT text edit.
//!
//! Editors report whole new values; replacing the whole text would turn two
//! people's concurrent edits into one overwriting the other. One splice over the
//! changed middle keeps both, which is what character-level merging is for.

use yrs::{GetString, Text, TextRef, TransactionMut};

/// Makes `text` read `new` by deleting and inserting only the part that changed.
/// Offsets are UTF-16 code units: the documents use them, as browsers do.
pub fn splice_to(text: &TextRef, txn: &mut TransactionMut, new: &str) {
    let old = text.get_string(txn);
    if old == new {
        return;
    }
    let prefix = old
        .chars()
        .zip(new.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect::<String>();
    let old_rest: Vec<char> = old[prefix.len()..].chars().collect();
    let new_rest: Vec<char> = new[prefix.len()..].chars().collect();
    let suffix_chars = old_rest
        .iter()
        .rev()
        .zip(new_rest.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let removed: String = old_rest[..old_rest.len() - suffix_chars].iter().collect();
    let inserted: String = new_rest[..new_rest.len() - suffix_chars].iter().collect();

    let at = utf16_len(&prefix);
    if !removed.is_empty() {
        text.remove_range(txn, at, utf16_len(&removed));
    }
    if !inserted.is_empty() {
        text.insert(txn, at, &inserted);
    }
}

fn utf16_len(text: &str) -> u32 {
    u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, OffsetKind, Options, Transact};

    fn doc(client: u64) -> Doc {
        Doc::with_options(Options {
            client_id: yrs::block::ClientID::new(client),
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        })
    }

    #[test]
    fn splices_keep_unicode_intact() {
        let doc = doc(1);
        let text = doc.get_or_insert_text("t");
        for value in ["Kinder", "Kinderrechte 🇪🇪 ja", "Kinder 🇪🇪 ja", "", "Ø"] {
            splice_to(&text, &mut doc.transact_mut(), value);
            assert_eq!(text.get_string(&doc.transact()), value);
        }
    }

    #[test]
    fn concurrent_edits_in_different_places_both_survive() {
        use yrs::updates::decoder::Decode;
        use yrs::{ReadTxn, StateVector, Update};
        let (a, b) = (doc(1), doc(2));
        let (ta, tb) = (a.get_or_insert_text("t"), b.get_or_insert_text("t"));
        splice_to(&ta, &mut a.transact_mut(), "children at risk");
        let base = a
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        b.transact_mut()
            .apply_update(Update::decode_v1(&base).expect("decodes"))
            .expect("applies");

        splice_to(&ta, &mut a.transact_mut(), "protecting children at risk");
        splice_to(&tb, &mut b.transact_mut(), "children at risk in the region");

        let from_a = a
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let from_b = b
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        a.transact_mut()
            .apply_update(Update::decode_v1(&from_b).expect("decodes"))
            .expect("applies");
        b.transact_mut()
            .apply_update(Update::decode_v1(&from_a).expect("decodes"))
            .expect("applies");
        let merged = ta.get_string(&a.transact());
        assert_eq!(merged, "protecting children at risk in the region");
        assert_eq!(merged, tb.get_string(&b.transact()));
    }
}
