//! Delivery. A `Sink` takes one batch of encoded events (NDJSON lines with
//! their event time) and either takes all of it or says from which record on
//! it did not. The fan-out runs every configured sink concurrently.

pub mod batching;
pub mod fanout;
pub mod file;
pub mod hec;
pub mod partition;
pub mod quarantine;
pub mod retry;
pub mod s3;
pub mod stdout;
pub mod webhook;

use std::time::Instant;

use futures::future::BoxFuture;

pub use fanout::Fanout;

/// One output event: its serialized line (no trailing newline) and the
/// event time that places it in a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    pub time_ms: i64,
    /// A slice of its record's one output buffer: no allocation per event, cheap to share.
    pub line: bytes::Bytes,
}

/// The events of one Kinesis record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutputRecord {
    pub sequence_number: String,
    /// The stream the record came from (HEC `source` by default).
    pub stream: Option<String>,
    /// The database instance id (HEC `host`).
    pub instance_id: Option<String>,
    /// Region and account of the stream (from its ARN): the Security Lake partition.
    pub region: Option<String>,
    pub account: Option<String>,
    pub events: Vec<EncodedEvent>,
}

/// What the handler hands to the sinks: records in Kinesis order, one shard,
/// and the instant by which every sink must have answered (retries included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputBatch {
    pub shard_id: String,
    pub records: Vec<OutputRecord>,
    pub deadline: Instant,
}

impl OutputBatch {
    pub fn event_count(&self) -> usize {
        self.records.iter().map(|r| r.events.len()).sum()
    }
}

/// A sink did not take the records from `first_undelivered` (an index into
/// `OutputBatch::records`) on, after its own retries. Events it refused for
/// good before failing travel with the error, so they still reach the quarantine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sink {sink} failed from record {first_undelivered}: {detail}")]
pub struct SinkError {
    pub sink: &'static str,
    pub first_undelivered: usize,
    pub detail: String,
    pub rejected: Vec<RejectedEvent>,
}

impl SinkError {
    pub fn new(sink: &'static str, first_undelivered: usize, detail: impl Into<String>) -> SinkError {
        SinkError { sink, first_undelivered, detail: detail.into(), rejected: Vec::new() }
    }
}

/// One event a receiver refused for good (e.g. HEC `invalid-event-number`):
/// it goes to the quarantine, the rest of the batch goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEvent {
    pub sink: &'static str,
    /// Index into `OutputBatch::records`.
    pub record: usize,
    /// Index of the event within its record.
    pub event: usize,
    pub line: Vec<u8>,
    pub reason: &'static str,
    pub detail: String,
}

/// Running totals a sink keeps about its requests; the fan-out reads them for the metrics.
#[derive(Debug, Default)]
pub struct SinkCounters {
    requests: std::sync::atomic::AtomicU64,
    retries: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
}

impl SinkCounters {
    /// One request sent with a body of `bytes` (retries count again).
    pub fn request(&self, bytes: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.requests.fetch_add(1, Relaxed);
        self.bytes.fetch_add(bytes as u64, Relaxed);
    }
    pub fn retry(&self) {
        self.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    /// (requests, retries, bytes) so far.
    pub fn snapshot(&self) -> (u64, u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.requests.load(Relaxed), self.retries.load(Relaxed), self.bytes.load(Relaxed))
    }
}

/// What one sink did with one batch (the metrics per sink).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SinkStats {
    /// Events it took (refused events and records from its failure on are not counted).
    pub events: u64,
    /// Request body bytes sent, retries included.
    pub bytes: u64,
    pub requests: u64,
    /// Retries by the sink's own loop (the AWS SDK's retries of S3 requests are not seen here).
    pub retries: u64,
    pub latency_ms: u64,
    pub failed: bool,
}

pub trait Sink: Send + Sync {
    fn name(&self) -> &'static str;
    /// Request totals, for sinks that send requests.
    fn counters(&self) -> Option<&SinkCounters> {
        None
    }
    /// Takes the whole batch (returning the events it refused for good), or
    /// says from which record on it did not.
    fn deliver<'a>(&'a self, batch: &'a OutputBatch) -> BoxFuture<'a, Result<Vec<RejectedEvent>, SinkError>>;
}
