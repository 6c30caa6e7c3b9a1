//! Work split over every core, in the caller's order.
//!
//! One contiguous chunk of the items per core, on scoped threads (no pool,
//! no extra dependency), joined back in order: the output is the same
//! whatever the number of cores. Replay and batches use it for decisions.

/// `f` over `items` on every available core; results in `items`' order.
pub fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
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

