//! The one editor every kind gets: a widget per field type, from the kind's
//! declaration. Item lists hold the same widgets for their items' fields, at
//! any depth. A refused change shows its reason under its field and changes
//! nothing.

use super::fields::{
    ChoiceField, DateField, FlagField, PerMemberField, RefField, RefsField, ScalarTextField,
    SetField,
};
use super::in_steps::drawn_in_steps;
use super::text_input::TextInput;
use crate::i18n::*;
use crate::labels;
use crate::session::use_session;
use crate::store::{new_item_id, use_workspace};
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use tern_domain::record::schema::{self, FieldDef, FieldType, ItemsDef};
use tern_domain::record::{FieldEdit, FieldPath, ItemId, RecordId, RecordKind};

type I18n = leptos_i18n::I18nContext<Locale>;

/// Where a field's DOM ids start: `start-date`, `sections-2-body`.
pub fn dom_id(prefix: &str, key: &str) -> String {
    let key = key.replace('_', "-");
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}-{key}")
    }
}

/// The whole record as a form.
#[component]
pub fn RecordForm(
    id: RecordId,
    kind: RecordKind,
    #[prop(into)] locked: Signal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let workspace = use_workspace();
    let fields = kind.def().fields;
    let drawn = drawn_in_steps(Signal::stored(fields.len()));
    let editable = move || session.can_edit() && !locked.get();
    let history = Memo::new(move |_| workspace.undo_state(id));
    // The history of the user's edits starts once the form is drawn (its
    // code is a module of its own, fetched then); it ends with the page.
    // Once: `locked` follows the record, and starting the history is a change.
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) || !editable() {
            return started.unwrap_or(false);
        }
        leptos::task::spawn_local(async move {
            let _ = crate::pages::start_undo_history(workspace, id).await;
        });
        true
    });
    on_cleanup(move || workspace.end_history(id));
    // Ctrl/Cmd+Z undoes the user's own last edits in this record, and
    // Ctrl/Cmd+Shift+Z or Ctrl+Y redoes them, instead of a text box's own
    // undo, which knows neither the record nor a colleague's words.
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        if !(event.ctrl_key() || event.meta_key()) || event.alt_key() || !editable() {
            return;
        }
        let key = event.key().to_lowercase();
        let redo = (key == "z" && event.shift_key()) || (key == "y" && !event.shift_key());
        if key == "z" || redo {
            event.prevent_default();
            if redo {
                workspace.redo(id);
            } else {
                workspace.undo(id);
            }
        }
    };
    view! {
        <form class="editor" on:submit=|event| event.prevent_default() on:keydown=on_keydown>
            <Show when=editable>
                <p class="editor-history" role="toolbar" aria-label=move || t_string!(i18n, history_toolbar)>
                    <button type="button" id="undo" aria-keyshortcuts="Control+Z Meta+Z"
                        disabled=move || !history.get().0 on:click=move |_| { workspace.undo(id); }>
                        {move || t_string!(i18n, undo)}
                    </button>
                    <button type="button" id="redo" aria-keyshortcuts="Control+Shift+Z Meta+Shift+Z Control+Y"
                        disabled=move || !history.get().1 on:click=move |_| { workspace.redo(id); }>
                        {move || t_string!(i18n, redo)}
                    </button>
                </p>
            </Show>
            <fieldset class="editor-fields" disabled=move || !session.can_edit() || locked.get()>
                <For each=move || fields.iter().take(drawn.get()) key=|field| field.key let(field)>
                    <Field id kind path=FieldPath::top(field.key) field dom=dom_id("", field.key) depth=0 />
                </For>
            </fieldset>
        </form>
    }
}

