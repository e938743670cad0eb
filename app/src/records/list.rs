//! The list of one kind of record: columns, filters and sorting from the
//! kind's declaration, counts, a CSV of what it shows, and "New". All of it
//! reads projections, so it works offline and never opens a document.
//! Filters and sorting live in the address (`?country=PL&sort=title`), so a
//! reload or a shared link shows the same list.

use super::state::RecordStateBadge;
use crate::i18n::*;
use crate::labels;
use crate::routes::{archived_path, list_path, record_path};
use crate::session::use_session;
use crate::store::use_workspace;
use leptos::prelude::*;
use std::sync::Arc;
use tern_domain::record::schema::{FieldDef, FieldType, Rule, SetOf};
use tern_domain::record::{Date, FieldPath, Projection, RecordId, RecordKind};
use tern_domain::region::{FocusArea, MEMBERS};

type I18n = leptos_i18n::I18nContext<Locale>;

/// Rows shown before "Show more".
const PAGE_ROWS: usize = 100;

/// The list's state, as in the address.
#[derive(Debug, Clone, Default, PartialEq)]
struct ListState {
    /// Field key → the value a record must have (one of a set, or a choice).
    filters: Vec<(&'static str, String)>,
    from: Option<Date>,
    to: Option<Date>,
    /// Field key, or "" for newest first.
    sort: &'static str,
    descending: bool,
}

impl ListState {
    fn from_query(def: &'static tern_domain::record::KindDef, query: &str) -> ListState {
        let mut state = ListState::default();
        for pair in query.trim_start_matches('?').split('&') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = decode(value);
            match key {
                "from" => state.from = Date::parse(&value),
                "to" => state.to = Date::parse(&value),
                "sort" => {
                    state.sort = def
                        .all_fields()
                        .find(|field| field.key == value)
                        .map_or("", |field| field.key)
                }
                "desc" => state.descending = value == "1",
                _ => {
                    if let Some(field) = def
                        .all_fields()
                        .find(|field| field.key == key && field.filter)
                    {
                        state.filters.push((field.key, value));
                    }
                }
            }
        }
        state
    }

