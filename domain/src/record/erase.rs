//! Erasing a record of personal data: one update that deletes everything the
//! document holds, so every replica that merges it loses the content too.
//!
//! Deleting is not enough to forget: yrs keeps a deleted map entry's key (a
//! tag, say) beside its collected content. So what the server keeps and
//! sends of an erased record is its tombstone ([`Record::tombstone`]): every
//! id the record ever had as collected ranges (no key, no content), and a
//! delete set over all of them. A replica that held the content deletes it
//! by merging the tombstone; one that never did takes it as it is; either way
//! the kind is gone, so the record leaves every list and reads as not there.

use super::{Record, Update};
use yrs::encoding::write::Write as _;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};
use yrs::{Array, Map, Out, ReadTxn, StateVector, Text};

impl Record {
    /// Deletes every root's content (texts, maps with their items, arrays)
    /// in one transaction; returns its update.
    pub fn erase(&self) -> Update {
        self.edit(|txn, _| {
            let roots: Vec<Out> = txn.root_refs().map(|(_, root)| root).collect();
            for root in roots {
                match root {
                    Out::YText(text) => {
                        let length = text.len(txn);
                        if length > 0 {
                            text.remove_range(txn, 0, length);
                        }
                    }
                    Out::YMap(map) => {
                        let keys: Vec<String> = map.keys(txn).map(str::to_owned).collect();
                        for key in keys {
                            map.remove(txn, &key);
                        }
                    }
                    Out::YArray(array) => {
                        let length = array.len(txn);
                        if length > 0 {
                            array.remove_range(txn, 0, length);
                        }
                    }
                    _ => {}
                }
            }
        })
    }
}

impl Record {
    /// The erased form of this record: one collected range per replica over
    /// everything it wrote, and all of it deleted. Holds no key and no content.
    pub fn tombstone(&self) -> Vec<u8> {
        let vector = StateVector::decode_v1(&self.state_vector()).unwrap_or_default();
        let mut clients: Vec<(u64, u32)> = vector
            .iter()
            .filter(|(_, clock)| **clock > 0)
            .map(|(client, clock)| (client.get(), *clock))
            .collect();
        // yrs writes higher clients first.
        clients.sort_unstable_by(|a, b| b.cmp(a));
        let mut encoder = EncoderV1::new();
        encoder.write_var(clients.len() as u32);
        for (client, clock) in &clients {
            // One struct: a collected (GC) block from clock 0 of `clock` units.
            encoder.write_var(1u32);
            encoder.write_client(yrs::block::ClientID::new(*client));
            encoder.write_var(0u32);
            encoder.write_info(yrs::block::BLOCK_GC_REF_NUMBER);
            encoder.write_len(*clock);
        }
        let mut deleted = yrs::IdSet::new();
        for (client, clock) in &clients {
            deleted.insert(yrs::ID::new(yrs::block::ClientID::new(*client), 0), *clock);
        }
        deleted.encode(&mut encoder);
        encoder.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use crate::record::{FieldEdit, FieldPath, ItemId, Record, RecordId, RecordKind};

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    }

    #[test]
    fn an_erased_record_holds_no_trace_of_its_content_on_any_replica() {
        let id = RecordId::v7(1_760_000_000_000, [9; 10]);
        let (person, created) = Record::create(id, RecordKind::Person, 1);
        let name = "Zygmunt Kowalczyk";
        let mut updates = vec![created, person.set_text("name", name).expect("name")];
        for (key, value) in [
            ("email", "zygmunt@ms.gov.pl"),
            ("phone", "+48 22 123 45 67"),
        ] {
            updates.push(
                person
                    .change(&FieldPath::top(key), FieldEdit::Text(value.into()))
                    .expect("a value"),
            );
        }
        updates.push(
            person
                .change(
                    &FieldPath::top("tags"),
                    FieldEdit::Include {
                        value: "Kowalczyk's Barnahus".into(),
                        included: true,
                    },
                )
                .expect("a tag"),
        );
        let colleague = Record::empty(id, 2);
        for update in &updates {
            colleague.apply_update(&update.0).expect("applies");
        }
        assert!(contains(&colleague.state(), "Zygmunt"));
        let erased = person.erase();
        colleague.apply_update(&erased.0).expect("applies");
        for replica in [&person, &colleague] {
            // Merging the erasure drops the content (texts, values)...
            let state = replica.state();
            for trace in ["Zygmunt", "zygmunt@", "123 45"] {
                assert!(!contains(&state, trace), "{trace} is still in the state");
            }
            assert_eq!(replica.kind(), None);
            assert!(replica.projection().is_none());
        }
        // The deleted map keys are still in a merged state, so what is kept and
        // sent is the tombstone, which holds no key either.
        let tombstone = person.tombstone();
        for trace in [
            "Zygmunt",
            "Kowalczyk",
            "zygmunt@",
            "123 45",
            "person",
            "email",
        ] {
            assert!(!contains(&tombstone, trace), "{trace} is in the tombstone");
        }
        // A replica that never had the record takes the tombstone whole; one
        // that had it (and its keys) is replaced by it; both then agree.
        let newcomer = Record::load(id, 4, &tombstone).expect("a tombstone loads");
        assert!(!newcomer.has_missing_updates() && newcomer.kind().is_none());
        let had_it = Record::load(
            id,
            5,
            &updates.iter().map(|u| u.0.clone()).next().expect("one"),
        )
        .expect("loads");
        for update in &updates {
            had_it.apply_update(&update.0).expect("applies");
        }
        had_it.apply_update(&tombstone).expect("merges");
        assert!(!had_it.has_missing_updates());
        assert!(
            had_it.projection().is_none(),
            "merging the tombstone deletes the content"
        );
        // What a device does once a record loses its kind (`Replica::apply_change`).
        let cleaned = Record::load(id, 6, &tombstone).expect("replaced");
        assert_eq!(cleaned.state_vector(), newcomer.state_vector());
        assert!(!contains(&cleaned.state(), "Kowalczyk"));
        // Nothing can be added to a field of the erased record's kind any more.
        assert!(cleaned
            .change(
                &FieldPath::item("x", ItemId("y".into()), "z"),
                FieldEdit::Flag(true)
            )
            .is_err());
    }
}