/// One field, by its type.
#[component]
pub fn Field(
    id: RecordId,
    kind: RecordKind,
    path: FieldPath,
    field: &'static FieldDef,
    dom: String,
    depth: usize,
    /// The positions of the numbered items this field is in, outermost first.
    #[prop(optional)]
    number: Vec<usize>,
) -> impl IntoView {
    let i18n = use_i18n();
    let label = {
        let path = path.clone();
        Signal::derive(move || labels::field(i18n, kind, &path))
    };
    match field.ty {
        FieldType::Text if depth == 0 && field.key == kind.def().title => {
            view! { <TextInput id field=path dom_id=dom label title=true max_chars=field.ty.max_chars() /> }
                .into_any()
        }
        FieldType::Text => {
            view! { <TextInput id field=path dom_id=dom label max_chars=field.ty.max_chars() /> }.into_any()
        }
        FieldType::LongText => view! {
            <TextInput id field=path dom_id=dom label multiline=true max_chars=field.ty.max_chars() />
        }
        .into_any(),
        FieldType::Email | FieldType::Phone | FieldType::Url => {
            view! { <ScalarTextField id path field dom label /> }.into_any()
        }
        FieldType::Date => view! { <DateField id path dom label /> }.into_any(),
        FieldType::Flag => view! { <FlagField id path dom label /> }.into_any(),
        FieldType::Choice(choices) => {
            view! { <ChoiceField id kind path field choices dom label /> }.into_any()
        }
        FieldType::Set(of) => view! { <SetField id path of dom label /> }.into_any(),
        FieldType::PerMember(choices) => {
            view! { <PerMemberField id kind path choices dom label /> }.into_any()
        }
        FieldType::Ref(kinds) => view! { <RefField id path kinds dom label /> }.into_any(),
        FieldType::Refs(kinds) => view! { <RefsField id path kinds dom label /> }.into_any(),
        FieldType::Items(items) => {
            view! { <ItemList id kind path items dom label depth number /> }.into_any()
        }
    }
}

/// An ordered list of items, each with its own fields; add, move, remove.
#[component]
fn ItemList(
    id: RecordId,
    kind: RecordKind,
    path: FieldPath,
    items: &'static ItemsDef,
    dom: String,
    label: Signal<String>,
    depth: usize,
    number: Vec<usize>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let error = RwSignal::new(None::<String>);
    let ids = {
        let path = path.clone();
        Memo::new(move |_| {
            workspace
                .with_record(id, |record| record.item_ids(&path))
                .unwrap_or_default()
        })
    };
    let text = {
        let path = path.clone();
        move |what: &'static str| labels::list_text(i18n, kind, &path, what)
    };
    let add = {
        let path = path.clone();
        move |_| {
            let edit = FieldEdit::InsertItem {
                id: new_item_id(),
                position: ids.get_untracked().len(),
            };
            report(i18n, error, workspace.change(id, &path, edit));
        }
    };
    // Paragraphs (items that are one flowing text) split in two at the cursor.
    let split = items.flowing_text().map(|key| {
        let (path, dom) = (path.clone(), dom.clone());
        Callback::new(move |(item, at): (ItemId, u32)| {
            workspace.flush_drafts();
            let position = ids.with_untracked(|ids| ids.iter().position(|other| *other == item));
            let edit = FieldEdit::SplitItem {
                id: item,
                new_id: new_item_id(),
                at,
            };
            let outcome = workspace.change(id, &path, edit);
            if let (Ok(()), Some(position)) = (&outcome, position) {
                focus_when_drawn(dom_id(&format!("{dom}-{}", position + 2), key), 0, 10);
            }
            report(i18n, error, outcome);
        })
    });
    // ...and merge into the one before (Backspace at a paragraph's start, or
    // the button), the cursor where the two texts meet.
    let merge = items.flowing_text().map(|key| {
        let (path, dom) = (path.clone(), dom.clone());
        Callback::new(move |item: ItemId| {
            workspace.flush_drafts();
            let before = ids.with_untracked(|ids| {
                let position = ids.iter().position(|other| *other == item)?;
                Some((position, ids.get(position.checked_sub(1)?)?.clone()))
            });
            let Some((position, into)) = before else {
                return;
            };
            let joined = workspace.text(id, &path.child(item.clone(), key));
            let outcome = workspace.change(
                id,
                &path,
                FieldEdit::MergeItem {
                    id: item,
                    into: into.clone(),
                },
            );
            if outcome.is_ok() {
                let text = workspace.text(id, &path.child(into, key));
                let meet = text.encode_utf16().count() - joined.encode_utf16().count();
                let at = u32::try_from(meet).unwrap_or(0);
                focus_when_drawn(dom_id(&format!("{dom}-{position}"), key), at, 10);
            }
            report(i18n, error, outcome);
        })
    });
    // Paragraphs merged away that came back with a colleague's words.
    let merged_back = {
        let path = path.clone();
        Memo::new(move |_| {
            if merge.is_none() {
                return Vec::new();
            }
            workspace
                .with_record(id, |record| record.merged_back(&path))
                .unwrap_or_default()
        })
    };
    let split_hint = split.is_some();
    let heading_id = format!("{dom}-heading");
    let heading = {
        let heading_id = heading_id.clone();
        if depth == 0 {
            view! { <h2 id=heading_id>{label}</h2> }.into_any()
        } else {
            view! { <h3 id=heading_id>{label}</h3> }.into_any()
        }
    };
    let drawn = drawn_in_steps(Signal::derive(move || ids.with(Vec::len)));
    let empty = text.clone();
    let add_label = text.clone();
    let list_name = path.to_string();
    let add_id = format!("add-{dom}");
    view! {
        <section class="items" aria-labelledby=heading_id data-list=list_name>
            {heading}
            <Show when=move || ids.get().is_empty()>
                <p class="hint">{let empty = empty.clone(); move || empty("empty")}</p>
            </Show>
            {split_hint.then(|| view! { <p class="hint">{move || t_string!(i18n, split_hint)}</p> })}
            <ol class="item-list" class:numbered=items.numbered>
                <For each=move || ids.get().into_iter().take(drawn.get()).enumerate()
                    key=|(position, item)| (item.clone(), *position)
                    let((position, item))>
                    <Item id kind list=path.clone() items item=item.clone() position
                        count=Signal::derive(move || ids.get().len())
                        dom=format!("{dom}-{}", position + 1) depth error number=number.clone() split merge
                        merged_back=Signal::derive({
                            let item = item.clone();
                            move || merged_back.with(|back| back.contains(&item))
                        }) />
                </For>
            </ol>
            <p class="field-error" role="alert">{move || error.get()}</p>
            <button type="button" class="add-item" id=add_id on:click=add>
                {move || add_label("add")}
            </button>
        </section>
    }
}

