//! Runs every configured sink on the same batch, concurrently. The batch is
//! delivered only when every sink took it; otherwise the earliest record
//! any sink did not take is where Kinesis must resume.

use futures::future::join_all;

use super::{OutputBatch, RejectedEvent, Sink, SinkError};

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

    /// The events refused for good by any sink, and all failures, earliest first.
    pub async fn deliver(&self, batch: &OutputBatch) -> (Vec<RejectedEvent>, Vec<SinkError>) {
        if batch.records.iter().all(|r| r.events.is_empty()) {
            return (Vec::new(), Vec::new());
        }
        let results = join_all(self.sinks.iter().map(|s| s.deliver(batch))).await;
        let mut rejected = Vec::new();
        let mut errors = Vec::new();
        for result in results {
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
        (rejected, errors)
    }
}
