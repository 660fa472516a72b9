//! CPU work from async code, and how many threads it gets (the decode threads themselves
//! are `pipeline::workers`).

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
    fn blocking_runs_on_both_runtime_flavors() {
        assert_eq!(blocking(|| 7), 7);
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        assert_eq!(rt.block_on(async { blocking(|| 8) }), 8);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        assert_eq!(rt.block_on(async { blocking(|| 9) }), 9);
    }
}
