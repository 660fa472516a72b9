//! `das-forwarder check`: a read-only preflight of a set-up, run with the function's variables.
//! Each check is one line, ok / warn / fail, and every failure names its likely cause and the
//! fix. Nothing is written beyond one probe object (put and deleted), nothing in AWS is changed,
//! and no event content, key or token is printed. Every call has its own timeout.

pub mod database;
pub mod mapping;
pub mod report;
pub mod sinks;
pub mod stream;

use std::time::Duration;

pub use report::{Report, Status};

/// The most any one call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How far back a stream is read for a recent record: DAS writes heartbeats every few seconds
/// while the activity stream runs.
pub const LOOKBACK: Duration = Duration::from_secs(5 * 60);

/// An AWS call's failure from `timed`: its error code, and the error with its causes (or
/// "timed out").
pub fn described<E>(e: Option<E>) -> (Option<String>, String)
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error,
{
    match e {
        Some(e) => (e.code().map(str::to_owned), crate::error::chain(&e)),
        None => (None, "timed out".to_owned()),
    }
}

/// Runs `call` with `CALL_TIMEOUT`; `Err(None)` when it timed out.
pub async fn timed<T, E>(call: impl std::future::Future<Output = Result<T, E>>) -> Result<T, Option<E>> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Some(e)),
        Err(_) => Err(None),
    }
}
