//! The HEC and webhook sinks against a real HTTP server on loopback that
//! speaks the HEC protocol, checks the token, verifies webhook signatures and
//! can be scripted to fail. Every case ends in the documented record states.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use aws_lambda_events::event::kinesis::KinesisEvent;
use common::receiver::{Receiver, Reply};
use das_forwarder::cli::generate::{generate, GenerateOptions};
use das_forwarder::config::Config;
use das_forwarder::handler::{Forwarder, Summary};
use das_forwarder::keys::local::LocalKeys;
use das_forwarder::sinks::hec::{HecConfig, HecSink, HecToken, TokenSource};
use das_forwarder::sinks::quarantine::FileQuarantine;
use das_forwarder::sinks::retry::Backoff;
use das_forwarder::sinks::webhook::{WebhookConfig, WebhookSecret, WebhookSink};
use das_forwarder::sinks::Sink;
use serde_json::Value;

const TOKEN: &str = "00000000-1111-2222-3333-444444444444";
const MASTER: [u8; 32] = [9; 32];
const FAST: Backoff = Backoff { base: Duration::from_millis(5), cap: Duration::from_millis(40) };

fn event(records: usize) -> KinesisEvent {
    let opts = GenerateOptions {
        records,
        seed: 11,
        resource_id: "cluster-HECTEST".into(),
        data_keys: 2,
        start_ms: 1_764_000_000_000,
        ..GenerateOptions::default()
    };
    serde_json::from_value(generate(&opts, &LocalKeys::new(MASTER))).unwrap()
}

fn hec_config(url: &str, gzip: bool, ack: bool, max_events: usize) -> HecConfig {
    // Small batches when counting by events, one request per batch otherwise.
    let max_batch_bytes = if max_events < 1000 { 64 * 1024 } else { 16 << 20 };
    HecConfig {
        url: url.to_owned(),
        token: TokenSource::Value(HecToken(TOKEN.into())),
        index: Some("das".into()),
        sourcetype: "ocsf:aws:rds:das".into(),
        source: None,
        max_batch_bytes,
        max_batch_events: max_events,
        gzip,
        ack,
        timeout: Duration::from_millis(500),
        ack_poll_interval: Duration::from_millis(20),
    }
}

fn hec(url: &str, token: &str, gzip: bool, ack: bool, max_events: usize) -> Box<dyn Sink> {
    let sink = HecSink::new(reqwest::Client::new(), hec_config(url, gzip, ack, max_events), &HecToken(token.into()));
    Box::new(sink.unwrap().with_backoff(FAST))
}

fn forwarder(dir: &Path, sinks: Vec<Box<dyn Sink>>) -> Forwarder {
    let config = Config::from_lookup(|_| None).unwrap();
    let provider = std::sync::Arc::new(LocalKeys::new(MASTER));
    Forwarder::new(config, provider, sinks, Box::new(FileQuarantine::new(dir.to_path_buf(), "quarantine/".into())))
}

async fn run(fwd: &Forwarder, ev: &KinesisEvent, within: Duration) -> (Vec<String>, Summary) {
    let (resp, summary) = fwd.handle_until(ev, Instant::now() + within).await;
    (resp.batch_item_failures.into_iter().map(|f| f.item_identifier.unwrap()).collect(), summary)
}

fn seqs(ev: &KinesisEvent) -> Vec<String> {
    ev.records.iter().map(|r| r.kinesis.sequence_number.clone()).collect()
}

fn uids(events: &[Value]) -> Vec<String> {
    let mut u: Vec<String> = events.iter().map(|e| e["metadata"]["uid"].as_str().unwrap().to_owned()).collect();
    u.sort();
    u
}

#[tokio::test]
async fn hec_receives_every_event_in_valid_envelopes_plain_gzip_and_acknowledged() {
    let validator = common::ocsf::OcsfValidator::new();
    for (gzip, ack) in [(false, false), (true, false), (false, true)] {
        let rx = Receiver::start(TOKEN, b"k").await;
        let dir = tempfile::tempdir().unwrap();
        let fwd = forwarder(dir.path(), vec![hec(&rx.url, TOKEN, gzip, ack, 100)]);
        let ev = event(8);
        let (failed, summary) = run(&fwd, &ev, Duration::from_secs(20)).await;
        assert!(failed.is_empty(), "{:?}", summary.sink_errors);
        rx.with(|got| {
            assert_eq!(got.envelopes.len(), summary.events);
            assert!(got.requests > 1, "batches are capped by events");
            assert_eq!(got.gzip_requests > 0, gzip);
            assert_eq!(got.ack_polls > 0, ack);
            let mut seen = std::collections::HashSet::new();
            for env in &got.envelopes {
                assert_eq!(env["sourcetype"], "ocsf:aws:rds:das");
                assert_eq!(env["index"], "das");
                assert_eq!(env["source"], "aws-rds-das-cluster-HECTEST");
                assert!(env["host"].as_str().unwrap().starts_with("db-"));
                let ms = env["event"]["time"].as_i64().unwrap();
                assert!((env["time"].as_f64().unwrap() - ms as f64 / 1000.0).abs() < 1e-6);
                validator.check(&env["event"]);
                assert!(seen.insert(env["event"]["metadata"]["uid"].as_str().unwrap().to_owned()), "duplicate");
            }
        });
    }
}

