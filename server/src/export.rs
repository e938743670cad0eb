//! A record as one HTML document, to send round or print:
//! `GET /api/export/v1/records/<id>`. Plain-text fields are escaped; long
//! texts are rendered as the app shows them (`tern_domain::markup`, which
//! already shows raw HTML as text and keeps links to web and mail addresses)
//! and then cleaned once more with ammonia, which drops script, event
//! handlers, styles and images (nothing a user wrote may load anything).

use crate::accounts::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tern_domain::record::schema::{FieldDef, FieldType, SetOf};
use tern_domain::record::{Projection, Record, RecordId};
use tern_domain::region::MEMBERS;

/// Answers the export of a record the user may read (404 otherwise, as for a
/// record that does not exist). Linked records are named only if the user may
/// read them too.
pub(crate) async fn export_record(
    State(state): State<AppState>,
    signed: SignedIn,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let change = crate::sync_api::visible_record(&state, &signed, &id).await?;
    let id = change.record;
    let projection = Record::load(id, 1, &change.update)
        .ok()
        .and_then(|record| record.projection())
        .ok_or_else(|| ApiError::UnknownRecord(id.to_string()))?;
    let mut titles = std::collections::BTreeMap::new();
    for link in projection.links() {
        let title = crate::sync_api::visible_record(&state, &signed, &link.target.to_string())
            .await
            .ok()
            .and_then(|change| Record::load(change.record, 1, &change.update).ok())
            .and_then(|record| record.projection())
            .map(|target| target.title().to_owned());
        titles.insert(link.target, title);
    }
    let html = document(&projection, "en", &|target| {
        titles.get(&target).cloned().flatten()
    });
    let mut response = html.into_response();
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

/// The whole HTML document of a record, labelled in `locale`, from its
/// kind's declaration: facts (dates, choices, sets, links) as a list, long
/// texts as paragraphs, item lists as sections. Text in items is Markdown
/// (section bodies), rendered safely; top-level long text is kept as typed.
/// `title_of` names a linked record, or `None` for one the reader may not see.
pub fn document(
    projection: &Projection,
    locale: &str,
    title_of: &dyn Fn(RecordId) -> Option<String>,
) -> String {
    let def = projection.def();
    let label = |path: &str, key: &str| {
        tern_app::labels::lookup(locale, &format!("{}.{path}", def.tag))
            .or_else(|| tern_app::labels::lookup(locale, &format!("field.{key}")))
            .unwrap_or(key)
            .to_owned()
    };
    let mut body = String::new();
    render_fields(
        def.fields,
        &projection.fields,
        "",
        &[],
        Some(def.title),
        2,
        &label,
        locale,
        title_of,
        &mut body,
    );
    let title = projection.title();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{locale}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto;line-height:1.6}}\
         dt{{font-weight:bold}}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n{body}</body>\n</html>\n",
        title = escape(title),
    )
}

