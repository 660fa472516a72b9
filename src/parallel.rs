//! Ordered parallel map over a slice on scoped threads: the CPU half of a
//! batch (decrypt, inflate, parse, OCSF, serialize) runs on every core Lambda
//! gives (up to 6 vCPUs) while results keep the records' order.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` applied to every item, results in item order. Work is handed out one
/// item at a time, so one large record does not hold up a whole chunk.
/// With `threads <= 1` or fewer than two items it runs on the calling thread.
pub fn map_ordered<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut parts: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        // A panic in `f` is a bug; re-raise it on the caller's thread.
        workers.into_iter().map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    for (i, r) in parts.iter_mut().flat_map(std::mem::take) {
        slots[i] = Some(r);
    }
    // Every index below items.len() was taken by exactly one worker.
    slots.into_iter().flatten().collect()
}

/// Runs blocking CPU work from async code: on a multi-thread runtime the
/// worker thread is handed over first (`block_in_place`), elsewhere it runs as is.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Threads for the CPU half when `DECODE_THREADS` is not set: every core the process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_covers_every_item() {
        let items: Vec<u64> = (0..1000).collect();
        for threads in [0, 1, 2, 3, 8, 2000] {
            let out = map_ordered(&items, threads, |x| {
                // Uneven work, so the threads finish out of order.
                if x % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
                x * 2
            });
            assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>(), "threads = {threads}");
        }
        assert!(map_ordered(&[] as &[u8], 4, |x| *x).is_empty());
    }

    #[test]
    fn blocking_runs_on_both_runtime_flavors() {
        assert_eq!(blocking(|| 7), 7);
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        assert_eq!(rt.block_on(async { blocking(|| 8) }), 8);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert_eq!(rt.block_on(async { blocking(|| 9) }), 9);
    }
}
