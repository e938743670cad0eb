//! The list of one kind of record: columns, filters and sorting from the
//! kind's declaration, counts, a CSV of what it shows, and "New". All of it
//! reads projections, so it works offline and never opens a document.
//! Filters and sorting live in the address (`?country=PL&sort=title`), so a
//! reload or a shared link shows the same list. Only the rows on screen are
//! rendered ([`window`]).

mod cells;
mod query;
mod window;

use super::state::RecordStateBadge;
use crate::i18n::*;
use crate::labels;
use crate::routes::{archived_path, list_path, record_path};
use crate::session::use_session;
use crate::store::use_workspace;
use cells::{cell, csv_field, sort_key};
use leptos::prelude::*;
use query::{matches, range_fields, words, ListState};
use std::sync::Arc;
use tern_domain::record::schema::{FieldDef, FieldType, SetOf};
use tern_domain::record::{Date, FieldPath, Projection, RecordId, RecordKind};
use tern_domain::region::{FocusArea, MEMBERS};

/// The list's table, whose rows [`window`] follows.
const TABLE_ID: &str = "record-table";

/// The list of one kind of record (or its archived ones).
#[component]
pub fn RecordList(kind: RecordKind, #[prop(optional)] archived: bool) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let def = kind.def();
    let navigate = leptos_router::hooks::use_navigate();
    let state = RwSignal::new(ListState::from_query(
        def,
        &window().location().search().unwrap_or_default(),
    ));
    let address = move || {
        let path = if archived {
            archived_path(kind)
        } else {
            list_path(kind)
        };
        format!("{path}{}", state.with_untracked(ListState::to_query))
    };
    Effect::new(move |_| {
        state.track();
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(
                &leptos::wasm_bindgen::JsValue::NULL,
                "",
                Some(&address()),
            );
        }
    });
    let all = Memo::new(move |_| {
        if archived {
            workspace
                .all_of(kind)
                .into_iter()
                .filter(|(_, projection)| projection.archived() && !projection.deleted())
                .collect()
        } else {
            workspace.list(kind)
        }
    });
    let rows = Memo::new(move |_| {
        let state = state.get();
        let words = words(&state.text);
        let mut rows: Vec<(RecordId, Arc<Projection>)> = all
            .get()
            .into_iter()
            .filter(|(_, projection)| matches(&state, &words, def, projection))
            .collect();
        if !state.sort.is_empty() {
            rows.sort_by_cached_key(|(_, projection)| sort_key(state.sort, projection));
        }
        if state.descending {
            rows.reverse();
        }
        rows
    });
    let total = Memo::new(move |_| rows.with(Vec::len));
    let on_screen = window::follow_scroll(TABLE_ID, total, address);
    let columns: Vec<&'static FieldDef> = def
        .all_fields()
        .filter(|field| field.listed && field.key != def.title)
        .collect();
    let create = Callback::new(move |()| {
        if let Some(id) = workspace.create(kind) {
            navigate(&record_path(kind, id), Default::default());
        }
    });
    // Contributors and observers work on what they were invited to; they do not create.
    let may_create = move || {
        !archived
            && session
                .access()
                .is_some_and(|access| access.check_create(kind).is_ok())
    };
    let export = {
        let columns = columns.clone();
        move |_| {
            let mut csv = String::new();
            let mut header = vec![labels::field(i18n, kind, &FieldPath::top(def.title))];
            header.extend(
                columns
                    .iter()
                    .map(|field| labels::field(i18n, kind, &FieldPath::top(field.key))),
            );
            header.push(t_string!(i18n, list_link).to_owned());
            csv.push_str(
                &header
                    .iter()
                    .map(|h| csv_field(h))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            csv.push_str("\r\n");
            let origin = window().location().origin().unwrap_or_default();
            for (id, projection) in rows.get_untracked() {
                let mut line = vec![projection.title().to_owned()];
                line.extend(columns.iter().map(|field| cell(i18n, field, &projection)));
                line.push(format!("{origin}{}", record_path(kind, id)));
                csv.push_str(
                    &line
                        .iter()
                        .map(|f| csv_field(f))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                csv.push_str("\r\n");
            }
            let name = format!("tern-{}.csv", def.path);
            // The BOM makes spreadsheet programs read the file as UTF-8.
            workspace.download_file(&name, &format!("\u{feff}{csv}"), "text/csv;charset=utf-8");
        }
    };
    let filters = def
        .all_fields()
        .filter(|field| field.filter && field.ty != FieldType::Date)
        .map(|field| view! { <FilterSelect kind field state /> })
        .collect_view();
    let has_range = range_fields(def).is_some();
    let header_keys: Vec<&'static str> = columns.iter().map(|field| field.key).collect();
    let body_columns = columns.clone();
    // The view's closures read the list's signals with `try_`: "New" changes
    // the list and leaves it at once, and a closure notified of the change can
    // run after the page, and so the signals, are gone (the app stopped on a
    // disposed signal here when the page was drawn a task later).
    view! {
        <Show when=may_create>
            <p class="actions">
                <button type="button" class="primary" id="new-record" on:click=move |_| create.run(())
                    disabled=move || !workspace.ready.get()>
                    {move || labels::kind(i18n, kind, "new")}
                </button>
            </p>
        </Show>
        <section class="list-controls" aria-label=move || t_string!(i18n, list_filters)>
            <TextFilter state />
            {filters}
            {has_range.then(|| view! { <DateRange state /> })}
            <p class="actions">
                <button type="button" id="export-csv" on:click=export>{move || t_string!(i18n, list_export_csv)}</button>
                {move || if archived {
                    view! { <a href=list_path(kind)>{t_string!(i18n, list_back_to_current)}</a> }.into_any()
                } else {
                    view! { <a href=archived_path(kind) id="show-archived">{t_string!(i18n, list_show_archived)}</a> }.into_any()
                }}
            </p>
        </section>
        <p id="list-count" class="list-count" role="status">
            {move || {
                // `all` is read before `rows`: when a sync brings records but
                // none match the filter, `rows` stays the same empty list, and
                // the count read only through it would keep the old total.
                let total = all.try_with(Vec::len).unwrap_or(0);
                let shown = rows.try_with(Vec::len).unwrap_or(0);
                format!("{shown} {} {total}", t_string!(i18n, list_of))
            }}
        </p>
        <Show
            when=move || all.try_with(|all| !all.is_empty()).unwrap_or(false)
            fallback=move || view! {
                <section class="empty-state">
                    <h2>{move || labels::kind(i18n, kind, "empty")}</h2>
                    <p>{move || labels::kind(i18n, kind, "empty_body")}</p>
                </section>
            }
        >
            <div class="table-scroll">
            // Wide enough for every column to be read; a phone scrolls the table, not the page.
            <table class="record-table" id=TABLE_ID aria-rowcount=move || total.try_get().unwrap_or(0) + 1
                style:min-width=format!("{}rem", 16 + 8 * header_keys.len())>
                <thead>
                    <tr aria-rowindex="1">
                        <SortHeader kind key=def.title state />
                        {header_keys.iter().map(|key| view! { <SortHeader kind key=*key state /> }).collect_view()}
                        <th scope="col">{move || t_string!(i18n, list_state)}</th>
                    </tr>
                </thead>
                <tbody>
                    {
                        let spans = header_keys.len() + 2;
                        let spacer = move |above: bool| {
                            let height = move || {
                                let (top, bottom) = on_screen
                                    .try_get()
                                    .zip(total.try_get())
                                    .map_or((0, 0), |(window, total)| window.spacers(total));
                                format!("{}px", if above { top } else { bottom })
                            };
                            view! { <tr class="row-spacer" aria-hidden="true"><td colspan=spans style:height=height></td></tr> }
                        };
                        let columns = body_columns.clone();
                        let visible = move || {
                            let Some(window) = on_screen.try_get() else {
                                return Vec::new();
                            };
                            rows.try_with(|rows| {
                                let end = window.end.min(rows.len());
                                let start = window.start.min(end);
                                rows[start..end]
                                    .iter()
                                    .enumerate()
                                    .map(|(at, (id, projection))| (start + at, *id, projection.clone()))
                                    .collect::<Vec<_>>()
                            })
                            .unwrap_or_default()
                        };
                        // Rendered again as the window moves: a screen of rows costs less
                        // than the keyed <For> would add to this page's module (~30 KB).
                        let rendered = move || visible().into_iter().map(|(at, id, projection)| {
                            let title = if projection.title().trim().is_empty() {
                                t_string!(i18n, untitled).to_owned()
                            } else {
                                projection.title().to_owned()
                            };
                            let cells = columns.iter().map(|field| {
                                view! { <td>{cell(i18n, field, &projection)}</td> }
                            }).collect_view();
                            view! {
                                <tr class="record-row" data-record-id=id.to_string() aria-rowindex=at + 2>
                                    <th scope="row"><a href=record_path(kind, id)>{title}</a></th>
                                    {cells}
                                    <td><RecordStateBadge id /></td>
                                </tr>
                            }
                        }).collect_view();
                        view! {
                            {spacer(true)}
                            {rendered}
                            {spacer(false)}
                        }
                    }
                </tbody>
            </table>
            </div>
        </Show>
    }
}

/// Reaches any record by typing part of its name (or of a listed line of text).
#[component]
fn TextFilter(state: RwSignal<ListState>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="field filter text-filter">
            <label for="list-search">{move || t_string!(i18n, list_search)}</label>
            <input type="search" id="list-search" autocomplete="off" enterkeyhint="search"
                prop:value=move || state.with(|state| state.text.clone())
                on:input=move |event| {
                    let text = event_target_value(&event);
                    state.update(|state| state.text = text);
                } />
        </div>
    }
}

