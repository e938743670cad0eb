//! The editor's formatting commands: each takes a text and the user's
//! selection and returns the new text and where the selection goes, writing
//! the Markdown for the user. A command applied where its format already is
//! takes it away again (Ctrl+B in bold text makes it plain), as word
//! processors do; [`formats_at`] tells the toolbar which are on, so a screen
//! reader hears "Bold, pressed".

use super::lines::{all_lines_are, block_prefix, line_start, lines, list_marker};
use pulldown_cmark::{Event, Parser, Tag};
use std::ops::Range;

/// A selection in a text, as byte offsets; `start == end` is a caret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    pub start: usize,
    pub end: usize,
}

impl Selection {
    pub fn new(start: usize, end: usize) -> Self {
        Selection {
            start: start.min(end),
            end: start.max(end),
        }
    }

    pub fn caret(at: usize) -> Self {
        Selection { start: at, end: at }
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// A command's result: the whole new text and the selection in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edited {
    pub text: String,
    pub selection: Selection,
}

/// The formats a toolbar button turns on and off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Bold,
    Italic,
    BulletedList,
    NumberedList,
}

/// Which formats the selection is in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Formats {
    pub bold: bool,
    pub italic: bool,
    pub bulleted: bool,
    pub numbered: bool,
    /// The address of the link the selection is in.
    pub link: Option<String>,
}

impl Formats {
    pub fn has(&self, format: Format) -> bool {
        match format {
            Format::Bold => self.bold,
            Format::Italic => self.italic,
            Format::BulletedList => self.bulleted,
            Format::NumberedList => self.numbered,
        }
    }
}

/// What was typed as a link's address is not one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("not a web or mail address")]
    NotAnAddress,
}

/// The formats at `selection` in `text`.
pub fn formats_at(text: &str, selection: Selection) -> Formats {
    let spans = spans(text);
    Formats {
        bold: covering(&spans, Kind::Strong, text, selection).is_some(),
        italic: covering(&spans, Kind::Emphasis, text, selection).is_some(),
        bulleted: all_lines_are(text, selection, Some(false)),
        numbered: all_lines_are(text, selection, Some(true)),
        link: innermost(&spans, Kind::Link, selection).map(|link| link.dest.clone()),
    }
}

/// Turns `format` on at the selection, or off where it is on.
pub fn toggle(text: &str, selection: Selection, format: Format) -> Edited {
    match format {
        Format::Bold => toggle_inline(text, selection, Kind::Strong, "**"),
        Format::Italic => toggle_inline(text, selection, Kind::Emphasis, "*"),
        Format::BulletedList => toggle_list(text, selection, false),
        Format::NumberedList => toggle_list(text, selection, true),
    }
}

/// Makes the selection a link to `address` (or changes the address of the
/// link it is in). Without a selection, the address itself is the link's text.
pub fn set_link(text: &str, selection: Selection, address: &str) -> Result<Edited, LinkError> {
    let url = link_address(address)?;
    // An address with parentheses or spaces needs the <…> form.
    let dest = if url.contains(['(', ')', ' ']) {
        format!("<{url}>")
    } else {
        url.clone()
    };
    let spans = spans(text);
    let (range, label) = match innermost(&spans, Kind::Link, selection) {
        Some(link) => (link.range.clone(), text[link.inner.clone()].to_owned()),
        None if selection.is_empty() => (selection.start..selection.start, escape_label(&url)),
        None => (
            selection.start..selection.end,
            escape_label(&text[selection.start..selection.end]),
        ),
    };
    let link = format!("[{label}]({dest})");
    let mut new = String::with_capacity(text.len() + link.len());
    new.push_str(&text[..range.start]);
    new.push_str(&link);
    new.push_str(&text[range.end..]);
    Ok(Edited {
        text: new,
        selection: Selection::new(range.start + 1, range.start + 1 + label.len()),
    })
}

