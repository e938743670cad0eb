//! The editor's formatting commands, as a user at the toolbar meets them: what
//! the text becomes, where the selection goes, and what shows as "on".

mod common;

use common::Rng;
use tern_domain::markup::format::{
    add_footnote, formats_at, link_address, remove_link, set_link, toggle,
};
use tern_domain::markup::{to_html, Format, LinkError, Selection};

/// `text` with `[` and `]` marking the selection (`|` a caret), as the
/// selection itself.
fn marked(text: &str) -> (String, Selection) {
    if let Some(at) = text.find('|') {
        return (text.replacen('|', "", 1), Selection::caret(at));
    }
    let start = text.find('[').expect("a selection");
    let end = text.find(']').expect("its end") - 1;
    (
        text.replacen('[', "", 1).replacen(']', "", 1),
        Selection::new(start, end),
    )
}

fn show(text: &str, selection: Selection) -> String {
    let mut shown = text.to_owned();
    if selection.is_empty() {
        shown.insert(selection.start, '|');
    } else {
        shown.insert(selection.end, ']');
        shown.insert(selection.start, '[');
    }
    shown
}

fn run(before: &str, format: Format) -> String {
    let (text, selection) = marked(before);
    let edited = toggle(&text, selection, format);
    show(&edited.text, edited.selection)
}

#[test]
fn bold_wraps_the_selection_and_takes_it_away_again() {
    assert_eq!(
        run("Protect [every child] now", Format::Bold),
        "Protect **[every child]** now"
    );
    assert_eq!(
        run("Protect **[every child]** now", Format::Bold),
        "Protect [every child] now"
    );
    // Part of a bold stretch selected: the whole stretch becomes plain.
    assert_eq!(
        run("Protect **every [child]** now", Format::Bold),
        "Protect every [child] now"
    );
    // Spaces around the selection stay outside the markers, where they must be.
    assert_eq!(
        run("Protect[ every ]child", Format::Bold),
        "Protect[ **every** ]child"
    );
}

#[test]
fn a_caret_in_a_word_formats_the_word_and_stays() {
    assert_eq!(
        run("Protect ev|ery child", Format::Italic),
        "Protect *ev|ery* child"
    );
    assert_eq!(
        run("Protect *ev|ery* child", Format::Italic),
        "Protect ev|ery child"
    );
    // Between words: markers to type into.
    assert_eq!(run("Protect | child", Format::Bold), "Protect **|** child");
}

#[test]
fn emphasis_over_lines_is_set_per_line_after_list_markers() {
    assert_eq!(
        run("[- first measure\n- second]", Format::Bold),
        "[- **first measure**\n- **second]**"
    );
    assert_eq!(
        run("[- **first measure**\n- **second]**", Format::Bold),
        "[- first measure\n- second]"
    );
    // Next to punctuation in a word, the markers go to the word's edges.
    assert_eq!(
        run("Child well[-being] matters", Format::Bold),
        "Child **well[-being]** matters"
    );
}

#[test]
fn lists_start_switch_and_end() {
    assert_eq!(
        run("[Train staff\nFund barnahus]", Format::BulletedList),
        "- [Train staff\n- Fund barnahus]"
    );
    assert_eq!(
        run("[- Train staff\n- Fund barnahus]", Format::NumberedList),
        "1. [Train staff\n2. Fund barnahus]"
    );
    assert_eq!(run("1. Train| staff", Format::NumberedList), "Train| staff");
    // Only the lines the selection touches; blank lines are left alone.
    assert_eq!(
        run("Intro\n\n[One\n\nTwo]\nAfter", Format::BulletedList),
        "Intro\n\n- [One\n\n- Two]\nAfter"
    );
    // On an empty line the list starts there.
    assert_eq!(run("Intro\n|", Format::BulletedList), "Intro\n- |");
}

#[test]
fn the_toolbar_shows_what_is_on() {
    let (text, selection) = marked("A **bold and *both* |words** and [link](https://cbss.org)");
    let on = formats_at(&text, selection);
    assert!(
        on.bold && !on.italic && on.link.is_none() && !on.bulleted,
        "{on:?}"
    );
    let (text, selection) = marked("A **bold and *bo|th* words**");
    assert!(formats_at(&text, selection).italic);
    let (text, selection) = marked("See [the C|BSS](https://cbss.org)");
    assert_eq!(
        formats_at(&text, selection).link.as_deref(),
        Some("https://cbss.org")
    );
    // A caret right after the markers is outside: what is typed there is plain.
    let (text, selection) = marked("A **bold**| word");
    assert!(!formats_at(&text, selection).bold);
    let (text, selection) = marked("- one\n- t|wo");
    let on = formats_at(&text, selection);
    assert!(on.bulleted && !on.numbered);
}

