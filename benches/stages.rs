//! Per-stage micro benchmarks (criterion) of the pure CPU path, on one realistic record:
//! 25 Aurora events, suite 0178, frames of 4096 bytes. `make bench` runs them after the
//! end-to-end report; `cargo bench --bench stages` alone for quicker loops.
//!
//! Beside the engine's own stages: the `serde_json::Value` engine it replaced (frozen in
//! tests/it/common/oracle), and the output compressions the S3 sink can use, so that crates are
//! picked by measurement.

#[path = "../tests/it/common/oracle/mod.rs"]
#[allow(dead_code)]
mod oracle;

use aws_lambda_events::event::kinesis::KinesisEvent;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use das_forwarder::cli::generate::{generate_with_keys, GenerateOptions, Profile};
use das_forwarder::das::activity::{read_record, CheckOnly, ReadLimits};
use das_forwarder::das::envelope;
use das_forwarder::das::inflate::{inflate, Inflater};
use das_forwarder::esdk::{self, RawAesKeyring};
use das_forwarder::gzip::gzip;
use das_forwarder::ocsf::{Filters, RecordContext};
use das_forwarder::pipeline::decode::{encode_json, Limits};

const WRAPPING_KEY: [u8; 32] = [3; 32];
const RESOURCE: &str = "cluster-BENCHSTAGES000000000000";
const READ: ReadLimits = ReadLimits { max_events: 100_000, max_event_bytes: 16 << 20 };

fn record() -> (Vec<u8>, Vec<u8>) {
    let opts = GenerateOptions {
        profile: Profile::Postgres,
        events_per_record: Some(25),
        records: 1,
        seed: 9,
        resource_id: RESOURCE.into(),
        data_keys: 1,
        ..GenerateOptions::default()
    };
    // The key blob is never opened here: the bench starts from the wrapping key.
    let wrapping = [(WRAPPING_KEY, "AAAA".to_owned())];
    let event: KinesisEvent = serde_json::from_value(generate_with_keys(&opts, &wrapping)).unwrap();
    (event.records[0].kinesis.data.0.clone(), WRAPPING_KEY.to_vec())
}

fn context() -> RecordContext {
    RecordContext {
        resource_id: RESOURCE.into(),
        version: Some("1.1".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        stream: Some(format!("aws-rds-das-{RESOURCE}")),
        arrival_ms: 0,
        ..RecordContext::default()
    }
}

fn stages(c: &mut Criterion) {
    let (data, key) = record();
    let env = envelope::parse(&data).unwrap();
    let compressed = esdk::decrypt(&env.message, &RawAesKeyring::das(&key)).unwrap();
    let json = inflate(&compressed, 64 << 20).unwrap();
    let filters = Filters::default();
    let (_, lines) = encode_json(&json, context(), &filters, Limits::default()).unwrap();
    let mut ndjson = Vec::new();
    for line in lines.iter() {
        ndjson.extend_from_slice(line);
        ndjson.push(b'\n');
    }

    let mut g = c.benchmark_group("record (25 events)");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("envelope", |b| b.iter(|| envelope::parse(&data).unwrap()));
    g.bench_function("esdk decrypt", |b| b.iter(|| esdk::decrypt(&env.message, &RawAesKeyring::das(&key)).unwrap()));
    g.bench_function("inflate", |b| b.iter(|| inflate(&compressed, 64 << 20).unwrap()));
    g.bench_function("inflate + read (check only)", |b| {
        b.iter(|| read_record(Inflater::new(&compressed, 64 << 20).unwrap(), READ, &mut CheckOnly).unwrap())
    });
    g.finish();

    // The floor of reading the event list, with other parsers doing less than the scan does (it
    // also finds each event's fields, their canonical form and escapes): the best crate for the
    // stage, measured on the same inflated bytes.
    let mut g = c.benchmark_group("read the event list (inflated, no output)");
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("das::activity scan (fields, canonical flags)", |b| {
        b.iter(|| read_record(&json[..], READ, &mut CheckOnly).unwrap())
    });
    g.bench_function("serde_json, validate only (IgnoredAny)", |b| {
        b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(&json).unwrap())
    });
    g.bench_function("serde_json, borrowed (&RawValue per event)", |b| {
        #[derive(serde::Deserialize)]
        struct List<'a> {
            #[serde(borrow, rename = "databaseActivityEventList")]
            events: Vec<&'a serde_json::value::RawValue>,
        }
        b.iter(|| serde_json::from_slice::<List<'_>>(&json).unwrap().events.len())
    });
    let mut scratch = json.clone();
    let mut buffers = simd_json::Buffers::new(json.len());
    g.bench_function("simd-json, tape (SIMD structural index)", |b| {
        b.iter(|| {
            scratch.copy_from_slice(&json);
            simd_json::Deserializer::from_slice_with_buffers(&mut scratch, &mut buffers).unwrap().into_tape().0.len()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("record (25 events)");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("read + OCSF lines (borrowed engine)", |b| {
        b.iter(|| encode_json(&json, context(), &filters, Limits::default()).unwrap())
    });
    g.bench_function("read + OCSF lines (Value engine, before)", |b| {
        let old_ctx = oracle::RecordContext {
            resource_id: RESOURCE.into(),
            cluster_id: Some(RESOURCE.into()),
            instance_id: Some("db-DEMOINSTANCEPG".into()),
            version: Some("1.1".into()),
            region: Some("us-east-1".into()),
            account: Some("123456789012".into()),
            stream: Some(format!("aws-rds-das-{RESOURCE}")),
            arrival_ms: 0,
        };
        let old_filters = oracle::Filters::default();
        b.iter(|| oracle::encode_lines(oracle::parse_record(&json, 100_000).unwrap(), &old_ctx, &old_filters))
    });
    g.finish();

    let mut g = c.benchmark_group("output compression (the record's NDJSON)");
    g.throughput(Throughput::Bytes(ndjson.len() as u64));
    for level in [1, 6, 9] {
        g.bench_function(format!("gzip level {level} (libdeflate)"), |b| b.iter(|| gzip(&ndjson, level)));
    }
    for level in [1, 3, 9] {
        g.bench_function(format!("zstd level {level}"), |b| b.iter(|| zstd::bulk::compress(&ndjson, level).unwrap()));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2)).sample_size(30);
    targets = stages
}
criterion_main!(benches);
