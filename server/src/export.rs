//! User Markdown as HTML: `GET /api/export/v1/records/<id>` (a record as one
//! HTML document, to send round or print) and `POST /api/render/v1/markdown`
//! (a section body for the app's reading view). Plain-text fields are escaped;
//! Markdown is rendered with pulldown-cmark and then cleaned with ammonia, which
//! keeps formatting and links (http, https, mailto) and drops script, event
//! handlers, styles and images (nothing a user wrote may load anything), so
//! HTML made of what anyone typed is safe to show.

use crate::accounts::SignedIn;
use crate::error::ApiError;
use crate::http::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use pulldown_cmark::{Options, Parser};
use tern_domain::api::{RenderRequest, RenderedHtml};
use tern_domain::record::{Record, RecordSummary};

/// Answers the export of a record the user may read (404 otherwise, as for a
/// record that does not exist).
pub(crate) async fn export_record(
    State(state): State<AppState>,
    signed: SignedIn,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let change = crate::http::visible_record(&state, &signed, &id).await?;
    let id = change.record;
    let summary = Record::load(id, 1, &change.update)
        .ok()
        .and_then(|record| record.summary())
        .ok_or_else(|| ApiError::UnknownRecord(id.to_string()))?;
    let mut response = document(&summary).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // A standalone file: nothing in it may load or run anything.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("attachment; filename=\"tern-{id}.html\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// The whole HTML document of a record.
pub fn document(summary: &RecordSummary) -> String {
    let (title, body) = match summary {
        RecordSummary::Recommendation(rec) => {
            let mut body = format!("<p class=\"summary\">{}</p>\n", escape(&rec.summary));
            for section in &rec.sections {
                body.push_str(&format!(
                    "<section>\n<h2>{}</h2>\n{}</section>\n",
                    escape(&section.heading),
                    markdown_to_safe_html(&section.body)
                ));
            }
            (rec.title.as_str(), body)
        }
        RecordSummary::Project(project) => (
            project.title.as_str(),
            format!("<p>{}</p>\n", escape(&project.description)),
        ),
    };
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto;line-height:1.6}}\
         .summary{{white-space:pre-wrap;font-size:1.1rem}}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n{body}</body>\n</html>\n",
        title = escape(title),
    )
}

/// `POST /api/render/v1/markdown`: one section body as safe HTML.
pub(crate) async fn render_markdown(
    _signed: SignedIn,
    body: Result<Json<RenderRequest>, JsonRejection>,
) -> Result<Json<RenderedHtml>, ApiError> {
    let Json(request) = body.map_err(|_| ApiError::MalformedRenderRequest)?;
    Ok(Json(RenderedHtml {
        html: markdown_to_safe_html(&request.markdown),
    }))
}

/// Markdown → HTML (pulldown-cmark) → only safe HTML (ammonia).
pub fn markdown_to_safe_html(markdown: &str) -> String {
    let mut html = String::new();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .rm_tags(["img"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&html)
        .to_string()
}

/// Text as HTML text: `&`, `<`, `>` and quotes escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_in_markdown_is_removed_and_formatting_kept() {
        let html = markdown_to_safe_html(
            "**Support** for [CBSS](https://cbss.org) and [x](javascript:alert(1))\n\n\
             <img src=x onerror=\"alert(1)\"><script>alert(2)</script>",
        );
        assert!(html.contains("<strong>Support</strong>"), "{html}");
        assert!(html.contains("href=\"https://cbss.org\""), "{html}");
        for bad in ["<script", "onerror", "javascript:", "alert(2)", "<img"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
    }

    #[test]
    fn plain_text_fields_stay_text() {
        let summary = RecordSummary::Project(tern_domain::record::ProjectSummary {
            title: "<b>Bold</b> & \"quoted\"".into(),
            description: String::new(),
            status: Default::default(),
            start_date: None,
            end_date: None,
            focus_areas: Vec::new(),
            countries: Vec::new(),
        });
        let html = document(&summary);
        assert!(
            html.contains("&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;quoted&quot;"),
            "{html}"
        );
        assert!(!html.contains("<b>"), "{html}");
    }
}
