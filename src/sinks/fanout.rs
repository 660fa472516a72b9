//! Runs every configured sink on the same chunks, concurrently. A record is delivered only when
//! every sink took it; otherwise the earliest record any sink did not take is where Kinesis must
//! resume.

use std::time::{Duration, Instant};

use futures::future::join_all;

use super::{BatchInfo, Chunk, Delivery, RejectedEvent, Sink, SinkError, SinkStats, SinkWriter};

pub struct Fanout {
    sinks: Vec<Box<dyn Sink>>,
}

impl Fanout {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Fanout {
        Fanout { sinks }
    }

    /// Writers for one batch, one per sink.
    pub fn open(&self, batch: &BatchInfo) -> FanoutWriter<'_> {
        let writers = self
            .sinks
            .iter()
            .map(|s| Writer {
                sink: s.as_ref(),
                writer: s.open(batch),
                before: s.counters().map(|c| c.snapshot()).unwrap_or_default(),
                busy: Duration::ZERO,
                failed: false,
            })
            .collect();
        FanoutWriter { writers, appended: Vec::new() }
    }
}

struct Writer<'a> {
    sink: &'a dyn Sink,
    writer: Box<dyn SinkWriter + 'a>,
    before: (u64, u64, u64),
    /// Time spent in this sink's calls (its latency metric).
    busy: Duration,
    failed: bool,
}

/// One batch's writers.
pub struct FanoutWriter<'a> {
    writers: Vec<Writer<'a>>,
    /// (record, events) of every record part appended, for the per-sink event counts.
    appended: Vec<(usize, usize)>,
}

/// What the sinks did with a batch.
#[derive(Debug, Default)]
pub struct FanoutResult {
    /// Every event refused for good by any sink, in record order.
    pub rejected: Vec<RejectedEvent>,
    /// Every failure, earliest first.
    pub errors: Vec<SinkError>,
    pub stats: Vec<(&'static str, SinkStats)>,
}

impl FanoutWriter<'_> {
    /// Appends `chunk` to every sink that has not failed; returns the earliest failure it met.
    pub async fn append(&mut self, chunk: &Chunk) -> Option<SinkError> {
        self.appended.extend(chunk.records.iter().map(|r| (r.meta.index, r.len())));
        let calls = self.writers.iter_mut().filter(|w| !w.failed).map(|w| async move {
            let started = Instant::now();
            let result = w.writer.append(chunk).await;
            w.busy += started.elapsed();
            if result.is_err() {
                w.failed = true;
            }
            result.err()
        });
        join_all(calls).await.into_iter().flatten().min_by_key(|e| e.first_undelivered)
    }

    /// Finishes every writer: the events refused, the failures and what each sink did.
    pub async fn finish(mut self) -> FanoutResult {
        let calls = self.writers.iter_mut().map(|w| async move {
            let started = Instant::now();
            let delivery = w.writer.finish().await;
            w.busy += started.elapsed();
            delivery
        });
        let deliveries: Vec<Delivery> = join_all(calls).await;
        let mut out = FanoutResult::default();
        for (w, delivery) in self.writers.iter().zip(deliveries) {
            let after = w.sink.counters().map(|c| c.snapshot()).unwrap_or_default();
            let limit = delivery.failed.as_ref().map_or(usize::MAX, |e| e.first_undelivered);
            let taken: usize = self.appended.iter().filter(|(r, _)| *r < limit).map(|(_, n)| n).sum();
            let refused = delivery.rejected.iter().filter(|r| r.record < limit).count();
            let stats = SinkStats {
                events: (taken - refused.min(taken)) as u64,
                requests: after.0 - w.before.0,
                retries: after.1 - w.before.1,
                bytes: after.2 - w.before.2,
                latency_ms: w.busy.as_millis() as u64,
                failed: delivery.failed.is_some(),
            };
            out.stats.push((w.sink.name(), stats));
            out.rejected.extend(delivery.rejected);
            out.errors.extend(delivery.failed);
        }
        out.errors.sort_by_key(|e| e.first_undelivered);
        out.rejected.sort_by_key(|r| (r.record, r.event));
        out
    }
}
