//! The pages. They render only in the browser (see [`crate::use_mounted`]); each
//! sets the document title and has exactly one `<h1>`.

use crate::i18n::*;
use crate::records::{ListPage, RecordPage};
use crate::routes::{Page, Section};
use crate::status::{use_online, ConnectionStatus, SyncSummary};
use crate::store::use_workspace;
use crate::widgets::PageHeading;
use crate::{BUILD_META, LANGUAGE_COOKIE};
use leptos::prelude::*;
use tern_domain::record::RecordKind;

/// Shows a page. Page code lives in modules split off the main wasm at build time
/// (see `split` below and `scripts/build-site.sh`) and fetched the first time a
/// page of theirs is shown, so the first load carries only the frame, the sync
/// engine and the sign-in screen. The service worker precaches every module, so
/// pages open offline once the app is installed.
#[component]
pub fn PageView(page: Page) -> impl IntoView {
    let i18n = use_i18n();
    // Bumped by "Try again" after a module could not be fetched.
    let attempt = RwSignal::new(0u32);
    move || {
        attempt.track();
        let page = page.clone();
        let fallback = move || view! { <p class="loading page-loading">{move || t_string!(i18n, loading)}</p> };
        lazy_view(
            fallback.into(),
            Box::pin(async move {
                if FIRST_PAGE.replace(false) {
                    // Hydrating the frame, and fetching and drawing the first
                    // page, as tasks of their own (`crate::tasks`).
                    crate::tasks::next_task().await;
                }
                load_page(page).await.unwrap_or_else(|PageCodeMissing| {
                    view! { <PageUnavailable retry=move || attempt.update(|n| *n += 1) /> }
                        .into_any()
                })
            }),
        )
    }
}

/// A view whose code is fetched first (a page, a long text's toolbar),
/// with `fallback` until then. One function, not generic, for all of them:
/// the `Suspense` code is in the main module once, and a page module that
/// shows a view of another module carries none of it.
pub(crate) fn lazy_view(
    fallback: ViewFnOnce,
    view: std::pin::Pin<Box<dyn std::future::Future<Output = AnyView> + Send>>,
) -> impl IntoView {
    view! { <Suspense fallback>{Suspend::new(view)}</Suspense> }
}

/// A part of a page whose code is in another module (a long text's
/// toolbar): nothing until it is fetched, and nothing if it cannot be.
pub(crate) fn lazy_part(
    part: impl std::future::Future<Output = Result<AnyView, PageCodeMissing>> + Send + 'static,
) -> impl IntoView {
    lazy_view(
        ViewFnOnce::default(),
        Box::pin(async move { part.await.unwrap_or_else(|_| ().into_any()) }),
    )
}

