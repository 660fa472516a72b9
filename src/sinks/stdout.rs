//! Prints every event as one NDJSON line on standard output, as chunks come.

use std::io::Write;

use futures::future::BoxFuture;

use super::{BatchInfo, Chunk, Delivery, Sink, SinkError, SinkWriter};

pub struct StdoutSink;

struct StdoutWriter {
    delivery: Delivery,
}

impl Sink for StdoutSink {
    fn name(&self) -> &'static str {
        "stdout"
    }

    fn open<'a>(&'a self, _batch: &BatchInfo) -> Box<dyn SinkWriter + 'a> {
        Box::new(StdoutWriter { delivery: Delivery::default() })
    }
}

impl SinkWriter for StdoutWriter {
    fn append<'a>(&'a mut self, chunk: &'a Chunk) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let mut out = std::io::stdout().lock();
            for rec in &chunk.records {
                for line in rec.lines() {
                    if let Err(e) = out.write_all(line.bytes).and_then(|_| out.write_all(b"\n")) {
                        return self.delivery.note(Err(SinkError::new("stdout", rec.meta.index, e.to_string())));
                    }
                }
            }
            Ok(())
        })
    }

    fn finish(&mut self) -> BoxFuture<'_, Delivery> {
        Box::pin(async move {
            if let Err(e) = std::io::stdout().flush() {
                self.delivery.fail(SinkError::new("stdout", 0, e.to_string()));
            }
            std::mem::take(&mut self.delivery)
        })
    }
}
