//! What a record page's text fields and its comments panel share: the
//! passage a user asked to comment on or suggest a change to (from a long
//! text's toolbar), and the
//! open comments per top-level item (a section), which the outline shows.
//! The panel itself is in the `comments` module (`super::comments`).

use leptos::prelude::*;
use std::collections::HashMap;
use tern_domain::record::{FieldPath, ItemId};

/// Words selected in a text field, to comment on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    pub path: FieldPath,
    /// UTF-16 offsets, as the text box counts.
    pub start: u32,
    pub end: u32,
    pub quote: String,
}

#[derive(Clone, Copy)]
pub struct Discussion {
    /// A passage to comment on; the panel opens its form for it.
    pub asked: RwSignal<Option<Passage>>,
    /// A passage to suggest a change to (empty: a place to insert at).
    pub suggest: RwSignal<Option<Passage>>,
    /// Open threads per top-level item, as the panel last counted.
    pub open_per_item: RwSignal<HashMap<ItemId, usize>>,
    /// Suggesting: what the user types in a long text is a proposal, turned
    /// into suggestions when they propose it (`super::text_input`).
    pub suggesting: RwSignal<bool>,
}

/// Provided by the record page, for its fields and panels.
pub fn provide_discussion() {
    provide_context(Discussion {
        asked: RwSignal::new(None),
        suggest: RwSignal::new(None),
        open_per_item: RwSignal::new(HashMap::new()),
        suggesting: RwSignal::new(false),
    });
}

pub fn use_discussion() -> Option<Discussion> {
    use_context::<Discussion>()
}

/// The text box of a text field, by its path (`data-path`).
pub fn text_box(path: &FieldPath) -> Option<leptos::web_sys::HtmlTextAreaElement> {
    use leptos::wasm_bindgen::JsCast;
    document()
        .query_selector(&format!("textarea[data-path=\"{path}\"]"))
        .ok()
        .flatten()
        .and_then(|element| element.dyn_into().ok())
}
