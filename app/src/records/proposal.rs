//! The changes a user made to a long text while suggesting
//! (`super::discussion`): proposed as one suggestion per changed stretch
//! (`tern_domain::record::text_changes`), or discarded. In the `drafting`
//! module, drawn only once the user has typed a proposal.

use super::text_input::show_value;
use crate::i18n::*;
use crate::store::use_workspace;
use leptos::html;
use leptos::prelude::*;
use tern_domain::record::{rebase_edit, text_changes, FieldPath, RecordId};

/// The changes a user made to a long text while suggesting: proposed as one
/// suggestion per changed stretch, or discarded; either way the field shows
/// the record's text again.
#[component]
pub fn Proposal(
    id: RecordId,
    field: FieldPath,
    proposal: RwSignal<Option<(String, String)>>,
    area: NodeRef<html::Textarea>,
    shown: StoredValue<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let error = RwSignal::new(None::<String>);
    let back = {
        let field = field.clone();
        move || {
            let current = workspace.text(id, &field);
            proposal.set(None);
            if let Some(element) = area.get_untracked() {
                show_value(&element, &current);
            }
            shown.set_value(current);
        }
    };
    let propose = {
        let back = back.clone();
        move |_| {
            let Some((base, typed)) = proposal.get_untracked() else {
                return;
            };
            // Changes a colleague made meanwhile stay: the proposal moves past them.
            let current = workspace.text(id, &field);
            let typed = rebase_edit(&base, &typed, &current);
            for change in text_changes(&current, &typed) {
                let key = crate::store::new_item_id().0[..12].to_owned();
                let outcome = workspace.discuss(id, |record, me| {
                    record.suggest(
                        &field,
                        (change.start, change.end),
                        &key,
                        me,
                        &change.replacement,
                    )
                });
                if let Some(Err(problem)) = outcome {
                    error.set(Some(problem.to_string()));
                    return;
                }
            }
            back();
        }
    };
    view! {
        <div class="proposal" role="group" aria-label=move || t_string!(i18n, suggesting_mode)>
            <p class="hint">{move || t_string!(i18n, suggesting_hint)}</p>
            <button type="button" on:click=propose>{move || t_string!(i18n, suggesting_propose)}</button>
            " "
            <button type="button" class="quiet" on:click=move |_| back()>{move || t_string!(i18n, suggesting_discard)}</button>
            <p class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}
