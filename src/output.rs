//! Turns a decoded record into output lines. Until the OCSF mapping lands,
//! a line is the activity event as it arrived plus the record's ids.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::das::time::parse_millis;
use crate::decode::Decoded;
use crate::sinks::EncodedEvent;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    resource_id: &'a str,
    cluster_id: Option<&'a str>,
    instance_id: Option<&'a str>,
    record_version: &'a str,
    event: &'a Map<String, Value>,
}

/// One line per activity event; the partition time is the event's `logTime`
/// (or its `startTime`), else the record's arrival time.
pub fn encode(decoded: &Decoded, arrival_ms: i64) -> Vec<EncodedEvent> {
    decoded
        .record
        .events
        .iter()
        .map(|event| {
            let time_ms = ["logTime", "startTime"]
                .iter()
                .find_map(|f| event.text(f).and_then(|t| parse_millis(&t)))
                .unwrap_or(arrival_ms);
            let line = Line {
                resource_id: decoded.resource.as_str(),
                cluster_id: decoded.record.cluster_id.as_deref(),
                instance_id: decoded.record.instance_id.as_deref(),
                record_version: &decoded.version,
                event: &event.fields,
            };
            // Serializing a map of JSON values to a Vec cannot fail.
            EncodedEvent { time_ms, line: serde_json::to_vec(&line).unwrap_or_default() }
        })
        .collect()
}