#[component]
fn SortHeader(kind: RecordKind, key: &'static str, state: RwSignal<ListState>) -> impl IntoView {
    let i18n = use_i18n();
    let sorted = move || {
        let state = state.get();
        (state.sort == key).then_some(if state.descending {
            "descending"
        } else {
            "ascending"
        })
    };
    let toggle = move |_| {
        state.update(|state| {
            if state.sort == key {
                state.descending = !state.descending;
            } else {
                state.sort = key;
                state.descending = false;
            }
        })
    };
    view! {
        <th scope="col" aria-sort=move || sorted().unwrap_or("none")>
            <button type="button" class="sort" on:click=toggle>
                {move || labels::field(i18n, kind, &FieldPath::top(key))}
            </button>
        </th>
    }
}

#[component]
fn FilterSelect(
    kind: RecordKind,
    field: &'static FieldDef,
    state: RwSignal<ListState>,
) -> impl IntoView {
    let i18n = use_i18n();
    let dom = format!("filter-{}", field.key.replace('_', "-"));
    let options: Vec<(String, String)> = match field.ty {
        FieldType::Choice(choices) | FieldType::Set(SetOf::Choices(choices)) => choices
            .options
            .iter()
            .map(|o| ((*o).to_owned(), labels::choice(i18n, choices, o)))
            .collect(),
        FieldType::Set(SetOf::Members) => MEMBERS
            .iter()
            .map(|m| (m.code.to_owned(), m.name.to_owned()))
            .collect(),
        FieldType::Set(SetOf::FocusAreas) => FocusArea::ALL
            .iter()
            .map(|a| (a.as_str().to_owned(), labels::focus_area(i18n, a.as_str())))
            .collect(),
        FieldType::Set(SetOf::Tags) => {
            let mut tags: Vec<String> = use_workspace()
                .list(kind)
                .iter()
                .flat_map(|(_, p)| {
                    p.set(field.key)
                        .into_iter()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect();
            tags.sort_by_key(|tag| tag.to_lowercase());
            tags.dedup();
            tags.into_iter().map(|tag| (tag.clone(), tag)).collect()
        }
        _ => Vec::new(),
    };
    let key = field.key;
    view! {
        <div class="field filter">
            <label for=dom.clone()>{move || labels::field(i18n, kind, &FieldPath::top(key))}</label>
            <select id=dom on:change=move |event| {
                let value = event_target_value(&event);
                state.update(|state| state.set_filter(key, value));
            }>
                <option value="" selected=move || state.get().filter(key).is_empty()>{move || t_string!(i18n, list_all)}</option>
                {options.into_iter().map(|(value, label)| {
                    let selected = value.clone();
                    view! { <option value=value selected=move || state.get().filter(key) == selected>{label}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn DateRange(state: RwSignal<ListState>) -> impl IntoView {
    let i18n = use_i18n();
    let value = move |from: bool| {
        let state = state.get();
        (if from { state.from } else { state.to })
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    view! {
        <div class="field filter">
            <label for="filter-from">{move || t_string!(i18n, list_from)}</label>
            <input type="date" id="filter-from" prop:value=move || value(true)
                on:change=move |event| state.update(|s| s.from = Date::parse(&event_target_value(&event))) />
        </div>
        <div class="field filter">
            <label for="filter-to">{move || t_string!(i18n, list_to)}</label>
            <input type="date" id="filter-to" prop:value=move || value(false)
                on:change=move |event| state.update(|s| s.to = Date::parse(&event_target_value(&event))) />
        </div>
    }
}
