//! Secrets and privacy: a batch through every sink with tracing at TRACE (the AWS SDK's and HTTP
//! stack's own TRACE included, as far as the binary lets them), then a search of everything the
//! process printed for the HEC token, the webhook secret, every wrapping key and every ESDK data
//! key (hex, base64, and Rust's debug form of a byte array), and every statement's `commandText`.

use crate::common;

use aws_lambda_events::event::kinesis::KinesisEvent;
use base64::Engine;
use common::moto::Moto;
use common::receiver::Receiver;
use das_forwarder::cli::generate::{generate_with_keys, GenerateOptions};
use das_forwarder::das::activity::{events_of, ReadLimits};
use das_forwarder::das::envelope;
use das_forwarder::das::inflate::inflate;
use das_forwarder::das::RawEvent;
use das_forwarder::esdk::{self, RawAesKeyring};

const TOKEN: &str = "7d5c1f1e-4b7a-4c59-9e0f-token-never-logged";
const WEBHOOK_KEY: &[u8] = b"webhook-key-never-logged-0123456";
const RESOURCE: &str = "cluster-SECRETSTEST";

/// Every way a key could show up in a log line.
fn forms(key: &[u8]) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        hex::encode(key),
        hex::encode_upper(key),
        b64.encode(key),
        format!("{key:?}"),
        // A part is enough to leak: the first 12 bytes in each form.
        hex::encode(&key[..12]),
        b64.encode(&key[..12]).trim_end_matches('=').to_owned(),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_logs_hold_no_secret_key_or_sql() {
    let moto = Moto::start();
    let wrapping = moto.rds_data_keys(RESOURCE, 2).await;
    let opts = GenerateOptions {
        poison: Some(3),
        max_events: Some(6),
        records: 8,
        seed: 77,
        resource_id: RESOURCE.into(),
        data_keys: 2,
        ..GenerateOptions::default()
    };
    let event_json = generate_with_keys(&opts, &wrapping);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    std::fs::write(&path, serde_json::to_vec(&event_json).unwrap()).unwrap();

    // What must never be printed: secrets, keys, SQL.
    let event: KinesisEvent = serde_json::from_value(event_json).unwrap();
    let mut secrets: Vec<String> = vec![TOKEN.to_owned(), String::from_utf8_lossy(WEBHOOK_KEY).into_owned()];
    let webhook_secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(WEBHOOK_KEY));
    secrets.push(webhook_secret.clone());
    for (key, _) in &wrapping {
        secrets.extend(forms(key));
    }
    let mut statements = Vec::new();
    for r in &event.records {
        let env = envelope::parse(&r.kinesis.data.0).unwrap();
        let key = &wrapping.iter().find(|(_, b)| common::b64(b) == env.key_blob).unwrap().0;
        let header = esdk::header::parse(&env.message).unwrap();
        let data_key = RawAesKeyring::das(key).unwrap_data_key(&header).unwrap();
        secrets.extend(forms(&data_key));
        // The poison record does not decrypt; its statements are not known, nor printed.
        if let Ok(plain) = esdk::decrypt(&env.message, &RawAesKeyring::das(key)) {
            let limits = ReadLimits { max_events: 100_000, max_event_bytes: 1 << 24 };
            let (_, events) = events_of(&inflate(&plain, 1 << 26).unwrap(), limits).unwrap();
            statements.extend(
                events
                    .iter()
                    .filter_map(|e| RawEvent::parse(e).unwrap().text("commandText").map(|t| t.into_owned()))
                    .filter(|s| s.len() > 12),
            );
        }
    }
    assert!(statements.len() > 10, "the batch carries SQL");

    let rx = Receiver::start(TOKEN, WEBHOOK_KEY).await;
    let mut env = moto.aws_env();
    env.extend([
        ("KEY_PROVIDER", "kms".to_owned()),
        ("SINKS", "file,hec,webhook".to_owned()),
        ("FILE_SINK_DIR", dir.path().join("out").display().to_string()),
        ("HEC_URL", rx.url.clone()),
        ("HEC_TOKEN", TOKEN.to_owned()),
        ("WEBHOOK_URL", format!("{}/webhook", rx.url)),
        ("WEBHOOK_SECRET", webhook_secret),
        ("RUST_LOG", "trace".to_owned()),
        ("LOG_FORMAT", "json".to_owned()),
    ]);
    let (response, summary, logs) = {
        let (path, env) = (path.clone(), env.clone());
        tokio::task::spawn_blocking(move || common::invoke(&path, &env)).await.unwrap()
    };
    assert_eq!(response["batchItemFailures"], serde_json::json!([]), "{logs}");
    assert_eq!(summary["quarantined"], 1, "the poison record: its reason is logged, not its content");
    assert!(rx.with(|g| !g.envelopes.is_empty() && !g.webhook_events.is_empty()), "both HTTP sinks received events");
    assert!(logs.lines().count() > 5, "tracing was on");

    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret or key appears in the logs: {secret}");
    }
    for sql in &statements {
        assert!(!logs.contains(sql.as_str()), "SQL text in the logs: {sql}");
    }

    // The cap on the SDK's and HTTP stack's logs lowers them, never raises them: at WARN the
    // same batch (one record quarantined) prints warnings and errors only.
    for (k, v) in env.iter_mut() {
        if *k == "RUST_LOG" {
            *v = "warn".to_owned();
        }
    }
    let (_, _, logs) = tokio::task::spawn_blocking(move || common::invoke(&path, &env)).await.unwrap();
    let levels: Vec<String> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|l| l["level"].as_str().map(str::to_owned))
        .collect();
    assert!(levels.iter().any(|l| l == "ERROR" || l == "WARN"), "the quarantine is logged: {logs}");
    assert!(levels.iter().all(|l| l == "ERROR" || l == "WARN"), "RUST_LOG=warn printed more: {logs}");
}