#[tokio::test]
async fn hec_busy_throughout_reports_from_the_first_record_and_the_retry_delivers_everything() {
    let rx = Receiver::start(TOKEN, b"k").await;
    rx.script(vec![], Reply::Busy);
    let dir = tempfile::tempdir().unwrap();
    let fwd = forwarder(dir.path(), vec![hec(&rx.url, TOKEN, false, false, 1000)]);
    let ev = event(6);
    let (failed, summary) = run(&fwd, &ev, Duration::from_millis(600)).await;
    assert_eq!(failed, seqs(&ev), "every record reported, the first one first");
    assert_eq!((summary.delivered, summary.reported), (0, 6));
    assert!(rx.with(|g| g.requests) > 2, "503 is retried");
    rx.script(vec![], Reply::Ok);
    let (failed, summary) = run(&fwd, &ev, Duration::from_secs(10)).await;
    assert!(failed.is_empty());
    assert_eq!(rx.with(|g| g.envelopes.len()), summary.events, "nothing lost");
}

#[tokio::test]
async fn hec_429_retry_after_is_honoured() {
    let rx = Receiver::start(TOKEN, b"k").await;
    rx.script(vec![Reply::TooMany(1)], Reply::Ok);
    let dir = tempfile::tempdir().unwrap();
    let fwd = forwarder(dir.path(), vec![hec(&rx.url, TOKEN, false, false, 1000)]);
    let started = Instant::now();
    let (failed, summary) = run(&fwd, &event(3), Duration::from_secs(10)).await;
    assert!(failed.is_empty());
    assert!(started.elapsed() >= Duration::from_secs(1), "waited for Retry-After");
    assert_eq!(rx.with(|g| (g.requests, g.envelopes.len())), (2, summary.events));
}

#[tokio::test]
async fn hec_invalid_event_is_quarantined_and_only_the_events_after_it_are_resent() {
    let rx = Receiver::start(TOKEN, b"k").await;
    rx.script(vec![Reply::InvalidEvent(2)], Reply::Ok);
    let dir = tempfile::tempdir().unwrap();
    let fwd = forwarder(dir.path(), vec![hec(&rx.url, TOKEN, false, false, 1000)]);
    let (failed, summary) = run(&fwd, &event(4), Duration::from_secs(10)).await;
    assert!(failed.is_empty());
    assert_eq!(summary.rejected_events, 1);
    assert_eq!(rx.with(|g| (g.requests, g.envelopes.len())), (2, summary.events - 1));
    let entries = common::ndjson_or_json_under(&dir.path().join("quarantine"));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["reason"], "hec.invalid_event");
    assert_eq!(entries[0]["sink"], "hec");
    let refused = entries[0]["event"]["metadata"]["uid"].as_str().unwrap().to_owned();
    assert!(!rx.with(|g| uids(&g.envelopes.iter().map(|e| e["event"].clone()).collect::<Vec<_>>())).contains(&refused));
}

#[tokio::test]
async fn hec_wrong_token_is_not_retried_and_reports_the_records() {
    let rx = Receiver::start(TOKEN, b"k").await;
    let dir = tempfile::tempdir().unwrap();
    let fwd = forwarder(dir.path(), vec![hec(&rx.url, "wrong-token", false, false, 1000)]);
    let ev = event(3);
    let (failed, summary) = run(&fwd, &ev, Duration::from_secs(10)).await;
    assert_eq!(failed, seqs(&ev));
    assert_eq!(rx.with(|g| (g.requests, g.auth_failures)), (1, 1));
    assert!(summary.sink_errors[0].contains("HEC code 3"), "{:?}", summary.sink_errors);
}

