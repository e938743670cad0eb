//! The formatting of long texts. A long text is Markdown underneath, and nobody
//! needs to know it: the editor's toolbar and shortcuts write it ([`format`]),
//! and the preview, the reading view and the exports show it ([`html`]), all
//! through one parser (pulldown-cmark) with one set of options, so what a user
//! formats is what every reader sees.
//!
//! Offsets are byte offsets into the text; [`utf16_to_byte`] and
//! [`byte_to_utf16`] convert from and to the DOM's UTF-16 offsets.

pub mod format;
pub mod html;
mod lines;

pub use format::{Edited, Format, Formats, LinkError, Selection};
pub use html::to_html;

/// The Markdown a long text may use: lists, links, emphasis, footnotes, tables
/// and strikethrough.
fn options() -> pulldown_cmark::Options {
    use pulldown_cmark::Options;
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES
}

/// The byte offset in `text` of a UTF-16 offset (a DOM selection's), clamped to
/// the text and to a character boundary.
pub fn utf16_to_byte(text: &str, offset: u32) -> usize {
    let mut units = 0u32;
    for (at, character) in text.char_indices() {
        if units >= offset {
            return at;
        }
        units += character.len_utf16() as u32;
    }
    text.len()
}

/// The UTF-16 offset of a byte offset in `text` (inside a character: its start).
pub fn byte_to_utf16(text: &str, offset: usize) -> u32 {
    text.char_indices()
        .take_while(|&(at, character)| at + character.len_utf8() <= offset)
        .map(|(_, character)| character.len_utf16() as u32)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_offsets_count_utf16_units() {
        let text = "Bør 😀 end";
        assert_eq!(utf16_to_byte(text, 3), 4);
        // The emoji is two UTF-16 units and four bytes.
        assert_eq!(utf16_to_byte(text, 6), 9);
        assert_eq!(byte_to_utf16(text, 9), 6);
        assert_eq!(utf16_to_byte(text, 99), text.len());
        assert_eq!(byte_to_utf16(text, 2), 1, "inside ø: the character's start");
    }
}
