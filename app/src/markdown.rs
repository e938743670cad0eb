//! Markdown that users write in section bodies, shown as formatted text.
//!
//! The text is parsed with pulldown-cmark and turned into DOM nodes one event at
//! a time, never into an HTML string: HTML a user typed becomes visible text, a
//! link keeps only an http(s), mailto or same-site target, and images are shown
//! by their description (nothing is loaded). So no user text can run script or
//! fetch anything, offline or not. (The server's HTML export, which does build
//! an HTML string, cleans it with ammonia.)

use leptos::prelude::document;
use leptos::web_sys;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag};
use tern_domain::markdown::{is_safe_link, OPTIONS};

/// Replaces the content of `container` with `text` rendered as Markdown.
/// Headings start at `<h3>`: the page has its `<h1>`, and sections their `<h2>`.
pub fn render_into(container: &web_sys::Element, text: &str) {
    container.set_text_content(None);
    let document = document();
    let mut open: Vec<web_sys::Element> = vec![container.clone()];
    for event in Parser::new_ext(text, Options::from_bits_truncate(OPTIONS)) {
        let Some(parent) = open.last().cloned() else {
            break;
        };
        match event {
            Event::Start(tag) => {
                let Ok(element) = document.create_element(element_name(&tag)) else {
                    continue;
                };
                match &tag {
                    Tag::Link { dest_url, .. } if is_safe_link(dest_url) => {
                        let _ = element.set_attribute("href", dest_url);
                        let _ = element.set_attribute("rel", "noopener noreferrer nofollow");
                    }
                    Tag::List(Some(start)) if *start != 1 => {
                        let _ = element.set_attribute("start", &start.to_string());
                    }
                    _ => {}
                }
                let _ = parent.append_child(&element);
                open.push(element);
            }
            Event::End(_) => {
                if open.len() > 1 {
                    open.pop();
                }
            }
            // Text, and HTML the user typed, are text nodes: shown, never parsed.
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) => {
                let _ = parent.append_child(&document.create_text_node(&text));
            }
            Event::Code(code) => {
                if let Ok(element) = document.create_element("code") {
                    element.set_text_content(Some(&code));
                    let _ = parent.append_child(&element);
                }
            }
            Event::SoftBreak => {
                let _ = parent.append_child(&document.create_text_node("\n"));
            }
            Event::HardBreak | Event::Rule => {
                let name = if matches!(event, Event::Rule) {
                    "hr"
                } else {
                    "br"
                };
                if let Ok(element) = document.create_element(name) {
                    let _ = parent.append_child(&element);
                }
            }
            Event::TaskListMarker(done) => {
                let mark = if done { "[x] " } else { "[ ] " };
                let _ = parent.append_child(&document.create_text_node(mark));
            }
            _ => {}
        }
    }
}

fn element_name(tag: &Tag) -> &'static str {
    match tag {
        Tag::Paragraph => "p",
        Tag::Heading { level, .. } => match level {
            HeadingLevel::H1 => "h3",
            HeadingLevel::H2 => "h4",
            HeadingLevel::H3 => "h5",
            _ => "h6",
        },
        Tag::BlockQuote(_) => "blockquote",
        Tag::CodeBlock(_) => "pre",
        Tag::List(Some(_)) => "ol",
        Tag::List(None) => "ul",
        Tag::Item => "li",
        Tag::Emphasis => "em",
        Tag::Strong => "strong",
        Tag::Strikethrough => "del",
        Tag::Link { .. } => "a",
        Tag::Table(_) => "table",
        Tag::TableHead | Tag::TableRow => "tr",
        Tag::TableCell => "td",
        // An image is shown by its description; nothing is fetched.
        _ => "span",
    }
}
