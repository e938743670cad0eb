//! In-memory rate limits for sign-in and the other password endpoints.
//!
//! A limit is "at most `max` events per `window`" per key, over a sliding
//! window. Memory stays bounded: keys whose events have all left the window are
//! dropped whenever the table grows past a size.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before the table is swept of stale ones.
const SWEEP_AT: usize = 10_000;

pub struct Limiter<K> {
    max: u32,
    window: Duration,
    events: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K: Eq + Hash + Clone> Limiter<K> {
    pub fn new(max: u32, window: Duration) -> Limiter<K> {
        Limiter {
            max: max.max(1),
            window,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// How long until `key` may act again, if it has used up its allowance.
    pub fn blocked(&self, key: &K) -> Option<Duration> {
        let now = Instant::now();
        let Ok(mut events) = self.events.lock() else {
            return None;
        };
        let times = events.get_mut(key)?;
        Self::forget_old(times, now, self.window);
        if times.len() < self.max as usize {
            return None;
        }
        times
            .front()
            .map(|oldest| (*oldest + self.window).saturating_duration_since(now))
    }

    /// Counts one event for `key`.
    pub fn record(&self, key: &K) {
        let now = Instant::now();
        let Ok(mut events) = self.events.lock() else {
            return;
        };
        if events.len() >= SWEEP_AT {
            let window = self.window;
            events.retain(|_, times| {
                Self::forget_old(times, now, window);
                !times.is_empty()
            });
        }
        let times = events.entry(key.clone()).or_default();
        Self::forget_old(times, now, self.window);
        times.push_back(now);
        // Only the newest `max` events matter for the limit.
        while times.len() > self.max as usize {
            times.pop_front();
        }
    }

    /// Counts one event, unless the allowance is used up: then how long to wait.
    pub fn attempt(&self, key: &K) -> Result<(), Duration> {
        match self.blocked(key) {
            Some(wait) => Err(wait),
            None => {
                self.record(key);
                Ok(())
            }
        }
    }

    fn forget_old(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while times
            .front()
            .is_some_and(|oldest| now.saturating_duration_since(*oldest) >= window)
        {
            times.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_allowance_and_then_a_wait_within_the_window() {
        let limiter = Limiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(limiter.attempt(&"ip"), Ok(()));
        }
        let wait = limiter.attempt(&"ip").expect_err("fourth attempt waits");
        assert!(wait > Duration::from_secs(58) && wait <= Duration::from_secs(60));
        // Other keys are not affected.
        assert_eq!(limiter.attempt(&"other"), Ok(()));
    }

    #[test]
    fn events_leave_the_window() {
        let limiter = Limiter::new(1, Duration::from_millis(30));
        limiter.record(&1);
        assert!(limiter.blocked(&1).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.blocked(&1).is_none());
    }
}
