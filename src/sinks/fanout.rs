//! Runs every configured sink on the same batch, concurrently. The batch is
//! delivered only when every sink took it; otherwise the earliest record
//! any sink did not take is where Kinesis must resume.

use futures::future::join_all;

use super::{OutputBatch, Sink, SinkError};

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

    /// All failures, earliest first (empty when every sink took the batch).
    pub async fn deliver(&self, batch: &OutputBatch) -> Vec<SinkError> {
        if batch.records.is_empty() {
            return Vec::new();
        }
        let results = join_all(self.sinks.iter().map(|s| s.deliver(batch))).await;
        let mut errors: Vec<SinkError> = results.into_iter().filter_map(Result::err).collect();
        errors.sort_by_key(|e| e.first_undelivered);
        errors
    }
}
