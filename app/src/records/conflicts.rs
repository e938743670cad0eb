//! Choices two people made at once (`tern_domain::record::conflicts`): the
//! page names each value with who chose it, and whoever may edit keeps one.

use crate::i18n::*;
use crate::labels;
use crate::session::use_session;
use crate::store::use_workspace;
use leptos::prelude::*;
use tern_domain::record::schema::{FieldDef, FieldType};
use tern_domain::record::{Claim, Conflict, RecordId, RecordKind};
use tern_domain::region::MEMBERS;

type I18n = leptos_i18n::I18nContext<Locale>;

#[component]
pub fn Conflicts(id: RecordId, kind: RecordKind) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let conflicts = Memo::new(move |_| {
        workspace
            .with_record(id, |record| record.conflicts())
            .unwrap_or_default()
    });
    let error = RwSignal::new(None::<String>);
    let keep = move |conflict: &Conflict, claim: &Claim| {
        let Some((path, edit)) = conflict.keep(kind.def(), claim) else {
            return;
        };
        super::form::report(i18n, error, workspace.change(id, &path, edit));
    };
    view! {
        <Show when=move || !conflicts.with(Vec::is_empty)>
            <section class="conflicts" aria-labelledby="conflicts-heading">
                <h2 id="conflicts-heading">{move || t_string!(i18n, conflicts_heading)}</h2>
                <p class="hint">{move || t_string!(i18n, conflicts_hint)}</p>
                <ul>
                    {move || conflicts.get().into_iter().filter_map(|conflict| {
                        let (path, member, field) = conflict.target(kind.def())?;
                        let mut name = labels::field(i18n, kind, &path);
                        if let Some(member) = &member {
                            let member = MEMBERS.iter().find(|known| known.code == member).map_or(member.as_str(), |known| known.name);
                            name = format!("{name} ({member})");
                        }
                        let claims = conflict.claims.clone().into_iter().map(|claim| {
                            let shown = value(i18n, field, &claim.value);
                            let (conflict, kept) = (conflict.clone(), claim.clone());
                            view! {
                                <li>
                                    <span class="conflict-claim">
                                        {format!("{}: “{shown}”", claim.name)}
                                    </span>
                                    " "
                                    <Show when=move || session.can_edit()>
                                        <button type="button" class="quiet" on:click={
                                            let (conflict, kept) = (conflict.clone(), kept.clone());
                                            move |_| keep(&conflict, &kept)
                                        }>
                                            {format!("{} “{}”", t_string!(i18n, conflict_keep), value(i18n, field, &claim.value))}
                                        </button>
                                    </Show>
                                </li>
                            }
                        }).collect_view();
                        Some(view! {
                            <li class="conflict">
                                <strong>{name}</strong>
                                <ul class="conflict-claims">{claims}</ul>
                            </li>
                        })
                    }).collect_view()}
                </ul>
                <p class="field-error" role="alert">{move || error.get()}</p>
            </section>
        </Show>
    }
}

/// A claimed value as the field shows it.
fn value(i18n: I18n, field: &FieldDef, value: &str) -> String {
    match field.ty {
        FieldType::Choice(choices) | FieldType::PerMember(choices) if value.is_empty() => {
            labels::choice_none(i18n, choices)
        }
        FieldType::Choice(choices) | FieldType::PerMember(choices) => {
            labels::choice(i18n, choices, value)
        }
        FieldType::Flag if value == "true" => t_string!(i18n, conflict_yes).to_owned(),
        FieldType::Flag => t_string!(i18n, conflict_no).to_owned(),
        _ if value.is_empty() => "—".to_owned(),
        _ => value.to_owned(),
    }
}
