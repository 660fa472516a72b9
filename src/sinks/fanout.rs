//! Runs every configured sink on the same batch, concurrently. The batch is
//! delivered only when every sink took it; otherwise the earliest record
//! any sink did not take is where Kinesis must resume.

use futures::future::join_all;

use std::time::Instant;

use super::{OutputBatch, RejectedEvent, Sink, SinkError, SinkStats};

pub struct Fanout {
    sinks: Vec<Box<dyn Sink>>,
}

impl Fanout {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Fanout {
        Fanout { sinks }
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.sinks.iter().map(|s| s.name()).collect()
    }

    /// The events refused for good by any sink, all failures (earliest first), and what each sink did.
    pub async fn deliver(
        &self,
        batch: &OutputBatch,
    ) -> (Vec<RejectedEvent>, Vec<SinkError>, Vec<(&'static str, SinkStats)>) {
        if batch.records.iter().all(|r| r.events.is_empty()) {
            let idle = self.sinks.iter().map(|s| (s.name(), SinkStats::default())).collect();
            return (Vec::new(), Vec::new(), idle);
        }
        let results = join_all(self.sinks.iter().map(|s| async move {
            let before = s.counters().map(|c| c.snapshot()).unwrap_or_default();
            let started = Instant::now();
            let result = s.deliver(batch).await;
            let latency_ms = started.elapsed().as_millis() as u64;
            let after = s.counters().map(|c| c.snapshot()).unwrap_or_default();
            let stats = SinkStats {
                requests: after.0 - before.0,
                retries: after.1 - before.1,
                bytes: after.2 - before.2,
                latency_ms,
                ..SinkStats::default()
            };
            (s.name(), result, stats)
        }))
        .await;
        let mut rejected = Vec::new();
        let mut errors = Vec::new();
        let mut stats = Vec::new();
        for (name, result, mut s) in results {
            let (taken_records, refused) = match &result {
                Ok(r) => (batch.records.len(), r.len()),
                Err(e) => (e.first_undelivered, e.rejected.iter().filter(|r| r.record < e.first_undelivered).count()),
            };
            let taken: usize =
                batch.records[..taken_records.min(batch.records.len())].iter().map(|r| r.events.len()).sum();
            s.events = (taken - refused.min(taken)) as u64;
            s.failed = result.is_err();
            stats.push((name, s));
            match result {
                Ok(r) => rejected.extend(r),
                Err(mut e) => {
                    rejected.append(&mut e.rejected);
                    errors.push(e);
                }
            }
        }
        errors.sort_by_key(|e| e.first_undelivered);
        rejected.sort_by_key(|r| (r.record, r.event));
        (rejected, errors, stats)
    }
}
