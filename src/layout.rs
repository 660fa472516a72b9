//! The output layouts, shared by the file and S3 sinks, the quarantine, `compact` and `replay`. Hive:
//! `<prefix>class_uid=6005/dt=YYYY-MM-DD/hour=HH/<shard>-<first seq>-<last seq>.ndjson`;
//! the Security Lake layout of the S3 sink:
//! `ext/<source>/region=<r>/accountId=<a>/eventDay=YYYYMMDD/<shard>-<first seq>-<last seq>.parquet`.
//! By event time (UTC). Names derive from the input only, so a retried
//! batch overwrites its objects instead of duplicating them.

use chrono::{DateTime, Datelike, Timelike};

/// The name of an object of the batch: `<dir>/<shard>-<first seq>-<last seq>.<extension>`, after
/// the first and last records it holds (input-derived: a retried batch writes the same names).
pub fn object_key(dir: &str, shard: &str, first_seq: &str, last_seq: &str, extension: &str) -> String {
    format!("{dir}/{}-{}-{}.{extension}", path_safe(shard), path_safe(first_seq), path_safe(last_seq))
}

/// One hour in milliseconds: the width of a hive partition.
pub const HOUR_MS: i64 = 3_600_000;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_derived_names() {
        let h0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
        assert_eq!(hive_dir("das/", h0), "das/class_uid=6005/dt=2023-11-14/hour=22");
        assert_eq!(
            object_key(&hive_dir("das/", h0), "shardId-000000000001", "100", "102", "ndjson"),
            "das/class_uid=6005/dt=2023-11-14/hour=22/shardId-000000000001-100-102.ndjson"
        );
        assert_eq!(path_safe("../a/b"), "___a_b");
        assert_eq!(
            security_lake_dir("rds-das", Some("eu-west-1"), None, h0),
            "ext/rds-das/region=eu-west-1/accountId=unknown/eventDay=20231114"
        );
    }
}
