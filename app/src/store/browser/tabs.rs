//! Other tabs of this browser (BroadcastChannel): each tells the others what
//! it queued, settled and merged, so every tab shows the same text.

use super::device::random_client_id;
use super::local::bytes_value;
use super::{apply_remote, user_key};
use crate::store::Workspace;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use tern_domain::record::RecordId;
use tern_domain::sync::{self, Change, OpId, PushOp, Seq};

pub(super) const CHANNEL_PREFIX: &str = "tern-workspace-";

thread_local! {
    static CHANNEL: RefCell<Option<web_sys::BroadcastChannel>> = const { RefCell::new(None) };
}

/// What tabs of one browser tell each other, so both show the same text.
#[derive(Serialize, Deserialize)]
pub(super) enum TabMessage {
    /// An edit this tab saved in the outbox.
    Queued(PushOp),
    /// Ops the server has answered for; gone from the outbox.
    Settled(Vec<OpId>),
    /// A change from the server, saved in `records`.
    Merged(RecordId, Vec<u8>),
    /// The server refused an edit of the record: it went back to this state
    /// (`None`: gone), and these queued ops were dropped.
    Reset(RecordId, Option<Vec<u8>>, Vec<OpId>),
    /// A page of changes from the server, saved in `records`: one message,
    /// so the other tab redraws once, not once per record.
    MergedPage(Vec<(RecordId, Vec<u8>)>),
}

pub(super) fn broadcast(message: &TabMessage) {
    CHANNEL.with_borrow(|channel| {
        if let Some(channel) = channel {
            let _ = channel.post_message(&bytes_value(&sync::encode(message)));
        }
    });
}

pub(super) fn listen_to_other_tabs(workspace: Workspace) {
    let Ok(channel) = web_sys::BroadcastChannel::new(&format!("{CHANNEL_PREFIX}{}", user_key()))
    else {
        return;
    };
    let on_message = leptos::wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(
        move |event: web_sys::MessageEvent| {
            let bytes = js_sys::Uint8Array::new(&event.data()).to_vec();
            let Ok(message) = sync::decode::<TabMessage>(&bytes) else {
                return;
            };
            apply_remote(workspace, |replica| {
                match message {
                    TabMessage::Queued(op) => {
                        let _ = replica.adopt_op(op);
                    }
                    TabMessage::Settled(ops) => replica.forget_ops(&ops),
                    // Sent by a tab of the build before `MergedPage`.
                    TabMessage::Merged(record, update) => {
                        let _ = replica.apply_local(record, &update);
                    }
                    TabMessage::MergedPage(changes) => {
                        for (record, update) in changes {
                            let _ = replica.apply_local(record, &update);
                        }
                    }
                    TabMessage::Reset(record, state, dropped) => {
                        // This tab's copy holds the refused ops too: it goes back as well.
                        replica.forget_ops(&dropped);
                        let change = state.map(|update| server_copy(record, update));
                        let _ = replica.reset_record(record, change.as_ref(), random_client_id());
                    }
                }
            });
        },
    );
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Lives as long as the page.
    on_message.forget();
    CHANNEL.with_borrow_mut(|slot| *slot = Some(channel));
}

/// A record's whole state as a change (kind read from the state itself).
pub(super) fn server_copy(record: RecordId, update: Vec<u8>) -> Change {
    let kind = tern_domain::record::Record::load(record, 1, &update)
        .ok()
        .and_then(|loaded| loaded.kind())
        .unwrap_or(tern_domain::record::RecordKind::Recommendation);
    Change {
        seq: Seq(0),
        record,
        kind,
        update,
    }
}
