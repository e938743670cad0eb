//! Links between records, both ways, from this device's own copies: a link to
//! one record (or why there is none), and the panel of the records that point
//! to this one (on a recommendation, its traceability).

use crate::i18n::*;
use crate::labels;
use crate::routes::record_path;
use crate::store::use_workspace;
use leptos::prelude::*;
use std::collections::BTreeMap;
use tern_domain::record::{RecordId, RecordKind};

/// A link to a record by its title. A record this device does not hold (one
/// the user may not see) is named as such, never by title; an archived one is
/// marked; a removed one is no link.
#[component]
pub fn RecordLink(target: RecordId) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let projection = Memo::new(move |_| workspace.projection(target));
    move || match projection.get() {
        None => {
            view! { <span class="ref-missing">{t_string!(i18n, ref_no_access)}</span> }.into_any()
        }
        Some(projection) if projection.deleted() => {
            view! { <span class="ref-removed">{t_string!(i18n, ref_removed)}</span> }.into_any()
        }
        Some(projection) => {
            let title = if projection.title().trim().is_empty() {
                t_string!(i18n, untitled).to_owned()
            } else {
                projection.title().to_owned()
            };
            let archived = projection.archived();
            view! {
                <a href=record_path(projection.kind, target) class="ref-link">{title}</a>
                {archived.then(|| view! { " " <span class="ref-archived">{t_string!(i18n, ref_archived)}</span> })}
            }
            .into_any()
        }
    }
}

/// The records that point here, grouped by where they point from.
#[component]
pub fn LinksPanel(id: RecordId, kind: RecordKind) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let groups = Memo::new(move |_| {
        let mut groups: BTreeMap<(RecordKind, String), Vec<RecordId>> = BTreeMap::new();
        for (source, projection, field) in workspace.backlinks(id) {
            if projection.deleted() {
                continue;
            }
            groups
                .entry((projection.kind, field))
                .or_default()
                .push(source);
        }
        groups.into_iter().collect::<Vec<_>>()
    });
    let heading = move || {
        if kind == RecordKind::Recommendation {
            t_string!(i18n, traceability_heading)
        } else {
            t_string!(i18n, links_heading)
        }
    };
    view! {
        <section class="links-panel" aria-labelledby="links-heading" id="links">
            <h2 id="links-heading">{heading}</h2>
            <Show when=move || !groups.get().is_empty()
                fallback=move || view! { <p class="hint">{move || t_string!(i18n, links_none)}</p> }>
                {move || groups.get().into_iter().map(|((source, field), records)| {
                    let title = labels::backlink(i18n, source, &field);
                    view! {
                        <h3>{title}</h3>
                        <ul class="backlinks" data-field=format!("{}.{field}", source.as_str())>
                            {records.into_iter().map(|target| view! { <li><RecordLink target /></li> }).collect_view()}
                        </ul>
                    }
                }).collect_view()}
            </Show>
        </section>
    }
}
