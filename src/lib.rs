//! das-forwarder: decrypts Amazon Aurora/RDS Database Activity Streams and
//! forwards the activity events. See the README for the data flow.

pub(crate) mod check;
pub mod cli;
pub mod columnar;
pub(crate) mod compact;
pub mod config;
pub mod das;
pub(crate) mod error;
pub mod esdk;
pub mod gzip;
pub mod handler;
pub mod keys;
pub mod kinesis;
pub mod lambda;
pub mod layout;
pub mod logging;
pub(crate) mod metrics;
pub mod ocsf;
pub mod parallel;
pub mod pipeline;
pub mod redact;
pub(crate) mod replay;
pub(crate) mod setup;
pub mod sinks;

// mimalloc for every binary built on this crate (the Lambda, the tests, the benches): a batch
// allocates a few hundred thousand short-lived strings (the parsed events) and tens of MB of
// output, where glibc's allocator spent its time in page faults and trimming.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc keeps freed memory for `purge_delay` before returning it to the system: 1 s by
/// default in its v3, longer than most invocations, so every buffer a batch freed would still
/// count in its peak. At 100 ms what a chunk freed goes back while the batch goes on: a 6 MB
/// batch through the S3 sink peaked at 72-76 MiB with the default and at 55-59 MiB with 100 ms
/// (10 ms: 54 MiB, but one core ran about 10% slower). Called first thing by the binary.
pub fn tune_allocator() {
    /// `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (include/mimalloc.h).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets one of mimalloc's runtime options, which it reads atomically; no memory is
    // touched.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 100) };
}
