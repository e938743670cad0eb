//! The formatting toolbar and preview of a long text: bold, italic, links,
//! lists and footnotes by button or shortcut, written as Markdown for the user
//! (`tern_domain::markup::format`), and the text as readers will see it.
//!
//! Built in the `drafting` page module with the Markdown parser, and only for
//! a field the user has gone into: a 50-section draft does not draw hundreds
//! of toolbars. The toolbar is one tab stop (arrow keys move within it, as
//! WAI-ARIA's toolbar pattern has it); each button says what it does and its
//! shortcut, format buttons say whether they are on, and a change made by a
//! shortcut is announced.

use crate::i18n::*;
use crate::store::use_workspace;
use leptos::html;
use leptos::prelude::*;
use leptos::web_sys;
use tern_domain::markup::format::{self as commands, Edited, Format, Formats, Selection};
use tern_domain::markup::{byte_to_utf16, to_html, utf16_to_byte};
use tern_domain::record::{FieldPath, RecordId};

/// What the toolbar works on: its field's text box, and how a new text is
/// given to the field (as typing is).
#[derive(Clone)]
pub struct Target {
    pub id: RecordId,
    /// The field's path: what a comment on its words names.
    pub field: FieldPath,
    pub area: NodeRef<html::Textarea>,
    pub commit: Callback<String>,
    pub preview: RwSignal<bool>,
    pub dom_id: String,
    /// Where the toolbar puts its handlers of the text box's keys and caret
    /// (the text box calls them; the code is here).
    pub hooks: StoredValue<Option<Hooks>>,
}

#[derive(Clone, Copy)]
pub struct Hooks {
    /// A key pressed in the text box; true if it was a formatting shortcut.
    pub keydown: Callback<web_sys::KeyboardEvent, bool>,
    /// The caret or selection may have moved.
    pub caret: Callback<()>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Toggle(Format),
    Link,
    Footnote,
    Preview,
    /// Comment on the selected words (`super::comments`).
    Comment,
    /// Suggest a change to the selected words, or an insertion at the caret
    /// (`super::suggestions`).
    Suggest,
}

const ACTIONS: [Action; 9] = [
    Action::Toggle(Format::Bold),
    Action::Toggle(Format::Italic),
    Action::Link,
    Action::Toggle(Format::BulletedList),
    Action::Toggle(Format::NumberedList),
    Action::Footnote,
    Action::Preview,
    Action::Comment,
    Action::Suggest,
];

impl Action {
    /// The shortcut for `aria-keyshortcuts`, and as shown to the user.
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Action::Toggle(Format::Bold) => ("Control+B Meta+B", "B"),
            Action::Toggle(Format::Italic) => ("Control+I Meta+I", "I"),
            Action::Link => ("Control+K Meta+K", "K"),
            Action::Toggle(Format::BulletedList) => ("Control+Shift+8 Meta+Shift+8", "Shift+8"),
            Action::Toggle(Format::NumberedList) => ("Control+Shift+7 Meta+Shift+7", "Shift+7"),
            Action::Footnote => ("Control+Alt+F Meta+Alt+F", "Alt+F"),
            Action::Comment => ("Control+Alt+M Meta+Alt+M", "Alt+M"),
            Action::Suggest => ("Control+Alt+J Meta+Alt+J", "Alt+J"),
            Action::Preview => ("", ""),
        }
    }

    /// The action of a key pressed in the text box.
    fn of_key(event: &web_sys::KeyboardEvent) -> Option<Action> {
        if !(event.ctrl_key() || event.meta_key()) {
            return None;
        }
        // The key's letter in the user's layout; the key's place where the
        // layout has no Latin letter there.
        let key = event.key().to_lowercase();
        let code = event.code();
        let letter = if key.len() == 1 && key.as_bytes()[0].is_ascii_alphabetic() {
            key
        } else {
            code.strip_prefix("Key").unwrap_or_default().to_lowercase()
        };
        match (
            event.shift_key(),
            event.alt_key(),
            letter.as_str(),
            code.as_str(),
        ) {
            (false, false, "b", _) => Some(Action::Toggle(Format::Bold)),
            (false, false, "i", _) => Some(Action::Toggle(Format::Italic)),
            (false, false, "k", _) => Some(Action::Link),
            (true, false, _, "Digit8") => Some(Action::Toggle(Format::BulletedList)),
            (true, false, _, "Digit7") => Some(Action::Toggle(Format::NumberedList)),
            (false, true, _, "KeyF") => Some(Action::Footnote),
            (false, true, _, "KeyM") => Some(Action::Comment),
            (false, true, _, "KeyJ") => Some(Action::Suggest),
            _ => None,
        }
    }
}

