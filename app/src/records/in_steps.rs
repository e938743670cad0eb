//! A long list drawn a few items at a time, each step in a task of its own:
//! a 12-section recommendation drawn at once is one task of 50 ms on a
//! laptop and four times that on a phone, during which a tap goes unanswered
//! (Lighthouse's total blocking time). The first items appear at once; the
//! rest follow within a few frames.

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
