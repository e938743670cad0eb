//! Update bytes from another device are untrusted: decoding and merging them
//! must fail with an error, never take the process down.
//!
//! yrs 0.28 builds every client id it decodes with `ClientID::new`, which
//! `debug_assert!`s that the id fits in 53 bits (the largest integer
//! JavaScript, and so Yjs, holds exactly). A debug build panics on a larger
//! one; a release build silently drops the high bits, so the id would alias
//! another replica's. [`decode_update`] decodes with yrs's own v1 decoding,
//! through a decoder that refuses such an id before yrs ever builds it.
//!
//! Whatever yrs may still panic on while merging is run inside [`contain`].

use super::RecordError;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use yrs::encoding::read::{Cursor, Error, Read};
use yrs::updates::decoder::{Decode, Decoder};
use yrs::{Any, ClientID, ID};

/// The largest client id yrs and Yjs accept.
pub const MAX_CLIENT_ID: u64 = (1 << 53) - 1;

/// Decodes an update (yrs format v1), refusing client ids above
/// [`MAX_CLIENT_ID`] in its blocks, origins, parents and delete set.
pub fn decode_update(bytes: &[u8]) -> Result<yrs::Update, RecordError> {
    let mut decoder = CheckedDecoder {
        cursor: Cursor::new(bytes),
        out_of_range: false,
    };
    let decoded = yrs::Update::decode(&mut decoder);
    match decoded {
        _ if decoder.out_of_range => Err(RecordError::ClientIdOutOfRange),
        Ok(update) => Ok(update),
        Err(_) => Err(RecordError::MalformedUpdate),
    }
}

/// Checks that bytes decode as an update, without applying them anywhere:
/// lets a server refuse a whole request before it changes anything.
pub fn validate_update(update: &[u8]) -> Result<(), RecordError> {
    decode_update(update).map(|_| ())
}

thread_local! {
    static CONTAINING: Cell<bool> = const { Cell::new(false) };
}

/// Runs yrs work on untrusted input; a panic inside it becomes `None`. The
/// document the work changed may be left half-way and must be dropped.
///
/// In the browser's release build a panic aborts instead (the boot script
/// then tells the user); this is for the server, where one bad update must
/// not end the process.
pub fn contain<T>(work: impl FnOnce() -> T) -> Option<T> {
    let outer = CONTAINING.with(|flag| flag.replace(true));
    let result = catch_unwind(AssertUnwindSafe(work)).ok();
    CONTAINING.with(|flag| flag.set(outer));
    result
}

/// Whether this thread is inside [`contain`]: lets a panic hook tell a panic
/// on untrusted input, which is contained and answered, from a bug.
pub fn containing_panic() -> bool {
    CONTAINING.with(Cell::get)
}

/// yrs's v1 decoder, except that a client id above [`MAX_CLIENT_ID`] is an
/// error. Every method reads as `yrs::updates::decoder::DecoderV1` does.
struct CheckedDecoder<'a> {
    cursor: Cursor<'a>,
    /// A client id was out of range; every read fails from then on.
    out_of_range: bool,
}

impl CheckedDecoder<'_> {
    fn checked(&mut self, client: u64) -> Result<ClientID, Error> {
        if client > MAX_CLIENT_ID {
            self.out_of_range = true;
            return Err(Error::UnexpectedValue);
        }
        Ok(ClientID::new(client))
    }

    fn read_id(&mut self) -> Result<ID, Error> {
        let client = self.read_client()?;
        let clock = self.read_var()?;
        Ok(ID::new(client, clock))
    }

    fn refuse_if_out_of_range(&self) -> Result<(), Error> {
        if self.out_of_range {
            Err(Error::UnexpectedValue)
        } else {
            Ok(())
        }
    }
}

impl Read for CheckedDecoder<'_> {
    fn read_u8(&mut self) -> Result<u8, Error> {
        self.refuse_if_out_of_range()?;
        self.cursor.read_u8()
    }

    fn read_exact(&mut self, len: usize) -> Result<&[u8], Error> {
        self.refuse_if_out_of_range()?;
        self.cursor.read_exact(len)
    }
}