#[tokio::test]
async fn hec_hanging_receiver_ends_in_reported_records_by_the_deadline() {
    let rx = Receiver::start(TOKEN, b"k").await;
    rx.script(vec![], Reply::Hang(Duration::from_secs(30)));
    let dir = tempfile::tempdir().unwrap();
    let fwd = forwarder(dir.path(), vec![hec(&rx.url, TOKEN, false, false, 1000)]);
    let ev = event(3);
    let started = Instant::now();
    let (failed, _) = run(&fwd, &ev, Duration::from_millis(1500)).await;
    assert!(started.elapsed() < Duration::from_secs(5), "bounded by the deadline");
    assert_eq!(failed, seqs(&ev));
}

fn webhook(url: &str, secret: &str) -> Box<dyn Sink> {
    let config = WebhookConfig {
        secret_arn: None,
        url: format!("{url}/webhook"),
        secret: WebhookSecret(secret.into()),
        max_batch_bytes: 32 * 1024,
        max_batch_events: 50,
        timeout: Duration::from_millis(500),
    };
    Box::new(WebhookSink::new(reqwest::Client::new(), config).with_backoff(FAST))
}

#[tokio::test]
async fn webhook_is_signed_retried_with_a_stable_id_and_complete() {
    // whsec_ secrets carry base64 key bytes.
    let rx = Receiver::start(TOKEN, b"0123456789abcdef").await;
    rx.script(vec![Reply::Busy], Reply::Ok);
    let dir = tempfile::tempdir().unwrap();
    let fwd = forwarder(dir.path(), vec![webhook(&rx.url, "whsec_MDEyMzQ1Njc4OWFiY2RlZg==")]);
    let (failed, summary) = run(&fwd, &event(6), Duration::from_secs(10)).await;
    assert!(failed.is_empty(), "{:?}", summary.sink_errors);
    rx.with(|g| {
        assert_eq!(g.bad_signatures, 0);
        assert_eq!(g.webhook_events.len(), summary.events);
        assert_eq!(g.requests, g.webhook_ids.len() + 1, "one 503, retried");
        assert_eq!(g.webhook_attempts[0], g.webhook_attempts[1], "a retry keeps its webhook-id");
        let distinct: std::collections::HashSet<_> = g.webhook_ids.iter().collect();
        assert_eq!(distinct.len(), g.webhook_ids.len(), "each batch has its own id");
    });
    // A wrong secret is refused (401) and not retried: the records are reported.
    let dir = tempfile::tempdir().unwrap();
    let bad = forwarder(dir.path(), vec![webhook(&rx.url, "not-the-secret")]);
    let ev = event(2);
    let (failed, _) = run(&bad, &ev, Duration::from_secs(10)).await;
    assert_eq!(failed, seqs(&ev));
}

#[tokio::test]
async fn events_refused_before_a_later_failure_still_reach_the_quarantine() {
    let rx = Receiver::start(TOKEN, b"k").await;
    // The first request has its first event refused; every later request finds HEC busy.
    rx.script(vec![Reply::InvalidEvent(0), Reply::Ok], Reply::Busy);
    let dir = tempfile::tempdir().unwrap();
    let fwd = forwarder(dir.path(), vec![hec(&rx.url, TOKEN, false, false, 30)]);
    let ev = event(8);
    let (failed, summary) = run(&fwd, &ev, Duration::from_millis(700)).await;
    assert!(!failed.is_empty() && summary.delivered > 0, "{summary:?}");
    assert_eq!(summary.rejected_events, 1);
    let entries = common::ndjson_or_json_under(&dir.path().join("quarantine"));
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0]["reason"].as_str(), entries[0]["eventIndex"].as_u64()),
        (Some("hec.invalid_event"), Some(0))
    );
    assert_eq!(entries[0]["sequenceNumber"], ev.records[0].kinesis.sequence_number.as_str());
}

#[tokio::test]
async fn an_absurd_invalid_event_number_is_a_refusal_not_a_panic() {
    let rx = Receiver::start(TOKEN, b"k").await;
    rx.script(vec![], Reply::InvalidEvent(usize::MAX));
    let dir = tempfile::tempdir().unwrap();
    let fwd = forwarder(dir.path(), vec![hec(&rx.url, TOKEN, false, false, 1000)]);
    let ev = event(2);
    let (failed, summary) = run(&fwd, &ev, Duration::from_secs(5)).await;
    assert_eq!(failed, seqs(&ev));
    assert_eq!((summary.rejected_events, rx.with(|g| g.requests)), (0, 1));
}
