//! The wall-clock budget of one decision.
//!
//! Rhai's operation limit bounds one expression, but a decision runs
//! hundreds of them (and tries absent facts value by value). The budget
//! bounds the whole decision: the evaluator checks it before each run, and
//! Rhai's progress callback every 1,024 operations inside a run. The
//! deadline is per thread, so decisions on other threads keep their own.
//! It reads a monotonic timer, never the calendar clock: the moment of a
//! decision is still an input.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::Dynamic;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The budget of the decision running on this thread; the previous one
/// (usually none) comes back when it is dropped.
pub(crate) struct Budget {
    previous: Option<Instant>,
}

impl Budget {
    /// Starts a budget of `limit` from now; `None` means unbounded (static
    /// analysis, which has its own run limits).
    pub(crate) fn start(limit: Option<Duration>) -> Self {
        let deadline = limit.and_then(|limit| Instant::now().checked_add(limit));
        Self {
            previous: DEADLINE.with(|cell| cell.replace(deadline)),
        }
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        DEADLINE.with(|cell| cell.set(self.previous));
    }
}

/// Whether the running decision has spent its budget.
pub(crate) fn exceeded() -> bool {
    DEADLINE.with(|cell| cell.get().is_some_and(|deadline| Instant::now() >= deadline))
}

/// Rhai's progress callback: stops the script once the budget is spent.
pub(crate) fn check(operations: u64) -> Option<Dynamic> {
    (operations.is_multiple_of(1024) && exceeded()).then_some(Dynamic::UNIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_expires_and_is_restored_when_dropped() {
        assert!(!exceeded(), "no budget, nothing is exceeded");
        {
            let _outer = Budget::start(Some(Duration::ZERO));
            assert!(exceeded());
            assert!(check(1024).is_some());
            assert!(check(1023).is_none(), "checked only every 1,024 operations");
            {
                let _inner = Budget::start(None);
                assert!(!exceeded());
            }
            assert!(exceeded(), "the outer budget is back");
        }
        assert!(!exceeded());
        let _huge = Budget::start(Some(Duration::MAX));
        assert!(!exceeded(), "a deadline past what the timer holds is no deadline");
    }
}
