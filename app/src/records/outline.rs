//! A long record's outline: the items of its first list named by a line of
//! text (a recommendation's sections), numbered, each a jump to its place in
//! the form or the reading view (both give an item the id [`item_anchor`]),
//! with the one in view marked, those holding changes not synced yet, and
//! how many open comments each holds.
//! Beside the text on a wide screen; on a phone
//! a "Contents" button opens it as a sheet (`style/main.css`).

use crate::i18n::*;
use crate::labels;
use crate::store::use_workspace;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use tern_domain::record::schema::{FieldType, ItemsDef};
use tern_domain::record::{FieldPath, ItemId, RecordId, RecordKind};

/// An outline shows from this many items: one section needs no map.
const FROM_ITEMS: usize = 2;
/// The item in view is the last whose top is above this share of the screen.
const READING_LINE: f64 = 0.3;

/// The DOM id of an item's element, in the form and the reading view alike.
pub fn item_anchor(item: &str) -> String {
    format!("item-{item}")
}

/// The list an outline of `kind` shows: its first top-level list whose items
/// are named by a line of text, with that field's key.
fn outlined(kind: RecordKind) -> Option<(&'static str, &'static str)> {
    kind.def().fields.iter().find_map(|field| match field.ty {
        FieldType::Items(ItemsDef {
            title: Some(title),
            fields,
            ..
        }) if fields
            .iter()
            .any(|item| item.key == *title && item.ty == FieldType::Text) =>
        {
            Some((field.key, *title))
        }
        _ => None,
    })
}

#[component]
pub fn Outline(id: RecordId, kind: RecordKind) -> impl IntoView {
    let Some((list, title)) = outlined(kind) else {
        return ().into_any();
    };
    let i18n = use_i18n();
    let workspace = use_workspace();
    let entries = Memo::new(move |_| {
        let list = FieldPath::top(list);
        workspace
            .with_record(id, |record| {
                record
                    .item_ids(&list)
                    .into_iter()
                    .map(|item| {
                        let name = record.text(&list.child(item.clone(), title));
                        (item, name.unwrap_or_default())
                    })
                    .collect::<Vec<(ItemId, String)>>()
            })
            .unwrap_or_default()
    });
    // Sections holding this device's changes the server has not taken yet.
    let unsynced = Memo::new(move |_| workspace.unsynced_items(id));
    // Open comments per section, as the comments panel counts them.
    let discussion = super::discussion::use_discussion();
    let open = RwSignal::new(false);
    let in_view = follow_reading_line(entries);
    let jump = move |item: ItemId| {
        open.set(false);
        if let Some(element) = document()
            .get_element_by_id(&item_anchor(&item.0))
            .and_then(|element| element.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            element.scroll_into_view_with_bool(true);
            // Keyboard and screen-reader users go on from there.
            let _ = element.set_attribute("tabindex", "-1");
            let _ = element.focus();
        }
    };
    let heading = move || labels::field(i18n, kind, &FieldPath::top(list));
    let long_enough = move || entries.with(Vec::len) >= FROM_ITEMS;
    view! {
        <Show when=long_enough>
            <button type="button" class="outline-toggle" id="outline-toggle" aria-controls="outline"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|open| *open = !*open)>
                {move || t_string!(i18n, outline_open)}
            </button>
            <nav class="outline" id="outline" aria-labelledby="outline-heading"
                data-open=move || open.get().to_string()
                on:keydown=move |event| if event.key() == "Escape" { open.set(false) }>
                <h2 id="outline-heading">{heading}</h2>
                <ol>
                    {move || entries.get().into_iter().enumerate().map(|(at, (item, name))| {
                        let number = at + 1;
                        let shown = if name.trim().is_empty() {
                            t_string!(i18n, untitled).to_owned()
                        } else {
                            name
                        };
                        let current = {
                            let item = item.clone();
                            move || (in_view.get().as_ref() == Some(&item)).then_some("location")
                        };
                        let waiting = {
                            let item = item.clone();
                            move || unsynced.with(|items| items.contains(&item))
                        };
                        let comments = {
                            let item = item.clone();
                            move || discussion.and_then(|discussion| {
                                discussion.open_per_item.with(|counts| counts.get(&item).copied())
                            })
                        };
                        view! {
                            <li>
                                <a href=format!("#{}", item_anchor(&item.0)) aria-current=current
                                    on:click=move |event| {
                                        event.prevent_default();
                                        jump(item.clone());
                                    }>
                                    <span class="outline-number">{format!("{number}.")}</span>
                                    " " {shown}
                                    <Show when=waiting.clone()>
                                        " "
                                        <span class="outline-mark unsynced" title=move || t_string!(i18n, outline_unsynced)>
                                            <span aria-hidden="true">"●"</span>
                                            <span class="visually-hidden">{move || t_string!(i18n, outline_unsynced)}</span>
                                        </span>
                                    </Show>
                                    {move || comments().map(|count| view! {
                                        " "
                                        <span class="outline-mark comments" title=move || t_string!(i18n, outline_comments)>
                                            <span aria-hidden="true">{format!("💬{count}")}</span>
                                            <span class="visually-hidden">{format!("{}: {count}", t_string!(i18n, outline_comments))}</span>
                                        </span>
                                    })}
                                </a>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            </nav>
        </Show>
    }
    .into_any()
}

/// The item whose element is at the reading line as the page scrolls.
fn follow_reading_line(entries: Memo<Vec<(ItemId, String)>>) -> ReadSignal<Option<ItemId>> {
    let (in_view, set_in_view) = signal(None::<ItemId>);
    let measure = move || {
        let line = window()
            .inner_height()
            .ok()
            .and_then(|height| height.as_f64())
            .unwrap_or(800.0)
            * READING_LINE;
        let mut current = None;
        entries.with_untracked(|entries| {
            for (item, _) in entries {
                let Some(element) = document().get_element_by_id(&item_anchor(&item.0)) else {
                    continue;
                };
                if element.get_bounding_client_rect().top() <= line {
                    current = Some(item.clone());
                } else {
                    break;
                }
            }
            // Above the first item, the first is where the reader is headed.
            if current.is_none() {
                current = entries.first().map(|(item, _)| item.clone());
            }
        });
        if in_view.get_untracked() != current {
            set_in_view.set(current);
        }
    };
    // Measured in the next animation frame, once per frame: reading element
    // boxes right after the page changed would force a layout in the middle of
    // drawing it (and of every keystroke in a section's heading).
    let pending = StoredValue::new(false);
    let schedule = move || {
        if !pending.get_value() {
            pending.set_value(true);
            request_animation_frame(move || {
                // The page may have gone in the meantime.
                if pending.is_disposed() {
                    return;
                }
                pending.set_value(false);
                measure();
            });
        }
    };
    Effect::new(move |_| {
        entries.track();
        schedule();
    });
    Effect::new(move |_| {
        let scroll = window_event_listener(leptos::ev::scroll, move |_| schedule());
        on_cleanup(move || scroll.remove());
    });
    in_view
}
