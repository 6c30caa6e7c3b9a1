//! Many decisions at once, on every core, in the caller's order.
//!
//! A loaded bundle is `Send + Sync`, so replaying a corpus or a decision
//! log splits the work into one contiguous chunk per core with scoped
//! threads (no pool, no extra dependency) and joins the chunks back in
//! order: the output is the same whatever the number of cores.

use chrono::{DateTime, FixedOffset};

use crate::bundle::Bundle;
use crate::decision::Decision;
use crate::error::DecideError;
use crate::situation::Situation;

/// `f` over `items` on every available core; results in `items`' order.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    // Below a few items per core a thread costs more than it saves.
    if cores < 2 || items.len() < 2 * cores {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(cores);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for worker in workers {
            // A worker only panics if `f` did; let it surface here as well.
            match worker.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

impl Bundle {
    /// Decides every situation at `now` (each situation's own `now` wins),
    /// on every core, in order.
    pub fn decide_batch(
        &self,
        situations: &[Situation],
        now: DateTime<FixedOffset>,
    ) -> Vec<Result<Decision, DecideError>> {
        in_parallel(situations, |situation| self.decide(situation, now))
    }
}