fn label(i18n: I18n, action: Action) -> String {
    match action {
        Action::Toggle(Format::Bold) => t_string!(i18n, format_bold),
        Action::Toggle(Format::Italic) => t_string!(i18n, format_italic),
        Action::Link => t_string!(i18n, format_link),
        Action::Toggle(Format::BulletedList) => t_string!(i18n, format_bulleted),
        Action::Toggle(Format::NumberedList) => t_string!(i18n, format_numbered),
        Action::Footnote => t_string!(i18n, format_footnote),
        Action::Preview => t_string!(i18n, format_preview),
        Action::Comment => t_string!(i18n, format_comment),
        Action::Suggest => t_string!(i18n, format_suggest),
    }
    .to_owned()
}

type I18n = leptos_i18n::I18nContext<Locale>;

/// The text box's text and selection (as byte offsets).
fn read(area: &web_sys::HtmlTextAreaElement) -> (String, Selection) {
    let text = area.value();
    let offset = |at: Option<u32>| utf16_to_byte(&text, at.unwrap_or(0));
    let start = offset(area.selection_start().ok().flatten());
    let end = offset(area.selection_end().ok().flatten());
    (text.clone(), Selection::new(start, end))
}

/// The toolbar of one long-text field.
#[component]
pub fn FormatToolbar(target: Target) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let on = RwSignal::new(Formats::default());
    let announced = RwSignal::new(String::new());
    // The button that is the toolbar's tab stop.
    let current = RwSignal::new(0usize);
    let buttons = NodeRef::<html::Div>::new();
    // The link being made: the selection it is for, and the address typed.
    let link = RwSignal::new(None::<Selection>);
    let address = RwSignal::new(String::new());
    let link_error = RwSignal::new(false);
    let area = target.area;
    let id = target.id;
    let commit = target.commit;
    let preview = target.preview;
    let field = StoredValue::new(target.field.clone());
    let discussion = super::discussion::use_discussion();

    let refresh = move || {
        if let Some(element) = area.get_untracked() {
            let (text, selection) = read(&element);
            let formats = commands::formats_at(&text, selection);
            if on.get_untracked() != formats {
                on.set(formats);
            }
        }
    };
    // A command's result becomes the field's text, as one step of the
    // user's undo history, with the selection where the command put it.
    let apply = move |edited: Edited| {
        let Some(element) = area.get_untracked() else {
            return;
        };
        workspace.end_undo_step(id);
        element.set_value(&edited.text);
        let _ = element.focus();
        let start = byte_to_utf16(&edited.text, edited.selection.start);
        let end = byte_to_utf16(&edited.text, edited.selection.end);
        let _ = element.set_selection_range(start, end);
        commit.run(edited.text);
        workspace.end_undo_step(id);
        refresh();
    };
    let run = move |action: Action, announce: bool| {
        let Some(element) = area.get_untracked() else {
            return;
        };
        let (text, selection) = read(&element);
        match action {
            Action::Toggle(format) => {
                let edited = commands::toggle(&text, selection, format);
                apply(edited);
                if announce {
                    let now_on = on.get_untracked().has(format);
                    let state = if now_on {
                        t_string!(i18n, format_on)
                    } else {
                        t_string!(i18n, format_off)
                    };
                    announced.set(format!("{}: {state}", label(i18n, action)));
                }
            }
            Action::Footnote => {
                apply(commands::add_footnote(&text, selection));
                if announce {
                    announced.set(t_string!(i18n, format_footnote_added).to_owned());
                }
            }
            Action::Link => {
                address.set(on.get_untracked().link.unwrap_or_default());
                link_error.set(false);
                link.set(Some(selection));
            }
            Action::Preview => preview.update(|shown| *shown = !*shown),
            Action::Suggest => {
                let (start, end) = (
                    element.selection_start().ok().flatten().unwrap_or(0),
                    element.selection_end().ok().flatten().unwrap_or(0),
                );
                let Some(discussion) = discussion else {
                    return;
                };
                workspace.flush_drafts();
                let quote = String::from_utf16_lossy(
                    &text.encode_utf16().collect::<Vec<u16>>()[start as usize..end as usize],
                );
                discussion.suggest.set(Some(super::discussion::Passage {
                    path: field.get_value(),
                    start,
                    end,
                    quote,
                }));
            }
            Action::Comment => {
                let (start, end) = (
                    element.selection_start().ok().flatten().unwrap_or(0),
                    element.selection_end().ok().flatten().unwrap_or(0),
                );
                let Some(discussion) = discussion else {
                    return;
                };
                if start >= end {
                    announced.set(t_string!(i18n, comment_select_first).to_owned());
                    return;
                }
                // The words typed so far are the record's before an anchor
                // is set in them.
                workspace.flush_drafts();
                let quote = String::from_utf16_lossy(
                    &text.encode_utf16().collect::<Vec<u16>>()[start as usize..end as usize],
                );
                discussion.asked.set(Some(super::discussion::Passage {
                    path: field.get_value(),
                    start,
                    end,
                    quote,
                }));
            }
        }
    };
    target.hooks.set_value(Some(Hooks {
        keydown: Callback::new(move |event: web_sys::KeyboardEvent| {
            let Some(action) = Action::of_key(&event) else {
                return false;
            };
            event.prevent_default();
            run(action, true);
            true
        }),
        caret: Callback::new(move |()| refresh()),
    }));
    on_cleanup(move || target.hooks.set_value(None));
    refresh();

    // Arrow keys move within the toolbar; Tab leaves it.
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        let last = ACTIONS.len() - 1;
        let next = match event.key().as_str() {
            "ArrowRight" => Some(if current.get_untracked() == last {
                0
            } else {
                current.get_untracked() + 1
            }),
            "ArrowLeft" => Some(if current.get_untracked() == 0 {
                last
            } else {
                current.get_untracked() - 1
            }),
            "Home" => Some(0),
            "End" => Some(last),
            _ => None,
        };
        if let (Some(next), Some(container)) = (next, buttons.get_untracked()) {
            event.prevent_default();
            current.set(next);
            if let Ok(Some(button)) =
                container.query_selector(&format!("button:nth-of-type({})", next + 1))
            {
                if let Ok(button) =
                    leptos::wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(button)
                {
                    let _ = button.focus();
                }
            }
        }
    };
    let mac = is_mac();
    let buttons_view = ACTIONS
        .iter()
        .enumerate()
        .map(|(index, &action)| {
            let (aria_keys, shown_keys) = action.keys();
            let title = move || {
                let name = label(i18n, action);
                match (shown_keys, mac) {
                    ("", _) => name,
                    (keys, true) => format!("{name} (⌘{keys})"),
                    // "Strg" on a German keyboard.
                    (keys, false) => {
                        format!("{name} ({}+{keys})", t_string!(i18n, format_ctrl_key))
                    }
                }
            };
            let pressed = move || match action {
                Action::Toggle(format) => Some(on.get().has(format).to_string()),
                Action::Link => Some(on.get().link.is_some().to_string()),
                Action::Preview => Some(preview.get().to_string()),
                Action::Footnote | Action::Comment | Action::Suggest => None,
            };
            view! {
                <button type="button" class=format!("format-button format-{}", class_of(action))
                    tabindex=move || if current.get() == index { "0" } else { "-1" }
                    aria-label=move || label(i18n, action) title=title
                    aria-keyshortcuts=(!aria_keys.is_empty()).then_some(aria_keys)
                    aria-pressed=pressed
                    on:focus=move |_| current.set(index)
                    on:click=move |_| run(action, false)>
                    {face(action)}
                </button>
            }
        })
        .collect_view();
    let input_id = format!("{}-link", target.dom_id);
    let error_id = format!("{}-link-error", target.dom_id);
    let close_link = move || {
        link.set(None);
        if let Some(element) = area.get_untracked() {
            let _ = element.focus();
        }
    };
    let submit_link = move || {
        let Some(selection) = link.get_untracked() else {
            return;
        };
        let Some(element) = area.get_untracked() else {
            return;
        };
        let text = element.value();
        match commands::set_link(&text, selection, &address.get_untracked()) {
            Ok(edited) => {
                link.set(None);
                apply(edited);
            }
            Err(_) => link_error.set(true),
        }
    };
    let remove_link = move || {
        let Some(selection) = link.get_untracked() else {
            return;
        };
        if let Some(element) = area.get_untracked() {
            let edited = commands::remove_link(&element.value(), selection);
            link.set(None);
            apply(edited);
        }
    };
    let link_input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let (Some(_), Some(input)) = (link.get(), link_input.get()) {
            let _ = input.focus();
            input.select();
        }
    });
    let in_link = move || on.with(|formats| formats.link.is_some());
    view! {
        <div class="format-toolbar" role="toolbar" aria-controls=target.dom_id.clone()
            aria-label=move || t_string!(i18n, format_toolbar) node_ref=buttons on:keydown=on_keydown>
            {buttons_view}
        </div>
        <p class="visually-hidden" role="status">{move || announced.get()}</p>
        <Show when=move || link.get().is_some()>
            <div class="link-form" role="group" aria-label=move || t_string!(i18n, format_link)>
                <label for=input_id.clone()>{move || t_string!(i18n, format_link_address)}</label>
                <input type="text" inputmode="url" autocomplete="url" id=input_id.clone() node_ref=link_input
                    prop:value=move || address.get()
                    aria-invalid=move || link_error.get().to_string()
                    aria-describedby=error_id.clone()
                    on:input=move |event| { address.set(event_target_value(&event)); link_error.set(false); }
                    on:keydown=move |event| match event.key().as_str() {
                        "Enter" => { event.prevent_default(); submit_link(); }
                        "Escape" => { event.prevent_default(); close_link(); }
                        _ => {}
                    } />
                <button type="button" class="link-apply" on:click=move |_| submit_link()>
                    {move || if in_link() { t_string!(i18n, format_link_change) } else { t_string!(i18n, format_link_add) }}
                </button>
                <Show when=in_link>
                    <button type="button" class="link-remove" on:click=move |_| remove_link()>
                        {move || t_string!(i18n, format_link_remove)}
                    </button>
                </Show>
                <button type="button" class="link-cancel" on:click=move |_| close_link()>
                    {move || t_string!(i18n, format_link_cancel)}
                </button>
                <p class="field-error" id=error_id.clone() role="alert">
                    {move || link_error.get().then(|| t_string!(i18n, format_link_invalid))}
                </p>
            </div>
        </Show>
    }
}

