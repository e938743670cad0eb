//! What both renderings of user Markdown (the browser's DOM, the server's HTML
//! export) agree on: the parser options, and which link targets are kept.

/// pulldown-cmark's `Options` bits: tables (1 << 1) and strikethrough (1 << 3).
/// Kept as bits so this crate needs no Markdown parser.
pub const OPTIONS: u32 = (1 << 1) | (1 << 3);

/// Links may lead to the web, to mail, or within Tern; anything else
/// (`javascript:`, `data:`, another site without a scheme…) loses its target.
pub fn is_safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//"))
        || lower.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::is_safe_link;

    #[test]
    fn only_web_mail_and_own_links_keep_their_target() {
        for good in [
            "https://cbss.org",
            "http://x.org/a",
            "mailto:a@b.org",
            "/recommendations",
            "#s",
        ] {
            assert!(is_safe_link(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "//evil.example",
            "vbscript:x",
        ] {
            assert!(!is_safe_link(bad), "{bad}");
        }
    }
}
