//! Fault injection: a loopback fault proxy (`tests/it/common/fault_proxy.rs`) in front of moto's KMS
//! and S3 and in front of the HEC receiver. For each fault: the SDK's or the sink's documented
//! retries, then the documented record states (reported, never quarantined, never lost); then the
//! follow-up invocation Kinesis makes delivers everything, and every input event is in S3 (each
//! once per object key) and in HEC at least once.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use aws_lambda_events::event::kinesis::KinesisEvent;
use common::fault_proxy::{host_port, Fault, FaultProxy};
use common::moto::Moto;
use common::receiver::Receiver;
use das_forwarder::cli::generate::{generate_with_keys, GenerateOptions};
use serde_json::Value;

const RESOURCE: &str = "cluster-FAULTINJECTION";
const BUCKET: &str = "das-faults";
const TOKEN: &str = "fault-token";

struct Setup {
    moto: Moto,
    s3: aws_sdk_s3::Client,
    dir: tempfile::TempDir,
    event: PathBuf,
    records: usize,
}

async fn setup(records: usize) -> Setup {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let keys = moto.rds_data_keys(RESOURCE, 2).await;
    let opts = GenerateOptions {
        max_events: Some(5),
        records,
        seed: 99,
        resource_id: RESOURCE.into(),
        data_keys: 2,
        ..GenerateOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(&event, serde_json::to_vec(&generate_with_keys(&opts, &keys)).unwrap()).unwrap();
    Setup { moto, s3, dir, event, records }
}

impl Setup {
    fn env(&self, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
        let mut env = self.moto.aws_env();
        env.extend([
            ("KEY_PROVIDER", "kms".to_owned()),
            ("SINKS", "s3".to_owned()),
            ("S3_BUCKET", BUCKET.to_owned()),
            ("S3_FORCE_PATH_STYLE", "true".to_owned()),
            ("FILE_SINK_DIR", self.dir.path().join("out").display().to_string()),
            ("DELIVERY_TIMEOUT_SECS", "4".to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ]);
        env.extend(extra.iter().cloned());
        env
    }

    async fn run(&self, extra: &[(&'static str, String)]) -> (Value, Value, String) {
        let (event, env) = (self.event.clone(), self.env(extra));
        tokio::task::spawn_blocking(move || common::invoke(&event, &env)).await.unwrap()
    }

    fn sequence_numbers(&self) -> Vec<String> {
        let event: KinesisEvent = serde_json::from_slice(&std::fs::read(&self.event).unwrap()).unwrap();
        event.records.iter().map(|r| r.kinesis.sequence_number.clone()).collect()
    }

    /// metadata.uid of every event in every OCSF object, per object key.
    async fn s3_uids(&self) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        let list = self.s3.list_objects_v2().bucket(BUCKET).prefix("das/").send().await.unwrap();
        for obj in list.contents() {
            let key = obj.key().unwrap().to_owned();
            let body =
                self.s3.get_object().bucket(BUCKET).key(&key).send().await.unwrap().body.collect().await.unwrap();
            let text = das_forwarder::das::inflate::inflate(&body.into_bytes(), 1 << 30).unwrap();
            let uids = String::from_utf8(text)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()["metadata"]["uid"].as_str().unwrap().to_owned())
                .collect();
            out.insert(key, uids);
        }
        out
    }

    async fn quarantined(&self) -> usize {
        let list = self.s3.list_objects_v2().bucket(BUCKET).prefix("quarantine/").send().await.unwrap();
        list.contents().len()
    }
}

/// Everything reported: the response lists every record, from the first on.
fn assert_all_reported(response: &Value, summary: &Value, sequence_numbers: &[String], logs: &str) {
    let reported: Vec<&str> = response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    assert_eq!(reported, sequence_numbers.iter().map(String::as_str).collect::<Vec<_>>(), "{logs}");
    assert_eq!(summary["reported"], sequence_numbers.len());
    assert_eq!(summary["delivered"], 0);
    assert_eq!(summary["quarantined"], 0, "a transient fault never quarantines");
}

/// The follow-up invocation delivers every record; S3 then holds every event, each once per key.
async fn assert_retry_delivers_everything(s: &Setup, extra: &[(&'static str, String)]) -> (usize, BTreeSet<String>) {
    let (response, summary, logs) = s.run(extra).await;
    assert_eq!(response["batchItemFailures"], serde_json::json!([]), "{logs}");
    assert_eq!(summary["delivered"], s.records, "{summary}");
    let events = summary["events"].as_u64().unwrap() as usize;
    let objects = s.s3_uids().await;
    let mut all = BTreeSet::new();
    for (key, uids) in &objects {
        let distinct: BTreeSet<&String> = uids.iter().collect();
        assert_eq!(distinct.len(), uids.len(), "an event twice in {key}");
        all.extend(uids.iter().cloned());
    }
    assert_eq!(all.len(), events, "every event of the batch is in S3");
    assert_eq!(s.quarantined().await, 0);
    (events, all)
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_throttling_is_retried_then_reported_then_delivered() {
    let s = setup(6).await;
    let proxy = FaultProxy::start(&host_port(&s.moto.endpoint)).await;
    let kms = [("AWS_ENDPOINT_URL_KMS", proxy.url.clone())];

    // A short burst: the SDK's own retries (AWS_MAX_ATTEMPTS, 3 by default) absorb it.
    proxy.script(vec![Fault::kms_throttling(), Fault::kms_throttling()], Fault::Pass);
    let (response, summary, logs) = s.run(&kms).await;
    assert_eq!(response["batchItemFailures"], serde_json::json!([]), "{logs}");
    assert_eq!(summary["delivered"], s.records);
    let throttled = proxy.log().iter().filter(|(_, what)| what.starts_with("reply 400")).count();
    assert_eq!(throttled, 2, "{:?}", proxy.log());

    // Throttled throughout: every record is reported (the first record cannot be decoded).
    proxy.script(vec![], Fault::kms_throttling());
    let cold = [("AWS_ENDPOINT_URL_KMS", proxy.url.clone()), ("AWS_MAX_ATTEMPTS", "2".to_owned())];
    let (response, summary, logs) = s.run(&cold).await;
    assert_all_reported(&response, &summary, &s.sequence_numbers(), &logs);
    assert!(logs.contains("reporting it for retry"), "{logs}");

    proxy.script(vec![], Fault::Pass);
    assert_retry_delivers_everything(&s, &kms).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_5xx_is_reported_then_delivered() {
    let s = setup(5).await;
    let proxy = FaultProxy::start(&host_port(&s.moto.endpoint)).await;
    proxy.script(vec![], Fault::kms_internal());
    let env = [("AWS_ENDPOINT_URL_KMS", proxy.url.clone()), ("AWS_MAX_ATTEMPTS", "2".to_owned())];
    let (response, summary, logs) = s.run(&env).await;
    assert_all_reported(&response, &summary, &s.sequence_numbers(), &logs);
    let attempts = proxy.log().len();
    assert!(attempts >= 2, "the SDK retried the 500: {attempts} requests");
    proxy.script(vec![], Fault::Pass);
    assert_retry_delivers_everything(&s, &env).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_timeout_is_reported_then_delivered() {
    let s = setup(5).await;
    let proxy = FaultProxy::start(&host_port(&s.moto.endpoint)).await;
    proxy.script(vec![], Fault::Hang);
    let env = [("AWS_ENDPOINT_URL_KMS", proxy.url.clone()), ("KMS_TIMEOUT_MS", "400".to_owned())];
    let started = std::time::Instant::now();
    let (response, summary, logs) = s.run(&env).await;
    assert_all_reported(&response, &summary, &s.sequence_numbers(), &logs);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "KMS_TIMEOUT_MS bounds the wait");
    proxy.script(vec![], Fault::Pass);
    assert_retry_delivers_everything(&s, &env).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_slow_down_is_reported_then_delivered_once_per_key() {
    let s = setup(6).await;
    let proxy = FaultProxy::start(&host_port(&s.moto.endpoint)).await;
    // Every PUT answers 503 SlowDown (the SDK retries each, then the sink reports).
    proxy.script(vec![], Fault::s3_slow_down());
    let env = [("AWS_ENDPOINT_URL_S3", proxy.url.clone())];
    let (response, summary, logs) = s.run(&env).await;
    assert_all_reported(&response, &summary, &s.sequence_numbers(), &logs);
    assert!(proxy.log().iter().filter(|(l, _)| l.starts_with("PUT")).count() >= 3, "{:?}", proxy.log());
    proxy.script(vec![], Fault::Pass);
    let (_, first) = assert_retry_delivers_everything(&s, &env).await;
    // A second follow-up (an at-least-once redelivery) rewrites the same keys: still one copy each.
    let (_, second) = assert_retry_delivers_everything(&s, &env).await;
    assert_eq!(first, second);
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_connection_resets_are_reported_then_delivered() {
    let s = setup(5).await;
    let proxy = FaultProxy::start(&host_port(&s.moto.endpoint)).await;
    proxy.script(vec![], Fault::Reset);
    let env = [("AWS_ENDPOINT_URL_S3", proxy.url.clone())];
    let (response, summary, logs) = s.run(&env).await;
    assert_all_reported(&response, &summary, &s.sequence_numbers(), &logs);
    proxy.script(vec![], Fault::Pass);
    assert_retry_delivers_everything(&s, &env).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hec_503_and_hangs_are_reported_then_every_event_reaches_hec() {
    let s = setup(6).await;
    let rx = Receiver::start(TOKEN, b"k").await;
    let proxy = FaultProxy::start(&host_port(&rx.url)).await;
    // Busy, then hanging: the sink retries the 503s with backoff, the hang hits HEC_TIMEOUT_SECS,
    // and the delivery deadline ends it.
    proxy.script(vec![Fault::hec_busy(), Fault::hec_busy()], Fault::Hang);
    let env = [
        ("SINKS", "s3,hec".to_owned()),
        ("HEC_URL", proxy.url.clone()),
        ("HEC_TOKEN", TOKEN.to_owned()),
        ("HEC_TIMEOUT_SECS", "1".to_owned()),
    ];
    let (response, summary, logs) = s.run(&env).await;
    assert_all_reported(&response, &summary, &s.sequence_numbers(), &logs);
    assert!(logs.contains("HEC request failed; retrying"), "{logs}");

    proxy.script(vec![], Fault::Pass);
    let (events, uids) = assert_retry_delivers_everything(&s, &env).await;
    let in_hec: BTreeSet<String> =
        rx.with(|g| g.envelopes.iter().map(|e| e["event"]["metadata"]["uid"].as_str().unwrap().to_owned()).collect());
    assert_eq!(in_hec.len(), events, "every event reached HEC at least once");
    assert_eq!(in_hec, uids, "the same events in S3 and HEC");
}
