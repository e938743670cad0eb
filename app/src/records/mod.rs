//! Records on this device, every kind from its declaration: lists
//! ([`list`]), the generic form ([`form`], widgets in [`fields`] and
//! [`text_input`], long item lists drawn in steps by [`in_steps`]), what a record page says first ([`header`]), links both
//! ways ([`links`]), a long record's outline ([`outline`]), how a record stands
//! ([`state`]), who was invited to it ([`access`]), comments on its text
//! and suggested changes ([`comments`], [`suggestions`], sharing the passage
//! asked for through [`discussion`]), and the one kind-specific
//! screen, a recommendation's reading view ([`reading`]).

mod access;
pub(crate) mod comments;
pub(crate) mod conflicts;
mod discussion;
mod fields;
mod form;
pub(crate) mod formatting;
mod header;
pub(crate) mod history;
mod in_steps;
mod lazy;
mod links;
mod list;
mod outline;
pub(crate) mod proposal;
mod reading;
mod state;
mod suggestions;
mod text_input;

pub use list::RecordList;
pub use state::LocalCopyPanel;

use crate::i18n::*;
use crate::labels;
use crate::session::use_session;
use crate::store::use_workspace;
use crate::widgets::PageHeading;
use form::RecordForm;
use header::RecordHeader;
use in_steps::Later;
use leptos::prelude::*;
use links::LinksPanel;
use outline::Outline;
use std::time::Duration;
use tern_domain::api::EXPORT_PATH;
use tern_domain::record::schema::{ARCHIVED, DELETED};
use tern_domain::record::{FieldEdit, FieldPath, RecordId, RecordKind};

/// A kind's list page.
#[component]
pub fn ListPage(kind: RecordKind, #[prop(optional)] archived: bool) -> impl IntoView {
    let i18n = use_i18n();
    let others: Vec<RecordKind> = crate::routes::section_of(kind).kinds().collect();
    view! {
        <PageHeading title=move || {
            let plural = labels::kind(i18n, kind, "plural");
            if archived { format!("{plural} · {}", t_string!(i18n, list_archived)) } else { plural }
        } />
        {(others.len() > 1).then(|| view! {
            <nav class="sub-nav" aria-label=move || labels::section_label(i18n, crate::routes::section_of(kind))>
                {others.into_iter().map(|other| view! {
                    <a href=crate::routes::list_path(other) aria-current=(other == kind).then_some("page")>
                        {move || labels::kind(i18n, other, "plural")}
                    </a>
                }).collect_view()}
            </nav>
        })}
        <RecordList kind archived />
    }
}

/// One record's page: its form (or a recommendation's reading view), how it
/// stands, its links, and for the secretariat who was invited.
#[component]
pub fn RecordPage(kind: RecordKind, id: String) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let heading = view! { <PageHeading title=move || labels::kind(i18n, kind, "") /> };
    let not_here = move || labels::kind(i18n, kind, "not_here");
    let Ok(id) = id.parse::<RecordId>() else {
        return view! { {heading} <p>{not_here}</p> }.into_any();
    };
    let message = RwSignal::new(None::<(bool, String)>);
    // The record's document is read (decoded, the first time) in a task of
    // its own, before the page is drawn from it (`in_steps`).
    let opened = RwSignal::new(false);
    Effect::new(move |_| {
        if workspace.ready.get() && !opened.get_untracked() {
            set_timeout(
                move || {
                    workspace.with_record(id, |_| ());
                    set_timeout(move || opened.set(true), Duration::ZERO);
                },
                Duration::ZERO,
            );
        }
    });
    // Cheap reads of the document: the page re-reads them on every change,
    // and projecting a long recommendation each keystroke would not be.
    let exists = move || {
        opened.get()
            && workspace
                .with_record(id, |record| record.kind() == Some(kind))
                .unwrap_or(false)
    };
    view! {
        {heading}
        <RecordHeader id kind exists />
        {move || workspace.copies_of(id).into_iter().map(|copy| view! { <LocalCopyPanel copy /> }).collect_view()}
        <Show when=move || workspace.ready.get() && !session.can_edit()>
            <p class="hint" id="read-only">{move || t_string!(i18n, read_only_hint)}</p>
        </Show>
        // Outside the record's body: the confirmation of an erasure stays after
        // the record is gone.
        <crate::widgets::FormMessage id="record-message" message />
        <Show
            when=exists
            fallback=move || view! {
                <p>{move || if opened.get() { not_here() } else { t_string!(i18n, loading).to_owned() }}</p>
            }
        >
            <RecordBody id kind message />
        </Show>
        // Once the record is here, below it: a panel waiting above the record
        // would be pushed down when it arrives (a layout shift).
        <Show when=move || session.is_secretariat() && exists()>
            <Later><access::RecordAccess id /></Later>
        </Show>
    }
    .into_any()
}

