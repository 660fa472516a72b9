//! das-forwarder: decrypts Amazon Aurora/RDS Database Activity Streams and
//! forwards the activity events. See the README for the data flow.

pub mod cli;
pub mod columnar;
pub mod compact;
pub mod config;
pub mod das;
pub mod error;
pub mod esdk;
pub mod handler;
pub mod keys;
pub mod metrics;
pub mod ocsf;
pub mod parallel;
pub mod pipeline;
pub mod redact;
pub mod replay;
pub mod setup;
pub mod sinks;

// mimalloc for every binary built on this crate (the Lambda, the tests, the benches): a batch
// allocates a few hundred thousand short-lived strings (the parsed events) and tens of MB of
// output, where glibc's allocator spent its time in page faults and trimming.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