/// Takes away the link the selection is in, keeping its words.
pub fn remove_link(text: &str, selection: Selection) -> Edited {
    let spans = spans(text);
    let Some(link) = innermost(&spans, Kind::Link, selection) else {
        return unchanged(text, selection);
    };
    let label = &text[link.inner.clone()];
    let edits = vec![Replace::new(link.range.clone(), label)];
    let mut edited = apply(text, selection, &edits);
    edited.selection = Selection::new(link.range.start, link.range.start + label.len());
    edited
}

/// Adds a footnote: its mark after the selection, its text at the end of the
/// text, where the caret goes to type it.
pub fn add_footnote(text: &str, selection: Selection) -> Edited {
    let number = next_footnote(text);
    let mut new = String::with_capacity(text.len() + 16);
    new.push_str(&text[..selection.end]);
    new.push_str(&format!("[^{number}]"));
    new.push_str(&text[selection.end..]);
    let kept = new.trim_end().len();
    new.truncate(kept);
    new.push_str(&format!("\n\n[^{number}]: "));
    let caret = new.len();
    Edited {
        text: new,
        selection: Selection::caret(caret),
    }
}

/// What the user typed as a link's address, as the address: `cbss.org` is a
/// web address, `name@example.org` a mail address.
pub fn link_address(typed: &str) -> Result<String, LinkError> {
    let typed = typed.trim();
    if typed.is_empty() || typed.contains(char::is_whitespace) || typed.contains(['<', '>']) {
        return Err(LinkError::NotAnAddress);
    }
    let has_scheme = typed.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if has_scheme {
        return if super::html::is_safe_url(typed) && typed.len() > typed.find(':').unwrap_or(0) + 1
        {
            Ok(typed.to_owned())
        } else {
            Err(LinkError::NotAnAddress)
        };
    }
    if typed.contains('@') && !typed.contains('/') {
        return Ok(format!("mailto:{typed}"));
    }
    let host = typed.split(['/', '?', '#']).next().unwrap_or_default();
    let looks_like_host = host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || ".-:".contains(c));
    if looks_like_host {
        Ok(format!("https://{typed}"))
    } else {
        Err(LinkError::NotAnAddress)
    }
}

fn toggle_inline(text: &str, selection: Selection, kind: Kind, marker: &str) -> Edited {
    let spans = spans(text);
    if let Some(covering) = covering(&spans, kind, text, selection) {
        let width = marker.len();
        let edits: Vec<Replace> = covering
            .iter()
            .flat_map(|span| {
                let (start, end) = (span.range.start, span.range.end);
                [
                    Replace::new(start..start + width, ""),
                    Replace::new(end - width..end, ""),
                ]
            })
            .collect();
        return apply(text, selection, &edits);
    }
    // A caret in a word formats the word and stays where it was.
    let (kept, selection) = match (selection.is_empty(), word_at(text, selection.start)) {
        (true, Some(word)) => (selection, word),
        _ => (selection, selection),
    };
    if selection.is_empty() {
        // Markers with the caret between them: what is typed next is formatted.
        let mut new = text.to_owned();
        new.insert_str(selection.start, &marker.repeat(2));
        return Edited {
            text: new,
            selection: Selection::caret(selection.start + marker.len()),
        };
    }
    let edits: Vec<Replace> = line_parts(text, selection)
        .into_iter()
        .flat_map(|part| {
            [
                Replace::new(part.start..part.start, marker),
                Replace::new(part.end..part.end, marker),
            ]
        })
        .collect();
    let mut edited = apply(text, kept, &edits);
    if kept.is_empty() && kept.start == selection.end && !edits.is_empty() {
        // A caret at the word's end stays in the word, before the marker.
        edited.selection = Selection::caret(edited.selection.start - marker.len());
    }
    edited
}

/// The spans of `kind` the selection is in: the innermost one around it, or
/// one around each line's part of it (its words, without the spaces and line
/// breaks selected with them).
fn covering<'a>(
    spans: &'a [Span],
    kind: Kind,
    text: &str,
    selection: Selection,
) -> Option<Vec<&'a Span>> {
    if let Some(span) = innermost(spans, kind, selection) {
        return Some(vec![span]);
    }
    let parts = line_parts(text, selection);
    if selection.is_empty() || parts.is_empty() {
        return None;
    }
    let mut covering: Vec<&Span> = Vec::new();
    for part in parts {
        let span = innermost(spans, kind, Selection::new(part.start, part.end))?;
        if !covering.iter().any(|known| std::ptr::eq(*known, span)) {
            covering.push(span);
        }
    }
    Some(covering)
}

