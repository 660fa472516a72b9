//! Prints every event as one NDJSON line on standard output.

use std::io::Write;

use futures::future::BoxFuture;

use super::{OutputBatch, Sink, SinkError};

pub struct StdoutSink;

impl Sink for StdoutSink {
    fn name(&self) -> &'static str {
        "stdout"
    }

    fn deliver<'a>(&'a self, batch: &'a OutputBatch) -> BoxFuture<'a, Result<Vec<super::RejectedEvent>, SinkError>> {
        Box::pin(async move {
            let mut out = std::io::stdout().lock();
            for (i, record) in batch.records.iter().enumerate() {
                for event in &record.events {
                    let written = out.write_all(&event.line).and_then(|_| out.write_all(b"\n"));
                    written.map_err(|e| SinkError::new("stdout", i, e.to_string()))?;
                }
            }
            out.flush().map_err(|e| SinkError::new("stdout", 0, e.to_string()))?;
            Ok(Vec::new())
        })
    }
}
