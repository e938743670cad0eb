//! The widgets of the generic form, one per kind of value: e-mail, phone and
//! link fields, dates, flags, choices, sets, per-member values and references.
//! Each reads its value from the record, changes it through the workspace,
//! and says under itself why a change was refused.

use super::form::report;
use super::links::RecordLink;
use crate::i18n::*;
use crate::labels;
use crate::session::use_session;
use crate::store::use_workspace;
use leptos::prelude::*;
use serde_json::Value;
use tern_domain::record::schema::{Choices, FieldDef, FieldType, Guard, SetOf};
use tern_domain::record::{Date, FieldEdit, FieldError, FieldPath, RecordId, RecordKind};
use tern_domain::region::{FocusArea, MEMBERS};

/// A field's value as the record holds it now (tracked).
fn value_of(id: RecordId, path: &FieldPath) -> Value {
    use_workspace()
        .with_record(id, |record| record.read(path))
        .flatten()
        .unwrap_or(Value::Null)
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn strings_of(value: &Value) -> Vec<String> {
    match value {
        Value::Array(values) => values
            .iter()
            .filter_map(|value| value.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The error line under a field, tied to it by `aria-describedby`.
#[component]
fn FieldErrorLine(dom: String, error: RwSignal<Option<String>>) -> impl IntoView {
    view! { <p id=format!("{dom}-error") class="field-error" role="alert">{move || error.get()}</p> }
}

/// E-mail, phone and web address: checked when the user leaves the field.
#[component]
pub fn ScalarTextField(
    id: RecordId,
    path: FieldPath,
    field: &'static FieldDef,
    dom: String,
    label: Signal<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let error = RwSignal::new(None::<String>);
    let kind = match field.ty {
        FieldType::Email => "email",
        FieldType::Phone => "tel",
        _ => "url",
    };
    let value = {
        let path = path.clone();
        Memo::new(move |_| text_of(&value_of(id, &path)))
    };
    let on_change = move |event: leptos::ev::Event| {
        let typed = event_target_value(&event);
        // A refused value stays in the box to be corrected; the record keeps
        // its own, and the reason shows under the field.
        report(
            i18n,
            error,
            workspace.change(id, &path, FieldEdit::Text(typed)),
        );
    };
    view! {
        <div class="field">
            <label for=dom.clone()>{label}</label>
            <input type=kind id=dom.clone() prop:value=value aria-describedby=format!("{dom}-error")
                on:change=on_change />
            <FieldErrorLine dom error />
        </div>
    }
}

#[component]
pub fn DateField(
    id: RecordId,
    path: FieldPath,
    dom: String,
    label: Signal<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let error = RwSignal::new(None::<String>);
    let value = {
        let path = path.clone();
        Memo::new(move |_| text_of(&value_of(id, &path)))
    };
    let on_change = move |event: leptos::ev::Event| {
        let typed = event_target_value(&event);
        let outcome = if typed.is_empty() {
            workspace.change(id, &path, FieldEdit::Date(None))
        } else {
            match Date::parse(&typed) {
                Some(date) => workspace.change(id, &path, FieldEdit::Date(Some(date))),
                None => Err(FieldError::NotADate),
            }
        };
        if outcome.is_err() {
            // Show the stored date again: the refused one was not kept.
            if let Some(input) = event.target().and_then(|target| {
                leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::HtmlInputElement>(target)
                    .ok()
            }) {
                input.set_value(&value.get_untracked());
            }
        }
        report(i18n, error, outcome);
    };
    view! {
        <div class="field">
            <label for=dom.clone()>{label}</label>
            <input type="date" id=dom.clone() prop:value=value aria-describedby=format!("{dom}-error")
                on:change=on_change />
            <FieldErrorLine dom error />
        </div>
    }
}

#[component]
pub fn FlagField(
    id: RecordId,
    path: FieldPath,
    dom: String,
    label: Signal<String>,
) -> impl IntoView {
    let workspace = use_workspace();
    let checked = {
        let path = path.clone();
        Memo::new(move |_| value_of(id, &path).as_bool().unwrap_or(false))
    };
    let for_id = dom.clone();
    view! {
        <div class="field field-flag">
            <label for=for_id>
                <input type="checkbox" id=dom prop:checked=checked on:change=move |event| {
                    let _ = workspace.change(id, &path, FieldEdit::Flag(event_target_checked(&event)));
                } />
                {label}
            </label>
        </div>
    }
}

/// Whether the signed-in user may change a field with this guard.
fn may_change(guard: Guard) -> bool {
    use_session()
        .access()
        .is_some_and(|access| access.may_change(guard))
}

#[component]
pub fn ChoiceField(
    id: RecordId,
    kind: RecordKind,
    path: FieldPath,
    field: &'static FieldDef,
    choices: &'static Choices,
    dom: String,
    label: Signal<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let error = RwSignal::new(None::<String>);
    let value = {
        let path = path.clone();
        Memo::new(move |_| text_of(&value_of(id, &path)))
    };
    let guarded = field.guard != Guard::Editors;
    let may = move || may_change(field.guard);
    let hint = labels::hint(i18n, kind, &path);
    let hint_id = format!("{dom}-hint");
    let on_change = move |event: leptos::ev::Event| {
        let chosen = event_target_value(&event);
        let choice = (!chosen.is_empty()).then_some(chosen);
        report(
            i18n,
            error,
            workspace.change(id, &path, FieldEdit::Choice(choice)),
        );
    };
    view! {
        <div class="field">
            <label for=dom.clone()>{label}</label>
            <select id=dom.clone() disabled=move || !may() aria-describedby=format!("{hint_id} {dom}-error")
                on:change=on_change>
                {choices.default.is_none().then(|| view! {
                    <option value="" prop:selected=move || value.get().is_empty()>
                        {move || labels::choice_none(i18n, choices)}
                    </option>
                })}
                {choices.options.iter().map(|option| view! {
                    <option value=*option prop:selected=move || value.get() == *option>
                        {move || labels::choice(i18n, choices, option)}
                    </option>
                }).collect_view()}
            </select>
            {(guarded && hint.is_some()).then(|| view! {
                <Show when=move || !may()>
                    <p id=hint_id.clone() class="hint">{move || labels::hint(i18n, kind, &FieldPath::top(field.key))}</p>
                </Show>
            })}
            <FieldErrorLine dom error />
        </div>
    }
}

/// A set: checkboxes for members, focus areas and fixed choices; chips and a
/// text box for tags.
#[component]
pub fn SetField(
    id: RecordId,
    path: FieldPath,
    of: SetOf,
    dom: String,
    label: Signal<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let error = RwSignal::new(None::<String>);
    let members = {
        let path = path.clone();
        Memo::new(move |_| strings_of(&value_of(id, &path)))
    };
    let toggle = {
        let path = path.clone();
        move |value: String, included: bool| {
            report(
                i18n,
                error,
                workspace.change(id, &path, FieldEdit::Include { value, included }),
            );
        }
    };
    let options: Vec<(String, bool)> = match of {
        SetOf::Members => MEMBERS
            .iter()
            .map(|m| (m.code.to_owned(), m.active))
            .collect(),
        SetOf::FocusAreas => FocusArea::ALL
            .iter()
            .map(|a| (a.as_str().to_owned(), true))
            .collect(),
        SetOf::Choices(choices) => choices
            .options
            .iter()
            .map(|o| ((*o).to_owned(), true))
            .collect(),
        SetOf::Tags => Vec::new(),
    };
    let option_label = move |value: &str| -> String {
        match of {
            SetOf::Members => MEMBERS
                .iter()
                .find(|m| m.code == value)
                .map_or_else(|| value.to_owned(), |m| m.name.to_owned()),
            SetOf::FocusAreas => labels::focus_area(i18n, value),
            SetOf::Choices(choices) => labels::choice(i18n, choices, value),
            SetOf::Tags => value.to_owned(),
        }
    };
    if of == SetOf::Tags {
        let typed = RwSignal::new(String::new());
        let add = {
            let toggle = toggle.clone();
            move || {
                let tag = typed.get_untracked();
                if !tag.trim().is_empty() {
                    toggle(tag, true);
                    if error.get_untracked().is_none() {
                        typed.set(String::new());
                    }
                }
            }
        };
        let add_on_enter = add.clone();
        return view! {
            <fieldset class="tags">
                <legend>{label}</legend>
                <ul class="tag-list">
                    {move || labels::reading_order(members.get()).into_iter().map(|tag| {
                        let toggle = toggle.clone();
                        let remove = tag.clone();
                        view! {
                            <li class="tag">{tag.clone()} " "
                                <button type="button" class="remove-tag"
                                    aria-label=format!("{} {tag}", t_string!(i18n, tag_remove))
                                    on:click=move |_| toggle(remove.clone(), false)>"×"</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <label for=dom.clone()>{move || t_string!(i18n, tag_new)}</label>
                <input type="text" id=dom.clone() prop:value=typed aria-describedby=format!("{dom}-error")
                    on:input=move |event| typed.set(event_target_value(&event))
                    on:keydown=move |event: leptos::ev::KeyboardEvent| {
                        if event.key() == "Enter" {
                            event.prevent_default();
                            add_on_enter();
                        }
                    } />
                <button type="button" on:click=move |_| add()>{move || t_string!(i18n, tag_add)}</button>
                <FieldErrorLine dom error />
            </fieldset>
        }
        .into_any();
    }
    view! {
        <fieldset class="checks">
            <legend>{label}</legend>
            // A member whose participation ended is offered only while the record
            // still names it, so old records keep their history and can drop it.
            {options.into_iter().map(|(value, active)| {
                let box_id = format!("{dom}-{value}");
                let selected = {
                    let value = value.clone();
                    move || members.get().contains(&value)
                };
                let toggle = toggle.clone();
                let text = value.clone();
                let hidden = {
                    let selected = selected.clone();
                    move || !active && !selected()
                };
                let for_id = box_id.clone();
                view! {
                    <label for=for_id hidden=hidden>
                        <input type="checkbox" id=box_id prop:checked=selected
                            on:change=move |event| toggle(value.clone(), event_target_checked(&event)) />
                        {move || option_label(&text)}
                    </label>
                }
            }).collect_view()}
            <FieldErrorLine dom error />
        </fieldset>
    }
    .into_any()
}

/// One value per member state (positions): a member changes their own state's,
/// the secretariat any.
#[component]
pub fn PerMemberField(
    id: RecordId,
    kind: RecordKind,
    path: FieldPath,
    choices: &'static Choices,
    dom: String,
    label: Signal<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let error = RwSignal::new(None::<String>);
    // A memo: the list re-renders only when an entry changes, not on every keystroke.
    let entries = {
        let path = path.clone();
        Memo::new(move |_| match value_of(id, &path) {
            Value::Object(entries) => entries
                .into_iter()
                .filter_map(|(code, value)| Some((code, value.as_str()?.to_owned())))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    };
    let hint = labels::hint(i18n, kind, &path);
    let heading_id = format!("{dom}-heading");
    let labelled_by = heading_id.clone();
    let list_dom = dom.clone();
    view! {
        <section class="per-member" aria-labelledby=labelled_by>
            <h2 id=heading_id>{label}</h2>
            {hint.map(|_| {
                let path = path.clone();
                view! { <p class="hint">{move || labels::hint(i18n, kind, &path)}</p> }
            })}
            <ul class="per-member-list">
                {move || {
                    let recorded = entries.get();
                    MEMBERS.iter()
                        // A member whose participation ended stays listed while it has an entry.
                        .filter(|member| member.active || recorded.iter().any(|(code, _)| code == member.code))
                        .map(|member| {
                            let code = member.code;
                            let current = recorded.iter().find(|(c, _)| c == code).map(|(_, v)| v.clone());
                            let may = session.access().is_some_and(|access| access.may_change_entry(code));
                            let select_id = format!("{list_dom}-{code}");
                            let path = path.clone();
                            view! {
                                <li>
                                    <label for=select_id.clone()>{session.member_name(code)}</label>
                                    <select id=select_id disabled=!may on:change=move |event| {
                                        let chosen = event_target_value(&event);
                                        let edit = FieldEdit::Keyed {
                                            key: code.to_owned(),
                                            value: (!chosen.is_empty()).then_some(chosen),
                                        };
                                        report(i18n, error, workspace.change(id, &path, edit));
                                    }>
                                        <option value="" selected=current.is_none()>{labels::choice_none(i18n, choices)}</option>
                                        {choices.options.iter().map(|option| view! {
                                            <option value=*option selected=current.as_deref() == Some(*option)>
                                                {labels::choice(i18n, choices, option)}
                                            </option>
                                        }).collect_view()}
                                    </select>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <FieldErrorLine dom error />
        </section>
    }
}

/// The records a reference field may point to, by title, for a picker. Read
/// only while the picker has focus: a network of thousands of people would
/// otherwise be re-listed for every field on every change.
fn candidates(id: RecordId, kinds: &[RecordKind]) -> Vec<(RecordId, RecordKind, String)> {
    let workspace = use_workspace();
    let mut rows: Vec<(RecordId, RecordKind, String)> = kinds
        .iter()
        .flat_map(|kind| workspace.list(*kind))
        .filter(|(other, _)| *other != id)
        .map(|(other, projection)| (other, projection.kind, projection.title().to_owned()))
        .collect();
    rows.sort_by_key(|(_, _, title)| title.to_lowercase());
    rows
}

/// A picker of one record of the allowed kinds; filled when it gets focus.
#[component]
fn RecordPicker(
    id: RecordId,
    kinds: &'static [RecordKind],
    dom: String,
    #[prop(into)] current: Signal<Option<RecordId>>,
    #[prop(optional)] empty_label: bool,
    on_pick: impl Fn(Option<(RecordId, RecordKind)>) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    let options = Memo::new(move |_| {
        if open.get() {
            candidates(id, kinds)
        } else {
            Vec::new()
        }
    });
    let kind_of = move |target: RecordId| {
        options
            .get_untracked()
            .into_iter()
            .find(|(other, _, _)| *other == target)
            .map(|(_, kind, _)| kind)
    };
    view! {
        <select id=dom on:focus=move |_| open.set(true) on:pointerdown=move |_| open.set(true)
            on:change=move |event| {
                let chosen = event_target_value(&event);
                let target = chosen.parse::<RecordId>().ok().and_then(|target| Some((target, kind_of(target)?)));
                on_pick(target);
            }>
            <option value="" prop:selected=move || current.get().is_none()>
                {move || if empty_label { t_string!(i18n, ref_none) } else { t_string!(i18n, ref_choose) }}
            </option>
            {move || {
                let chosen = current.get();
                let listed = options.get();
                let missing = chosen.filter(|target| !listed.iter().any(|(other, _, _)| other == target));
                // The current target keeps an option even before the list is read.
                let current_option = missing.map(|target| {
                    let title = use_workspace()
                        .projection(target)
                        .map(|projection| projection.title().to_owned())
                        .unwrap_or_else(|| t_string!(i18n, ref_no_access).to_owned());
                    view! { <option value=target.to_string() selected=true>{title}</option> }
                });
                let untitled = t_string!(i18n, untitled);
                view! {
                    {current_option}
                    {listed.into_iter().map(|(other, _, title)| {
                        let shown = if title.trim().is_empty() { untitled.to_owned() } else { title };
                        view! { <option value=other.to_string() selected=chosen == Some(other)>{shown}</option> }
                    }).collect_view()}
                }
            }}
        </select>
    }
}

#[component]
pub fn RefField(
    id: RecordId,
    path: FieldPath,
    kinds: &'static [RecordKind],
    dom: String,
    label: Signal<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let error = RwSignal::new(None::<String>);
    let current = {
        let path = path.clone();
        Memo::new(move |_| {
            value_of(id, &path)
                .as_str()
                .and_then(|text| text.parse::<RecordId>().ok())
        })
    };
    let pick = move |target: Option<(RecordId, RecordKind)>| {
        report(
            i18n,
            error,
            workspace.change(id, &path, FieldEdit::Ref(target)),
        );
    };
    view! {
        <div class="field field-ref">
            <label for=dom.clone()>{label}</label>
            <RecordPicker id kinds dom=dom.clone() current empty_label=true on_pick=pick />
            {move || current.get().map(|target| view! { <p class="ref-target"><RecordLink target /></p> })}
            <FieldErrorLine dom error />
        </div>
    }
}

#[component]
pub fn RefsField(
    id: RecordId,
    path: FieldPath,
    kinds: &'static [RecordKind],
    dom: String,
    label: Signal<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let error = RwSignal::new(None::<String>);
    let targets = {
        let path = path.clone();
        Memo::new(move |_| {
            strings_of(&value_of(id, &path))
                .into_iter()
                .filter_map(|text| text.parse::<RecordId>().ok())
                .collect::<Vec<_>>()
        })
    };
    let include = {
        let path = path.clone();
        move |target: RecordId, kind: RecordKind, included: bool| {
            let edit = FieldEdit::IncludeRef {
                target,
                kind,
                included,
            };
            report(i18n, error, workspace.change(id, &path, edit));
        }
    };
    let add = include.clone();
    let add_id = format!("{dom}-add");
    view! {
        <fieldset class="refs">
            <legend>{label}</legend>
            <ul class="ref-list">
                {move || targets.get().into_iter().map(|target| {
                    let include = include.clone();
                    // Removing needs no kind check; any kind will do.
                    let kind = kinds[0];
                    view! {
                        <li>
                            <RecordLink target /> " "
                            <button type="button" class="remove-ref" on:click=move |_| include(target, kind, false)>
                                {move || t_string!(i18n, ref_remove)}
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <label for=add_id.clone()>{move || t_string!(i18n, ref_add)}</label>
            <RecordPicker id kinds dom=add_id current=Signal::derive(|| None)
                on_pick=move |target| if let Some((target, kind)) = target { add(target, kind, true) } />
            <FieldErrorLine dom error />
        </fieldset>
    }
}
