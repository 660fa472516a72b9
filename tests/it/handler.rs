//! The handler's record states on generated batches: delivered, quarantined
//! (permanent errors, with reasons), reported (transient errors cut the batch).

use crate::common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::kinesis::KinesisEvent;
use base64::Engine;
use das_forwarder::cli::generate::{generate, GenerateOptions};
use das_forwarder::config::Config;
use das_forwarder::handler::Forwarder;
use das_forwarder::keys::local::LocalKeys;
use das_forwarder::keys::{KeyContext, KeyError, KeyProvider, WrappingKey};
use das_forwarder::sinks::file::FileSink;
use das_forwarder::sinks::quarantine::{FileQuarantine, QuarantineEntry, QuarantineStore};
use das_forwarder::sinks::{BatchInfo, Chunk, Delivery, Sink, SinkError, SinkWriter};
use futures::future::BoxFuture;
use serde_json::Value;

const MASTER: [u8; 32] = [5; 32];

fn event(records: usize) -> KinesisEvent {
    let opts = GenerateOptions {
        records,
        seed: 7,
        resource_id: "cluster-TESTCLUSTER".into(),
        region: "eu-west-1".into(),
        account: "111122223333".into(),
        start_ms: 1_700_000_000_000,
        ..GenerateOptions::default()
    };
    serde_json::from_value(generate(&opts, &LocalKeys::new(MASTER))).unwrap()
}

fn config() -> Config {
    Config::from_lookup(|_| None).unwrap()
}

/// Counts calls and fails (transiently) for chosen blobs.
struct Flaky {
    inner: LocalKeys,
    fail_blob: Mutex<Option<Vec<u8>>>,
    calls: AtomicUsize,
}

impl KeyProvider for Flaky {
    fn decrypt<'a>(&'a self, blob: &'a [u8], ctx: KeyContext<'a>) -> BoxFuture<'a, Result<WrappingKey, KeyError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail_blob.lock().unwrap().as_deref() == Some(blob) {
            return Box::pin(async { Err(KeyError::Transient("ThrottlingException".into())) });
        }
        self.inner.decrypt(blob, ctx)
    }
    fn name(&self) -> &'static str {
        "flaky"
    }
}

fn flaky() -> Arc<Flaky> {
    Arc::new(Flaky { inner: LocalKeys::new(MASTER), fail_blob: Mutex::new(None), calls: AtomicUsize::new(0) })
}

fn forwarder(dir: &Path, provider: Arc<dyn KeyProvider>, extra: Vec<Box<dyn Sink>>) -> Forwarder {
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(FileSink::new(dir.to_path_buf(), "das/".into()))];
    sinks.extend(extra);
    Forwarder::new(config(), provider, sinks, Box::new(FileQuarantine::new(dir.to_path_buf(), "quarantine/".into())))
}

fn record_json(ev: &KinesisEvent, i: usize) -> Value {
    serde_json::from_slice(&ev.records[i].kinesis.data.0).unwrap()
}

fn set_record_json(ev: &mut KinesisEvent, i: usize, v: &Value) {
    ev.records[i].kinesis.data.0 = serde_json::to_vec(v).unwrap();
}

/// Every NDJSON line under `dir/das`.
fn output_lines(dir: &Path) -> Vec<Value> {
    common::ndjson_under(&dir.join("das"))
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    common::files_under(dir)
}

fn failures(resp: &aws_lambda_events::event::streams::KinesisEventResponse) -> Vec<String> {
    resp.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect()
}

#[tokio::test]
async fn clean_batch_is_delivered_with_one_key_call_per_data_key() {
    let dir = tempfile::tempdir().unwrap();
    let provider = flaky();
    let fwd = forwarder(dir.path(), provider.clone(), vec![]);
    let ev = event(12);
    let (resp, summary) = fwd.handle(&ev).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((summary.delivered, summary.quarantined, summary.reported), (12, 0, 0));
    assert_eq!(provider.calls.load(Ordering::SeqCst), 3);
    let lines = output_lines(dir.path());
    assert_eq!(lines.len(), summary.events);
    assert!(summary.heartbeats > 0);
    let validator = common::ocsf::OcsfValidator::new();
    for line in &lines {
        validator.check(line);
        assert!(line["metadata"]["log_name"].as_str().unwrap().starts_with("aws-rds-das-cluster-TESTCLUSTER"));
        assert_eq!(line["cloud"]["region"], "eu-west-1");
    }
    // A warm second invocation makes no key call at all.
    let (_, again) = fwd.handle(&ev).await;
    assert_eq!((again.key_provider_calls, again.cache_hits), (0, 12));
    // The retried batch overwrote its files: still one copy of each event.
    assert_eq!(output_lines(dir.path()).len(), summary.events);
}

