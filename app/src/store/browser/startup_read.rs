//! Reading the saved workspace when the page starts.
//!
//! The boot script (`public/boot.js`, `readDevice`) reads the remembered
//! user's database while the app's code loads: for ten thousand records that
//! read takes about a third of a second, which would otherwise come after the
//! code has loaded, before a list can draw. This module takes that read, or
//! asks the boot script for a new one when it read nothing usable (no
//! remembered user, another user, a database this build had to create or
//! upgrade first), and decodes it. Both reads are one readonly transaction
//! over every store, so what they return is one consistent moment.
//!
//! The read's shape, which `readDevice` and this module share:
//! `{ user, listing: Promise<Array>, rest: Promise<{ records, outbox,
//! copyKeys, copies, cursor }> }`, every value a `Uint8Array` (the cursor a
//! string or undefined), the stores named as in `local`.

use super::device::now;
use super::local::{decode_each, decode_listing, decode_state, parse_cursor};
use crate::store::{LocalCopy, LocalCopyWithText};
use js_sys::{Array, Function, Promise, Reflect};
use leptos::wasm_bindgen::{JsCast, JsValue};
use std::convert::Infallible;
use std::sync::Arc;
use tern_domain::client::SavedRecord;
use tern_domain::record::{Projection, RecordId};
use tern_domain::sync::{self, PushOp, Seq};
use wasm_bindgen_futures::JsFuture;

/// The boot script's read, started before the app's code loaded.
const EARLY_READ: &str = "__ternDeviceRead";
/// The boot script's function that reads now: `readDevice(user)`.
const READ_NOW: &str = "__ternReadDevice";

pub(super) struct Saved {
    pub cursor: Seq,
    pub states: Vec<SavedRecord>,
    /// Records with no listing of this build's version, to write again.
    pub unlisted: Vec<RecordId>,
    pub outbox: Vec<PushOp>,
    pub copies: Vec<LocalCopy>,
    /// From `started` until the listings arrived, and until they were shown.
    pub fetched_ms: f64,
    pub listed_ms: f64,
}

/// Decodes a read: first the listings, which `show` puts on screen at once,
/// then the states, the outbox and the rest.
pub(super) async fn load(
    read: JsValue,
    started: f64,
    show: impl FnOnce(Vec<(RecordId, Arc<Projection>)>),
) -> Result<Saved, String> {
    let listing: Array = settle(&read, "listing").await?.unchecked_into();
    let fetched_ms = now() - started;
    let mut listed = decode_each(listing.iter().map(Ok::<_, Infallible>), decode_listing)?;
    drop(listing);
    show(
        listed
            .iter()
            .filter_map(|(id, projection)| Some((*id, projection.clone()?)))
            .collect(),
    );
    let listed_ms = now() - started;
    listed.sort_unstable_by_key(|(id, _)| *id);

    let rest = settle(&read, "rest").await?;
    let values = |name: &str| -> Result<Array, String> { Ok(get(&rest, name)?.unchecked_into()) };
    let each = |array: Array| array.into_iter().map(Ok::<_, Infallible>);
    let mut states = decode_each(each(values("records")?), decode_state)?;
    let mut unlisted = Vec::new();
    for saved in &mut states {
        match listed.binary_search_by_key(&saved.id, |(id, _)| *id) {
            Ok(at) => saved.projection = listed[at].1.take(),
            Err(_) => unlisted.push(saved.id),
        }
    }
    drop(listed);
    let outbox = decode_each(each(values("outbox")?), |bytes| {
        sync::decode::<PushOp>(bytes).ok()
    })?;
    let copies = decode_each(each(values("copies")?), |bytes| {
        sync::decode::<LocalCopy>(bytes)
            .or_else(|_| sync::decode::<LocalCopyWithText>(bytes).map(LocalCopy::from))
            .ok()
    })?;
    let copies = copies
        .into_iter()
        .zip(values("copyKeys")?.iter())
        .filter_map(|(mut copy, key)| {
            copy.key = key.as_f64()? as u32;
            Some(copy)
        })
        .collect();
    let cursor = get(&rest, "cursor")?
        .as_string()
        .map_or(Seq(0), |text| parse_cursor(&text));
    Ok(Saved {
        cursor,
        states,
        unlisted,
        outbox,
        copies,
        fetched_ms,
        listed_ms,
    })
}

/// The boot script's early read, if it is this user's and found the database
/// at this build's version. Taken once: a later start reads anew.
pub(super) async fn early_read(user: &str) -> Option<JsValue> {
    let global = js_sys::global();
    let early = Reflect::get(&global, &EARLY_READ.into()).ok()?;
    let _ = Reflect::set(&global, &EARLY_READ.into(), &JsValue::UNDEFINED);
    let read = JsFuture::from(early.dyn_into::<Promise>().ok()?)
        .await
        .ok()?;
    let reader = get(&read, "user").ok()?.as_string();
    (reader.as_deref() == Some(user)).then_some(read)
}

/// A read made now (the database is open, at this build's version).
pub(super) async fn read_now(user: &str) -> Result<JsValue, String> {
    let read_now: Function = Reflect::get(&js_sys::global(), &READ_NOW.into())
        .ok()
        .and_then(|read| read.dyn_into().ok())
        .ok_or("the boot script's reader is missing")?;
    let read = read_now
        .call1(&JsValue::UNDEFINED, &user.into())
        .map_err(describe)?;
    let read = JsFuture::from(Promise::resolve(&read))
        .await
        .map_err(describe)?;
    if read.is_null() {
        return Err("the saved workspace could not be read".into());
    }
    Ok(read)
}

/// Awaits the promise in `read[name]`.
async fn settle(read: &JsValue, name: &str) -> Result<JsValue, String> {
    let promise = Promise::resolve(&get(read, name)?);
    JsFuture::from(promise).await.map_err(describe)
}

fn get(object: &JsValue, name: &str) -> Result<JsValue, String> {
    Reflect::get(object, &name.into()).map_err(describe)
}

fn describe(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}
