//! The sync protocol, version 1: what a device and the server say to each other.
//!
//! Paths are stable names (a service worker may keep an old client for weeks);
//! a breaking change gets `/v2/` beside `/v1/`, never an edit of v1. Bodies are
//! postcard (compact binary: varint integers, no field names), because the
//! common message is one keystroke and must stay small on hotel networks.
//!
//! Push: the device sends its outbox, each update with an op id it made up, so a
//! retried push is applied once. Pull: the device asks for everything after its
//! cursor (a server sequence number, increasing with each applied change), page
//! by page, and applies the changes in that order, which is causal order.

use crate::record::{RecordId, RecordKind};
use serde::{Deserialize, Serialize};

pub const PUSH_PATH: &str = "/api/sync/v1/push";
pub const PULL_PATH: &str = "/api/sync/v1/pull";
/// Server-sent events: `data: <seq>` whenever the log grows, so an open device
/// pulls within a second of a colleague's edit instead of waiting for its timer.
pub const EVENTS_PATH: &str = "/api/sync/v1/events";
/// `GET {RECORDS_PATH}/<record id>`: one record's whole state as a [`Change`]
/// (its `seq` is the record's latest), for a device whose copy cannot settle.
pub const RECORDS_PATH: &str = "/api/sync/v1/records";
/// The media type of every sync body.
pub const CONTENT_TYPE: &str = "application/vnd.tern.sync.v1+postcard";
/// The largest push body the server accepts; a bigger outbox goes in several pushes.
pub const MAX_PUSH_BYTES: usize = 4 * 1024 * 1024;
/// The most changes one pull page carries.
pub const MAX_PULL_LIMIT: u32 = 1_000;

/// A device (one browser profile, or one test client), chosen at random when it
/// first syncs. The server keeps each device's cursor to know which part of its
/// log every device has passed. Written as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceId(pub [u8; 16]);

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl std::str::FromStr for DeviceId {
    type Err = MalformedMessage;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != 32 || !text.is_ascii() {
            return Err(MalformedMessage);
        }
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| MalformedMessage)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| MalformedMessage)?;
        }
        Ok(DeviceId(bytes))
    }
}

/// An operation's id, chosen at random by the device that made the edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OpId(pub [u8; 16]);

/// A server sequence number: the position of a change in the server's log.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
pub struct Seq(pub u64);

/// One edit from a device's outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushOp {
    pub op: OpId,
    pub record: RecordId,
    /// The record's kind, so the server can create the record on its first op and
    /// refuse an op that would change a record's kind.
    pub kind: RecordKind,
    /// A yrs update (format v1).
    pub update: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub ops: Vec<PushOp>,
}

/// What became of one pushed op. `Applied` and `AlreadyApplied` both mean the
/// device may drop it from its outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpOutcome {
    Applied(Seq),
    AlreadyApplied(Seq),
    /// Not applied and never will be as sent; the device keeps the user's text
    /// and shows the reason on the record.
    Rejected(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One outcome per op, in the order they were sent.
    pub outcomes: Vec<(OpId, OpOutcome)>,
}

/// Query of a pull: changes after `since`, at most `limit` of them. Sent as the
/// query string `?since=<seq>&limit=<n>&device=<hex>&kinds=<tag>,<tag>`;
/// `device` is optional (without it the pull does not count as the device
/// having reached `since`), and so is `kinds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullQuery {
    pub since: Seq,
    pub limit: u32,
    pub device: Option<DeviceId>,
    /// The kinds of record the device knows. Changes of other kinds are left
    /// out (the cursor passes them), so a device built before a kind existed
    /// never meets one it cannot decode. `None`: [`RecordKind::V1`], what a
    /// device sends that predates this field.
    pub kinds: Option<Vec<RecordKind>>,
}

impl PullQuery {
    /// Whether the device asked for (or, by predating the choice, takes) this kind.
    pub fn takes(&self, kind: RecordKind) -> bool {
        match &self.kinds {
            Some(kinds) => kinds.contains(&kind),
            None => RecordKind::V1.contains(&kind),
        }
    }

    /// Reads the `kinds` parameter; unknown tags (kinds newer than this build)
    /// are left out.
    pub fn parse_kinds(text: &str) -> Vec<RecordKind> {
        text.split(',').filter_map(RecordKind::parse).collect()
    }