/// `invoke` asks for the keys of the first records while it reads the rest of the event: those
/// calls are the batch's, its first lookup of each key still a miss, and a record the warm-up
/// cannot read is left to the batch.
#[tokio::test]
async fn keys_asked_for_ahead_count_as_the_batch_s_calls_and_misses() {
    let dir = tempfile::tempdir().unwrap();
    let provider = flaky();
    let fwd = forwarder(dir.path(), provider.clone(), vec![]);
    let mut ev = event(12);
    set_record_json(&mut ev, 5, &serde_json::json!({"type": "not an envelope"}));
    let distinct: std::collections::HashSet<String> =
        (0..6).filter(|&i| i != 5).map(|i| record_json(&ev, i)["key"].as_str().unwrap().to_owned()).collect();
    let before = fwd.key_stats();
    fwd.warm_keys(&ev.records[..6]).await;
    assert_eq!(provider.calls.load(Ordering::SeqCst), distinct.len());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (resp, summary) = fwd.handle_since(&ev, deadline, before).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((summary.delivered, summary.quarantined), (11, 1));
    assert_eq!(provider.calls.load(Ordering::SeqCst), 3, "no key asked for twice");
    assert_eq!((summary.key_provider_calls, summary.cache_misses, summary.cache_hits), (3, 3, 8));
}

#[tokio::test]
async fn filters_drop_and_count_events() {
    let dir = tempfile::tempdir().unwrap();
    let all = forwarder(dir.path(), flaky(), vec![]).handle(&event(12)).await.1;
    let lookup = |k: &str| match k {
        "EXCLUDE_USERS" => Some("RDSADMIN".to_owned()),
        "EXCLUDE_COMMANDS" => Some("connect".to_owned()),
        _ => None,
    };
    let config = Config::from_lookup(lookup).unwrap();
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(FileSink::new(dir.path().join("f"), "das/".into()))];
    let fwd =
        Forwarder::new(config, flaky(), sinks, Box::new(FileQuarantine::new(dir.path().to_path_buf(), "q/".into())));
    let (_, s) = fwd.handle(&event(12)).await;
    assert!(s.filtered.users > 0 && s.filtered.commands > 0, "{:?}", s.filtered);
    assert_eq!(s.events + s.filtered.users + s.filtered.commands, all.events);
    let lines = output_lines(&dir.path().join("f"));
    assert_eq!(lines.len(), s.events);
    assert!(lines.iter().all(|l| l["actor"]["user"]["name"] != "rdsadmin" && l["activity_name"] != "Connect"));
}

#[tokio::test]
async fn corrupted_record_in_the_middle_is_quarantined_and_the_rest_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let mut ev = event(9);
    let clean = event(9);
    let mut rec = record_json(&ev, 4);
    let mut msg =
        base64::engine::general_purpose::STANDARD.decode(rec["databaseActivityEvents"].as_str().unwrap()).unwrap();
    let n = msg.len();
    msg[n - 20] ^= 1; // inside the final frame's ciphertext
    rec["databaseActivityEvents"] = base64::engine::general_purpose::STANDARD.encode(&msg).into();
    set_record_json(&mut ev, 4, &rec);
    ev.records[6].kinesis.data.0 = b"definitely not json".to_vec();

    let fwd = forwarder(dir.path(), flaky(), vec![]);
    let (resp, summary) = fwd.handle(&ev).await;
    assert!(resp.batch_item_failures.is_empty(), "permanent errors are not reported");
    assert_eq!((summary.delivered, summary.quarantined), (7, 2));
    assert_eq!(summary.quarantine_reasons.get("esdk.frame_tag"), Some(&1));
    assert_eq!(summary.quarantine_reasons.get("envelope.not_json"), Some(&1));

    // The quarantine holds the records exactly as they arrived, with their reason.
    let entries: Vec<Value> = walk(&dir.path().join("quarantine"))
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect();
    assert_eq!(entries.len(), 2);
    let bad = entries.iter().find(|e| e["reason"] == "esdk.frame_tag").unwrap();
    assert_eq!(bad["sequenceNumber"], ev.records[4].kinesis.sequence_number.as_str());
    let data = base64::engine::general_purpose::STANDARD.decode(bad["data"].as_str().unwrap()).unwrap();
    assert_eq!(data, ev.records[4].kinesis.data.0);
    assert!(bad["eventSourceARN"].as_str().unwrap().ends_with("aws-rds-das-cluster-TESTCLUSTER"));

    // Delivered: exactly the events of the other records.
    let ok_dir = tempfile::tempdir().unwrap();
    let (_, clean_summary) = forwarder(ok_dir.path(), flaky(), vec![]).handle(&clean).await;
    let expected = clean_summary.events;
    let mut lost = Vec::new();
    for i in [4usize, 6] {
        let mut one = clean.clone();
        one.records = vec![clean.records[i].clone()];
        let d = tempfile::tempdir().unwrap();
        lost.push(forwarder(d.path(), flaky(), vec![]).handle(&one).await.1.events);
    }
    assert_eq!(output_lines(dir.path()).len(), expected - lost.iter().sum::<usize>());
}

