//! Quarantine: records that failed permanently are kept exactly as they
//! arrived, with a machine-readable reason, so they can be replayed later.
//! One entry per record, named by shard and sequence number, so writing an
//! entry twice (a retried batch) overwrites it.

use std::path::PathBuf;

use base64::Engine;
use futures::future::BoxFuture;
use serde::Serialize;

use super::file::write_atomic;
use crate::layout::path_safe;

/// The raw Kinesis record and why it was quarantined.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuarantineEntry {
    pub reason: &'static str,
    pub detail: String,
    #[serde(rename = "eventSourceARN")]
    pub event_source_arn: Option<String>,
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    pub aws_region: Option<String>,
    pub shard_id: String,
    pub sequence_number: String,
    pub partition_key: String,
    /// Seconds since the epoch, as Kinesis gives it.
    pub approximate_arrival_timestamp: f64,
    /// The record's data, base64, byte for byte as it arrived.
    pub data: String,
    /// For an event a sink refused for good: that sink and the OCSF event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<serde_json::Value>,
    /// The refused event's position in its record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_index: Option<usize>,
    pub forwarder_version: &'static str,
}

impl QuarantineEntry {
    pub fn encode_data(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// `<prefix>dt=YYYY-MM-DD/<shard>-<sequence>.json`, by arrival day; a
    /// refused event adds `-<sink>-<its index in the record>`.
    pub fn key(&self, prefix: &str) -> String {
        let ms = (self.approximate_arrival_timestamp * 1000.0) as i64;
        let day = crate::layout::hour_path(ms);
        let day = day.split('/').next().unwrap_or("dt=1970-01-01");
        let mut name = format!("{}-{}", path_safe(&self.shard_id), path_safe(&self.sequence_number));
        if let (Some(sink), Some(index)) = (self.sink, self.event_index) {
            name = format!("{name}-{sink}-{index}");
        }
        format!("{prefix}{day}/{name}.json")
    }
}

/// Where quarantined records go. Returns the index of the first entry it
/// could not store, with the cause.
pub trait QuarantineStore: Send + Sync {
    fn put<'a>(&'a self, entries: &'a [QuarantineEntry]) -> BoxFuture<'a, Result<(), (usize, String)>>;
}

/// Keeps nothing (`replay --dry-run`).
pub struct Discard;

impl QuarantineStore for Discard {
    fn put<'a>(&'a self, _entries: &'a [QuarantineEntry]) -> BoxFuture<'a, Result<(), (usize, String)>> {
        Box::pin(async { Ok(()) })
    }
}

pub struct FileQuarantine {
    root: PathBuf,
    prefix: String,
}

impl FileQuarantine {
    pub fn new(root: PathBuf, prefix: String) -> FileQuarantine {
        FileQuarantine { root, prefix }
    }
}

impl QuarantineStore for FileQuarantine {
    fn put<'a>(&'a self, entries: &'a [QuarantineEntry]) -> BoxFuture<'a, Result<(), (usize, String)>> {
        Box::pin(async move {
            for (i, entry) in entries.iter().enumerate() {
                let key = entry.key(&self.prefix);
                let body = serde_json::to_vec_pretty(entry).map_err(|e| (i, e.to_string()))?;
                write_atomic(&self.root.join(&key), &body).await.map_err(|e| (i, format!("{key}: {e}")))?;
            }
            Ok(())
        })
    }
}
