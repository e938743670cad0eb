//! Parts of a record's page that most visits do not show, in modules of their
//! own, fetched the first time they are shown (as pages are, see
//! `crate::pages`): the secretariat's invitations panel, and a
//! recommendation's reading view.

use crate::i18n::*;
use leptos::prelude::*;
use tern_domain::record::RecordId;

/// Shows a part whose code is fetched on first use; if it cannot be fetched
/// (offline before the service worker had it), says so.
#[component]
fn Lazy<F, Fut>(load: F) -> impl IntoView
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<AnyView, split::PartCodeMissing>> + Send + 'static,
{
    let i18n = use_i18n();
    view! {
        <Suspense fallback=move || view! { <p class="loading">{move || t_string!(i18n, loading)}</p> }>
            {
                let part = load();
                Suspend::new(async move {
                    part.await.unwrap_or_else(|split::PartCodeMissing| {
                        view! { <p role="status">{t_string!(i18n, page_unavailable_title)}</p> }.into_any()
                    })
                })
            }
        </Suspense>
    }
}

/// Who was invited to the record (the secretariat's panel).
#[component]
pub fn AccessPanel(id: RecordId) -> impl IntoView {
    view! { <Lazy load=move || split::access_panel(id) /> }
}

/// A recommendation as its readers see it.
#[component]
pub fn ReadingView(id: RecordId) -> impl IntoView {
    view! { <Lazy load=move || split::reading_view(id) /> }
}

/// The split points; the macro's generated loader is `unsafe`, as in `crate::pages`.
#[allow(unsafe_code)]
mod split {
    use leptos::prelude::*;
    use tern_domain::record::RecordId;
    use wasm_split_helpers::{wasm_split, SplitLoaderError};

    #[derive(Debug)]
    pub(super) struct PartCodeMissing;

    impl From<SplitLoaderError> for PartCodeMissing {
        fn from(_: SplitLoaderError) -> Self {
            PartCodeMissing
        }
    }

    #[wasm_split(record_access, fallible)]
    pub(super) fn access_panel(id: RecordId) -> Result<AnyView, PartCodeMissing> {
        Ok(view! { <super::super::access::RecordAccess id /> }.into_any())
    }

    #[wasm_split(reading, fallible)]
    pub(super) fn reading_view(id: RecordId) -> Result<AnyView, PartCodeMissing> {
        Ok(view! { <super::super::reading::RecommendationReading id /> }.into_any())
    }
}