thread_local! {
    /// Whether no page has been shown yet since the app started.
    static FIRST_PAGE: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

async fn load_page(page: Page) -> Result<AnyView, PageCodeMissing> {
    match page {
        Page::Section(Section::Sync) => sync_page().await,
        Page::Section(Section::Settings) => settings_page().await,
        // Sections of records open their lists (`Page::List`); only the
        // Overview is a section page of its own.
        Page::Section(_) => overview_page().await,
        Page::List(kind) => list_page(kind, false).await,
        Page::Archived(kind) => list_page(kind, true).await,
        Page::Record(kind, id) => record_page(kind, id).await,
        Page::Welcome => welcome_page().await,
        Page::Users => users_page().await,
        Page::NotFound => not_found_page().await,
    }
}

/// The split points, one per page. The macro turns each function into an async one
/// that fetches the page's module first (in the browser; natively it calls straight
/// through). Pages that share most of their code share a module (its name is the
/// macro's first argument), and pages seldom opened (Settings, the invitation
/// page, Users, Sync, not found) share one: every module splits the code modules
/// share into more chunks, and each chunk is a fetch and an instantiation on the
/// main thread when a page opens (80 for a record page with ten modules, 17 with
/// five). The generated loader is the app's only `unsafe` code.
#[allow(unsafe_code)]
mod split {
    use super::*;
    use wasm_split_helpers::{wasm_split, SplitLoaderError};

    /// A page's module could not be fetched: offline before the service worker had
    /// saved it, or the server is unreachable.
    #[derive(Debug)]
    pub(crate) struct PageCodeMissing;

    impl From<SplitLoaderError> for PageCodeMissing {
        fn from(_: SplitLoaderError) -> Self {
            PageCodeMissing
        }
    }

    #[wasm_split(overview, fallible)]
    pub(super) fn overview_page() -> Result<AnyView, PageCodeMissing> {
        Ok(view! { <crate::overview::Overview /> }.into_any())
    }

    #[wasm_split(lists, fallible)]
    pub(super) fn list_page(kind: RecordKind, archived: bool) -> Result<AnyView, PageCodeMissing> {
        Ok(view! { <ListPage kind archived /> }.into_any())
    }

    #[wasm_split(records, fallible)]
    pub(super) fn record_page(kind: RecordKind, id: String) -> Result<AnyView, PageCodeMissing> {
        Ok(view! { <RecordPage kind id /> }.into_any())
    }

    /// Every record on the device as text, text being typed included (the
    /// download offered when the device cannot store edits); page code, so
    /// the frame stays small.
    #[wasm_split(records, fallible)]
    pub(crate) fn edits_as_text() -> Result<String, PageCodeMissing> {
        let workspace = use_workspace();
        workspace.flush_drafts();
        Ok(workspace.export_text())
    }

    /// The record page's history of the user's edits (undo, redo), started
    /// once the page is drawn: yrs' undo manager is in this module alone.
    #[wasm_split(drafting, fallible)]
    pub(crate) fn start_undo_history(
        workspace: crate::store::Workspace,
        id: tern_domain::record::RecordId,
    ) -> Result<(), PageCodeMissing> {
        crate::records::history::start(workspace, id);
        Ok(())
    }

    /// A long text's formatting toolbar (with the Markdown parser, in this
    /// module alone).
    #[wasm_split(drafting, fallible)]
    pub(crate) fn format_toolbar(
        target: crate::records::formatting::Target,
    ) -> Result<AnyView, PageCodeMissing> {
        use crate::records::formatting::FormatToolbar;
        Ok(view! { <FormatToolbar target /> }.into_any())
    }

    /// A long text as its readers will see it, beside the text being typed.
    #[wasm_split(drafting, fallible)]
    pub(crate) fn format_preview(
        id: tern_domain::record::RecordId,
        field: tern_domain::record::FieldPath,
        dom_id: String,
        label: Signal<String>,
    ) -> Result<AnyView, PageCodeMissing> {
        use crate::records::formatting::FormatPreview;
        Ok(view! { <FormatPreview id field dom_id label /> }.into_any())
    }

    /// Choices made at the same time in a record, and keeping one.
    #[wasm_split(drafting, fallible)]
    pub(crate) fn conflicts_panel(
        id: tern_domain::record::RecordId,
        kind: RecordKind,
    ) -> Result<AnyView, PageCodeMissing> {
        use crate::records::conflicts::Conflicts;
        Ok(view! { <Conflicts id kind /> }.into_any())
    }

    /// The changes typed into a long text while suggesting, and proposing
    /// them.
    #[wasm_split(drafting, fallible)]
    pub(crate) fn proposal_bar(
        id: tern_domain::record::RecordId,
        field: tern_domain::record::FieldPath,
        proposal: RwSignal<Option<(String, String)>>,
        area: NodeRef<leptos::html::Textarea>,
        shown: StoredValue<String>,
    ) -> Result<AnyView, PageCodeMissing> {
        use crate::records::proposal::Proposal;
        Ok(view! { <Proposal id field proposal area shown /> }.into_any())
    }

    /// A record's comments, and the form for a new one: a module of their
    /// own, fetched after a record page is drawn.
    #[wasm_split(comments, fallible)]
    pub(crate) fn comments_panel(
        id: tern_domain::record::RecordId,
        kind: RecordKind,
    ) -> Result<AnyView, PageCodeMissing> {
        use crate::records::comments::CommentsPanel;
        Ok(view! { <CommentsPanel id kind /> }.into_any())
    }

    /// A long text as safe HTML (`tern_domain::markup`); `ids` keeps its
    /// footnotes apart from other texts' on the page.
    #[wasm_split(drafting, fallible)]
    pub(crate) fn markdown_html(text: String, ids: String) -> Result<String, PageCodeMissing> {
        Ok(tern_domain::markup::to_html(&text, &ids))
    }

    #[wasm_split(account, fallible)]
    pub(super) fn sync_page() -> Result<AnyView, PageCodeMissing> {
        Ok(view! { <SyncPage /> }.into_any())
    }

    #[wasm_split(account, fallible)]
    pub(super) fn settings_page() -> Result<AnyView, PageCodeMissing> {
        Ok(view! { <Settings /> }.into_any())
    }

    #[wasm_split(account, fallible)]
    pub(super) fn welcome_page() -> Result<AnyView, PageCodeMissing> {
        Ok(view! { <crate::account::Welcome /> }.into_any())
    }

    #[wasm_split(account, fallible)]
    pub(super) fn users_page() -> Result<AnyView, PageCodeMissing> {
        Ok(view! { <crate::account::UsersPage /> }.into_any())
    }

    #[wasm_split(account, fallible)]
    pub(super) fn not_found_page() -> Result<AnyView, PageCodeMissing> {
        Ok(view! { <NotFound /> }.into_any())
    }
}

use split::*;
pub(crate) use split::{
    comments_panel, conflicts_panel, edits_as_text, format_preview, format_toolbar, markdown_html,
    proposal_bar, start_undo_history,
};

/// Shown instead of a page whose module could not be fetched.
#[component]
fn PageUnavailable(retry: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page-unavailable" role="alert">
            <PageHeading title=move || t_string!(i18n, page_unavailable_title) />
            <p>{move || t_string!(i18n, page_unavailable_body)}</p>
            <p>
                <button type="button" id="page-retry" on:click=move |_| retry()>
                    {move || t_string!(i18n, page_unavailable_retry)}
                </button>
            </p>
        </section>
    }
}