    fn to_query(&self) -> String {
        let mut parts: Vec<String> = self
            .filters
            .iter()
            .map(|(key, value)| format!("{key}={}", encode(value)))
            .collect();
        if let Some(from) = self.from {
            parts.push(format!("from={from}"));
        }
        if let Some(to) = self.to {
            parts.push(format!("to={to}"));
        }
        if !self.sort.is_empty() {
            parts.push(format!("sort={}", self.sort));
        }
        if self.descending {
            parts.push("desc=1".into());
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    fn filter(&self, key: &str) -> String {
        self.filters
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }

    fn set_filter(&mut self, key: &'static str, value: String) {
        self.filters.retain(|(k, _)| *k != key);
        if !value.is_empty() {
            self.filters.push((key, value));
        }
    }
}

fn encode(text: &str) -> String {
    js_sys::encode_uri_component(text).into()
}

fn decode(text: &str) -> String {
    js_sys::decode_uri_component(text)
        .map(String::from)
        .unwrap_or_else(|_| text.to_owned())
}

/// The date fields a range filter looks at: a start and end pair (the range
/// overlaps the record's) or the first filterable date.
fn range_fields(
    def: &tern_domain::record::KindDef,
) -> Option<(&'static str, Option<&'static str>)> {
    if let Some(Rule::NotBefore { earlier, later }) = def.rules.first() {
        return Some((earlier, Some(later)));
    }
    def.all_fields()
        .find(|field| field.filter && field.ty == FieldType::Date)
        .map(|field| (field.key, None))
}

fn matches(state: &ListState, def: &tern_domain::record::KindDef, projection: &Projection) -> bool {
    for (key, wanted) in &state.filters {
        let ok = match projection.get(key) {
            Some(serde_json::Value::Array(values)) => {
                values.iter().any(|v| v.as_str() == Some(wanted))
            }
            Some(serde_json::Value::String(value)) => value == wanted,
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    if state.from.is_some() || state.to.is_some() {
        let Some((start, end)) = range_fields(def) else {
            return true;
        };
        let begins = projection.date(start);
        let ends = end.and_then(|end| projection.date(end)).or(begins);
        let (Some(begins), Some(ends)) = (begins, ends) else {
            return false;
        };
        if state.to.is_some_and(|to| begins > to) || state.from.is_some_and(|from| ends < from) {
            return false;
        }
    }
    true
}

/// A cell's text: choices and members by their labels, sets joined.
fn cell(i18n: I18n, field: &FieldDef, projection: &Projection) -> String {
    let Some(value) = projection.get(field.key) else {
        return String::new();
    };
    let one = |value: &str| -> String {
        match field.ty {
            FieldType::Choice(choices) => labels::choice(i18n, choices, value),
            FieldType::Set(SetOf::Members) => MEMBERS
                .iter()
                .find(|m| m.code == value)
                .map_or_else(|| value.to_owned(), |m| m.name.to_owned()),
            FieldType::Set(SetOf::FocusAreas) => labels::focus_area(i18n, value),
            FieldType::Set(SetOf::Choices(choices)) => labels::choice(i18n, choices, value),
            FieldType::Ref(_) => value
                .parse::<RecordId>()
                .ok()
                .and_then(|target| use_workspace().projection(target))
                .map(|target| target.title().to_owned())
                .unwrap_or_default(),
            _ => value.to_owned(),
        }
    };
    match value {
        serde_json::Value::String(text) => one(text),
        serde_json::Value::Array(values) => {
            let texts: Vec<String> = values
                .iter()
                .filter_map(|value| value.as_str())
                .map(one)
                .collect();
            if matches!(field.ty, FieldType::Set(SetOf::Tags)) {
                labels::reading_order(texts).join(", ")
            } else {
                texts.join(", ")
            }
        }
        serde_json::Value::Bool(true) => "✓".into(),
        _ => String::new(),
    }
}

fn sort_key(field: &'static str, projection: &Projection) -> String {
    match projection.get(field) {
        Some(serde_json::Value::String(text)) => text.to_lowercase(),
        Some(serde_json::Value::Array(values)) => values
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(",")
            .to_lowercase(),
        _ => String::new(),
    }
}

/// One CSV field, quoted when it must be (RFC 4180); a leading `= + - @` is
/// neutralised so a spreadsheet does not run it as a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

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
    Effect::new(move |_| {
        let query = state.get().to_query();
        let path = if archived {
            archived_path(kind)
        } else {
            list_path(kind)
        };
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(
                &leptos::wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("{path}{query}")),
            );
        }
    });
    let shown = RwSignal::new(PAGE_ROWS);
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
        let mut rows: Vec<(RecordId, Arc<Projection>)> = all
            .get()
            .into_iter()
            .filter(|(_, projection)| matches(&state, def, projection))
            .collect();
        if !state.sort.is_empty() {
            rows.sort_by_cached_key(|(_, projection)| sort_key(state.sort, projection));
        }
        if state.descending {
            rows.reverse();
        }
        rows
    });
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
                let total = all.with(Vec::len);
                format!("{} {} {total}", rows.with(Vec::len), t_string!(i18n, list_of))
            }}
        </p>
        <Show
            when=move || !all.get().is_empty()
            fallback=move || view! {
                <section class="empty-state">
                    <h2>{move || labels::kind(i18n, kind, "empty")}</h2>
                    <p>{move || labels::kind(i18n, kind, "empty_body")}</p>
                </section>
            }
        >
            <table class="record-table">
                <thead>
                    <tr>
                        <SortHeader kind key=def.title state />
                        {header_keys.iter().map(|key| view! { <SortHeader kind key=*key state /> }).collect_view()}
                        <th scope="col">{move || t_string!(i18n, list_state)}</th>
                    </tr>
                </thead>
                <tbody>
                    {
                        let columns = body_columns.clone();
                        move || rows.get().into_iter().take(shown.get()).map(|(id, projection)| {
                            let title = if projection.title().trim().is_empty() {
                                t_string!(i18n, untitled).to_owned()
                            } else {
                                projection.title().to_owned()
                            };
                            let cells = columns.iter().map(|field| {
                                view! { <td>{cell(i18n, field, &projection)}</td> }
                            }).collect_view();
                            view! {
                                <tr class="record-row" data-record-id=id.to_string()>
                                    <th scope="row"><a href=record_path(kind, id)>{title}</a></th>
                                    {cells}
                                    <td><RecordStateBadge id /></td>
                                </tr>
                            }
                        }).collect_view()
                    }
                </tbody>
            </table>
            <Show when=move || { rows.get().len() > shown.get() }>
                <p><button type="button" id="show-more" on:click=move |_| shown.update(|n| *n += PAGE_ROWS)>
                    {move || t_string!(i18n, list_show_more)}
                </button></p>
            </Show>
        </Show>
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

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Tallinn"), "Tallinn");
        assert_eq!(csv_field("Riga, Latvia"), "\"Riga, Latvia\"");
        assert_eq!(csv_field("the \"Barnahus\""), "\"the \"\"Barnahus\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