#[component]
#[allow(clippy::too_many_arguments)]
fn Item(
    id: RecordId,
    kind: RecordKind,
    list: FieldPath,
    items: &'static ItemsDef,
    item: ItemId,
    position: usize,
    count: Signal<usize>,
    dom: String,
    depth: usize,
    error: RwSignal<Option<String>>,
    /// The enclosing numbered items' positions.
    number: Vec<usize>,
    /// Splits this item at an offset of its text (paragraphs only).
    split: Option<Callback<(ItemId, u32)>>,
    /// Merges this item into the one before (paragraphs only).
    merge: Option<Callback<ItemId>>,
    /// Whether this item was merged away and came back with new words.
    merged_back: Signal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let moved = {
        let (list, item) = (list.clone(), item.clone());
        move |to: usize| {
            let edit = FieldEdit::MoveItem {
                id: item.clone(),
                position: to,
            };
            report(i18n, error, workspace.change(id, &list, edit));
        }
    };
    let move_up = {
        let moved = moved.clone();
        move |_| moved(position.saturating_sub(1))
    };
    let move_down = move |_| moved(position + 1);
    let remove = {
        let (list, item) = (list.clone(), item.clone());
        move |_| {
            let question = labels::list_text(i18n, kind, &list, "remove_confirm");
            if window().confirm_with_message(&question).unwrap_or(false) {
                let edit = FieldEdit::RemoveItem { id: item.clone() };
                report(i18n, error, workspace.change(id, &list, edit));
            }
        }
    };
    let remove_label = {
        let list = list.clone();
        move || labels::list_text(i18n, kind, &list, "remove")
    };
    let mut number = number;
    if items.numbered {
        number.push(position);
    }
    let shown_number = items.numbered.then(|| schema::number(&number));
    let fields = items
        .fields
        .iter()
        .map(|field| {
            let path = list.child(item.clone(), field.key);
            let number = number.clone();
            view! { <Field id kind path field dom=dom_id(&dom, field.key) depth=depth + 1 number /> }
        })
        .collect_view();
    // Ctrl+Enter (⌘+Enter) in its text, or the button, at the text's cursor
    // (a text area keeps its selection when the button takes the focus).
    let split_at_cursor = {
        let (item, dom) = (item.clone(), dom.clone());
        move || {
            let at = items
                .flowing_text()
                .and_then(|key| document().get_element_by_id(&dom_id(&dom, key)))
                .and_then(|area| area.dyn_into::<leptos::web_sys::HtmlTextAreaElement>().ok())
                .and_then(|area| area.selection_start().ok().flatten());
            if let (Some(split), Some(at)) = (split, at) {
                split.run((item.clone(), at));
            }
        }
    };
    let on_keydown = {
        let split_at_cursor = split_at_cursor.clone();
        let item = item.clone();
        move |event: leptos::ev::KeyboardEvent| {
            let area = event.target().and_then(|target| {
                target
                    .dyn_into::<leptos::web_sys::HtmlTextAreaElement>()
                    .ok()
            });
            let Some(area) = area else { return };
            if split.is_some() && event.key() == "Enter" && (event.ctrl_key() || event.meta_key()) {
                event.prevent_default();
                split_at_cursor();
            }
            // Backspace at the very start of a paragraph joins it to the one
            // before, as in a word processor.
            let at_start = area.selection_start().ok().flatten() == Some(0)
                && area.selection_end().ok().flatten() == Some(0);
            let plain =
                !(event.ctrl_key() || event.meta_key() || event.alt_key() || event.shift_key());
            if let (Some(merge), true) = (
                merge,
                event.key() == "Backspace" && at_start && plain && position > 0,
            ) {
                event.prevent_default();
                merge.run(item.clone());
            }
        }
    };
    let merge_button = {
        let item = item.clone();
        merge.filter(|_| position > 0).map(|merge| {
            view! {
                <button type="button" on:click=move |_| merge.run(item.clone())>
                    {move || t_string!(i18n, merge_up)}
                </button>
            }
        })
    };
    view! {
        <li class="item" id=super::outline::item_anchor(&item.0) data-item=item.0.clone() on:keydown=on_keydown>
            {shown_number.map(|number| view! { <span class="item-number">{number}</span> })}
            <Show when=move || merged_back.get()>
                <p class="notice merged-back" role="note">{move || t_string!(i18n, merged_back)}</p>
            </Show>
            {fields}
            <p class="item-actions">
                {split.is_some().then(|| view! {
                    <button type="button" on:click=move |_| split_at_cursor()>{move || t_string!(i18n, split_here)}</button>
                })}
                {merge_button}
                <button type="button" on:click=move_up disabled={position == 0}>
                    {move || t_string!(i18n, move_up)}
                </button>
                <button type="button" on:click=move_down disabled=move || count.get() <= position + 1>
                    {move || t_string!(i18n, move_down)}
                </button>
                <button type="button" class="danger" on:click=remove>{remove_label}</button>
            </p>
        </li>
    }
}

/// Moves the focus, at offset `at` of its text (UTF-16 units), to the
/// control `dom` once it is drawn (a list draws a new item in a later task),
/// trying for `frames`.
fn focus_when_drawn(dom: String, at: u32, frames: u32) {
    request_animation_frame(move || {
        match document().get_element_by_id(&dom).and_then(|element| {
            element
                .dyn_into::<leptos::web_sys::HtmlTextAreaElement>()
                .ok()
        }) {
            Some(area) => {
                let _ = area.focus();
                let _ = area.set_selection_range(at, at);
            }
            None if frames > 0 => focus_when_drawn(dom, at, frames - 1),
            None => {}
        }
    });
}

/// Shows a refused change's reason (or clears the last one).
pub fn report(
    i18n: I18n,
    error: RwSignal<Option<String>>,
    outcome: Result<(), tern_domain::record::FieldError>,
) {
    error.set(outcome.err().map(|error| labels::field_error(i18n, &error)));
}