#[component]
fn SyncPage() -> impl IntoView {
    let i18n = use_i18n();
    let online = use_online();
    let workspace = use_workspace();
    view! {
        <PageHeading title=move || t_string!(i18n, sync_title) />
        <p class="lead">{move || t_string!(i18n, sync_intro)}</p>
        <section aria-labelledby="sync-connection">
            <h2 id="sync-connection">{move || t_string!(i18n, sync_connection_heading)}</h2>
            <p>
                {move || {
                    if online.get() {
                        t_string!(i18n, status_online_hint)
                    } else {
                        t_string!(i18n, status_offline_hint)
                    }
                }}
            </p>
        </section>
        <section aria-labelledby="sync-queue">
            <h2 id="sync-queue">{move || t_string!(i18n, sync_queue_heading)}</h2>
            <SyncSummary />
            <p>
                <button type="button" id="sync-now" on:click=move |_| workspace.sync_now()
                    disabled=move || !online.get()>
                    {move || t_string!(i18n, sync_now)}
                </button>
            </p>
            <p class="hint">{move || t_string!(i18n, sync_retry_hint)}</p>
        </section>
        <section aria-labelledby="sync-copies">
            <h2 id="sync-copies">{move || t_string!(i18n, copies_heading)}</h2>
            {move || {
                let copies = workspace.copies.get();
                if copies.is_empty() {
                    view! { <p>{move || t_string!(i18n, copies_none)}</p> }.into_any()
                } else {
                    copies
                        .into_iter()
                        .map(|copy| view! { <crate::records::LocalCopyPanel copy /> })
                        .collect_view()
                        .into_any()
                }
            }}
        </section>
    }
}

/// The language's own name for itself, so a reader can always find theirs.
fn native_name(locale: Locale) -> &'static str {
    match locale {
        Locale::en => "English",
        Locale::de => "Deutsch",
    }
}