#[component]
fn RecordBody(
    id: RecordId,
    kind: RecordKind,
    message: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let flag = move |key: &'static str| {
        workspace
            .with_record(id, |record| record.read(&FieldPath::top(key)))
            .flatten()
            .and_then(|value| value.as_bool())
            .unwrap_or(false)
    };
    let archived = Signal::derive(move || flag(ARCHIVED));
    let deleted = Signal::derive(move || flag(DELETED));
    let set = move |key: &'static str, on: bool| {
        let _ = workspace.change(id, &FieldPath::top(key), FieldEdit::Flag(on));
    };
    let delete = move |_| {
        if window()
            .confirm_with_message(t_string!(i18n, record_delete_confirm))
            .unwrap_or(false)
        {
            set(DELETED, true);
        }
    };
    // Observers read; editors of a recommendation start in the editor and can switch.
    let reading = RwSignal::new(!session.can_edit());
    let erase = move |_| {
        if !window()
            .confirm_with_message(t_string!(i18n, record_erase_confirm))
            .unwrap_or(false)
        {
            return;
        }
        let offline = t_string!(i18n, needs_connection);
        let done = t_string!(i18n, record_erased);
        leptos::task::spawn_local(async move {
            let path = format!("{}/{id}", tern_domain::api::ERASE_PATH);
            match crate::session::call::<(), ()>("POST", &path, None).await {
                Ok(()) => {
                    message.set(Some((true, done.to_owned())));
                    workspace.sync_now();
                }
                Err(failure) => message.set(Some((false, failure.reason(offline)))),
            }
        });
    };
    let personal = kind.def().personal_data;
    let online = crate::status::use_online();
    discussion::provide_discussion();
    view! {
        <Show when=move || deleted.get()>
            <p class="record-banner removed" role="status">{move || t_string!(i18n, record_removed_banner)}</p>
        </Show>
        <Show when=move || archived.get() && !deleted.get()>
            <p class="record-banner archived" role="status">{move || t_string!(i18n, record_archived_banner)}</p>
        </Show>
        <lazy::ConflictsLater id kind />
        <p class="actions record-actions">
            {(kind == RecordKind::Recommendation).then(|| view! {
                <button type="button" id="toggle-reading" aria-pressed=move || reading.get().to_string()
                    on:click=move |_| reading.set(!reading.get_untracked())>
                    {move || if reading.get() { t_string!(i18n, reading_edit) } else { t_string!(i18n, reading_show) }}
                </button>
            })}
            <Show when=move || session.can_edit() && !deleted.get()>
                {move || discussion::use_discussion().map(|discussion| view! {
                    <button type="button" id="suggesting" aria-pressed=move || discussion.suggesting.get().to_string()
                        on:click=move |_| discussion.suggesting.update(|on| *on = !*on)>
                        {move || t_string!(i18n, suggesting_mode)}
                    </button>
                })}
            </Show>
            <a id="export" href=format!("{EXPORT_PATH}/{id}") download>
                {move || t_string!(i18n, reading_export)}
            </a>
            <Show when=move || session.can_edit() && !deleted.get()>
                <button type="button" id="archive" on:click=move |_| set(ARCHIVED, !archived.get_untracked())>
                    {move || if archived.get() { t_string!(i18n, record_restore) } else { t_string!(i18n, record_archive) }}
                </button>
            </Show>
            <Show when=move || personal && session.is_secretariat()>
                <button type="button" id="erase" class="danger" on:click=erase disabled=move || !online.get()>
                    {move || t_string!(i18n, record_erase)}
                </button>
            </Show>
            <Show when=move || session.is_secretariat()>
                {move || if deleted.get() {
                    view! { <button type="button" id="undelete" on:click=move |_| set(DELETED, false)>
                        {t_string!(i18n, record_restore)}
                    </button> }.into_any()
                } else {
                    view! { <button type="button" id="delete" class="danger" on:click=delete>
                        {t_string!(i18n, record_delete)}
                    </button> }.into_any()
                }}
            </Show>
        </p>
        // On a wide screen the outline and the links sit beside the text; on a
        // phone the outline is a sheet and the links follow the text (style/main.css).
        // Both come after the text in the page's order, as a reader goes.
        <div class="record-layout">
            <div class="record-main">
                {move || if kind == RecordKind::Recommendation && reading.get() {
                    view! { <reading::RecommendationReading id /> }.into_any()
                } else {
                    view! { <RecordForm id kind locked=deleted /> }.into_any()
                }}
            </div>
            <div class="record-side">
                <Later>
                    <Outline id kind />
                    <lazy::CommentsLater id kind />
                    <LinksPanel id kind />
                </Later>
            </div>
        </div>
    }
}
