//! Turns a decoded record into output lines: each activity event that no
//! filter drops becomes one OCSF event, serialized once and shared by every
//! sink. The partition time is the OCSF `time`.

use crate::das::resource::parse_stream_arn;
use crate::decode::Decoded;
use crate::ocsf::{map, Dropped, Filters, RecordContext};
use crate::sinks::EncodedEvent;

/// Events the filters dropped, per filter.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FilterCounts {
    pub users: usize,
    pub commands: usize,
    pub databases: usize,
    /// Outside `replay --since/--until`.
    pub time: usize,
}

impl FilterCounts {
    pub fn total(&self) -> usize {
        self.users + self.commands + self.databases + self.time
    }

    pub fn add(&mut self, other: &FilterCounts) {
        self.users += other.users;
        self.commands += other.commands;
        self.databases += other.databases;
        self.time += other.time;
    }
}

pub fn record_context(decoded: &Decoded, event_source_arn: Option<&str>, arrival_ms: i64) -> RecordContext {
    let source = event_source_arn.map(parse_stream_arn).unwrap_or_default();
    RecordContext {
        resource_id: decoded.resource.as_str().to_owned(),
        cluster_id: decoded.record.cluster_id.clone(),
        instance_id: decoded.record.instance_id.clone(),
        version: Some(decoded.version.clone()),
        region: source.region,
        account: source.account,
        stream: source.stream,
        arrival_ms,
    }
}

/// A decoded record's output: its lines, and what it held.
#[derive(Debug, Default)]
pub struct EncodedRecord {
    pub events: Vec<EncodedEvent>,
    pub heartbeats: usize,
    pub filtered: FilterCounts,
    pub stream: Option<String>,
    pub instance_id: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
}

/// `record_context` and `encode` in one step. The decoded events are consumed,
/// so a batch never holds both forms of a record at once.
pub fn encode_record(
    decoded: Decoded,
    event_source_arn: Option<&str>,
    arrival_ms: i64,
    filters: &Filters,
) -> EncodedRecord {
    let ctx = record_context(&decoded, event_source_arn, arrival_ms);
    let mut filtered = FilterCounts::default();
    let heartbeats = decoded.record.heartbeats;
    let events = encode(decoded, &ctx, filters, &mut filtered);
    EncodedRecord {
        events,
        heartbeats,
        filtered,
        stream: ctx.stream,
        instance_id: ctx.instance_id,
        region: ctx.region,
        account: ctx.account,
    }
}

/// One line per kept event; `counts` is increased for every dropped one.
pub fn encode(
    decoded: Decoded,
    ctx: &RecordContext,
    filters: &Filters,
    counts: &mut FilterCounts,
) -> Vec<EncodedEvent> {
    // Every line of the record goes into one buffer; each event gets a slice of it.
    // About 2 KB a line; the first reservation is capped, the buffer grows past it if it must.
    let mut buf = Vec::with_capacity(decoded.record.events.len().saturating_mul(2048).min(4 << 20));
    let mut spans = Vec::with_capacity(decoded.record.events.len());
    for mut event in decoded.record.events {
        match filters.check(&event) {
            Some(Dropped::User) => counts.users += 1,
            Some(Dropped::Command) => counts.commands += 1,
            Some(Dropped::Database) => counts.databases += 1,
            Some(Dropped::Time) => counts.time += 1,
            None => {
                let redacted = filters.redaction.apply(&mut event);
                let mut ocsf = map(event, ctx);
                if let Some(record) = redacted {
                    ocsf.unmapped.insert("redaction".into(), record);
                }
                let start = buf.len();
                // Serializing plain structs and JSON values to a Vec cannot fail.
                let _ = serde_json::to_writer(&mut buf, &ocsf);
                spans.push((ocsf.time, start, buf.len()));
            }
        }
    }
    let buf = bytes::Bytes::from(buf);
    spans.into_iter().map(|(time_ms, start, end)| EncodedEvent { time_ms, line: buf.slice(start..end) }).collect()
}
