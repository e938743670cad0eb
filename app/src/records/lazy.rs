//! Parts of a record page whose code is in another module (`drafting`,
//! `comments`; see `crate::pages`), fetched once the page is drawn: they
//! cost the record page's first load nothing.

use leptos::prelude::*;
use tern_domain::record::{RecordId, RecordKind};

/// The record's comments (`super::comments`).
#[component]
pub fn CommentsLater(id: RecordId, kind: RecordKind) -> impl IntoView {
    crate::pages::lazy_part(crate::pages::comments_panel(id, kind))
}

/// Choices made at the same time in the record (`super::conflicts`).
#[component]
pub fn ConflictsLater(id: RecordId, kind: RecordKind) -> impl IntoView {
    crate::pages::lazy_part(crate::pages::conflicts_panel(id, kind))
}
