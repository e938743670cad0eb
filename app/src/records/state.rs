//! How a record stands on this device (saving, saved, synced, refused), and
//! the user's version of a record the server refused, kept for them.

use crate::i18n::*;
use crate::store::{use_workspace, LocalCopy, RecordState};
use leptos::prelude::*;
use tern_domain::record::RecordId;

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
                {t_string!(i18n, record_rejected)} " " {crate::labels::refusal(i18n, &reason)}
            </p>
        })}
    }
}

/// A user's version of a record the server refused: why, the text to copy,
/// a download, and a way to let it go.
#[component]
pub fn LocalCopyPanel(copy: LocalCopy) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let key = copy.key;
    let text = copy.full_text();
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
            <p class="copy-reason">{move || t_string!(i18n, copy_refused)} " " {crate::labels::refusal(i18n, &copy.reason)}</p>
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