    /// The URL path and query of this pull.
    pub fn path(&self) -> String {
        let mut path = format!("{PULL_PATH}?since={}&limit={}", self.since.0, self.limit);
        if let Some(device) = self.device {
            path.push_str(&format!("&device={device}"));
        }
        if let Some(kinds) = &self.kinds {
            let tags: Vec<&str> = kinds.iter().map(|kind| kind.as_str()).collect();
            path.push_str(&format!("&kinds={}", tags.join(",")));
        }
        path
    }
}

/// One change as the server's log holds it, or, for a device too far behind
/// the compacted log, a record's whole state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub seq: Seq,
    pub record: RecordId,
    pub kind: RecordKind,
    pub update: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// The cursor for the next pull (the last change's seq, or `since` if none).
    pub cursor: Seq,
    /// False while more changes wait beyond this page.
    pub complete: bool,
}

/// A body that does not decode as the message it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the body is not a valid sync v1 message")]
pub struct MalformedMessage;

/// Encodes any sync message.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    // Serializing plain data into a Vec cannot fail; an empty body would be
    // refused by the receiver rather than misread.
    postcard::to_allocvec(message).unwrap_or_default()
}

/// Decodes a sync message; trailing bytes are an error, not ignored.
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, MalformedMessage> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((message, [])) => Ok(message),
        _ => Err(MalformedMessage),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    fn record_id() -> RecordId {
        RecordId::v7(1_760_000_000_000, [3; 10])
    }

    #[test]
    fn messages_round_trip() {
        let push = PushRequest {
            ops: vec![PushOp {
                op: OpId([9; 16]),
                record: record_id(),
                kind: RecordKind::Project,
                update: vec![1, 2, 3],
            }],
        };
        assert_eq!(decode::<PushRequest>(&encode(&push)), Ok(push));
        let pull = PullResponse {
            changes: vec![Change {
                seq: Seq(7),
                record: record_id(),
                kind: RecordKind::Recommendation,
                update: vec![0, 0],
            }],
            cursor: Seq(7),
            complete: true,
        };
        assert_eq!(decode::<PullResponse>(&encode(&pull)), Ok(pull));
    }

    #[test]
    fn garbage_and_trailing_bytes_are_refused() {
        assert_eq!(
            decode::<PushRequest>(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
            Err(MalformedMessage)
        );
        let mut body = encode(&PullQuery {
            since: Seq(1),
            limit: 10,
            device: None,
            kinds: None,
        });
        body.push(0);
        assert_eq!(decode::<PullQuery>(&body), Err(MalformedMessage));
    }

    #[test]
    fn device_ids_read_back_and_refuse_bad_text() {
        let device = DeviceId([0xab; 16]);
        assert_eq!(device.to_string().parse(), Ok(device));
        for bad in ["", "ab", &"g".repeat(32), &"é".repeat(16)] {
            assert_eq!(bad.parse::<DeviceId>(), Err(MalformedMessage), "{bad}");
        }
        let mut query = PullQuery {
            since: Seq(5),
            limit: 10,
            device: Some(device),
            kinds: None,
        };
        assert_eq!(
            query.path(),
            format!("{PULL_PATH}?since=5&limit=10&device={}", "ab".repeat(16))
        );
        assert!(query.takes(RecordKind::Project) && !query.takes(RecordKind::Person));
        query.kinds = Some(vec![RecordKind::Person, RecordKind::Project]);
        assert!(query.path().ends_with("&kinds=person,project"));
        assert!(query.takes(RecordKind::Person));
        assert_eq!(
            PullQuery::parse_kinds("person,spaceship,organisation"),
            [RecordKind::Person, RecordKind::Organisation]
        );
    }

    /// The goal for the wire: a one-character edit costs at most 100 bytes of body.
    #[test]
    fn a_single_character_edit_is_a_small_push() {
        let (record, _) = Record::create(record_id(), RecordKind::Recommendation, 42);
        record
            .set_text("title", "Recommendation on child participation")
            .expect("title");
        let keystroke = record
            .set_text("title", "Recommendation on child participations")
            .expect("title");
        let body = encode(&PushRequest {
            ops: vec![PushOp {
                op: OpId([5; 16]),
                record: record.id(),
                kind: RecordKind::Recommendation,
                update: keystroke.0,
            }],
        });
        // Measured: 45 bytes (16 op id + 16 record id + kind + the yrs update + framing).
        assert!(body.len() <= 100, "{} bytes", body.len());
        println!("single-character edit push body: {} bytes", body.len());
    }
}