fn class_of(action: Action) -> &'static str {
    match action {
        Action::Toggle(Format::Bold) => "bold",
        Action::Toggle(Format::Italic) => "italic",
        Action::Link => "link",
        Action::Toggle(Format::BulletedList) => "bulleted",
        Action::Toggle(Format::NumberedList) => "numbered",
        Action::Footnote => "footnote",
        Action::Preview => "preview",
        Action::Comment => "comment",
        Action::Suggest => "suggest",
    }
}

/// A button's face: a letter or a small drawing (its name is its label).
fn face(action: Action) -> impl IntoView {
    let path = match action {
        Action::Toggle(Format::Bold) => return view! { <b aria-hidden="true">"B"</b> }.into_any(),
        Action::Toggle(Format::Italic) => return view! { <i aria-hidden="true">"I"</i> }.into_any(),
        Action::Footnote => return view! { <span aria-hidden="true">"x"<sup>"1"</sup></span> }.into_any(),
        Action::Link => "M7 9.5a3 3 0 0 0 4.2.3l2-2a3 3 0 0 0-4.2-4.2l-1 1M9 6.5a3 3 0 0 0-4.2-.3l-2 2a3 3 0 0 0 4.2 4.2l1-1",
        Action::Toggle(Format::BulletedList) => "M6 4h8M6 8h8M6 12h8M2.5 4h.5M2.5 8h.5M2.5 12h.5",
        Action::Toggle(Format::NumberedList) => "M6 4h8M6 8h8M6 12h8M2 3l1-1v3M2 7h1.5L2 9.5h1.5M2 11h1.5v2.5H2M2.2 12.2h1.3",
        Action::Preview => "M1 8s2.5-5 7-5 7 5 7 5-2.5 5-7 5-7-5-7-5zM8 10a2 2 0 1 0 0-4 2 2 0 0 0 0 4z",
        Action::Comment => "M2 3h12v8H7l-3 3v-3H2z",
        Action::Suggest => "M10.5 2.5l3 3L6 13H3v-3zM9 4l3 3",
    };
    view! {
        <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
            <path d=path fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round" />
        </svg>
    }
    .into_any()
}

fn is_mac() -> bool {
    window().navigator().user_agent().is_ok_and(|agent| {
        agent.contains("Mac OS") || agent.contains("iPhone") || agent.contains("iPad")
    })
}

/// The field's text as its readers will see it, beside the text box on wide
/// screens and under it on narrow ones.
#[component]
pub fn FormatPreview(
    id: RecordId,
    field: FieldPath,
    dom_id: String,
    #[prop(into)] label: Signal<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let ids = format!("{dom_id}-preview");
    let html = Memo::new(move |_| to_html(&workspace.text(id, &field), &ids));
    view! {
        <div class="format-preview" role="region" id=format!("{dom_id}-preview")
            aria-label=move || format!("{} – {}", t_string!(i18n, format_preview), label.get())>
            <Show when=move || html.with(|html| html.trim().is_empty())>
                <p class="hint">{move || t_string!(i18n, format_preview_empty)}</p>
            </Show>
            <div class="markdown" inner_html=move || html.get()></div>
        </div>
    }
}