/// Emphasis cannot span paragraphs or start inside a list marker: each line's
/// part of the selection is formatted on its own, without the spaces around it
/// (`** bold**` would not be bold).
fn line_parts(text: &str, selection: Selection) -> Vec<Range<usize>> {
    let mut parts = Vec::new();
    for line in lines(text, selection) {
        let mut part = line.start.max(selection.start)..line.end.min(selection.end);
        if part.start == line.start {
            part.start += block_prefix(&text[line.clone()]).map_or(0, |prefix| prefix.width);
        }
        let inner = &text[part.start.min(part.end)..part.end];
        let trimmed = inner.trim();
        if trimmed.is_empty() {
            continue;
        }
        let mut from = part.start + (inner.len() - inner.trim_start().len());
        let mut to = from + trimmed.len();
        // A marker between a letter and punctuation (`well**-being`) does not
        // count in Markdown: the marker moves to the edge of the word.
        let punctuation = |c: char| !c.is_alphanumeric() && !c.is_whitespace();
        if let (Some(before), Some(first)) = (
            text[..from].chars().next_back(),
            text[from..].chars().next(),
        ) {
            if punctuation(first) && !before.is_whitespace() && !punctuation(before) {
                from = text[..from]
                    .rfind(char::is_whitespace)
                    .map_or(line.start, |at| at + 1)
                    .max(line.start);
            }
        }
        if let (Some(last), Some(after)) =
            (text[..to].chars().next_back(), text[to..].chars().next())
        {
            if punctuation(last) && !after.is_whitespace() && !punctuation(after) {
                to = text[to..]
                    .find(char::is_whitespace)
                    .map_or(line.end, |at| to + at)
                    .min(line.end);
            }
        }
        parts.push(from..to);
    }
    parts
}

fn toggle_list(text: &str, selection: Selection, numbered: bool) -> Edited {
    let touched: Vec<Range<usize>> = lines(text, selection)
        .filter(|line| !text[line.clone()].trim().is_empty())
        .collect();
    if touched.is_empty() {
        // An empty line: it starts the list.
        let start = line_start(text, selection.start);
        let marker = if numbered { "1. " } else { "- " };
        return apply(text, selection, &[Replace::new(start..start, marker)]);
    }
    let remove = all_lines_are(text, selection, Some(numbered));
    let edits: Vec<Replace> = touched
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let existing = list_marker(&text[line.clone()]).map_or(0, |marker| marker.width);
            let replaced = line.start..line.start + existing;
            if remove {
                Replace::new(replaced, "")
            } else if numbered {
                Replace::new(replaced, &format!("{}. ", index + 1))
            } else {
                Replace::new(replaced, "- ")
            }
        })
        .collect();
    apply(text, selection, &edits)
}

/// The word around a caret.
fn word_at(text: &str, at: usize) -> Option<Selection> {
    let is_word = |c: char| c.is_alphanumeric() || c == '\'' || c == '’' || c == '-';
    let start = text[..at]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word(c))
        .last()
        .map_or(at, |(index, _)| index);
    let end = text[at..]
        .char_indices()
        .find(|&(_, c)| !is_word(c))
        .map_or(text.len(), |(index, _)| at + index);
    (end > start).then(|| Selection::new(start, end))
}

