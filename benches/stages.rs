//! Per-stage micro benchmarks (criterion) of the pure CPU path, on one realistic record:
//! 25 Aurora events, suite 0178, frames of 4096 bytes. `make bench` runs them after the
//! end-to-end report; `cargo bench --bench stages` alone for quicker loops.

use aws_lambda_events::event::kinesis::KinesisEvent;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use das_forwarder::cli::generate::{generate_with_keys, GenerateOptions, Profile};
use das_forwarder::das::activity::parse_record;
use das_forwarder::das::envelope;
use das_forwarder::das::inflate::inflate;
use das_forwarder::esdk::{self, RawAesKeyring};
use das_forwarder::ocsf::{map, RecordContext};
use das_forwarder::sinks::s3::encoder::gzip;

const WRAPPING_KEY: [u8; 32] = [3; 32];
const RESOURCE: &str = "cluster-BENCHSTAGES000000000000";

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

fn stages(c: &mut Criterion) {
    let (data, key) = record();
    let env = envelope::parse(&data).unwrap();
    let compressed = esdk::decrypt(&env.message, &RawAesKeyring::das(&key)).unwrap();
    let json = inflate(&compressed, 64 << 20).unwrap();
    let parsed = parse_record(&json, 100_000).unwrap();
    let ctx = RecordContext {
        resource_id: RESOURCE.into(),
        cluster_id: parsed.cluster_id.clone(),
        instance_id: parsed.instance_id.clone(),
        version: Some("1.1".into()),
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        stream: Some(format!("aws-rds-das-{RESOURCE}")),
        arrival_ms: 0,
    };
    let ndjson: Vec<u8> = parsed
        .events
        .iter()
        .flat_map(|e| {
            let mut l = serde_json::to_vec(&map(e.clone(), &ctx)).unwrap();
            l.push(b'\n');
            l
        })
        .collect();

    let mut g = c.benchmark_group("record (25 events)");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("envelope", |b| b.iter(|| envelope::parse(&data).unwrap()));
    g.bench_function("esdk decrypt", |b| b.iter(|| esdk::decrypt(&env.message, &RawAesKeyring::das(&key)).unwrap()));
    g.bench_function("inflate", |b| b.iter(|| inflate(&compressed, 64 << 20).unwrap()));
    g.bench_function("parse", |b| b.iter(|| parse_record(&json, 100_000).unwrap()));
    g.bench_function("ocsf map + serialize", |b| {
        // `map` consumes the events (as the handler does): the copies are made outside the timing.
        b.iter_batched(
            || (Vec::new(), parsed.events.clone()),
            |(mut out, events): (Vec<u8>, Vec<_>)| {
                for e in events {
                    serde_json::to_writer(&mut out, &map(e, &ctx)).unwrap();
                    out.push(b'\n');
                }
                out
            },
            BatchSize::SmallInput,
        )
    });
    for level in [1, 6] {
        g.bench_function(format!("gzip output, level {level}"), |b| b.iter(|| gzip(&ndjson, level)));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2)).sample_size(30);
    targets = stages
}
criterion_main!(benches);
