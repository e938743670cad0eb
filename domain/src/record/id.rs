//! Identifiers that are born on a device and stay the same everywhere.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A record's id: a UUID version 7 (time-ordered, 74 random bits), written in the
/// usual hyphenated lowercase form. Devices create ids offline, so they must not
/// collide and must not need the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId([u8; 16]);

/// Text in human-readable formats (JSON, URLs), 16 raw bytes in binary ones (the
/// sync protocol), where the text form would more than double the size.
impl Serialize for RecordId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            <[u8; 16]>::deserialize(deserializer).map(RecordId)
        }
    }
}

impl RecordId {
    /// Builds a v7 UUID from a Unix time in milliseconds and ten random bytes.
    /// The caller supplies both, so this crate stays free of clocks and entropy
    /// (and seeded tests stay replayable).
    pub fn v7(unix_ms: u64, random: [u8; 10]) -> RecordId {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
        bytes[6..].copy_from_slice(&random);
        bytes[6] = (bytes[6] & 0x0f) | 0x70; // version 7
        bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
        RecordId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub fn from_bytes(bytes: [u8; 16]) -> RecordId {
        RecordId(bytes)
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a record id: “{0}” (expected a UUID such as 0193b7a0-7e2c-7c4e-9a1b-2f3d4e5f6a7b)")]
pub struct InvalidRecordId(pub String);

impl FromStr for RecordId {
    type Err = InvalidRecordId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidRecordId(text.chars().take(64).collect());
        let hex: Vec<u8> = text.bytes().filter(|b| *b != b'-').collect();
        let well_formed = text.len() == 36
            && [8, 13, 18, 23].iter().all(|&i| text.as_bytes()[i] == b'-')
            && hex.len() == 32;
        if !well_formed {
            return Err(invalid());
        }
        let mut bytes = [0u8; 16];
        for (i, pair) in hex.chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).map_err(|_| invalid())?;
            bytes[i] = u8::from_str_radix(pair, 16).map_err(|_| invalid())?;
        }
        Ok(RecordId(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_ids_print_as_uuids_that_sort_by_time_and_parse_back() {
        let early = RecordId::v7(1_700_000_000_000, [0xff; 10]);
        let late = RecordId::v7(1_700_000_000_001, [0x00; 10]);
        assert!(early < late);
        let text = early.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "7", "version nibble: {text}");
        assert!(
            matches!(&text[19..20], "8" | "9" | "a" | "b"),
            "variant: {text}"
        );
        assert_eq!(text.parse::<RecordId>(), Ok(early));
    }

    #[test]
    fn ids_are_text_in_json_and_sixteen_bytes_in_binary() {
        let id = RecordId::v7(1_700_000_000_000, [0xab; 10]);
        let json = serde_json::to_string(&id).expect("serialises");
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<RecordId>(&json).expect("parses"), id);
        let binary = postcard::to_allocvec(&id).expect("serialises");
        assert_eq!(binary.len(), 16);
        assert_eq!(
            postcard::from_bytes::<RecordId>(&binary).expect("parses"),
            id
        );
    }

    #[test]
    fn malformed_ids_are_refused() {
        for text in [
            "",
            "not-a-uuid",
            "0193b7a0-7e2c-7c4e-9a1b-2f3d4e5f6a7",
            "0193b7a07e2c7c4e9a1b2f3d4e5f6a7b0000",
            "0193b7a0-7e2c-7c4e-9a1b-2f3d4e5f6a7g",
        ] {
            assert!(text.parse::<RecordId>().is_err(), "{text}");
        }
    }
}
