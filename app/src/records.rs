//! Record lists and editors: recommendations and projects, created and edited
//! on this device (offline too) through the [`Workspace`].
//!
//! Text inputs keep what the user types as a draft and apply it to the record
//! at most 300 ms later, or at once on blur; the field's shown value follows
//! the record when someone else's edit arrives, keeping the caret in place.

use crate::i18n::*;
use crate::session::use_session;
use crate::store::{new_section_id, use_workspace, LocalCopy, RecordState, TextField, Workspace};
use leptos::html;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use tern_domain::api::EXPORT_PATH;
use tern_domain::record::{
    ProjectStatus, RecommendationStatus, Record, RecordId, RecordKind, RecordSummary, SectionId,
    Splice, Stance,
};
use tern_domain::region::{FocusArea, MEMBERS};

type I18n = leptos_i18n::I18nContext<Locale>;

fn focus_area_label(i18n: I18n, area: FocusArea) -> &'static str {
    match area {
        FocusArea::EarlyIntervention => t_string!(i18n, focus_early_intervention),
        FocusArea::SexualAbuseAndExploitation => t_string!(i18n, focus_sexual_abuse),
        FocusArea::MigrantChildrenAndTrafficking => t_string!(i18n, focus_migrant_children),
        FocusArea::OutOfHomeCare => t_string!(i18n, focus_out_of_home_care),
    }
}

fn recommendation_status_label(i18n: I18n, status: RecommendationStatus) -> &'static str {
    match status {
        RecommendationStatus::Draft => t_string!(i18n, status_draft),
        RecommendationStatus::InConsultation => t_string!(i18n, status_in_consultation),
        RecommendationStatus::MemberReview => t_string!(i18n, status_member_review),
        RecommendationStatus::Adopted => t_string!(i18n, status_adopted),
        RecommendationStatus::Withdrawn => t_string!(i18n, status_withdrawn),
    }
}

fn project_status_label(i18n: I18n, status: ProjectStatus) -> &'static str {
    match status {
        ProjectStatus::Planned => t_string!(i18n, status_planned),
        ProjectStatus::Active => t_string!(i18n, status_active),
        ProjectStatus::OnHold => t_string!(i18n, status_on_hold),
        ProjectStatus::Completed => t_string!(i18n, status_completed),
    }
}

fn record_path(kind: RecordKind, id: RecordId) -> String {
    match kind {
        RecordKind::Recommendation => format!("/recommendations/{id}"),
        RecordKind::Project => format!("/projects/{id}"),
    }
}

/// The list of one kind of record, with a button that creates one.
#[component]
pub fn RecordList(kind: RecordKind) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let navigate = leptos_router::hooks::use_navigate();
    let create = Callback::new(move |()| {
        if let Some(id) = workspace.create(kind) {
            navigate(&record_path(kind, id), Default::default());
        }
    });
    let rows = move || workspace.list(kind);
    let session = use_session();
    // Contributors and observers work on what they were invited to; they do not create.
    let may_create = move || {
        session
            .access()
            .is_some_and(|access| access.check_create(kind).is_ok())
    };
    view! {
        <Show when=may_create>
            <p class="actions">
                <button type="button" class="primary" id="new-record" on:click=move |_| create.run(())
                    disabled=move || !workspace.ready.get()>
                    {move || match kind {
                        RecordKind::Recommendation => t_string!(i18n, new_recommendation),
                        RecordKind::Project => t_string!(i18n, new_project),
                    }}
                </button>
            </p>
        </Show>
        <Show
            when=move || !rows().is_empty()
            fallback=move || view! {
                <section class="empty-state">
                    <h2>{move || match kind {
                        RecordKind::Recommendation => t_string!(i18n, recommendations_empty_heading),
                        RecordKind::Project => t_string!(i18n, projects_empty_heading),
                    }}</h2>
                    <p>{move || match kind {
                        RecordKind::Recommendation => t_string!(i18n, recommendations_empty_body),
                        RecordKind::Project => t_string!(i18n, projects_empty_body),
                    }}</p>
                </section>
            }
        >
            <ul class="record-list">
                {move || rows().into_iter().map(|(id, summary)| {
                    let (title, status) = match &summary {
                        RecordSummary::Recommendation(rec) => {
                            (rec.title.clone(), recommendation_status_label(i18n, rec.status))
                        }
                        RecordSummary::Project(project) => {
                            (project.title.clone(), project_status_label(i18n, project.status))
                        }
                    };
                    let title = if title.trim().is_empty() {
                        t_string!(i18n, untitled).to_owned()
                    } else {
                        title
                    };
                    view! {
                        <li class="record-row" data-record-id=id.to_string()>
                            <a href=record_path(kind, id)>{title}</a>
                            <span class="record-status">{status}</span>
                            <RecordStateBadge id />
                        </li>
                    }
                }).collect_view()}
            </ul>
        </Show>
    }
}