#[allow(clippy::too_many_arguments)]
fn render_fields(
    fields: &[FieldDef],
    values: &serde_json::Map<String, Value>,
    prefix: &str,
    // The positions of the numbered items these fields are in.
    numbers: &[usize],
    skip: Option<&str>,
    level: u8,
    label: &dyn Fn(&str, &str) -> String,
    locale: &str,
    title_of: &dyn Fn(RecordId) -> Option<String>,
    out: &mut String,
) {
    let mut facts = String::new();
    let mut texts = String::new();
    for field in fields.iter().filter(|field| Some(field.key) != skip) {
        let path = format!("{prefix}{}", field.key);
        let name = escape(&label(&path, field.key));
        let value = values.get(field.key).unwrap_or(&Value::Null);
        match field.ty {
            FieldType::Text | FieldType::LongText if level > 2 => {
                let text = value.as_str().unwrap_or_default();
                // A numbered paragraph's one text is under its number, not a label.
                let labelled = skip.is_some() || fields.len() > 1;
                if !text.trim().is_empty() {
                    if labelled {
                        texts.push_str(&format!("<h{level}>{name}</h{level}>\n"));
                    }
                    texts.push_str(&markdown_to_safe_html(text, &path));
                }
            }
            FieldType::LongText => {
                let text = value.as_str().unwrap_or_default();
                if !text.trim().is_empty() {
                    texts.push_str(&format!(
                        "<h{level}>{name}</h{level}>\n{}",
                        markdown_to_safe_html(text, &path)
                    ));
                }
            }
            FieldType::Items(items) => {
                let Value::Array(list) = value else { continue };
                if list.is_empty() {
                    continue;
                }
                texts.push_str(&format!("<h{level}>{name}</h{level}>\n"));
                for (position, item) in list.iter().enumerate() {
                    let Value::Object(item) = item else { continue };
                    let mut numbers = numbers.to_vec();
                    if items.numbered {
                        numbers.push(position);
                    }
                    let title = items
                        .title
                        .and_then(|key| item.get(key))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let number = if items.numbered {
                        tern_domain::record::schema::number(&numbers)
                    } else {
                        String::new()
                    };
                    let heading = format!("{number} {}", escape(title));
                    texts.push_str("<section>\n");
                    let inner = (level + 1).min(6);
                    if !heading.trim().is_empty() {
                        texts.push_str(&format!("<h{inner}>{}</h{inner}>\n", heading.trim()));
                    }
                    render_fields(
                        items.fields,
                        item,
                        &format!("{path}."),
                        &numbers,
                        items.title,
                        inner,
                        label,
                        locale,
                        title_of,
                        &mut texts,
                    );
                    texts.push_str("</section>\n");
                }
            }
            _ => {
                let shown = fact(field, value, locale, title_of);
                if !shown.is_empty() {
                    facts.push_str(&format!("<dt>{name}</dt><dd>{}</dd>\n", escape(&shown)));
                }
            }
        }
    }
    if !facts.is_empty() {
        out.push_str(&format!("<dl>\n{facts}</dl>\n"));
    }
    out.push_str(&texts);
}