#[tokio::test]
async fn transient_key_failure_reports_from_that_record_and_delivers_nothing_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut ev = event(10);
    ev.records[7].kinesis.data.0 = b"{}".to_vec(); // permanent, but after the cut
    let provider = flaky();
    // Records share data keys round-robin: make the key of records 2, 5 and 8 fail.
    let blob = record_json(&ev, 5)["key"].as_str().unwrap().to_owned();
    *provider.fail_blob.lock().unwrap() = Some(base64::engine::general_purpose::STANDARD.decode(blob).unwrap());
    let fwd = forwarder(dir.path(), provider.clone(), vec![]);
    let (resp, summary) = fwd.handle(&ev).await;
    let seqs: Vec<String> = ev.records.iter().map(|r| r.kinesis.sequence_number.clone()).collect();
    // Data key 2 serves records 2, 5, 8: record 2 is the first to fail.
    assert_eq!(failures(&resp), seqs[2..].to_vec());
    assert_eq!(summary.first_reported.as_deref(), Some(seqs[2].as_str()));
    assert_eq!((summary.delivered, summary.quarantined, summary.reported), (2, 0, 8));
    assert!(walk(&dir.path().join("quarantine")).is_empty(), "nothing after the cut is quarantined");

    // Kinesis retries from the reported record; with KMS back everything goes through once.
    *provider.fail_blob.lock().unwrap() = None;
    let mut retry = ev.clone();
    retry.records = ev.records[2..].to_vec();
    let (resp, summary) = fwd.handle(&retry).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((summary.delivered, summary.quarantined), (7, 1));
}

/// Takes records until it meets the one at `from` (a batch index), then fails there.
struct FailingSink {
    from: usize,
}

struct FailingWriter {
    from: usize,
    delivery: Delivery,
}

impl Sink for FailingSink {
    fn name(&self) -> &'static str {
        "failing"
    }
    fn open<'a>(&'a self, _: &BatchInfo) -> Box<dyn SinkWriter + 'a> {
        Box::new(FailingWriter { from: self.from, delivery: Delivery::default() })
    }
}

impl SinkWriter for FailingWriter {
    fn append<'a>(&'a mut self, chunk: &'a Chunk) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            if chunk.records.iter().any(|r| r.meta.index >= self.from) {
                let e = SinkError::new("failing", self.from, "503");
                self.delivery.fail(e.clone());
                return Err(e);
            }
            Ok(())
        })
    }
    fn finish(&mut self) -> BoxFuture<'_, Delivery> {
        Box::pin(async move { std::mem::take(&mut self.delivery) })
    }
}

#[tokio::test]
async fn sink_failure_reports_from_its_first_undelivered_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut ev = event(6);
    ev.records[1].kinesis.data.0 = b"[]".to_vec(); // quarantined: not part of the sink batch
    let fwd = forwarder(dir.path(), flaky(), vec![Box::new(FailingSink { from: 3 })]);
    let (resp, summary) = fwd.handle(&ev).await;
    let seqs: Vec<String> = ev.records.iter().map(|r| r.kinesis.sequence_number.clone()).collect();
    assert_eq!(failures(&resp), seqs[3..].to_vec());
    assert_eq!((summary.delivered, summary.quarantined, summary.reported), (2, 1, 3));
    assert_eq!(summary.sink_errors.len(), 1);
}

struct BrokenQuarantine;

impl QuarantineStore for BrokenQuarantine {
    fn put<'a>(&'a self, entries: &'a [QuarantineEntry]) -> BoxFuture<'a, Result<(), (usize, String)>> {
        Box::pin(async move {
            if entries.is_empty() {
                Ok(())
            } else {
                Err((0, "disk full".into()))
            }
        })
    }
}

#[tokio::test]
async fn quarantine_write_failure_reports_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut ev = event(5);
    ev.records[3].kinesis.data.0 = b"nope".to_vec();
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(FileSink::new(dir.path().to_path_buf(), "das/".into()))];
    let fwd = Forwarder::new(config(), flaky(), sinks, Box::new(BrokenQuarantine));
    let (resp, summary) = fwd.handle(&ev).await;
    assert_eq!(
        failures(&resp),
        vec![ev.records[3].kinesis.sequence_number.clone(), ev.records[4].kinesis.sequence_number.clone()]
    );
    assert_eq!((summary.delivered, summary.quarantined, summary.reported), (3, 0, 2));
}

#[tokio::test]
async fn wrong_resource_is_a_permanent_key_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut ev = event(3);
    for r in &mut ev.records {
        r.event_source_arn = Some("arn:aws:kinesis:eu-west-1:111122223333:stream/aws-rds-das-cluster-OTHER".into());
    }
    let (resp, summary) = forwarder(dir.path(), flaky(), vec![]).handle(&ev).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(summary.quarantine_reasons.get("local.invalid_ciphertext"), Some(&3));
}
