//! The S3 sink and quarantine through the real `aws-sdk-s3` client against a
//! local moto server, and the fan-out with a failing HEC receiver.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::kinesis::KinesisEvent;
use common::moto::Moto;
use common::receiver::{Receiver, Reply};
use das_forwarder::cli::generate::{generate, GenerateOptions};
use das_forwarder::config::Config;
use das_forwarder::handler::Forwarder;
use das_forwarder::keys::local::LocalKeys;
use das_forwarder::sinks::hec::{HecConfig, HecSink, HecToken, TokenSource};
use das_forwarder::sinks::retry::Backoff;
use das_forwarder::sinks::s3::config::S3Access;
use das_forwarder::sinks::s3::{S3Config, S3Quarantine, S3Sink};
use das_forwarder::sinks::Sink;
use serde_json::Value;

const MASTER: [u8; 32] = [4; 32];
const BUCKET: &str = "das-archive";

fn event(records: usize, start_ms: i64) -> KinesisEvent {
    let opts = GenerateOptions {
        records,
        seed: 5,
        resource_id: "cluster-S3TEST".into(),
        data_keys: 2,
        start_ms,
        ..GenerateOptions::default()
    };
    serde_json::from_value(generate(&opts, &LocalKeys::new(MASTER))).unwrap()
}

async fn s3_client(moto: &Moto) -> aws_sdk_s3::Client {
    let client = s3_config().client(&moto.sdk_config().await).await;
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
    client
}

fn s3_config() -> S3Config {
    S3Config { access: S3Access { force_path_style: true, ..S3Access::default() }, ..S3Config::new(BUCKET) }
}

fn forwarder(client: &aws_sdk_s3::Client, extra: Vec<Box<dyn Sink>>) -> Forwarder {
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(S3Sink::new(client.clone(), s3_config()))];
    sinks.extend(extra);
    let quarantine = Box::new(S3Quarantine(S3Sink::new(client.clone(), s3_config())));
    Forwarder::new(Config::from_lookup(|_| None).unwrap(), Arc::new(LocalKeys::new(MASTER)), sinks, quarantine)
}

/// Every object in the bucket: key → body (gunzipped for `.gz`).
async fn objects(client: &aws_sdk_s3::Client) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let list = client.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    for obj in list.contents() {
        let key = obj.key().unwrap().to_owned();
        let body = client.get_object().bucket(BUCKET).key(&key).send().await.unwrap().body.collect().await.unwrap();
        let bytes = body.into_bytes().to_vec();
        let bytes =
            if key.ends_with(".gz") { das_forwarder::das::inflate::inflate(&bytes, 1 << 30).unwrap() } else { bytes };
        out.insert(key, bytes);
    }
    out
}

fn lines(objects: &BTreeMap<String, Vec<u8>>) -> Vec<Value> {
    objects
        .iter()
        .filter(|(k, _)| k.starts_with("das/"))
        .flat_map(|(_, b)| {
            b.split(|c| *c == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn partitioned_gzip_ndjson_idempotent_keys_and_quarantine() {
    let moto = Moto::start();
    let client = s3_client(&moto).await;
    let fwd = forwarder(&client, vec![]);
    // Start 20 minutes before an hour boundary so the batch spans two partitions.
    let mut ev = event(12, 1_764_201_600_000 - 6_000);
    ev.records[3].kinesis.data.0 = b"garbage".to_vec();
    let (resp, summary) = fwd.handle(&ev).await;
    assert!(resp.batch_item_failures.is_empty(), "{:?}", summary.sink_errors);
    let first = objects(&client).await;
    let data_keys: Vec<&String> = first.keys().filter(|k| k.starts_with("das/")).collect();
    assert_eq!(data_keys.len(), 2, "one object per hour partition: {data_keys:?}");
    let shard = "shardId-000000000000";
    assert!(data_keys[0].starts_with("das/class_uid=6005/dt=2025-11-26/hour=23/"));
    assert!(data_keys[1].starts_with("das/class_uid=6005/dt=2025-11-27/hour=00/"));
    assert!(data_keys.iter().all(|k| k.contains(shard) && k.ends_with(".ndjson.gz")));
    let got = lines(&first);
    assert_eq!(got.len(), summary.events);
    let validator = common::ocsf::OcsfValidator::new();
    for l in &got {
        validator.check(l);
        let hour = das_forwarder::layout::hour_path(l["time"].as_i64().unwrap());
        assert!(data_keys.iter().any(|k| k.contains(&hour)), "event in the partition of its time");
    }
    let q: Vec<&String> = first.keys().filter(|k| k.starts_with("quarantine/")).collect();
    assert_eq!(q.len(), 1);
    assert!(q[0].contains(&ev.records[3].kinesis.sequence_number));
    let entry: Value = serde_json::from_slice(&first[q[0]]).unwrap();
    assert_eq!(entry["reason"], "envelope.not_json");

    // The same batch again (a Kinesis retry) overwrites: same keys, same bytes.
    fwd.handle(&ev).await;
    assert_eq!(objects(&client).await, first);
}

fn failing_hec(url: &str) -> Box<dyn Sink> {
    let config = HecConfig {
        url: url.to_owned(),
        token: TokenSource::Value(HecToken("tok".into())),
        index: None,
        sourcetype: "ocsf:aws:rds:das".into(),
        source: None,
        max_batch_bytes: 1 << 20,
        max_batch_events: 1000,
        gzip: false,
        ack: false,
        timeout: Duration::from_millis(300),
        ack_poll_interval: Duration::from_millis(50),
    };
    let fast = Backoff { base: Duration::from_millis(5), cap: Duration::from_millis(30) };
    Box::new(HecSink::new(reqwest::Client::new(), config, &HecToken("tok".into())).unwrap().with_backoff(fast))
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_succeeds_hec_fails_then_the_retry_adds_no_second_copy_to_s3() {
    let moto = Moto::start();
    let client = s3_client(&moto).await;
    let rx = Receiver::start("tok", b"k").await;
    rx.script(vec![], Reply::Busy);
    let fwd = forwarder(&client, vec![failing_hec(&rx.url)]);
    let ev = event(6, 1_764_201_600_000);
    let (resp, summary) = fwd.handle_until(&ev, Instant::now() + Duration::from_millis(800)).await;
    assert_eq!(
        resp.batch_item_failures[0].item_identifier.as_deref(),
        Some(ev.records[0].kinesis.sequence_number.as_str())
    );
    assert_eq!(summary.reported, 6);
    let after_failure = objects(&client).await;
    assert!(!after_failure.is_empty(), "S3 took the batch");

    // Kinesis retries from the reported record; HEC is back.
    rx.script(vec![], Reply::Ok);
    let (resp, summary) = fwd.handle(&ev).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(rx.with(|g| g.envelopes.len()), summary.events);
    let after_retry = objects(&client).await;
    assert_eq!(after_retry.keys().collect::<Vec<_>>(), after_failure.keys().collect::<Vec<_>>(), "no second object");
    assert_eq!(lines(&after_retry).len(), summary.events, "no second copy of any event");
}
