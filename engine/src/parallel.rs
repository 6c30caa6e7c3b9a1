//! Work on more than one core, in the caller's order, on scoped threads
//! (no pool, no extra dependency): the output is the same whatever the
//! number of cores.
//!
//! - `in_parallel` splits the items into one contiguous chunk per core and
//!   joins the results back in order: replay, `diff` and decision batches.
//! - `pipelined` produces on another core while the caller consumes in
//!   order, a few results ahead: loading reads the next batch of rules
//!   while it compiles the last.

/// The cores work can be split over.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// `f` over `items` on every available core; results in `items`' order.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = cores();
    // Below a few items per core a thread costs more than it saves.
    if cores < 2 || items.len() < 2 * cores {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(cores);
    let f = &f;
    let (first, others) = items.split_at(chunk.min(items.len()));
    std::thread::scope(|scope| {
        // The calling thread takes the first chunk instead of waiting.
        let workers: Vec<_> = others
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        out.extend(first.iter().map(f));
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

/// How many results the producer of `pipelined` may run ahead.
const AHEAD: usize = 4;

/// `produce` over `items` on another core while `consume` reads the
/// results in `items`' order, as they come: memory holds a few results at
/// a time, not all of them. When `consume` returns before reading them
/// all, the producer stops at its next result. With fewer than
/// `min_items` items (starting a thread costs more than they take) or one
/// core, both run in turn on the calling thread.
pub(crate) fn pipelined<T: Sync, R: Send, O>(
    items: &[T],
    min_items: usize,
    produce: impl Fn(&T) -> R + Sync,
    consume: impl FnOnce(&mut dyn Iterator<Item = R>) -> O,
) -> O {
    if cores() < 2 || items.len() < min_items.max(2) {
        return consume(&mut items.iter().map(produce));
    }
    let produce = &produce;
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(AHEAD);
        scope.spawn(move || {
            for item in items {
                // Sending fails once `consume` has returned: stop there.
                if sender.send(produce(item)).is_err() {
                    break;
                }
            }
        });
        let mut results = receiver.into_iter();
        let out = consume(&mut results);
        // Before the scope waits for the producer: one blocked on a full
        // channel is released.
        drop(results);
        out
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn a_pipeline_gives_its_results_in_order() {
        let items: Vec<u64> = (0..1_000).collect();
        let squares = pipelined(&items, 2, |n| n * n, |results| results.collect::<Vec<_>>());
        assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
        let squares = pipelined(&items, usize::MAX, |n| n * n, |results| results.collect::<Vec<_>>());
        assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
    }

    #[test]
    fn a_consumer_that_stops_early_stops_the_producer() {
        let items: Vec<u64> = (0..100_000).collect();
        let produced = AtomicUsize::new(0);
        let first = pipelined(
            &items,
            2,
            |n| {
                produced.fetch_add(1, Ordering::Relaxed);
                *n
            },
            |results| results.take(3).collect::<Vec<_>>(),
        );
        assert_eq!(first, [0, 1, 2]);
        // The three read, those waiting in the channel, and the one whose
        // send found the channel closed.
        assert!(produced.load(Ordering::Relaxed) <= 3 + AHEAD + 2, "{produced:?}");
    }
}
