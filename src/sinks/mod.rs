//! Delivery. A `Sink` takes one batch of encoded events (NDJSON lines with
//! their event time) and either takes all of it or says from which record on
//! it did not. The fan-out runs every configured sink concurrently.

pub mod fanout;
pub mod file;
pub mod partition;
pub mod quarantine;
pub mod stdout;

use futures::future::BoxFuture;

pub use fanout::Fanout;

/// One output event: its serialized line (no trailing newline) and the
/// event time that places it in a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    pub time_ms: i64,
    pub line: Vec<u8>,
}

/// The events of one Kinesis record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRecord {
    pub sequence_number: String,
    pub events: Vec<EncodedEvent>,
}

/// What the handler hands to the sinks: records in Kinesis order, one shard.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutputBatch {
    pub shard_id: String,
    pub records: Vec<OutputRecord>,
}

impl OutputBatch {
    pub fn event_count(&self) -> usize {
        self.records.iter().map(|r| r.events.len()).sum()
    }
}

/// A sink did not take the records from `first_undelivered` (an index into
/// `OutputBatch::records`) on, after its own retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sink {sink} failed from record {first_undelivered}: {detail}")]
pub struct SinkError {
    pub sink: &'static str,
    pub first_undelivered: usize,
    pub detail: String,
}

pub trait Sink: Send + Sync {
    fn name(&self) -> &'static str;
    fn deliver<'a>(&'a self, batch: &'a OutputBatch) -> BoxFuture<'a, Result<(), SinkError>>;
}
