//! The rows of a long list that are on screen (and a few beyond), so a list
//! of thousands renders a few dozen rows; and where the page was scrolled,
//! kept per address in `sessionStorage`, so coming back from a record
//! returns to the same place.
//!
//! Rows have one height (`style/main.css`, `.record-table tr.record-row`),
//! measured from the first rendered row; the rows above and below the window
//! are stood in for by two spacer rows of their height, so the page scrolls
//! as if every row were there.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::HtmlElement;

/// Rows rendered beyond each edge of the screen: enough for a fast flick.
const OVERSCAN: usize = 15;
/// Rows rendered before the first measure (a tall screen's worth).
const FIRST_ROWS: usize = 60;
/// The height of a row until one is measured, in CSS px.
const ROW_PX: f64 = 48.0;
/// sessionStorage keys: this prefix and the list's address.
const SCROLL_KEY: &str = "tern-list-scroll:";

/// Which rows (by index in the list) to render: `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    pub start: usize,
    pub end: usize,
    /// The height of one row, in CSS px.
    pub row_px: u32,
}

impl Window {
    /// The spacer heights above and below the rendered rows, in CSS px.
    pub fn spacers(self, total: usize) -> (usize, usize) {
        let row = self.row_px as usize;
        let end = self.end.min(total);
        (self.start.min(end) * row, total.saturating_sub(end) * row)
    }
}

/// Follows the page's scroll and size; the window covers what the table
/// `table_id` shows on screen. `address` names the list's place in
/// `sessionStorage`: it is saved as the page scrolls and restored once the
/// list first has `total` rows to scroll through.
pub(super) fn follow_scroll(
    table_id: &'static str,
    total: Memo<usize>,
    address: impl Fn() -> String + Copy + Send + Sync + 'static,
) -> ReadSignal<Window> {
    let (window_rows, set_window) = signal(Window {
        start: 0,
        end: FIRST_ROWS,
        row_px: ROW_PX as u32,
    });
    let measure = move || {
        let Some(table) = document().get_element_by_id(table_id) else {
            return;
        };
        let row_px = table
            .query_selector("tr.record-row")
            .ok()
            .flatten()
            .and_then(|row| row.dyn_into::<HtmlElement>().ok())
            .map(|row| f64::from(row.offset_height()))
            .filter(|height| *height > 0.0)
            .unwrap_or(ROW_PX);
        let head = table
            .query_selector("thead")
            .ok()
            .flatten()
            .and_then(|head| head.dyn_into::<HtmlElement>().ok())
            .map_or(0.0, |head| f64::from(head.offset_height()));
        let screen = window()
            .inner_height()
            .ok()
            .and_then(|height| height.as_f64())
            .unwrap_or(800.0);
        // How far the first body row is above the top of the screen.
        let above = -(table.get_bounding_client_rect().top() + head);
        let first = (above / row_px).floor().max(0.0) as usize;
        let shown = (screen / row_px).ceil() as usize;
        let next = Window {
            start: first.saturating_sub(OVERSCAN),
            end: first + shown + OVERSCAN,
            row_px: row_px as u32,
        };
        if window_rows.get_untracked() != next {
            set_window.set(next);
            save_scroll(&address());
        }
    };
    let restored = StoredValue::new(false);
    Effect::new(move |_| {
        // Once there are rows to scroll through (the device's listings may
        // arrive after the first render), go back to where the user was.
        if total.get() > 0 && !restored.get_value() {
            restored.set_value(true);
            if let Some(y) = saved_scroll(&address()) {
                window().scroll_to_with_x_and_y(0.0, y);
            }
        }
        measure();
    });
    Effect::new(move |_| {
        let scroll = window_event_listener(leptos::ev::scroll, move |_| measure());
        let resize = window_event_listener(leptos::ev::resize, move |_| measure());
        on_cleanup(move || {
            scroll.remove();
            resize.remove();
        });
    });
    window_rows
}

fn session_storage() -> Option<leptos::web_sys::Storage> {
    window().session_storage().ok().flatten()
}

fn save_scroll(address: &str) {
    // Not once the app has moved on to another page and scrolls it.
    let location = window().location();
    let here = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    if here != address {
        return;
    }
    // Whole pixels, kept as an integer: float formatting and parsing would
    // add their code to the page's module.
    let y = window().scroll_y().unwrap_or(0.0).max(0.0) as u32;
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(&format!("{SCROLL_KEY}{address}"), &y.to_string());
    }
}

fn saved_scroll(address: &str) -> Option<f64> {
    let y: u32 = session_storage()?
        .get_item(&format!("{SCROLL_KEY}{address}"))
        .ok()
        .flatten()?
        .parse()
        .ok()?;
    Some(f64::from(y))
}

#[cfg(test)]
mod tests {
    use super::Window;

    #[test]
    fn spacers_stand_in_for_the_rows_not_rendered() {
        let window = Window {
            start: 100,
            end: 160,
            row_px: 48,
        };
        assert_eq!(window.spacers(10_000), (4_800, 9_840 * 48));
        // Near the end of a list, or past it after a filter, nothing is negative.
        assert_eq!(window.spacers(150), (4_800, 0));
        assert_eq!(window.spacers(20), (960, 0));
    }
}
