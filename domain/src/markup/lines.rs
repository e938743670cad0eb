//! The lines a selection touches, and what starts them (list markers,
//! quotes): what the list commands and emphasis over several lines work on.

use super::format::Selection;
use std::ops::Range;

/// Whether every non-empty line the selection touches is a list item:
/// numbered (`Some(true)`) or bulleted (`Some(false)`).
pub(super) fn all_lines_are(text: &str, selection: Selection, numbered: Option<bool>) -> bool {
    let mut any = false;
    for line in lines(text, selection) {
        let line = &text[line];
        if line.trim().is_empty() {
            continue;
        }
        any = true;
        if list_marker(line).map(|marker| marker.numbered) != numbered {
            return false;
        }
    }
    any
}

/// The ranges of the lines `selection` touches, without their line breaks. A
/// selection that ends at the start of a line does not touch that line.
pub(super) fn lines(text: &str, selection: Selection) -> impl Iterator<Item = Range<usize>> + '_ {
    let first = line_start(text, selection.start);
    let last_end =
        if selection.end > selection.start && line_start(text, selection.end) == selection.end {
            selection.end.saturating_sub(1).max(first)
        } else {
            selection.end
        };
    let end = text[last_end..]
        .find('\n')
        .map_or(text.len(), |at| last_end + at);
    let mut at = first;
    std::iter::from_fn(move || {
        if at > end {
            return None;
        }
        let line_end = text[at..end].find('\n').map_or(end, |offset| at + offset);
        let line = at..line_end;
        at = line_end + 1;
        Some(line)
    })
}

pub(super) fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |newline| newline + 1)
}

/// A list item's marker at the start of a line (`- `, `* `, `+ `, `1. `, `1) `).
pub(super) struct ListMarker {
    pub width: usize,
    pub numbered: bool,
}

pub(super) fn list_marker(line: &str) -> Option<ListMarker> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let (marker, numbered) = if rest.starts_with(['-', '*', '+']) {
        (1, false)
    } else {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 || digits > 9 || !rest[digits..].starts_with(['.', ')']) {
            return None;
        }
        (digits + 1, true)
    };
    let after = &rest[marker..];
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    let spaces = (after.len() - after.trim_start_matches(' ').len()).min(4);
    Some(ListMarker {
        width: indent + marker + spaces,
        numbered,
    })
}

/// What starts a line before its words: a list marker or a quote's `>`.
pub(super) fn block_prefix(line: &str) -> Option<ListMarker> {
    list_marker(line).or_else(|| {
        let quote = line.trim_start_matches(' ');
        quote.starts_with('>').then(|| ListMarker {
            width: line.len() - quote.len() + 1 + usize::from(quote[1..].starts_with(' ')),
            numbered: false,
        })
    })
}