#[test]
fn links_are_added_changed_and_removed_keeping_their_words() {
    let (text, selection) = marked("Read [the report] today");
    let edited = set_link(&text, selection, "cbss.org/report").expect("an address");
    assert_eq!(
        show(&edited.text, edited.selection),
        "Read [[the report]](https://cbss.org/report) today"
    );

    let (text, selection) = marked("Read [the re|port](https://old.example) today");
    let edited = set_link(&text, selection, "https://cbss.org").expect("an address");
    assert_eq!(edited.text, "Read [the report](https://cbss.org) today");

    let (text, selection) = marked("Read [the re|port](https://cbss.org) today");
    let edited = remove_link(&text, selection);
    assert_eq!(
        show(&edited.text, edited.selection),
        "Read [the report] today"
    );

    // No selection: the address is the link's words.
    let (text, selection) = marked("Write to |");
    let edited = set_link(&text, selection, "unit@cbss.org").expect("a mail address");
    assert_eq!(
        edited.text,
        "Write to [mailto:unit@cbss.org](mailto:unit@cbss.org)"
    );
}

#[test]
fn a_link_address_is_a_web_or_mail_address() {
    assert_eq!(
        link_address(" https://cbss.org ").as_deref(),
        Ok("https://cbss.org")
    );
    assert_eq!(
        link_address("www.cbss.org").as_deref(),
        Ok("https://www.cbss.org")
    );
    assert_eq!(
        link_address("unit@cbss.org").as_deref(),
        Ok("mailto:unit@cbss.org")
    );
    for bad in [
        "",
        "javascript:alert(1)",
        "two words",
        "report",
        "data:text/html,x",
        "https:",
    ] {
        assert_eq!(link_address(bad), Err(LinkError::NotAnAddress), "{bad:?}");
    }
}

#[test]
fn a_footnote_is_marked_and_its_text_typed_at_the_end() {
    let (text, selection) = marked("Guardians[^1] act promptly|.\n\n[^1]: Directive 2011/36/EU.\n");
    let edited = add_footnote(&text, selection);
    assert_eq!(
        show(&edited.text, edited.selection),
        "Guardians[^1] act promptly[^2].\n\n[^1]: Directive 2011/36/EU.\n\n[^2]: |"
    );
    let html = to_html(&format!("{}Article 4.", edited.text), "p");
    assert!(html.contains("Article 4."), "{html}");
    assert!(html.contains(">2</a></sup>"), "{html}");
}

/// Any format applied twice to plain words gives the words back, with the
/// selection inside the text: a toolbar button is always its own undo.
#[test]
fn every_format_twice_is_no_change() {
    const WORDS: [&str; 8] = [
        "child",
        "rights",
        "Østersjø",
        "Ąžuolas",
        "well-being",
        "care🇪🇪",
        "barnahus",
        "Þing",
    ];
    for seed in 0..400u64 {
        let mut rng = Rng(seed);
        let mut text = String::new();
        for n in 0..1 + rng.below(12) {
            if n > 0 {
                text.push(if rng.below(5) == 0 { '\n' } else { ' ' });
            }
            text.push_str(WORDS[rng.below(WORDS.len())]);
        }
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|&at| text.is_char_boundary(at))
            .collect();
        let a = boundaries[rng.below(boundaries.len())];
        let b = boundaries[rng.below(boundaries.len())];
        let selection = Selection::new(a, b);
        let format = [
            Format::Bold,
            Format::Italic,
            Format::BulletedList,
            Format::NumberedList,
        ][rng.below(4)];
        let once = toggle(&text, selection, format);
        assert!(
            once.selection.end <= once.text.len(),
            "seed {seed}: selection outside {:?}",
            once.text
        );
        // Nothing to format (spaces only), or markers to type into: no state to check.
        let inline = format == Format::Bold || format == Format::Italic;
        let empty_markers = if format == Format::Bold { "****" } else { "**" };
        if inline
            && (once.text == text || selection.is_empty() && once.text.contains(empty_markers))
        {
            continue;
        }
        let on = formats_at(&once.text, once.selection);
        assert!(
            on.has(format),
            "seed {seed}: {format:?} not on after applying it: {:?} {:?}",
            once.text,
            once.selection
        );
        let twice = toggle(&once.text, once.selection, format);
        assert_eq!(
            twice.text, text,
            "seed {seed}: {format:?} twice on {:?} at {selection:?}",
            text
        );
    }
}