/// "Unsaved changes" · "Saved on this device" · "Synced", and a refusal if any.
#[component]
pub fn RecordStateBadge(id: RecordId) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let state = move || workspace.record_state(id);
    view! {
        <span class="record-state" data-state=move || match state() {
            RecordState::Unsaved => "unsaved",
            RecordState::SavedLocally => "saved-locally",
            RecordState::Synced => "synced",
        }>
            {move || match state() {
                RecordState::Unsaved => t_string!(i18n, record_unsaved),
                RecordState::SavedLocally => t_string!(i18n, record_saved_locally),
                RecordState::Synced => t_string!(i18n, record_synced),
            }}
        </span>
        {move || workspace.rejection(id).map(|reason| view! {
            <p class="record-rejected" role="alert">
                {t_string!(i18n, record_rejected)} " " {reason}
            </p>
        })}
    }
}

/// Sets a text control's value to follow the record. For someone typing in it,
/// the caret and selection keep their place in the text: an insertion or
/// deletion before them moves them along (offsets are UTF-16 units, as in the
/// DOM).
fn show_value(element: &web_sys::Element, value: &str) {
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

/// A one-line or multi-line text field of a record.
#[component]
fn TextInput(
    id: RecordId,
    field: TextField,
    #[prop(into)] dom_id: String,
    #[prop(into)] label: Signal<&'static str>,
    #[prop(optional)] multiline: bool,
) -> impl IntoView {
    let workspace = use_workspace();
    let value_field = field.clone();
    let value = Memo::new(move |_| workspace.text(id, &value_field));
    // What the control reads: it changes only by `show_value` and by input.
    let shown = StoredValue::new(String::new());
    let on_input = {
        let field = field.clone();
        move |event: leptos::ev::Event| {
            let typed = event_target_value(&event);
            let before = shown.try_update_value(|shown| std::mem::replace(shown, typed.clone()));
            workspace.draft_text(id, field.clone(), before.unwrap_or_default(), typed);
        }
    };
    let on_blur = move |_| workspace.flush_drafts();
    let control = if multiline {
        let node = NodeRef::<html::Textarea>::new();
        Effect::new(move |_| {
            let value = value.get();
            if let Some(element) = node.get() {
                show_value(&element, &value);
                shown.set_value(value);
            }
        });
        view! {
            <textarea id=dom_id.clone() node_ref=node rows="8" on:input=on_input on:blur=on_blur></textarea>
        }
        .into_any()
    } else {
        let node = NodeRef::<html::Input>::new();
        Effect::new(move |_| {
            let value = value.get();
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
    view! {
        <div class="field">
            <label for=dom_id>{label}</label>
            {control}
        </div>
    }
}

/// Focus-area checkboxes shared by both editors.
#[component]
fn FocusAreas(
    id: RecordId,
    current: Signal<Vec<FocusArea>>,
    set: fn(&Record, FocusArea, bool) -> Option<tern_domain::record::Update>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    view! {
        <fieldset class="checks">
            <legend>{move || t_string!(i18n, focus_areas_heading)}</legend>
            {FocusArea::ALL.into_iter().map(|area| {
                let dom_id = format!("focus-{}", area.as_str());
                view! {
                    <label for=dom_id.clone()>
                        <input type="checkbox" id=dom_id.clone()
                            prop:checked=move || current.get().contains(&area)
                            on:change=move |event| {
                                let checked = event_target_checked(&event);
                                workspace.edit(id, |record| set(record, area, checked));
                            } />
                        {move || focus_area_label(i18n, area)}
                    </label>
                }
            }).collect_view()}
        </fieldset>
    }
}

fn read_recommendation<T>(
    workspace: Workspace,
    id: RecordId,
    reader: impl FnOnce(&tern_domain::record::Recommendation) -> T,
) -> Option<T> {
    workspace
        .with_record(id, |record| {
            record.as_recommendation().map(|rec| reader(&rec))
        })
        .flatten()
}

fn read_project<T>(
    workspace: Workspace,
    id: RecordId,
    reader: impl FnOnce(&tern_domain::record::Project) -> T,
) -> Option<T> {
    workspace
        .with_record(id, |record| {
            record.as_project().map(|project| reader(&project))
        })
        .flatten()
}

/// Reads the id from the URL; a malformed one shows the not-here message.
fn parse_id(text: &str) -> Option<RecordId> {
    text.parse().ok()
}

/// The editor of one record, once this device has it; until then a message
/// that says whether it is still loading or not here (yet).
#[component]
pub fn RecordEditor(kind: RecordKind, id: String) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let not_here = move || match kind {
        RecordKind::Recommendation => t_string!(i18n, recommendation_not_here),
        RecordKind::Project => t_string!(i18n, project_not_here),
    };
    let Some(id) = parse_id(&id) else {
        return view! { <p>{not_here}</p> }.into_any();
    };
    let exists = move || {
        workspace
            .with_record(id, |record| record.kind() == Some(kind))
            .unwrap_or(false)
    };
    let session = use_session();
    // Observers read; editors start in the editor and can switch.
    let reading = RwSignal::new(!session.can_edit());
    view! {
        {move || workspace.copies_of(id).into_iter().map(|copy| view! { <LocalCopyPanel copy /> }).collect_view()}
        <Show when=move || workspace.ready.get() && !session.can_edit()>
            <p class="hint" id="read-only">{move || t_string!(i18n, read_only_hint)}</p>
        </Show>
        <Show
            when=exists
            fallback=move || view! {
                <p>{move || if workspace.ready.get() { not_here() } else { t_string!(i18n, loading) }}</p>
            }
        >
            {match kind {
                RecordKind::Recommendation => view! {
                    <p class="actions">
                        <button type="button" id="toggle-reading" aria-pressed=move || reading.get().to_string()
                            on:click=move |_| reading.set(!reading.get_untracked())>
                            {move || if reading.get() { t_string!(i18n, reading_edit) } else { t_string!(i18n, reading_show) }}
                        </button>
                        " "
                        <a id="export" href=format!("{EXPORT_PATH}/{id}") download>
                            {move || t_string!(i18n, reading_export)}
                        </a>
                    </p>
                    {move || if reading.get() {
                        view! { <RecommendationReading id workspace /> }.into_any()
                    } else {
                        view! { <RecommendationForm id workspace /> }.into_any()
                    }}
                }.into_any(),
                RecordKind::Project => view! { <ProjectForm id workspace /> }.into_any(),
            }}
        </Show>
        <Show when=move || session.is_secretariat()>
            <crate::account::RecordAccess id />
        </Show>
    }
    .into_any()
}

#[component]
fn RecommendationForm(id: RecordId, workspace: Workspace) -> impl IntoView {
    let i18n = use_i18n();
    let status = Signal::derive(move || {
        read_recommendation(workspace, id, |rec| rec.status()).unwrap_or_default()
    });
    let focus = Signal::derive(move || {
        read_recommendation(workspace, id, |rec| rec.focus_areas()).unwrap_or_default()
    });
    let section_ids = Memo::new(move |_| {
        read_recommendation(workspace, id, |rec| rec.section_ids()).unwrap_or_default()
    });
    let session = use_session();
    let may_set_status = move || {
        session
            .access()
            .is_some_and(|access| access.can_set_recommendation_status())
    };
    let add_section = move |_| {
        let section = new_section_id();
        let position = section_ids.get_untracked().len();
        workspace.edit(id, |record| {
            Some(
                record
                    .as_recommendation()?
                    .insert_section(position, &section, ""),
            )
        });
    };
    view! {
        <RecordStateBadge id />
        <form class="editor" on:submit=|event| event.prevent_default()>
            <fieldset class="editor-fields" disabled=move || !session.can_edit()>
            <TextInput id field=TextField::Title dom_id="title"
                label=Signal::derive(move || t_string!(i18n, field_title)) />
            <div class="field">
                <label for="status">{move || t_string!(i18n, field_status)}</label>
                <select id="status" aria-describedby="status-hint" disabled=move || !may_set_status()
                    on:change=move |event| {
                    if let Some(status) = RecommendationStatus::parse(&event_target_value(&event)) {
                        workspace.edit(id, |record| Some(record.as_recommendation()?.set_status(status)));
                    }
                }>
                    {RecommendationStatus::ALL.into_iter().map(|option| view! {
                        <option value=option.as_str() selected=move || status.get() == option>
                            {move || recommendation_status_label(i18n, option)}
                        </option>
                    }).collect_view()}
                </select>
                <Show when=move || !may_set_status()>
                    <p id="status-hint" class="hint">{move || t_string!(i18n, status_secretariat_hint)}</p>
                </Show>
            </div>
            <TextInput id field=TextField::Summary dom_id="summary" multiline=true
                label=Signal::derive(move || t_string!(i18n, field_summary)) />
            <FocusAreas id current=focus
                set=|record, area, on| Some(record.as_recommendation()?.set_focus_area(area, on)) />
            <section class="sections" aria-labelledby="sections-heading">
                <h2 id="sections-heading">{move || t_string!(i18n, sections_heading)}</h2>
                <Show when=move || section_ids.get().is_empty()>
                    <p class="hint">{move || t_string!(i18n, sections_empty)}</p>
                </Show>
                <ol class="section-list">
                    <For each=move || section_ids.get().into_iter().enumerate()
                        key=|(position, section)| (section.clone(), *position)
                        let((position, section))>
                        <SectionEditor id section position count=Signal::derive(move || section_ids.get().len()) />
                    </For>
                </ol>
                <button type="button" id="add-section" on:click=add_section>
                    {move || t_string!(i18n, add_section)}
                </button>
            </section>
            <Positions id workspace />
            </fieldset>
        </form>
    }
}

#[component]
fn SectionEditor(
    id: RecordId,
    section: SectionId,
    position: usize,
    count: Signal<usize>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let number = position + 1;
    let dom = format!("section-{number}");
    let moved = {
        let section = section.clone();
        move |to: usize| {
            let section = section.clone();
            workspace.edit(id, move |record| {
                Some(record.as_recommendation()?.move_section(&section, to))
            });
        }
    };
    let move_up = {
        let moved = moved.clone();
        move |_| moved(position.saturating_sub(1))
    };
    let move_down = move |_| moved(position + 1);
    let remove = {
        let section = section.clone();
        move |_| {
            let sure = window()
                .confirm_with_message(t_string!(i18n, remove_section_confirm))
                .unwrap_or(false);
            if sure {
                let section = section.clone();
                workspace.edit(id, move |record| {
                    Some(record.as_recommendation()?.remove_section(&section))
                });
            }
        }
    };
    view! {
        <li class="section" data-section=section.0.clone()>
            <TextInput id field=TextField::SectionHeading(section.clone()) dom_id=format!("{dom}-heading")
                label=Signal::derive(move || t_string!(i18n, section_heading_label)) />
            <TextInput id field=TextField::SectionBody(section.clone()) dom_id=format!("{dom}-body") multiline=true
                label=Signal::derive(move || t_string!(i18n, section_body_label)) />
            <p class="section-actions">
                <button type="button" on:click=move_up disabled={position == 0}>
                    {move || t_string!(i18n, move_up)}
                </button>
                <button type="button" on:click=move_down disabled={move || count.get() <= position + 1}>
                    {move || t_string!(i18n, move_down)}
                </button>
                <button type="button" class="danger" on:click=remove>{move || t_string!(i18n, remove_section)}</button>
            </p>
        </li>
    }
}

#[component]
fn ProjectForm(id: RecordId, workspace: Workspace) -> impl IntoView {
    let i18n = use_i18n();
    let status =
        Signal::derive(move || read_project(workspace, id, |p| p.status()).unwrap_or_default());
    let focus = Signal::derive(move || {
        read_project(workspace, id, |p| p.focus_areas()).unwrap_or_default()
    });
    let countries =
        Signal::derive(move || read_project(workspace, id, |p| p.countries()).unwrap_or_default());
    let start = Signal::derive(move || {
        read_project(workspace, id, |p| p.start_date())
            .flatten()
            .unwrap_or_default()
    });
    let end = Signal::derive(move || {
        read_project(workspace, id, |p| p.end_date())
            .flatten()
            .unwrap_or_default()
    });
    let date_error = RwSignal::new(None::<String>);
    let start_node = NodeRef::<html::Input>::new();
    let end_node = NodeRef::<html::Input>::new();
    let set_dates = move |_| {
        let value = |node: NodeRef<html::Input>| {
            node.get_untracked()
                .map(|input| input.value())
                .filter(|value| !value.is_empty())
        };
        let (start, end) = (value(start_node), value(end_node));
        let mut error = None;
        workspace.edit(id, |record| {
            match record
                .as_project()?
                .set_dates(start.as_deref(), end.as_deref())
            {
                Ok(update) => Some(update),
                Err(refused) => {
                    error = Some(refused);
                    None
                }
            }
        });
        date_error.set(error.map(|error| match error {
            tern_domain::record::ProjectFieldError::EndBeforeStart { .. } => {
                t_string!(i18n, error_end_before_start).to_owned()
            }
            _ => t_string!(i18n, error_not_a_date).to_owned(),
        }));
    };
    let session = use_session();
    view! {
        <RecordStateBadge id />
        <form class="editor" on:submit=|event| event.prevent_default()>
            <fieldset class="editor-fields" disabled=move || !session.can_edit()>
            <TextInput id field=TextField::Title dom_id="title"
                label=Signal::derive(move || t_string!(i18n, field_title)) />
            <div class="field">
                <label for="status">{move || t_string!(i18n, field_status)}</label>
                <select id="status" on:change=move |event| {
                    if let Some(status) = ProjectStatus::parse(&event_target_value(&event)) {
                        workspace.edit(id, |record| Some(record.as_project()?.set_status(status)));
                    }
                }>
                    {ProjectStatus::ALL.into_iter().map(|option| view! {
                        <option value=option.as_str() selected=move || status.get() == option>
                            {move || project_status_label(i18n, option)}
                        </option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="start-date">{move || t_string!(i18n, field_start_date)}</label>
                    <input type="date" id="start-date" node_ref=start_node prop:value=start
                        aria-describedby="date-error" on:change=set_dates />
                </div>
                <div class="field">
                    <label for="end-date">{move || t_string!(i18n, field_end_date)}</label>
                    <input type="date" id="end-date" node_ref=end_node prop:value=end
                        aria-describedby="date-error" on:change=set_dates />
                </div>
            </div>
            <p id="date-error" class="field-error" role="alert">{move || date_error.get()}</p>
            <FocusAreas id current=focus
                set=|record, area, on| Some(record.as_project()?.set_focus_area(area, on)) />
            <fieldset class="checks">
                <legend>{move || t_string!(i18n, field_countries)}</legend>
                // A member whose participation ended is offered only while a project
                // still names it, so old projects keep their history and can drop it.
                {MEMBERS.into_iter().map(|member| {
                    let dom_id = format!("country-{}", member.code);
                    let selected = move || countries.get().iter().any(|c| c == member.code);
                    view! {
                        <label for=dom_id.clone() hidden=move || !member.active && !selected()>
                            <input type="checkbox" id=dom_id.clone()
                                prop:checked=selected
                                on:change=move |event| {
                                    let checked = event_target_checked(&event);
                                    workspace.edit(id, |record| {
                                        record.as_project()?.set_country(member.code, checked).ok()
                                    });
                                } />
                            {member.name}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <TextInput id field=TextField::Description dom_id="description" multiline=true
                label=Signal::derive(move || t_string!(i18n, field_description)) />
            </fieldset>
        </form>
    }
}

/// Each member's position on the recommendation. A member records their own
/// state's; the secretariat records any (it takes them down in meetings).
#[component]
fn Positions(id: RecordId, workspace: Workspace) -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    // A memo: the list re-renders only when a position changes, not on every keystroke.
    let positions = Memo::new(move |_| {
        read_recommendation(workspace, id, |rec| rec.positions()).unwrap_or_default()
    });
    let stance_label = move |stance: Stance| match stance {
        Stance::Support => t_string!(i18n, stance_support),
        Stance::Reservation => t_string!(i18n, stance_reservation),
        Stance::Objection => t_string!(i18n, stance_objection),
    };
    view! {
        <section class="positions" aria-labelledby="positions-heading">
            <h2 id="positions-heading">{move || t_string!(i18n, positions_heading)}</h2>
            <p class="hint">{move || t_string!(i18n, positions_hint)}</p>
            <ul class="position-list">
                {move || {
                    let recorded = positions.get();
                    session.member_list().into_iter()
                        // A member whose participation ended stays listed while it has a position.
                        .filter(|member| member.active || recorded.iter().any(|(code, _)| *code == member.code))
                        .map(|member| {
                            let code = member.code.clone();
                            let current = recorded.iter().find(|(c, _)| *c == code).map(|(_, stance)| *stance);
                            let may = session.access().is_some_and(|access| access.can_record_position(&code));
                            let dom_id = format!("position-{code}");
                            let for_change = code.clone();
                            view! {
                                <li>
                                    <label for=dom_id.clone()>{member.name.clone()}</label>
                                    <select id=dom_id disabled=!may on:change=move |event| {
                                        let stance = Stance::parse(&event_target_value(&event));
                                        let code = for_change.clone();
                                        workspace.edit(id, move |record| {
                                            Some(record.as_recommendation()?.set_position(&code, stance))
                                        });
                                    }>
                                        <option value="" selected=current.is_none()>{move || t_string!(i18n, stance_none)}</option>
                                        {Stance::ALL.into_iter().map(|stance| view! {
                                            <option value=stance.as_str() selected=current == Some(stance)>
                                                {stance_label(stance)}
                                            </option>
                                        }).collect_view()}
                                    </select>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}

/// A user's version of a record the server refused: why, the text to copy,
/// a download, and a way to let it go.
#[component]
pub fn LocalCopyPanel(copy: LocalCopy) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let key = copy.key;
    let text = copy.text.clone();
    let title = if copy.title.trim().is_empty() {
        t_string!(i18n, untitled).to_owned()
    } else {
        copy.title.clone()
    };
    let dom_id = format!("local-copy-{key}");
    let record = copy.record.to_string();
    let dismiss = move |_| {
        if window()
            .confirm_with_message(t_string!(i18n, copy_dismiss_confirm))
            .unwrap_or(false)
        {
            workspace.dismiss_copy(key);
        }
    };
    view! {
        <section class="local-copy" role="alert" data-record-id=record>
            <h2>{move || t_string!(i18n, copy_heading)} " " <q>{title}</q></h2>
            <p class="copy-reason">{move || t_string!(i18n, copy_refused)} " " {copy.reason.clone()}</p>
            <p class="hint">{move || t_string!(i18n, copy_kept)} " " {copy.kept_at.clone()}</p>
            <label for=dom_id.clone()>{move || t_string!(i18n, copy_text_label)}</label>
            <textarea id=dom_id class="local-copy-text" readonly rows="8" prop:value=text></textarea>
            <p class="actions">
                <button type="button" class="download-copy" on:click=move |_| workspace.download_copy(&copy)>
                    {move || t_string!(i18n, copy_download)}
                </button>
                <button type="button" class="danger dismiss-copy" on:click=dismiss>
                    {move || t_string!(i18n, copy_dismiss)}
                </button>
            </p>
        </section>
    }
}

/// A recommendation as its readers see it: plain-text title and summary, and
/// each section's body rendered from Markdown.
#[component]
fn RecommendationReading(id: RecordId, workspace: Workspace) -> impl IntoView {
    let i18n = use_i18n();
    let summary = Memo::new(move |_| read_recommendation(workspace, id, |rec| rec.summary()));
    view! {
        <article class="reading" id="reading">
            {move || summary.get().map(|summary| {
                let title = if summary.title.trim().is_empty() {
                    t_string!(i18n, untitled).to_owned()
                } else {
                    summary.title
                };
                view! {
                    <h2 class="reading-title">{title}</h2>
                    <p class="reading-summary">{summary.summary}</p>
                    {summary.sections.into_iter().map(|section| view! {
                        <section class="reading-section">
                            <h2>{section.heading}</h2>
                            <MarkdownBody text=section.body />
                        </section>
                    }).collect_view()}
                }
            })}
        </article>
    }
}

/// A section body: Markdown rendered by the server (pulldown-cmark, then
/// ammonia, so the HTML holds nothing that runs or loads) and kept for the
/// session; offline, before that, the text as typed.
#[component]
fn MarkdownBody(text: String) -> impl IntoView {
    let i18n = use_i18n();
    let online = crate::layout::use_online();
    let node = NodeRef::<html::Div>::new();
    let rendered = RwSignal::new(cached_rendering(&text));
    let plain = text.clone();
    Effect::new(move |_| {
        if rendered.get_untracked().is_some() || !online.get() {
            return;
        }
        let markdown = text.clone();
        leptos::task::spawn_local(async move {
            let request = tern_domain::api::RenderRequest {
                markdown: markdown.clone(),
            };
            let answer = crate::session::call::<_, tern_domain::api::RenderedHtml>(
                "POST",
                tern_domain::api::RENDER_PATH,
                Some(&request),
            )
            .await;
            if let Ok(answer) = answer {
                RENDERED.with_borrow_mut(|cache| cache.insert(markdown, answer.html.clone()));
                rendered.set(Some(answer.html));
            }
        });
    });
    Effect::new(move |_| {
        if let (Some(container), Some(html)) = (node.get(), rendered.get()) {
            container.set_inner_html(&html);
        }
    });
    view! {
        <Show when=move || rendered.get().is_none()
            fallback=move || view! { <div class="markdown" node_ref=node></div> }>
            <p class="hint">{move || t_string!(i18n, reading_plain)}</p>
            <div class="markdown plain">{plain.clone()}</div>
        </Show>
    }
}

thread_local! {
    /// Markdown the server rendered in this session, by its text.
    static RENDERED: std::cell::RefCell<std::collections::HashMap<String, String>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn cached_rendering(markdown: &str) -> Option<String> {
    RENDERED.with_borrow(|cache| cache.get(markdown).cloned())
}
