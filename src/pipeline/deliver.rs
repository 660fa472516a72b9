//! Stage 3, the delivery: outcomes gather into chunks of about `chunk_bytes`, each appended
//! to every sink while the threads decode the next; permanent failures go to the quarantine
//! with the chunk they fall in; a sink, the quarantine or the deadline failing cuts the batch.

use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use tracing::{error, warn};

use super::decode::{Decoded, Lines};
use super::fates::{Fate, Fates};
use super::workers::Outcome;
use super::{arrival_ms, shard_of};
use crate::das::resource::StreamSource;
use crate::error::Failure;
use crate::sinks::fanout::FanoutWriter;
use crate::sinks::quarantine::{QuarantineEntry, QuarantineStore};
use crate::sinks::{Chunk, Part, RecordLines, RecordMeta, RejectedEvent};

/// The quarantine entry of a record (and of one event a sink refused, with `event`).
pub(super) fn quarantine_entry(
    record: &KinesisEventRecord,
    reason: &'static str,
    detail: &str,
    event: Option<&RejectedEvent>,
) -> QuarantineEntry {
    QuarantineEntry {
        reason,
        detail: detail.to_owned(),
        event_source_arn: record.event_source_arn.clone(),
        event_id: record.event_id.clone(),
        aws_region: record.aws_region.clone(),
        shard_id: shard_of(record),
        sequence_number: record.kinesis.sequence_number.clone(),
        partition_key: record.kinesis.partition_key.clone(),
        approximate_arrival_timestamp: arrival_ms(record) as f64 / 1000.0,
        data: QuarantineEntry::encode_data(&record.kinesis.data.0),
        sink: event.map(|r| r.sink),
        // The line is our own serialization; should it not parse back, keep it as a string.
        event: event.map(|r| {
            serde_json::from_slice(&r.line)
                .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&r.line).into_owned()))
        }),
        event_index: event.map(|r| r.event),
        forwarder_version: env!("CARGO_PKG_VERSION"),
    }
}

/// The delivery: chunks to the sinks, failures to the quarantine, and the fates.
pub(super) struct Delivery<'a, 'b> {
    pub(super) records: &'a [KinesisEventRecord],
    pub(super) sources: Vec<Arc<StreamSource>>,
    pub(super) writer: FanoutWriter<'b>,
    pub(super) quarantine: &'b dyn QuarantineStore,
    pub(super) fates: Fates,
    pub(super) cut_reason: Option<String>,
    pub(super) chunk: Chunk,
    /// Quarantine entries of the records in `chunk` (and before it, not yet written).
    pub(super) entries: Vec<(usize, QuarantineEntry)>,
    /// Records not yet handed to the sinks (or quarantined) start here.
    pub(super) handed: usize,
    pub(super) chunk_bytes: usize,
    pub(super) stop_at: Instant,
    pub(super) deadline: Instant,
    pub(super) chunks: usize,
}

impl Delivery<'_, '_> {
    pub(super) fn cut(&mut self, record: usize, why: String) {
        if record < self.fates.cut() {
            self.fates.cut_at(record);
            self.cut_reason = Some(why);
        }
    }

    fn meta(&self, index: usize, decoded: Option<&Decoded>) -> Arc<RecordMeta> {
        let source = &self.sources[index];
        Arc::new(RecordMeta {
            index,
            sequence_number: self.records[index].kinesis.sequence_number.clone(),
            stream: source.stream.clone(),
            instance_id: decoded.and_then(|d| d.instance_id.clone()),
            region: source.region.clone(),
            account: source.account.clone(),
        })
    }

    /// Appends the gathered chunk to every sink and writes the gathered quarantine entries;
    /// false when the batch must stop (deadline, a sink or the quarantine failed).
    pub(super) async fn flush(&mut self, next: usize) -> bool {
        let chunk = std::mem::take(&mut self.chunk);
        let entries = std::mem::take(&mut self.entries);
        let first = entries.first().map(|(i, _)| *i).into_iter().chain(chunk.records.first().map(|r| r.meta.index));
        let first = first.min().unwrap_or(next);
        if chunk.records.is_empty() && entries.is_empty() {
            self.handed = next;
            return true;
        }
        if Instant::now() >= self.stop_at {
            self.cut(first, "deadline: stopped before delivering the rest".into());
            return false;
        }
        let (index, list): (Vec<usize>, Vec<QuarantineEntry>) = entries.into_iter().unzip();
        for entry in &list {
            warn!(reason = entry.reason, detail = %entry.detail, sequence_number = %entry.sequence_number, "record quarantined");
        }
        let quarantined = async {
            let until = tokio::time::Instant::from_std(self.deadline);
            match tokio::time::timeout_at(until, self.quarantine.put(&list)).await {
                Ok(r) => r,
                Err(_) => Err((0, "deadline reached".into())),
            }
        };
        let appended = async {
            if chunk.records.is_empty() {
                None
            } else {
                self.writer.append(&chunk).await
            }
        };
        let (appended, quarantined) = futures::join!(appended, quarantined);
        let mut ok = true;
        if let Err((k, cause)) = quarantined {
            error!(%cause, sequence_number = %list[k].sequence_number, "quarantine write failed; reporting from this record");
            self.cut(index[k], format!("quarantine: {cause}"));
            ok = false;
        }
        if let Some(e) = appended {
            error!(sink = e.sink, detail = %e.detail, "sink failed; reporting from its first undelivered record");
            self.cut(e.first_undelivered, e.to_string());
            ok = false;
        }
        self.chunks += usize::from(!chunk.records.is_empty());
        self.handed = next;
        ok
    }

    /// Takes one outcome of record `index`; false when the batch must stop.
    pub(super) async fn take(&mut self, index: usize, outcome: Outcome) -> bool {
        match outcome {
            Outcome::Done(Ok((decoded, lines))) => {
                self.fates.set(index, Fate::Decoded(decoded.counts));
                if !lines.is_empty() {
                    let meta = self.meta(index, Some(&decoded));
                    self.chunk.records.push(record_lines(meta, Part::Whole, 0, lines));
                }
            }
            Outcome::Done(Err(Failure::Permanent { code, detail })) => {
                self.fates.set(index, Fate::Quarantined(code));
                self.entries.push((index, quarantine_entry(&self.records[index], code, &detail, None)));
            }
            Outcome::Done(Err(Failure::Transient(cause))) => {
                // What came before it is delivered; it and what follows are reported.
                self.flush(index).await;
                self.cut(index, cause);
                return false;
            }
            Outcome::Piece { lines, first_event, end } => {
                let first = first_event == 0 && self.handed <= index;
                if first && !self.flush(index).await {
                    return false;
                }
                if let Some(d) = &end {
                    self.fates.set(index, Fate::Decoded(d.counts));
                }
                let meta = self.meta(index, end.as_ref());
                let part = Part::Piece { first, last: end.is_some() };
                self.chunk.records.push(record_lines(meta, part, first_event, lines));
                let next = if end.is_some() { index + 1 } else { index };
                return self.flush(next).await;
            }
        }
        if self.chunk.bytes() >= self.chunk_bytes {
            return self.flush(index + 1).await;
        }
        true
    }
}

fn record_lines(meta: Arc<RecordMeta>, part: Part, first_event: usize, lines: Lines) -> RecordLines {
    RecordLines { meta, part, first_event, buf: bytes::Bytes::from(lines.buf), ends: lines.ends }
}
