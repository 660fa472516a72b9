//! The decrypted DAS record: activity JSON, events, timestamps, and the OCSF mapping of each event.
#![no_main]

use das_forwarder::ocsf::{map, RecordContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = das_forwarder::das::activity::parse_record(data, 10_000) else { return };
    let ctx = RecordContext {
        resource_id: "cluster-FUZZ".into(),
        cluster_id: record.cluster_id.clone(),
        instance_id: record.instance_id.clone(),
        version: Some("1.1".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        stream: Some("aws-rds-das-cluster-FUZZ".into()),
        arrival_ms: 1_764_201_600_000,
    };
    for event in record.events {
        let ocsf = map(event, &ctx);
        let line = serde_json::to_vec(&ocsf).expect("an OCSF event always serializes");
        let _: serde_json::Value = serde_json::from_slice(&line).expect("and parses back");
    }
});