impl Decoder for CheckedDecoder<'_> {
    fn reset_ds_cur_val(&mut self) {
        // yrs reads each client id of a delete set with a bare `read_var`
        // right after this call (`IdSet::decode`), indistinguishable from
        // any other number: look ahead at it here, and fail the next read.
        let mut ahead = Cursor {
            buf: self.cursor.buf,
            next: self.cursor.next,
        };
        if ahead
            .read_var::<u64>()
            .is_ok_and(|client| client > MAX_CLIENT_ID)
        {
            self.out_of_range = true;
        }
    }

    fn read_ds_clock(&mut self) -> Result<u32, Error> {
        self.read_var()
    }

    fn read_ds_len(&mut self) -> Result<u32, Error> {
        self.read_var()
    }

    fn read_left_id(&mut self) -> Result<ID, Error> {
        self.read_id()
    }

    fn read_right_id(&mut self) -> Result<ID, Error> {
        self.read_id()
    }

    fn read_client(&mut self) -> Result<ClientID, Error> {
        let client: u64 = self.read_var()?;
        self.checked(client)
    }

    fn read_info(&mut self) -> Result<u8, Error> {
        self.read_u8()
    }

    fn read_parent_info(&mut self) -> Result<bool, Error> {
        let info: u32 = self.read_var()?;
        Ok(info == 1)
    }

    fn read_type_ref(&mut self) -> Result<u8, Error> {
        self.read_u8()
    }

    fn read_len(&mut self) -> Result<u32, Error> {
        self.read_var()
    }

    fn read_any(&mut self) -> Result<Any, Error> {
        Any::decode(self)
    }

    fn read_json(&mut self) -> Result<Any, Error> {
        let source = self.read_string()?;
        Any::from_json(source)
    }

    fn read_key(&mut self) -> Result<Arc<str>, Error> {
        Ok(self.read_string()?.into())
    }

    fn read_to_end(&mut self) -> Result<&[u8], Error> {
        self.refuse_if_out_of_range()?;
        Ok(&self.cursor.buf[self.cursor.next..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, GetString, Map, Options, ReadTxn, Text, Transact};

    /// lib0's unsigned var-int: 7 bits a byte, low bits first.
    fn var(mut value: u64, out: &mut Vec<u8>) {
        while value >= 0x80 {
            out.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    fn string(text: &str, out: &mut Vec<u8>) {
        var(text.len() as u64, out);
        out.extend_from_slice(text.as_bytes());
    }

    /// One string item by `client` in the root text "title", with an origin
    /// if given, and a delete set of `deleted` clients (one clock each).
    fn update(client: u64, origin: Option<u64>, deleted: &[u64]) -> Vec<u8> {
        const STRING: u8 = 4;
        const HAS_ORIGIN: u8 = 0b1000_0000;
        let mut out = Vec::new();
        var(1, &mut out); // clients
        var(1, &mut out); // blocks of this client
        var(client, &mut out);
        var(0, &mut out); // first clock
        match origin {
            Some(origin) => {
                out.push(STRING | HAS_ORIGIN);
                var(origin, &mut out);
                var(0, &mut out);
            }
            None => {
                out.push(STRING);
                var(1, &mut out); // parent is a root type, by name
                string("title", &mut out);
            }
        }
        string("x", &mut out);
        var(deleted.len() as u64, &mut out);
        for &client in deleted {
            var(client, &mut out);
            var(1, &mut out); // ranges
            var(0, &mut out); // clock
            var(1, &mut out); // length
        }
        out
    }

    const TOO_BIG: u64 = 1 << 60;

    #[test]
    fn the_hand_made_update_is_what_yrs_makes() {
        let doc = Doc::with_options(Options::with_client_id(ClientID::new(7)));
        let title = doc.get_or_insert_text("title");
        let mut txn = doc.transact_mut();
        title.insert(&mut txn, 0, "x");
        assert_eq!(txn.encode_update_v1(), update(7, None, &[]));
    }

    #[test]
    fn updates_yrs_makes_decode_as_yrs_decodes_them() {
        let doc = Doc::with_options(Options::with_client_id(ClientID::new(MAX_CLIENT_ID)));
        let title = doc.get_or_insert_text("title");
        let meta = doc.get_or_insert_map("meta");
        {
            let mut txn = doc.transact_mut();
            title.insert(&mut txn, 0, "Guardianship of migrant children");
            meta.insert(&mut txn, "status", "draft");
            meta.insert(&mut txn, "count", 3);
            meta.insert(&mut txn, "nested", yrs::MapPrelim::default());
        }
        {
            let mut txn = doc.transact_mut();
            title.remove_range(&mut txn, 0, 16);
        }
        let state = doc
            .transact()
            .encode_state_as_update_v1(&yrs::StateVector::default());
        let ours = decode_update(&state).expect("decodes");
        let theirs = yrs::Update::decode_v1(&state).expect("decodes");
        assert_eq!(ours.encode_v1(), theirs.encode_v1());

        let replica = Doc::new();
        replica.transact_mut().apply_update(ours).expect("applies");
        let text = replica.get_or_insert_text("title");
        assert_eq!(text.get_string(&replica.transact()), "migrant children");
    }

    #[test]
    fn a_client_id_above_53_bits_is_refused_wherever_it_appears() {
        assert!(decode_update(&update(MAX_CLIENT_ID, None, &[MAX_CLIENT_ID])).is_ok());
        for (place, bytes) in [
            ("block", update(TOO_BIG, None, &[])),
            ("origin", update(1, Some(TOO_BIG), &[])),
            ("delete set", update(1, None, &[TOO_BIG])),
            ("second delete-set client", update(1, None, &[2, TOO_BIG])),
            ("just above", update(MAX_CLIENT_ID + 1, None, &[])),
        ] {
            assert!(
                matches!(decode_update(&bytes), Err(RecordError::ClientIdOutOfRange)),
                "{place}"
            );
        }
        assert!(matches!(
            decode_update(&update(1, None, &[])[..5]),
            Err(RecordError::MalformedUpdate)
        ));
    }

    #[test]
    fn contain_turns_a_panic_into_none_and_says_so_while_it_runs() {
        assert!(!containing_panic());
        assert_eq!(contain(containing_panic), Some(true));
        let caught = contain(|| -> u8 { panic!("a deliberate panic, contained by this test") });
        assert_eq!(caught, None);
        assert!(!containing_panic());
    }
}
