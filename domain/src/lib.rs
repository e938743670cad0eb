//! Tern's domain and protocol types: the one place both the browser app and the
//! server take them from, so the two can never disagree about a name or a shape.
//!
//! This crate has no I/O and no framework dependency; it compiles for the server
//! and for `wasm32-unknown-unknown` alike.

pub mod api;
pub mod auth;
pub mod client;
pub mod email;
pub mod markup;
pub mod record;
pub mod region;
pub mod sync;
