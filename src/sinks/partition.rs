//! The output layouts. The hive layout, shared by the file and S3 sinks:
//! `<prefix>class_uid=6005/dt=YYYY-MM-DD/hour=HH/<shard>-<first seq>-<last seq>.ndjson`;
//! the Security Lake layout of the S3 sink:
//! `ext/<source>/region=<r>/accountId=<a>/eventDay=YYYYMMDD/<shard>-<first seq>-<last seq>.parquet`.
//! By event time (UTC). Names derive from the input only, so a retried
//! batch overwrites its objects instead of duplicating them.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Timelike};

use super::{EncodedEvent, OutputBatch, OutputRecord, SinkError};

/// The events of one batch that fall into one hour partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition<'a> {
    /// Relative object key, e.g. `das/class_uid=6005/dt=2026-11-27/hour=01/shardId-0-495-497.ndjson`.
    pub key: String,
    /// Index (into the batch's records) of the first record with events here.
    pub first_record: usize,
    pub lines: Vec<&'a [u8]>,
}

impl Partition<'_> {
    /// NDJSON body: every line followed by `\n`.
    pub fn ndjson(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.lines.iter().map(|l| l.len() + 1).sum());
        for line in &self.lines {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        out
    }
}

/// The earliest of the failed partitions (first record, cause), as the sink's error.
pub fn earliest_failure(sink: &'static str, failures: impl IntoIterator<Item = (usize, String)>) -> Option<SinkError> {
    failures.into_iter().min_by_key(|(first, _)| *first).map(|(first, detail)| SinkError::new(sink, first, detail))
}

/// `dt=YYYY-MM-DD/hour=HH` for an epoch-millisecond time (out-of-range times land in 1970).
pub fn hour_path(time_ms: i64) -> String {
    let t = DateTime::from_timestamp_millis(time_ms).unwrap_or_default();
    format!("dt={:04}-{:02}-{:02}/hour={:02}", t.year(), t.month(), t.day(), t.hour())
}

/// Keeps shard ids and sequence numbers safe as path segments.
pub fn path_safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// The hive-layout directory of an event time: `<prefix>class_uid=6005/dt=YYYY-MM-DD/hour=HH`.
pub fn hive_dir(prefix: &str, time_ms: i64) -> String {
    format!("{prefix}class_uid=6005/{}", hour_path(time_ms))
}

/// Groups the batch into hour partitions of the hive layout, in key order.
pub fn partition<'a>(batch: &'a OutputBatch, prefix: &str, extension: &str) -> Vec<Partition<'a>> {
    partition_by(batch, extension, |_, event| hive_dir(prefix, event.time_ms))
}

/// `eventDay=YYYYMMDD` for an epoch-millisecond time (out-of-range times land in 1970).
pub fn event_day(time_ms: i64) -> String {
    let t = DateTime::from_timestamp_millis(time_ms).unwrap_or_default();
    format!("eventDay={:04}{:02}{:02}", t.year(), t.month(), t.day())
}

/// The directory of an event in an Amazon Security Lake custom source location:
/// `ext/<source>/region=<region>/accountId=<account>/eventDay=YYYYMMDD` (`unknown` when the
/// stream ARN did not say).
pub fn security_lake_dir(source: &str, region: Option<&str>, account: Option<&str>, time_ms: i64) -> String {
    let region = path_safe(region.unwrap_or("unknown"));
    let account = path_safe(account.unwrap_or("unknown"));
    format!("ext/{source}/region={region}/accountId={account}/{}", event_day(time_ms))
}

/// Groups the batch by the directory `dir` gives each event, in key order; each group is named
/// `<dir>/<shard>-<first seq>-<last seq>.<extension>` after the records it holds.
pub fn partition_by<'a>(
    batch: &'a OutputBatch,
    extension: &str,
    dir: impl Fn(&OutputRecord, &EncodedEvent) -> String,
) -> Vec<Partition<'a>> {
    struct Acc<'a> {
        first: usize,
        first_seq: &'a str,
        last_seq: &'a str,
        lines: Vec<&'a [u8]>,
    }
    let mut groups: BTreeMap<String, Acc<'a>> = BTreeMap::new();
    for (i, record) in batch.records.iter().enumerate() {
        for event in &record.events {
            let acc = groups.entry(dir(record, event)).or_insert_with(|| Acc {
                first: i,
                first_seq: &record.sequence_number,
                last_seq: &record.sequence_number,
                lines: Vec::new(),
            });
            acc.last_seq = &record.sequence_number;
            acc.lines.push(&event.line);
        }
    }
    let shard = path_safe(&batch.shard_id);
    groups
        .into_iter()
        .map(|(dir, acc)| Partition {
            key: format!("{dir}/{shard}-{}-{}.{extension}", path_safe(acc.first_seq), path_safe(acc.last_seq)),
            first_record: acc.first,
            lines: acc.lines,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(time_ms: i64, line: &str) -> EncodedEvent {
        EncodedEvent { time_ms, line: bytes::Bytes::copy_from_slice(line.as_bytes()) }
    }

    #[test]
    fn groups_by_hour_with_input_derived_names() {
        let h0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
        let batch = OutputBatch {
            shard_id: "shardId-000000000001".into(),
            deadline: std::time::Instant::now(),
            records: vec![
                OutputRecord {
                    sequence_number: "100".into(),
                    stream: None,
                    instance_id: None,
                    region: None,
                    account: None,
                    events: vec![ev(h0, "a"), ev(h0 + 3_600_000, "b")],
                },
                OutputRecord { sequence_number: "101".into(), ..OutputRecord::default() },
                OutputRecord {
                    sequence_number: "102".into(),
                    stream: None,
                    instance_id: None,
                    region: None,
                    account: None,
                    events: vec![ev(h0, "c")],
                },
            ],
        };
        let parts = partition(&batch, "das/", "ndjson");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].key, "das/class_uid=6005/dt=2023-11-14/hour=22/shardId-000000000001-100-102.ndjson");
        assert_eq!(parts[0].ndjson(), b"a\nc\n");
        assert_eq!(parts[1].key, "das/class_uid=6005/dt=2023-11-14/hour=23/shardId-000000000001-100-100.ndjson");
        assert_eq!((parts[0].first_record, parts[1].first_record), (0, 0));
        assert_eq!(partition(&batch, "das/", "ndjson"), parts, "deterministic");
        assert_eq!(path_safe("../a/b"), "___a_b");
        assert_eq!(
            security_lake_dir("rds-das", Some("eu-west-1"), None, h0),
            "ext/rds-das/region=eu-west-1/accountId=unknown/eventDay=20231114"
        );
    }
}
