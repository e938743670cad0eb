//! A recommendation as its readers see it, and its download: the screen a
//! recommendation has beyond the generic form.

use super::outline::item_anchor;
use crate::i18n::*;
use crate::store::use_workspace;
use leptos::html;
use leptos::prelude::*;
use tern_domain::record::schema::number;
use tern_domain::record::RecordId;

/// A recommendation as its readers see it: plain-text title and summary, the
/// preamble, and each numbered section's opening text and numbered paragraphs
/// rendered from Markdown.
#[component]
pub fn RecommendationReading(id: RecordId) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    // The record's own projection: the device keeps listings without long
    // text (see `tern_domain::client`), and this page shows all of it.
    let projection = Memo::new(move |_| {
        workspace
            .with_record(id, |record| record.projection())
            .flatten()
            .map(std::sync::Arc::new)
    });
    view! {
        <article class="reading" id="reading">
            {move || projection.get().map(|projection| {
                let title = if projection.title().trim().is_empty() {
                    t_string!(i18n, untitled).to_owned()
                } else {
                    projection.title().to_owned()
                };
                let text = |item: &serde_json::Value, key: &str| {
                    item.get(key).and_then(|value| value.as_str()).unwrap_or_default().to_owned()
                };
                let items = |item: &serde_json::Value, key: &str| {
                    item.get(key).and_then(|value| value.as_array()).cloned().unwrap_or_default()
                };
                let sections = projection.items("sections").to_vec();
                view! {
                    <h2 class="reading-title">{title}</h2>
                    <p class="reading-summary">{projection.text("summary").to_owned()}</p>
                    {(!projection.text("preamble").trim().is_empty()).then(|| view! {
                        <div class="reading-preamble"><MarkdownBody text=projection.text("preamble").to_owned() /></div>
                    })}
                    {sections.into_iter().enumerate().map(|(at, section)| {
                        let body = text(&section, "body");
                        let paragraphs = items(&section, "paragraphs");
                        view! {
                            <section class="reading-section" id=item_anchor(&text(&section, "id"))>
                                <h2>
                                    <span class="reading-number">{number(&[at])}</span>
                                    " "{text(&section, "heading")}
                                </h2>
                                {(!body.trim().is_empty()).then(|| view! { <MarkdownBody text=body /> })}
                                {paragraphs.into_iter().enumerate().map(|(inner, paragraph)| view! {
                                    <div class="reading-paragraph" id=item_anchor(&text(&paragraph, "id"))>
                                        <span class="reading-number">{number(&[at, inner])}</span>
                                        <MarkdownBody text=text(&paragraph, "text") />
                                    </div>
                                }).collect_view()}
                            </section>
                        }
                    }).collect_view()}
                }
            })}
        </article>
    }
}

/// A section body: Markdown rendered by the server (pulldown-cmark, then
/// ammonia, so the HTML holds nothing that runs or loads) and kept for the
/// session; offline, before that, the text as typed.
#[component]
fn MarkdownBody(text: String) -> impl IntoView {
    let i18n = use_i18n();
    let online = crate::status::use_online();
    let node = NodeRef::<html::Div>::new();
    let rendered = RwSignal::new(cached_rendering(&text));
    let plain = text.clone();
    Effect::new(move |_| {
        if rendered.get_untracked().is_some() || !online.get() {
            return;
        }
        let markdown = text.clone();
        leptos::task::spawn_local(async move {
            let request = tern_domain::api::RenderRequest {
                markdown: markdown.clone(),
            };
            let answer = crate::session::call::<_, tern_domain::api::RenderedHtml>(
                "POST",
                tern_domain::api::RENDER_PATH,
                Some(&request),
            )
            .await;
            if let Ok(answer) = answer {
                RENDERED.with_borrow_mut(|cache| cache.insert(markdown, answer.html.clone()));
                rendered.set(Some(answer.html));
            }
        });
    });
    Effect::new(move |_| {
        if let (Some(container), Some(html)) = (node.get(), rendered.get()) {
            container.set_inner_html(&html);
        }
    });
    view! {
        <Show when=move || rendered.get().is_none()
            fallback=move || view! { <div class="markdown" node_ref=node></div> }>
            <p class="hint">{move || t_string!(i18n, reading_plain)}</p>
            <div class="markdown plain">{plain.clone()}</div>
        </Show>
    }
}

thread_local! {
    /// Markdown the server rendered in this session, by its text.
    static RENDERED: std::cell::RefCell<std::collections::HashMap<String, String>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn cached_rendering(markdown: &str) -> Option<String> {
    RENDERED.with_borrow(|cache| cache.get(markdown).cloned())
}
