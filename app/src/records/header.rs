//! What a record page says first, under its heading: where the record stands
//! (its status), who changed it last and when, whether this device's edits
//! are synced, and "Copy link" (the page shows no raw id).

use super::state::RecordStateBadge;
use crate::i18n::*;
use crate::session::use_session;
use crate::store::use_workspace;
use leptos::prelude::*;
use tern_domain::record::schema::FieldType;
use tern_domain::record::{FieldPath, RecordId, RecordKind};

/// The facts line of a record page; the facts only once the record is here.
#[component]
pub fn RecordHeader(
    id: RecordId,
    kind: RecordKind,
    exists: impl Fn() -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        // The id is for links, not for reading: the page offers its address.
        <div class="record-head" data-record-id=id.to_string()>
            // All at once, with the record: a line filling in piece by piece
            // would move what is already on screen.
            <Show when=exists>
                <StatusChip id kind />
                <LastChange id />
                <RecordStateBadge id />
                <CopyLink />
            </Show>
        </div>
    }
}

/// The kind's status ("Draft", "Ongoing"), labelled, if the kind has one.
#[component]
fn StatusChip(id: RecordId, kind: RecordKind) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let def = kind.def();
    let field = def.status.and_then(|key| def.field(key));
    let Some((key, FieldType::Choice(choices))) = field.map(|field| (field.key, field.ty)) else {
        return ().into_any();
    };
    let path = FieldPath::top(key);
    let label = crate::labels::field(i18n, kind, &path);
    let value = move || {
        workspace
            .with_record(id, |record| record.read(&FieldPath::top(key)))
            .flatten()
            .and_then(|value| value.as_str().map(str::to_owned))
            .or(choices.default.map(str::to_owned))
    };
    view! {
        <span class="record-status" data-status=move || value().unwrap_or_default()>
            <span class="visually-hidden">{label} ": "</span>
            {move || match value() {
                Some(value) => crate::labels::choice(i18n, choices, &value),
                None => crate::labels::choice_none(i18n, choices),
            }}
        </span>
    }
    .into_any()
}

/// "Changed by Anna Berg · 3 Dec 2026, 14:05" (or "by you"), from the
/// record's stamp; nothing for a record no stamped edit has touched.
#[component]
fn LastChange(id: RecordId) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let stamp = move || workspace.with_record(id, |record| record.stamp()).flatten();
    move || {
        stamp().map(|stamp| {
            let me = session
                .identity
                .with(|identity| identity.as_ref().is_some_and(|me| me.user.0 == stamp.user));
            let who = if me {
                t_string!(i18n, record_changed_by_you).to_owned()
            } else {
                format!("{} {}", t_string!(i18n, record_changed_by), stamp.name)
            };
            let when = crate::dates::date_time(i18n, stamp.at);
            view! {
                <span class="record-changed">
                    {who} " · " <time datetime=crate::dates::iso(stamp.at)>{when}</time>
                </span>
            }
        })
    }
}

/// "Copy link": puts the record's address on the clipboard, and says whether
/// it could.
#[component]
fn CopyLink() -> impl IntoView {
    let i18n = use_i18n();
    let copied = RwSignal::new(None::<bool>);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let address = window().location().href().unwrap_or_default();
            let written = window().navigator().clipboard().write_text(&address);
            leptos::task::spawn_local(async move {
                let ok = wasm_bindgen_futures::JsFuture::from(written).await.is_ok();
                copied.set(Some(ok));
            });
        }
    };
    let said = move || match copied.get() {
        Some(true) => t_string!(i18n, record_link_copied),
        Some(false) => t_string!(i18n, record_link_not_copied),
        None => "",
    };
    view! {
        <span class="record-link">
            <button type="button" class="quiet" on:click=copy>{move || t_string!(i18n, record_copy_link)}</button>
            " "
            <span class="hint" role="status">{said}</span>
        </span>
    }
}
