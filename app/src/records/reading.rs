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
                        <div class="reading-preamble">
                            <MarkdownBody text=projection.text("preamble").to_owned() ids="reading-preamble".to_owned() />
                        </div>
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
                                {(!body.trim().is_empty()).then(|| {
                                    let ids = format!("reading-{}", text(&section, "id"));
                                    view! { <MarkdownBody text=body ids /> }
                                })}
                                {paragraphs.into_iter().enumerate().map(|(inner, paragraph)| view! {
                                    <div class="reading-paragraph" id=item_anchor(&text(&paragraph, "id"))>
                                        <span class="reading-number">{number(&[at, inner])}</span>
                                        <MarkdownBody text=text(&paragraph, "text")
                                            ids=format!("reading-{}", text(&paragraph, "id")) />
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

/// A long text as its readers see it: rendered in the browser (the
/// renderer is in the `drafting` module, fetched with the record page), so
/// also offline; the text as typed until then. `ids` keeps its footnotes
/// apart from other texts' on the page.
#[component]
fn MarkdownBody(text: String, ids: String) -> impl IntoView {
    let node = NodeRef::<html::Div>::new();
    let markdown = text.clone();
    Effect::new(move |_| {
        let Some(container) = node.get() else { return };
        let (text, ids) = (markdown.clone(), ids.clone());
        leptos::task::spawn_local(async move {
            if let Ok(html) = crate::pages::markdown_html(text, ids).await {
                container.set_inner_html(&html);
                container.set_class_name("markdown");
            }
        });
    });
    view! { <div class="markdown plain" node_ref=node>{text}</div> }
}