fn next_footnote(text: &str) -> u32 {
    let mut highest = 0;
    let mut rest = text;
    while let Some(at) = rest.find("[^") {
        rest = &rest[at + 2..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 && rest[digits..].starts_with(']') {
            highest = highest.max(rest[..digits].parse().unwrap_or(0));
        }
    }
    highest + 1
}

fn escape_label(label: &str) -> String {
    label.replace('[', "\\[").replace(']', "\\]")
}

fn unchanged(text: &str, selection: Selection) -> Edited {
    Edited {
        text: text.to_owned(),
        selection,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Strong,
    Emphasis,
    Link,
}

/// A formatted stretch of the text: its whole range (markers included) and
/// the range of its content.
struct Span {
    kind: Kind,
    range: Range<usize>,
    inner: Range<usize>,
    dest: String,
}

fn spans(text: &str) -> Vec<Span> {
    struct Open {
        kind: Option<Kind>,
        range: Range<usize>,
        inner: Option<Range<usize>>,
        dest: String,
    }
    fn extend(open: &mut [Open], range: &Range<usize>) {
        if let Some(parent) = open.last_mut() {
            parent.inner = Some(match parent.inner.take() {
                Some(inner) => inner.start.min(range.start)..inner.end.max(range.end),
                None => range.clone(),
            });
        }
    }
    let mut spans = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    for (event, range) in Parser::new_ext(text, super::options()).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                let (kind, dest) = match tag {
                    Tag::Strong => (Some(Kind::Strong), String::new()),
                    Tag::Emphasis => (Some(Kind::Emphasis), String::new()),
                    Tag::Link { dest_url, .. } => (Some(Kind::Link), dest_url.to_string()),
                    _ => (None, String::new()),
                };
                open.push(Open {
                    kind,
                    range,
                    inner: None,
                    dest,
                });
            }
            Event::End(_) => {
                let Some(closed) = open.pop() else { continue };
                extend(&mut open, &closed.range);
                if let Some(kind) = closed.kind {
                    let inner = closed
                        .inner
                        .unwrap_or(closed.range.start..closed.range.start);
                    spans.push(Span {
                        kind,
                        range: closed.range,
                        inner,
                        dest: closed.dest,
                    });
                }
            }
            _ => extend(&mut open, &range),
        }
    }
    spans
}

/// The smallest span of `kind` around the selection. A caret at a span's edge
/// is outside it (typing there is not formatted).
fn innermost(spans: &[Span], kind: Kind, selection: Selection) -> Option<&Span> {
    spans
        .iter()
        .filter(|span| span.kind == kind)
        .filter(|span| {
            if selection.is_empty() {
                span.range.start < selection.start && selection.start < span.range.end
            } else {
                span.range.start <= selection.start && selection.end <= span.range.end
            }
        })
        .min_by_key(|span| span.range.len())
}

/// One replacement of a range of the original text.
struct Replace {
    range: Range<usize>,
    with: String,
}

impl Replace {
    fn new(range: Range<usize>, with: &str) -> Self {
        Replace {
            range,
            with: with.to_owned(),
        }
    }
}

/// Applies replacements that do not overlap, moving the selection with the
/// text: its start goes after what is inserted where it stands, its end
/// before, so a wrapped selection still covers the same words.
fn apply(text: &str, selection: Selection, edits: &[Replace]) -> Edited {
    let mut edits: Vec<&Replace> = edits.iter().collect();
    edits.sort_by_key(|edit| (edit.range.start, edit.range.end));
    let mut new = String::with_capacity(text.len() + 16);
    let mut copied = 0;
    for edit in &edits {
        new.push_str(&text[copied..edit.range.start]);
        new.push_str(&edit.with);
        copied = edit.range.end;
    }
    new.push_str(&text[copied..]);
    let map = |position: usize, after: bool| {
        let mut shift = 0isize;
        for edit in &edits {
            let Range { start, end } = edit.range;
            let insertion = start == end;
            if position < start || (insertion && position == start && !after) {
                break;
            }
            if position >= end {
                shift += edit.with.len() as isize - (end - start) as isize;
                continue;
            }
            let moved = (start as isize + shift) as usize;
            return moved + if after { edit.with.len() } else { 0 };
        }
        (position as isize + shift) as usize
    };
    let collapsed = selection.is_empty();
    let start = map(selection.start, true);
    let end = if collapsed {
        start
    } else {
        map(selection.end, false)
    };
    Edited {
        text: new,
        selection: Selection::new(start, end),
    }
}