/// A short value as text: choices and sets by their labels, links by title.
fn fact(
    field: &FieldDef,
    value: &Value,
    locale: &str,
    title_of: &dyn Fn(RecordId) -> Option<String>,
) -> String {
    let word = |value: &str| -> String {
        let key = match field.ty {
            FieldType::Choice(choices) | FieldType::Set(SetOf::Choices(choices)) => {
                if choices.name == "member" {
                    return member(value);
                }
                format!("choice.{}.{value}", choices.name)
            }
            FieldType::Set(SetOf::Members) => return member(value),
            FieldType::Set(SetOf::FocusAreas) => format!("focus.{value}"),
            FieldType::Ref(_) | FieldType::Refs(_) => {
                return value
                    .parse()
                    .ok()
                    .and_then(title_of)
                    .unwrap_or_else(|| "(a record you do not have access to)".to_owned())
            }
            _ => return value.to_owned(),
        };
        tern_app::labels::lookup(locale, &key)
            .unwrap_or(value)
            .to_owned()
    };
    match value {
        Value::String(text) => word(text),
        Value::Array(values) => values
            .iter()
            .filter_map(Value::as_str)
            .map(word)
            .collect::<Vec<_>>()
            .join(", "),
        Value::Bool(true) => "✓".to_owned(),
        Value::Object(entries) => entries
            .iter()
            .filter_map(|(code, value)| {
                Some(format!("{}: {}", member(code), word(value.as_str()?)))
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::new(),
    }
}

fn member(code: &str) -> String {
    MEMBERS
        .iter()
        .find(|member| member.code == code)
        .map_or(code, |member| member.name)
        .to_owned()
}

/// A long text as HTML: the app's rendering (`ids` keeps its footnotes apart
/// from other texts'), cleaned once more so that nothing in it runs or loads.
pub fn markdown_to_safe_html(markdown: &str, ids: &str) -> String {
    let html = tern_domain::markup::to_html(markdown, ids);
    ammonia::Builder::default()
        .rm_tags(["img"])
        .add_generic_attributes(["id", "class"])
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
            "**Support** for [CBSS](https://cbss.org) and [x](javascript:alert(1))[^1]\n\n\
             <img src=x onerror=\"alert(1)\"><script>alert(2)</script>\n\n[^1]: A note.",
            "summary",
        );
        assert!(html.contains("<strong>Support</strong>"), "{html}");
        assert!(html.contains("href=\"https://cbss.org\""), "{html}");
        // Raw HTML shows as the text typed (its `onerror` is words, not an
        // attribute: there is no tag); the footnote keeps its link.
        assert!(html.contains("&lt;img src=x onerror"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(2)"), "{html}");
        assert!(html.contains("id=\"summary-fn-1\""), "{html}");
        for bad in ["<script", "javascript:", "<img"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
    }

    #[test]
    fn plain_text_fields_stay_text_and_facts_are_labelled() {
        use tern_domain::record::{FieldEdit, FieldPath, RecordKind};
        let id = RecordId::v7(1_760_000_000_000, [1; 10]);
        let (record, _) = Record::create(id, RecordKind::Project, 1);
        record
            .set_text("title", "<b>Bold</b> & \"quoted\"")
            .expect("title");
        record
            .change(
                &FieldPath::top("countries"),
                FieldEdit::Include {
                    value: "EE".into(),
                    included: true,
                },
            )
            .expect("country");
        let target = RecordId::v7(1_760_000_000_000, [2; 10]);
        record
            .change(
                &FieldPath::top("implements"),
                FieldEdit::IncludeRef {
                    target,
                    kind: RecordKind::Recommendation,
                    included: true,
                },
            )
            .expect("link");
        let projection = record.projection().expect("kind");
        let html = document(&projection, "de", &|_| None);
        assert!(
            html.contains("&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;quoted&quot;"),
            "{html}"
        );
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("<dt>Länder</dt><dd>Estonia</dd>"), "{html}");
        assert!(html.contains("<dd>Geplant</dd>"), "{html}");
        assert!(html.contains("you do not have access"), "{html}");
        let named = document(&projection, "en", &|_| {
            Some("Child-friendly justice".into())
        });
        assert!(named.contains("Child-friendly justice"), "{named}");
    }

    #[test]
    fn sections_and_paragraphs_carry_their_numbers() {
        use tern_domain::record::{FieldEdit, FieldPath, ItemId, RecordKind};
        let id = RecordId::v7(1_760_000_000_000, [3; 10]);
        let (record, _) = Record::create(id, RecordKind::Recommendation, 1);
        let sections = FieldPath::top("sections");
        for (position, section, heading) in [(0, "s1", "Appointment"), (1, "s2", "Training")] {
            let item = ItemId(section.into());
            record
                .change(
                    &sections,
                    FieldEdit::InsertItem {
                        id: item.clone(),
                        position,
                    },
                )
                .expect("section");
            record
                .change(
                    &sections.child(item.clone(), "heading"),
                    FieldEdit::Text(heading.into()),
                )
                .expect("heading");
            let paragraphs = sections.child(item, "paragraphs");
            for n in 0..2 {
                let paragraph = ItemId(format!("{section}p{n}"));
                record
                    .change(
                        &paragraphs,
                        FieldEdit::InsertItem {
                            id: paragraph.clone(),
                            position: n,
                        },
                    )
                    .expect("paragraph");
                record
                    .change(
                        &paragraphs.child(paragraph, "text"),
                        FieldEdit::Text(format!("{heading}, paragraph {}.", n + 1)),
                    )
                    .expect("text");
            }
        }
        let html = document(&record.projection().expect("kind"), "en", &|_| None);
        assert!(html.contains("<h3>1. Appointment</h3>"), "{html}");
        assert!(html.contains("<h3>2. Training</h3>"), "{html}");
        assert!(
            html.contains("<h4>2.2</h4>\n<p>Training, paragraph 2.</p>"),
            "{html}"
        );
        // A paragraph's one text is under its number, not under a label.
        assert!(!html.contains("Paragraph text"), "{html}");
    }
}
