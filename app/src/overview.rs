//! The workspace's home: what is in member review, the next consultations,
//! projects ending soon, and the records this user last edited here. All
//! from the device's projections, so it works offline.

use crate::i18n::*;
use crate::labels;
use crate::routes::{record_path, Section};
use crate::store::use_workspace;
use crate::widgets::PageHeading;
use leptos::prelude::*;
use std::sync::Arc;
use tern_domain::record::{Date, Projection, RecordId, RecordKind};

/// How far ahead "ending soon" looks.
const ENDING_SOON_DAYS: i64 = 90;
/// Rows per panel.
const PANEL_ROWS: usize = 8;

/// Today on this device's calendar (local time).
pub fn today() -> Date {
    let now = js_sys::Date::new_0();
    let local_ms = now.get_time() - now.get_timezone_offset() * 60_000.0;
    Date::from_days_since_epoch((local_ms / 86_400_000.0).floor() as i64)
}

type Rows = Vec<(RecordId, Arc<Projection>)>;

#[component]
pub fn Overview() -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let today = today();
    let in_review = Memo::new(move |_| -> Rows {
        workspace
            .list(RecordKind::Recommendation)
            .into_iter()
            .filter(|(_, p)| p.status() == Some("member_review"))
            .take(PANEL_ROWS)
            .collect()
    });
    let next_consultations = Memo::new(move |_| -> Rows {
        let mut rows: Rows = workspace
            .list(RecordKind::Consultation)
            .into_iter()
            .filter(|(_, p)| p.date("start_date").is_some_and(|d| d >= today))
            .collect();
        rows.sort_by_key(|(_, p)| p.date("start_date"));
        rows.truncate(PANEL_ROWS);
        rows
    });
    let ending_soon = Memo::new(move |_| -> Rows {
        let horizon = Date::from_days_since_epoch(today.days_since_epoch() + ENDING_SOON_DAYS);
        let mut rows: Rows = workspace
            .list(RecordKind::Project)
            .into_iter()
            .filter(|(_, p)| p.status() != Some("completed"))
            .filter(|(_, p)| {
                p.date("end_date")
                    .is_some_and(|d| d >= today && d <= horizon)
            })
            .collect();
        rows.sort_by_key(|(_, p)| p.date("end_date"));
        rows.truncate(PANEL_ROWS);
        rows
    });
    let recent = Memo::new(move |_| -> Rows {
        workspace
            .recent
            .get()
            .into_iter()
            .filter_map(|id| Some((id, workspace.projection(id)?)))
            .filter(|(_, p)| !p.deleted())
            .take(PANEL_ROWS)
            .collect()
    });
    view! {
        <PageHeading title=move || t_string!(i18n, overview_title) />
        <p class="lead">{move || t_string!(i18n, overview_intro)}</p>
        <div class="dashboard">
            <Panel id="overview-review" heading=move || t_string!(i18n, overview_in_review)
                empty=move || t_string!(i18n, overview_none_in_review) rows=in_review date_field="" />
            <Panel id="overview-consultations" heading=move || t_string!(i18n, overview_next_consultations)
                empty=move || t_string!(i18n, overview_none_consultations) rows=next_consultations date_field="start_date" />
            <Panel id="overview-ending" heading=move || t_string!(i18n, overview_ending_soon)
                empty=move || t_string!(i18n, overview_none_ending) rows=ending_soon date_field="end_date" />
            <Panel id="overview-recent" heading=move || t_string!(i18n, overview_recent)
                empty=move || t_string!(i18n, overview_none_recent) rows=recent date_field="" kinds=true />
        </div>
        <section aria-labelledby="overview-sections">
            <h2 id="overview-sections">{move || t_string!(i18n, overview_sections_heading)}</h2>
            <ul class="cards">
                {Section::ALL.into_iter().filter(|section| section.kinds().next().is_some()).map(|section| view! {
                    <li class="card">
                        <a href=section.path()>{move || labels::section_label(i18n, section)}</a>
                        <p>{move || section.kinds().map(|kind| {
                            let count = workspace.list(kind).len();
                            format!("{count} {}", labels::kind(i18n, kind, "plural"))
                        }).collect::<Vec<_>>().join(" · ")}</p>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Panel(
    id: &'static str,
    heading: impl Fn() -> &'static str + Send + Sync + Copy + 'static,
    empty: impl Fn() -> &'static str + Send + Sync + 'static,
    rows: Memo<Rows>,
    date_field: &'static str,
    #[prop(optional)] kinds: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let heading_id = format!("{id}-heading");
    let labelled_by = heading_id.clone();
    view! {
        <section class="panel" id=id aria-labelledby=labelled_by>
            <h2 id=heading_id>{heading}</h2>
            <Show when=move || !rows.get().is_empty()
                fallback=move || view! { <p class="hint">{empty()}</p> }>
                <ul class="panel-list">
                    {move || rows.get().into_iter().map(|(id, projection)| {
                        let title = if projection.title().trim().is_empty() {
                            t_string!(i18n, untitled).to_owned()
                        } else {
                            projection.title().to_owned()
                        };
                        let date = (!date_field.is_empty())
                            .then(|| projection.date(date_field))
                            .flatten()
                            .map(|date| date.to_string());
                        let kind = projection.kind;
                        view! {
                            <li>
                                <a href=record_path(kind, id)>{title}</a>
                                {kinds.then(|| view! { " " <span class="panel-kind">{labels::kind(i18n, kind, "")}</span> })}
                                {date.map(|date| view! { " " <time datetime=date.clone()>{date.clone()}</time> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </Show>
        </section>
    }
}
