//! CloudWatch Embedded Metric Format: one JSON document per invocation, written as a log line,
//! so CloudWatch extracts the metrics with no API call. Namespace `METRICS_NAMESPACE`, one
//! dimension: the DAS resource id. `das-forwarder invoke` prints the same document.

use serde_json::{json, Map, Value};

use crate::pipeline::fates::Summary;

/// The EMF document of one invocation's summary, stamped `timestamp_ms`.
pub fn emf(summary: &Summary, namespace: &str, timestamp_ms: i64) -> Value {
    let mut values = Map::new();
    let mut metrics = Vec::new();
    let mut put = |name: String, unit: &str, value: u64| {
        metrics.push(json!({"Name": name, "Unit": unit}));
        values.insert(name, json!(value));
    };
    let count = |n: usize| n as u64;
    put("Records".into(), "Count", count(summary.records));
    put("Delivered".into(), "Count", count(summary.delivered));
    put("Quarantined".into(), "Count", count(summary.quarantined));
    put("Reported".into(), "Count", count(summary.reported));
    put("Events".into(), "Count", count(summary.events));
    put("Heartbeats".into(), "Count", count(summary.heartbeats));
    put("Filtered".into(), "Count", count(summary.filtered.total()));
    put("RejectedEvents".into(), "Count", count(summary.rejected_events));
    put("KmsCalls".into(), "Count", summary.key_provider_calls);
    put("KeyCacheHits".into(), "Count", summary.cache_hits);
    put("KeyCacheMisses".into(), "Count", summary.cache_misses);
    for (code, n) in &summary.quarantine_reasons {
        put(format!("Quarantined.{code}"), "Count", count(*n));
    }
    for (sink, s) in &summary.sinks {
        put(format!("{sink}.Events"), "Count", s.events);
        put(format!("{sink}.Bytes"), "Bytes", s.bytes);
        put(format!("{sink}.Requests"), "Count", s.requests);
        put(format!("{sink}.Retries"), "Count", s.retries);
        put(format!("{sink}.Latency"), "Milliseconds", s.latency_ms);
        put(format!("{sink}.Failed"), "Count", u64::from(s.failed));
    }
    if let Some(age) = summary.iterator_age_ms {
        put("IteratorAge".into(), "Milliseconds", age);
    }
    if let Some(age) = summary.oldest_record_age_ms {
        put("OldestRecordAge".into(), "Milliseconds", age);
    }
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [["ResourceId"]], "Metrics": metrics}],
        }),
    );
    doc.insert("ResourceId".into(), json!(summary.resource_id.as_deref().unwrap_or("unknown")));
    doc.extend(values);
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::SinkStats;

    #[test]
    fn every_metric_is_declared_and_valued() {
        let mut s = Summary { records: 5, delivered: 3, quarantined: 1, reported: 1, events: 40, ..Summary::default() };
        s.quarantine_reasons.insert("esdk.frame_tag", 1);
        s.sinks.insert("s3", SinkStats { events: 40, bytes: 999, requests: 2, ..SinkStats::default() });
        s.resource_id = Some("cluster-X".into());
        let doc = emf(&s, "DasForwarder", 1_700_000_000_000);
        let declared = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap();
        for m in declared {
            let name = m["Name"].as_str().unwrap();
            assert!(doc[name].is_u64(), "{name} has a value");
        }
        assert_eq!(doc["ResourceId"], "cluster-X");
        assert_eq!(doc["Quarantined.esdk.frame_tag"], 1);
        assert_eq!(doc["s3.Bytes"], 999);
        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["ResourceId"]]));
        // EMF caps a directive at 100 metrics.
        assert!(declared.len() <= 100);
    }
}
