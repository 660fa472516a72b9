//! The decrypted DAS record: read event by event, each event scanned and mapped, and its OCSF
//! line written; the line always parses back as JSON. The same bytes also go through the record
//! reader as a stream in small pieces, which must reach the same verdict.
#![no_main]

use das_forwarder::das::activity::{read_record, CheckOnly, ReadLimits};
use das_forwarder::ocsf::{Filters, RecordContext};
use das_forwarder::pipeline::decode::{encode_json, Limits};
use libfuzzer_sys::fuzz_target;

/// Hands the bytes out a few at a time, as the gzip stream does.
struct Trickle<'a>(&'a [u8]);

impl das_forwarder::das::inflate::Source for Trickle<'_> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, das_forwarder::das::inflate::InflateError> {
        let n = buf.len().min(self.0.len()).min(7);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let ctx = RecordContext {
        resource_id: "cluster-FUZZ".into(),
        version: Some("1.1".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        stream: Some("aws-rds-das-cluster-FUZZ".into()),
        arrival_ms: 1_764_201_600_000,
        ..RecordContext::default()
    };
    let limits = Limits { max_events_per_record: 10_000, max_event_bytes: 1 << 20, ..Limits::default() };
    let whole = encode_json(data, ctx, &Filters::default(), limits);
    if let Ok((_, lines)) = &whole {
        for line in lines.iter() {
            let _: serde_json::Value = serde_json::from_slice(line).expect("an OCSF line parses back");
        }
    }
    let read = ReadLimits { max_events: 10_000, max_event_bytes: 1 << 20 };
    let streamed = read_record(Trickle(data), read, &mut CheckOnly);
    assert_eq!(whole.is_ok(), streamed.is_ok(), "the stream and the whole record agree");
});
