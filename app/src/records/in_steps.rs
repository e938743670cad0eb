//! A record page drawn in steps, each in a task of its own: drawn at once, a
//! 12-section recommendation is one task of 50 ms on a laptop and four times
//! that on a phone, during which a tap goes unanswered (Lighthouse's total
//! blocking time). Long lists show their first items at once and the rest
//! within a few frames; side parts follow the text.

use leptos::prelude::*;
use std::time::Duration;

/// Items drawn in the first task, and in each after it.
const STEP: usize = 3;

/// How many of `total` items to draw now. Once every item has been drawn,
/// all are (an item added later appears at once).
pub fn drawn_in_steps(total: Signal<usize>) -> Signal<usize> {
    let drawn = RwSignal::new(STEP);
    Effect::new(move |_| {
        let now = drawn.get();
        if now == usize::MAX {
            return;
        }
        if now >= total.get() {
            drawn.set(usize::MAX);
        } else {
            set_timeout(move || drawn.update(|drawn| *drawn += STEP), Duration::ZERO);
        }
    });
    Signal::derive(move || drawn.get().min(total.get()))
}

/// Draws its children a task after it is drawn itself: for parts beside or
/// below the text (the outline, links, invitations), whose late arrival moves
/// nothing above them.
#[component]
pub fn Later(children: ChildrenFn) -> impl IntoView {
    let shown = RwSignal::new(false);
    Effect::new(move |_| set_timeout(move || shown.set(true), Duration::ZERO));
    view! { <Show when=move || shown.get()>{children()}</Show> }
}
