//! A long text as HTML that is safe to put into a page as it is: raw HTML in
//! the text shows as the text typed, links go only to web and mail addresses,
//! images are not loaded (their description shows). The server cleans its
//! exports once more (ammonia); the browser, which cannot afford an HTML
//! parser, relies on this alone.

use pulldown_cmark::{CowStr, Event, Parser, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html};
use std::collections::HashMap;

/// `markdown` as safe HTML. `ids` prefixes the ids of its footnotes, so that
/// several texts on one page (a recommendation's paragraphs) keep theirs apart.
pub fn to_html(markdown: &str, ids: &str) -> String {
    let mut footnotes = Footnotes::default();
    // For each open link, whether it was dropped (its end is dropped too).
    let mut links: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, super::options()).filter_map(|event| {
        Some(match event {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => return None,
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => return None,
            Event::Start(Tag::Link { dest_url, .. }) => {
                let safe = is_safe_url(&dest_url);
                links.push(safe);
                if !safe {
                    return None;
                }
                let mut tag = String::from("<a href=\"");
                let _ = escape_href(&mut tag, dest_url.trim());
                tag.push_str("\" rel=\"noopener noreferrer nofollow\">");
                Event::InlineHtml(tag.into())
            }
            Event::End(TagEnd::Link) => {
                if !links.pop().unwrap_or(false) {
                    return None;
                }
                Event::InlineHtml("</a>".into())
            }
            Event::FootnoteReference(name) => {
                let number = footnotes.number(&name);
                Event::InlineHtml(
                    format!(
                        "<sup class=\"footnote-reference\"><a href=\"#{}\">{number}</a></sup>",
                        anchor(ids, &name)
                    )
                    .into(),
                )
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                let number = footnotes.number(&name);
                Event::Html(
                    format!(
                        "<div class=\"footnote-definition\" id=\"{}\"><sup class=\"footnote-definition-label\">{number}</sup>",
                        anchor(ids, &name)
                    )
                    .into(),
                )
            }
            Event::End(TagEnd::FootnoteDefinition) => Event::Html("</div>\n".into()),
            other => other,
        })
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// Footnotes are numbered in the order they are first met.
#[derive(Default)]
struct Footnotes(HashMap<String, usize>);

impl Footnotes {
    fn number(&mut self, name: &CowStr) -> usize {
        let next = self.0.len() + 1;
        *self.0.entry(name.to_string()).or_insert(next)
    }
}

/// A footnote's id in the page: escaped, as ids may hold any text.
fn anchor(ids: &str, name: &str) -> String {
    let mut id = String::new();
    let _ = escape_html(&mut id, &format!("{ids}-fn-{name}"));
    id.replace(' ', "_")
}

/// Whether a link may go to `url`: a web or mail address, or one relative to
/// the page. Browsers ignore tabs and line breaks in a URL and spaces before
/// it, so `java\tscript:` is `javascript:` to them and is refused here too.
pub fn is_safe_url(url: &str) -> bool {
    let url: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let scheme_end =
        url.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')));
    match scheme_end {
        Some(end) if url[end..].starts_with(':') => {
            let scheme = url[..end].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        // No scheme: a path, a query or a fragment on this site.
        _ => !url.chars().any(|c| c.is_control()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_shows_and_nothing_runs_or_loads() {
        let html = to_html(
            "<img src=x onerror=\"alert(1)\"><script>alert(2)</script>\n\n**Support** and \
             [link](javascript:alert(3)) and [CBSS](https://cbss.org) \
             ![a picture](https://tracker.example/p.png)",
            "p1",
        );
        assert!(html.contains("<strong>Support</strong>"), "{html}");
        assert!(
            html.contains(
                "<a href=\"https://cbss.org\" rel=\"noopener noreferrer nofollow\">CBSS</a>"
            ),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;"),
            "raw HTML shows as typed: {html}"
        );
        for needle in ["<script", "<img", "javascript:", "href=\"java", "tracker"] {
            assert!(!html.contains(needle), "{needle} in {html}");
        }
        assert!(
            html.contains("link and <a"),
            "a refused link keeps its words: {html}"
        );
        assert!(
            html.contains("a picture"),
            "an image shows its description: {html}"
        );
    }

    #[test]
    fn links_go_only_to_web_and_mail_addresses() {
        for safe in [
            "https://cbss.org",
            "HTTP://x.example",
            "mailto:unit@cbss.org",
            "/records/1",
            "#fn-1",
        ] {
            assert!(is_safe_url(safe), "{safe}");
        }
        for unsafe_url in [
            "javascript:alert(1)",
            "java\tscript:alert(1)",
            " \u{1}javascript:x",
            "data:text/html,x",
            "vbscript:x",
        ] {
            assert!(!is_safe_url(unsafe_url), "{unsafe_url:?}");
        }
    }

    #[test]
    fn footnotes_are_numbered_and_their_ids_kept_apart() {
        let html = to_html(
            "Asylum[^a] and care[^b].\n\n[^b]: Second.\n\n[^a]: First.",
            "p7",
        );
        assert!(html.contains("<a href=\"#p7-fn-a\">1</a>"), "{html}");
        assert!(html.contains("<a href=\"#p7-fn-b\">2</a>"), "{html}");
        assert!(html.contains("id=\"p7-fn-a\""), "{html}");
        assert!(html.contains("First."), "{html}");
    }

    #[test]
    fn lists_render() {
        let html = to_html("Measures:\n\n- one\n- two\n\n1. first\n2. second", "x");
        assert!(html.contains("<ul>\n<li>one</li>"), "{html}");
        assert!(html.contains("<ol>\n<li>first</li>"), "{html}");
    }
}
