//! A text field of a record: what the user types is a draft, applied to the
//! record at most 300 ms later (at once on blur); the shown value follows the
//! record when someone else's edit arrives, keeping the caret in place.

use super::formatting::{Hooks, Target};
use crate::i18n::*;
use crate::store::use_workspace;
use leptos::html;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use tern_domain::record::schema;
use tern_domain::record::{FieldError, FieldPath, RecordId, Splice};

/// Sets a text control's value to follow the record. For someone typing in it,
/// the caret and selection keep their place in the text: an insertion or
/// deletion before them moves them along (offsets are UTF-16 units, as in the
/// DOM).
pub(super) fn show_value(element: &web_sys::Element, value: &str) {
    let focused = document()
        .active_element()
        .is_some_and(|active| &active == element);
    let (old, start, end) = if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        (
            input.value(),
            input.selection_start().ok().flatten(),
            input.selection_end().ok().flatten(),
        )
    } else if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        (
            area.value(),
            area.selection_start().ok().flatten(),
            area.selection_end().ok().flatten(),
        )
    } else {
        return;
    };
    if old == value {
        return;
    }
    let old16: Vec<u16> = old.encode_utf16().collect();
    let new16: Vec<u16> = value.encode_utf16().collect();
    let caret = |offset: Option<u32>| shift_offset(offset.unwrap_or(0), &old16, &new16);
    let (start, end) = (caret(start), caret(end));
    if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        input.set_value(value);
        if focused {
            let _ = input.set_selection_range(start, end);
        }
    } else if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        area.set_value(value);
        if focused {
            let _ = area.set_selection_range(start, end);
        }
    }
}

/// Where an offset into `old` lands in `new`, which differs from it in one
/// stretch (the common prefix and suffix are unchanged).
fn shift_offset(offset: u32, old: &[u16], new: &[u16]) -> u32 {
    let moved = Splice::between(old, new).moved(offset as usize);
    u32::try_from(moved).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::shift_offset;

    fn utf16(text: &str) -> Vec<u16> {
        text.encode_utf16().collect()
    }

    #[test]
    fn a_caret_follows_its_text_when_someone_else_edits() {
        let old = utf16("Middle. Jonas");
        // Anna's words arrive before Jonas's caret (at the end): it moves along.
        let new = utf16("Anna. Middle. Jonas");
        assert_eq!(shift_offset(13, &old, &new), 19);
        // A caret before the change stays put.
        let new = utf16("Middle. Jonas writes");
        assert_eq!(shift_offset(3, &old, &new), 3);
        // A deletion before the caret pulls it back.
        let new = utf16("Jonas");
        assert_eq!(shift_offset(13, &old, &new), 5);
        // Non-ASCII text counts in UTF-16 units, as the DOM does.
        let old = utf16("Bør end");
        let new = utf16("Bør – end");
        assert_eq!(shift_offset(7, &old, &new), 9);
    }
}

/// Grows a one-line title's box to the lines its text wraps to, where the
/// browser does not do it itself.
fn fit_height(area: &web_sys::HtmlTextAreaElement) {
    if sizes_to_content() {
        return;
    }
    let style = web_sys::HtmlElement::style(area);
    let _ = style.set_property("height", "auto");
    // The box is border-box: its height holds the borders too.
    let borders = area.offset_height() - area.client_height();
    let _ = style.set_property("height", &format!("{}px", area.scroll_height() + borders));
}

/// Whether the browser sizes a title to its text (CSS `field-sizing: content`,
/// `style/main.css`): then no keystroke, and no drawing of a record page, has to
/// stop for a layout to measure the text.
fn sizes_to_content() -> bool {
    thread_local! {
        static SUPPORTED: bool = web_sys::css::supports_with_value("field-sizing", "content").unwrap_or(false);
    }
    SUPPORTED.with(|supported| *supported)
}