/// Keeps the choice for a year, renewed on each change.
fn remember_language(locale: Locale) {
    use leptos::wasm_bindgen::JsCast;
    if let Ok(document) = document().dyn_into::<leptos::web_sys::HtmlDocument>() {
        let cookie = format!(
            "{LANGUAGE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            locale.as_str()
        );
        let _ = document.set_cookie(&cookie);
    }
}

#[component]
fn Settings() -> impl IntoView {
    let i18n = use_i18n();
    let build = document()
        .query_selector(&format!("meta[name=\"{BUILD_META}\"]"))
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default();
    let on_change = move |event: leptos::ev::Event| {
        let chosen = event_target_value(&event);
        if let Some(locale) = Locale::get_all().iter().find(|l| l.as_str() == chosen) {
            i18n.set_locale(*locale);
            remember_language(*locale);
        }
    };
    view! {
        <PageHeading title=move || t_string!(i18n, settings_title) />
        <section aria-labelledby="settings-language">
            <h2 id="settings-language">{move || t_string!(i18n, settings_language_heading)}</h2>
            <div class="field">
                <label for="language-select">{move || t_string!(i18n, settings_language_label)}</label>
                <select id="language-select" aria-describedby="language-hint" on:change=on_change>
                    {Locale::get_all()
                        .iter()
                        .map(|locale| {
                            let locale = *locale;
                            view! {
                                <option
                                    value=locale.as_str()
                                    lang=locale.as_str()
                                    selected=move || i18n.get_locale() == locale
                                >
                                    {native_name(locale)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <p id="language-hint" class="hint">{move || t_string!(i18n, settings_language_hint)}</p>
            </div>
        </section>
        <crate::theme::ThemeSettings />
        <section aria-labelledby="settings-offline">
            <h2 id="settings-offline">{move || t_string!(i18n, settings_offline_heading)}</h2>
            <p>{move || t_string!(i18n, settings_offline_body)}</p>
            <ConnectionStatus />
        </section>
        <crate::account::AccountSettings />
        <StorageUse />
        <section aria-labelledby="settings-about">
            <h2 id="settings-about">{move || t_string!(i18n, settings_about_heading)}</h2>
            <dl class="facts">
                <dt>{move || t_string!(i18n, settings_version_label)}</dt>
                <dd>
                    {env!("CARGO_PKG_VERSION")} " (" <code>{build}</code> ")"
                </dd>
            </dl>
        </section>
    }
}

/// Usage and quota of the device's storage, and whether it is persistent.
#[component]
fn StorageUse() -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    // `None` until the browser answered; `Some(None)` if it cannot tell.
    let estimate = RwSignal::new(None::<Option<(f64, f64, bool)>>);
    leptos::task::spawn_local(async move {
        estimate.set(Some(workspace.storage_estimate().await));
    });
    // Whole tenths of a megabyte, without pulling float formatting into the wasm.
    let megabytes = |bytes: f64| {
        let tenths = (bytes / 100_000.0).round() as u64;
        format!("{}.{} MB", tenths / 10, tenths % 10)
    };
    view! {
        <section aria-labelledby="settings-storage">
            <h2 id="settings-storage">{move || t_string!(i18n, settings_storage_heading)}</h2>
            {move || estimate.get().map(|estimate| match estimate {
                Some((used, quota, persisted)) => view! {
                    <p id="storage-usage">
                        {t_string!(i18n, settings_storage_usage)} " " {megabytes(used)} " "
                        {t_string!(i18n, settings_storage_of)} " " {megabytes(quota)}
                    </p>
                    <p>{if persisted {
                        t_string!(i18n, settings_storage_persisted)
                    } else {
                        t_string!(i18n, settings_storage_not_persisted)
                    }}</p>
                }.into_any(),
                None => view! { <p>{t_string!(i18n, settings_storage_unknown)}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <PageHeading title=move || t_string!(i18n, not_found_title) />
        <p>{move || t_string!(i18n, not_found_body)}</p>
        <p>
            <a href="/">{move || t_string!(i18n, not_found_home)}</a>
        </p>
    }
}
