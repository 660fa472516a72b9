//! Delivery. A batch reaches a sink as a stream of bounded chunks: the sink `open`s a writer
//! for the batch, the pipeline `append`s chunks as they are decoded (the writer sends, writes
//! or compresses as they fill), and `finish` makes durable what it took and says from which
//! record on, if any, it did not. The fan-out runs every configured sink on the same chunks.

pub(crate) mod fanout;
pub mod file;
pub mod hec;
pub(crate) mod http;
pub mod quarantine;
pub mod retry;
pub mod s3;
pub(crate) mod stdout;
pub mod webhook;

use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;

pub use fanout::Fanout;

/// What every writer of one batch knows from the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchInfo {
    pub shard_id: String,
    /// The batch's last record: objects that must be named before their last record is known
    /// (multipart uploads) carry it.
    pub last_sequence_number: String,
    /// Every sink must have answered by then (retries included).
    pub deadline: Instant,
}

/// One record of the batch, as the sinks see it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordMeta {
    /// Index in the batch (Kinesis order).
    pub index: usize,
    pub sequence_number: String,
    /// The stream the record came from (HEC `source` by default).
    pub stream: Option<String>,
    /// The database instance id (HEC `host`).
    pub instance_id: Option<String>,
    /// Region and account of the stream (from its ARN): the Security Lake partition.
    pub region: Option<String>,
    pub account: Option<String>,
}

/// Where lines stand within their record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Every line of the record.
    Whole,
    /// A record larger than one chunk comes in pieces, each a chunk of its own. A sink that
    /// can keep such a record in objects of its own commits them at `last`, and drops them when
    /// the batch finishes before it (the pipeline stopped in the middle of the record).
    Piece { first: bool, last: bool },
}

/// Lines of one record: back to back in `buf`, each ending at `ends[i].1` and followed by its
/// newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLines {
    pub meta: Arc<RecordMeta>,
    pub part: Part,
    /// Index within the record of the first line here.
    pub first_event: usize,
    pub buf: bytes::Bytes,
    /// (event time in epoch ms, end of the line in `buf`).
    pub ends: Vec<(i64, u32)>,
}

/// One line: the index of its event in its record, its time, its bytes.
pub struct Line<'a> {
    pub event: usize,
    pub time_ms: i64,
    pub bytes: &'a [u8],
}

impl RecordLines {
    pub fn lines(&self) -> impl Iterator<Item = Line<'_>> {
        let mut start = 0;
        self.ends.iter().enumerate().map(move |(i, &(time_ms, end))| {
            let bytes = &self.buf[start..end as usize];
            start = end as usize + 1;
            Line { event: self.first_event + i, time_ms, bytes }
        })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// The unit of delivery: whole records in order, or one piece of one large record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chunk {
    pub records: Vec<RecordLines>,
}

impl Chunk {
    pub fn bytes(&self) -> usize {
        self.records.iter().map(|r| r.buf.len()).sum()
    }

    pub fn events(&self) -> usize {
        self.records.iter().map(RecordLines::len).sum()
    }
}

/// A sink did not take the records from `first_undelivered` (an index into the batch) on,
/// after its own retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sink {sink} failed from record {first_undelivered}: {detail}")]
pub struct SinkError {
    pub sink: &'static str,
    pub first_undelivered: usize,
    pub detail: String,
}

impl SinkError {
    pub fn new(sink: &'static str, first_undelivered: usize, detail: impl Into<String>) -> SinkError {
        SinkError { sink, first_undelivered, detail: detail.into() }
    }
}

/// What a writer did with its batch: the events it refused for good (they go to the quarantine,
/// the rest of the batch goes on), and the earliest failure, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivery {
    pub rejected: Vec<RejectedEvent>,
    pub failed: Option<SinkError>,
}

impl Delivery {
    /// Keeps the earlier of two failures.
    pub fn fail(&mut self, e: SinkError) {
        if self.failed.as_ref().is_none_or(|f| e.first_undelivered < f.first_undelivered) {
            self.failed = Some(e);
        }
    }

    /// Keeps `result`'s failure, if any, and hands `result` on (what `append` returns).
    pub fn note(&mut self, result: Result<(), SinkError>) -> Result<(), SinkError> {
        if let Err(e) = &result {
            self.fail(e.clone());
        }
        result
    }
}

/// One event a receiver refused for good (e.g. HEC `invalid-event-number`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEvent {
    pub sink: &'static str,
    /// Index of its record in the batch.
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
    /// A writer for one batch.
    fn open<'a>(&'a self, batch: &BatchInfo) -> Box<dyn SinkWriter + 'a>;
}

/// A writer that gathers chunks into requests or objects of its own: `take` sends what fills,
/// `flush` what is left (only when nothing failed before), `settle` what must happen whatever
/// happened (acknowledgements, closing and aborting objects). Each is a `SinkWriter` that keeps
/// its first failure in its `Delivery` and takes nothing after it.
pub trait Gather: Send {
    fn delivery(&mut self) -> &mut Delivery;
    fn take(&mut self, chunk: &Chunk) -> impl std::future::Future<Output = Result<(), SinkError>> + Send;
    fn flush(&mut self) -> impl std::future::Future<Output = Result<(), SinkError>> + Send {
        async { Ok(()) }
    }
    fn settle(&mut self) -> impl std::future::Future<Output = ()> + Send {
        async {}
    }
}

impl<G: Gather> SinkWriter for G {
    fn append<'a>(&'a mut self, chunk: &'a Chunk) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let result = self.take(chunk).await;
            self.delivery().note(result)
        })
    }

    fn finish(&mut self) -> BoxFuture<'_, Delivery> {
        Box::pin(async move {
            if self.delivery().failed.is_none() {
                if let Err(e) = self.flush().await {
                    self.delivery().fail(e);
                }
            }
            self.settle().await;
            std::mem::take(self.delivery())
        })
    }
}

pub trait SinkWriter: Send {
    /// Takes a chunk: sends, writes or compresses what fills, keeps the rest for later. After
    /// an error nothing more is appended; `finish` still runs and reports it.
    fn append<'a>(&'a mut self, chunk: &'a Chunk) -> BoxFuture<'a, Result<(), SinkError>>;
    /// Sends what is left and makes durable what was taken, by the batch's deadline.
    fn finish(&mut self) -> BoxFuture<'_, Delivery>;
}
