//! Movidesk's budget as its documentation states it: at most 10
//! requests a minute. Kept as a sliding log of the last grants, so no
//! 60-second window ever holds more than the budget: a token bucket
//! (GCRA) refills one request every 6 s after an initial burst of 10, and
//! lets 19 through in the first minute.
//!
//! The moment is an argument, never read here, so tests walk a fake
//! clock through many minutes in no time.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// At most `requests` grants in any `window`.
#[derive(Debug)]
pub struct Budget {
    requests: usize,
    window: Duration,
    /// The moments of the grants still inside a window of now, oldest
    /// first; never longer than `requests`.
    granted: VecDeque<Instant>,
}

impl Budget {
    /// A budget of `requests` (at least one) in every `window`.
    pub fn new(requests: u32, window: Duration) -> Self {
        let requests = usize::try_from(requests.max(1)).unwrap_or(usize::MAX);
        Self {
            requests,
            window,
            granted: VecDeque::with_capacity(requests.min(1024)),
        }
    }

    /// Takes a turn at `now`, or says how long until one is free.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        while self
            .granted
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= self.window)
        {
            self.granted.pop_front();
        }
        if self.granted.len() < self.requests {
            self.granted.push_back(now);
            return Ok(());
        }
        let oldest = self.granted.front().copied().unwrap_or(now);
        Err((oldest + self.window)
            .saturating_duration_since(now)
            .max(Duration::from_millis(1)))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    /// Whether no window of `window` starting at a grant holds more than
    /// `most` grants (the windows that start elsewhere hold no more than
    /// one starting at their first grant).
    fn never_more_than(grants: &[Instant], most: usize, window: Duration) -> bool {
        grants.iter().all(|start| {
            grants
                .iter()
                .filter(|at| **at >= *start && at.duration_since(*start) < window)
                .count()
                <= most
        })
    }

    #[test]
    fn a_greedy_caller_gets_ten_in_every_minute_over_five_minutes() {
        let mut budget = Budget::new(10, MINUTE);
        let start = Instant::now();
        let mut now = start;
        let mut grants = Vec::new();
        while now.duration_since(start) < 5 * MINUTE {
            match budget.take(now) {
                Ok(()) => grants.push(now),
                Err(wait) => now += wait,
            }
        }
        assert!(never_more_than(&grants, 10, MINUTE));
        // No burst above the budget in the first minute, and the whole
        // budget used in each of the five.
        let in_minute = |n: u32| {
            grants
                .iter()
                .filter(|at| at.duration_since(start) >= MINUTE * n && at.duration_since(start) < MINUTE * (n + 1))
                .count()
        };
        assert_eq!((0..5).map(in_minute).collect::<Vec<_>>(), vec![10; 5]);
    }

    #[test]
    fn the_wait_ends_when_the_oldest_grant_leaves_the_window() {
        let mut budget = Budget::new(2, MINUTE);
        let start = Instant::now();
        assert_eq!(budget.take(start), Ok(()));
        assert_eq!(budget.take(start + Duration::from_secs(10)), Ok(()));
        assert_eq!(
            budget.take(start + Duration::from_secs(30)),
            Err(Duration::from_secs(30))
        );
        assert_eq!(
            budget.take(start + MINUTE - Duration::from_millis(1)),
            Err(Duration::from_millis(1))
        );
        assert_eq!(budget.take(start + MINUTE), Ok(()));
    }

    proptest! {
        /// Callers arriving at any moments never get more than the budget
        /// in any window.
        #[test]
        fn no_window_ever_holds_more_than_the_budget(
            requests in 1u32..12,
            gaps in proptest::collection::vec(0u64..20_000, 1..200),
        ) {
            let mut budget = Budget::new(requests, MINUTE);
            let mut now = Instant::now();
            let mut grants = Vec::new();
            for gap in gaps {
                now += Duration::from_millis(gap);
                if budget.take(now).is_ok() {
                    grants.push(now);
                }
            }
            prop_assert!(never_more_than(&grants, requests as usize, MINUTE));
        }
    }
}