/// A one-line or multi-line text field of a record. A `title` is one line
/// that wraps and grows as a long title needs (Enter does not break it, and
/// pasted line breaks become spaces).
#[component]
pub fn TextInput(
    id: RecordId,
    field: FieldPath,
    #[prop(into)] dom_id: String,
    #[prop(into)] label: Signal<String>,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] title: bool,
    /// The most characters the field holds (its type's limit).
    max_chars: Option<usize>,
) -> impl IntoView {
    let workspace = use_workspace();
    let value_field = field.clone();
    let value = Memo::new(move |_| workspace.text(id, &value_field));
    // What the control reads: it changes only by `show_value` and by input.
    let shown = StoredValue::new(String::new());
    // While what the user typed is longer than the field holds: its length.
    // It is not applied (the record keeps its last text that fit), and the
    // field keeps it, with a way to download it.
    let over = RwSignal::new(None::<usize>);
    // While suggesting (`super::discussion`): what the record read when the
    // user began, and what they have typed since; not applied to the record.
    let proposal = RwSignal::new(None::<(String, String)>);
    let suggesting = super::discussion::use_discussion()
        .filter(|_| multiline && !title)
        .map(|discussion| discussion.suggesting);
    // The user's new text of the field, typed or made by a toolbar command.
    let commit = {
        let field = field.clone();
        Callback::new(move |typed: String| {
            if suggesting.is_some_and(|on| on.get_untracked())
                || proposal.with_untracked(Option::is_some)
            {
                let base = proposal
                    .with_untracked(|known| known.as_ref().map(|(base, _)| base.clone()))
                    .unwrap_or_else(|| shown.get_value());
                shown.set_value(typed.clone());
                proposal.set(Some((base, typed)));
                return;
            }
            if let Some(max) = max_chars {
                if schema::too_long(&typed, max) {
                    over.set(Some(typed.chars().count()));
                    return;
                }
                if over.get_untracked().is_some() {
                    over.set(None);
                }
            }
            let before = shown.try_update_value(|shown| std::mem::replace(shown, typed.clone()));
            workspace.draft_text(id, field.clone(), before.unwrap_or_default(), typed);
        })
    };
    let on_input = move |event: leptos::ev::Event| commit.run(event_target_value(&event));
    let on_blur = move |_| workspace.flush_drafts();
    // A long text's formatting toolbar, drawn once the user goes into it, and
    // its preview.
    let tools = RwSignal::new(false);
    let preview = RwSignal::new(false);
    let hooks = StoredValue::new(None::<Hooks>);
    let caret_moved = move || {
        if let Some(hooks) = hooks.get_value() {
            hooks.caret.run(());
        }
    };
    let long_text = NodeRef::<html::Textarea>::new();
    let too_long = {
        let dom_id = dom_id.clone();
        move || {
            let (count, max) = (over.get()?, max_chars?);
            let i18n = use_i18n();
            let dom_id = dom_id.clone();
            let download = move |_| {
                let typed = document()
                    .get_element_by_id(&dom_id)
                    .and_then(|element| {
                        element
                            .dyn_ref::<web_sys::HtmlTextAreaElement>()
                            .map(web_sys::HtmlTextAreaElement::value)
                            .or_else(|| {
                                element
                                    .dyn_ref::<web_sys::HtmlInputElement>()
                                    .map(web_sys::HtmlInputElement::value)
                            })
                    })
                    .unwrap_or_default();
                workspace.download_file(
                    &format!("{dom_id}.txt"),
                    &typed,
                    "text/plain;charset=utf-8",
                );
            };
            Some(view! {
                <p class="field-error too-long" role="alert">
                    {crate::labels::field_error(i18n, &FieldError::TooLong { max })}
                    " "<span class="char-count">{format!("{count} / {max}")}</span>" "
                    <button type="button" class="quiet" on:click=download>
                        {t_string!(i18n, download_text)}
                    </button>
                </p>
            })
        }
    };
    let control = if title || multiline {
        let node = long_text;
        Effect::new(move |_| {
            let value = value.get();
            // A colleague's change must not replace text too long to save,
            // nor the changes the user is proposing.
            if over.get_untracked().is_some() || proposal.with(Option::is_some) {
                return;
            }
            if let Some(element) = node.get() {
                show_value(&element, &value);
                shown.set_value(value);
                if title {
                    // In the next frame, when the page's layout is done anyway.
                    request_animation_frame(move || fit_height(&element));
                }
            }
        });
        if title {
            let on_title_input = move |event: leptos::ev::Event| {
                if let Some(area) = node.get_untracked() {
                    let typed = area.value();
                    if typed.contains(['\n', '\r']) {
                        area.set_value(&typed.replace("\r\n", " ").replace(['\n', '\r'], " "));
                    }
                    fit_height(&area);
                }
                on_input(event);
            };
            view! {
                <textarea id=dom_id.clone() class="title-input" node_ref=node rows="1"
                    on:keydown=move |event| if event.key() == "Enter" { event.prevent_default() }
                    on:input=on_title_input on:blur=on_blur></textarea>
            }
            .into_any()
        } else {
            let on_keydown = move |event: leptos::ev::KeyboardEvent| {
                if let Some(hooks) = hooks.get_value() {
                    hooks.keydown.run(event);
                }
            };
            view! {
                <textarea id=dom_id.clone() node_ref=node rows="8" data-path=field.to_string()
                    on:input=move |event| { on_input(event); caret_moved(); }
                    on:blur=on_blur
                    on:focus=move |_| {
                        // Set once: setting it again would draw a new toolbar.
                        if !tools.get_untracked() {
                            tools.set(true);
                        }
                        caret_moved();
                    }
                    on:keydown=on_keydown
                    on:keyup=move |_| caret_moved()
                    on:mouseup=move |_| caret_moved()
                    on:select=move |_| caret_moved()></textarea>
            }
            .into_any()
        }
    } else {
        let node = NodeRef::<html::Input>::new();
        Effect::new(move |_| {
            let value = value.get();
            // A colleague's change must not replace text too long to save.
            if over.get_untracked().is_some() {
                return;
            }
            if let Some(element) = node.get() {
                show_value(&element, &value);
                shown.set_value(value);
            }
        });
        view! {
            <input type="text" id=dom_id.clone() node_ref=node on:input=on_input on:blur=on_blur />
        }
        .into_any()
    };
    if !multiline || title {
        return view! {
            <div class="field">
                <label for=dom_id.clone()>{label}</label>
                {control}
                {too_long}
            </div>
        }
        .into_any();
    }
    let toolbar = {
        let dom_id = dom_id.clone();
        let field = field.clone();
        move || {
            tools.get().then(|| {
                let target = Target {
                    id,
                    field: field.clone(),
                    area: long_text,
                    commit,
                    preview,
                    dom_id: dom_id.clone(),
                    hooks,
                };
                crate::pages::lazy_part(crate::pages::format_toolbar(target))
            })
        }
    };
    let preview_view = {
        let dom_id = dom_id.clone();
        let field = field.clone();
        move || {
            preview.get().then(|| {
                let (field, dom_id) = (field.clone(), dom_id.clone());
                crate::pages::lazy_part(crate::pages::format_preview(id, field, dom_id, label))
            })
        }
    };
    let proposing = {
        let field = field.clone();
        move || {
            proposal.get().is_some().then(|| {
                let field = field.clone();
                crate::pages::lazy_part(crate::pages::proposal_bar(
                    id, field, proposal, long_text, shown,
                ))
            })
        }
    };
    view! {
        <div class="field long-text" class:previewing=move || preview.get()>
            <div class="field-head">
                <label for=dom_id>{label}</label>
                {toolbar}
            </div>
            <div class="field-body">{control}{preview_view}</div>
            {proposing}
            {too_long}
        </div>
    }
    .into_any()
}
