//! Acceptance of the sinks: `das-forwarder invoke` with `SINKS=s3,hec` on an
//! RDS-format batch (official Python ESDK, KMS key bound to aws:rds:dbc-id)
//! against moto (KMS and S3) and a HEC-protocol receiver on loopback.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::moto::{venv, Moto};
use common::receiver::{Receiver, Reply};
use common::{invoke, repo_dir};
use serde_json::Value;

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";
const BUCKET: &str = "das-acceptance";

fn rds_batch(moto: &Moto, dir: &Path) -> (PathBuf, Value) {
    let (event, expected) = (dir.join("event.json"), dir.join("expected.json"));
    let status = Command::new(venv().join("bin/python"))
        .arg(repo_dir().join("tests/support/make_rds_batch.py"))
        .args(["--endpoint", &moto.endpoint, "--records", "10", "--engine", "mixed", "--out"])
        .arg(&event)
        .arg("--expected")
        .arg(&expected)
        .status()
        .unwrap();
    assert!(status.success());
    (event, serde_json::from_slice(&std::fs::read(expected).unwrap()).unwrap())
}

async fn s3(moto: &Moto) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&moto.sdk_config().await).force_path_style(true).build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
    client
}

/// All OCSF events in the bucket's `das/` objects, with their keys.
async fn s3_events(client: &aws_sdk_s3::Client) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let list = client.list_objects_v2().bucket(BUCKET).prefix("das/").send().await.unwrap();
    for obj in list.contents() {
        let key = obj.key().unwrap().to_owned();
        let body = client.get_object().bucket(BUCKET).key(&key).send().await.unwrap().body.collect().await.unwrap();
        let text = das_forwarder::das::inflate::inflate(&body.into_bytes(), 1 << 30).unwrap();
        for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            out.push((key.clone(), serde_json::from_slice(line).unwrap()));
        }
    }
    out
}

fn expected_events(expected: &Value) -> Vec<Value> {
    expected["records"].as_array().unwrap().iter().flat_map(|r| r["events"].as_array().unwrap().clone()).collect()
}

fn key(das: &Value) -> (String, String) {
    (das["statementId"].to_string(), das["substatementId"].to_string())
}

async fn run(event: PathBuf, env: Vec<(&'static str, String)>) -> (Value, Value, String) {
    tokio::task::spawn_blocking(move || invoke(&event, &env)).await.unwrap()
}

fn env(moto: &Moto, rx: &Receiver, out: &Path) -> Vec<(&'static str, String)> {
    let mut env = moto.aws_env();
    env.extend([
        ("KEY_PROVIDER", "kms".to_owned()),
        ("SINKS", "s3,hec".to_owned()),
        ("S3_BUCKET", BUCKET.to_owned()),
        ("S3_FORCE_PATH_STYLE", "true".to_owned()),
        ("HEC_URL", rx.url.clone()),
        ("HEC_TOKEN", TOKEN.to_owned()),
        ("HEC_INDEX", "das".to_owned()),
        ("FILE_SINK_DIR", out.display().to_string()),
        ("RUST_LOG", "trace".to_owned()),
    ]);
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_lands_in_s3_partitions_and_in_hec_envelopes() {
    let moto = Moto::start();
    let client = s3(&moto).await;
    let rx = Receiver::start(TOKEN, b"k").await;
    let tmp = tempfile::tempdir().unwrap();
    let (event, expected) = rds_batch(&moto, tmp.path());
    let (response, summary, logs) = run(event, env(&moto, &rx, tmp.path())).await;
    assert_eq!(response["batchItemFailures"], serde_json::json!([]), "{logs}");
    let want = expected_events(&expected);
    assert_eq!(summary["events"], want.len());

    let validator = common::ocsf::OcsfValidator::new();
    let in_s3 = s3_events(&client).await;
    let hec: Vec<Value> = rx.with(|g| g.envelopes.clone());
    for w in &want {
        let s3_hits: Vec<&(String, Value)> =
            in_s3.iter().filter(|(_, e)| key(&e["unmapped"]["das"]) == key(w)).collect();
        assert_eq!(s3_hits.len(), 1, "once in S3: {w}");
        let (object, event) = s3_hits[0];
        validator.check(event);
        common::ocsf::assert_lossless(w.as_object().unwrap(), event);
        let partition = das_forwarder::layout::hour_path(event["time"].as_i64().unwrap());
        assert!(object.starts_with(&format!("das/class_uid=6005/{partition}/shardId-000000000000-")), "{object}");
        let hec_hits: Vec<&Value> = hec.iter().filter(|e| key(&e["event"]["unmapped"]["das"]) == key(w)).collect();
        assert_eq!(hec_hits.len(), 1, "once in HEC: {w}");
        assert_eq!(hec_hits[0]["event"], *event, "the same event in both sinks");
        assert_eq!(hec_hits[0]["sourcetype"], "ocsf:aws:rds:das");
    }
    // Secrets and SQL text stay out of the logs, even at TRACE.
    assert!(!logs.contains(TOKEN), "HEC token in the logs");
    for w in &want {
        if let Some(sql) = w["commandText"].as_str().filter(|s| s.len() > 12) {
            assert!(!logs.contains(sql), "SQL text in the logs: {sql}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hec_busy_throughout_reports_the_first_record_and_loses_nothing() {
    let moto = Moto::start();
    let client = s3(&moto).await;
    let rx = Receiver::start(TOKEN, b"k").await;
    rx.script(vec![], Reply::Busy);
    let tmp = tempfile::tempdir().unwrap();
    let (event, expected) = rds_batch(&moto, tmp.path());
    let mut busy_env = env(&moto, &rx, tmp.path());
    // HEC answers busy until the deadline; S3 must be done well before it, even on a loaded
    // 2-core CI machine running four of these tests, each with its own moto (2 s was not enough).
    busy_env.push(("DELIVERY_TIMEOUT_SECS", "8".to_owned()));
    let (response, summary, _) = run(event.clone(), busy_env).await;
    let first = expected["records"][0]["sequenceNumber"].as_str().unwrap();
    assert_eq!(response["batchItemFailures"][0]["itemIdentifier"], first);
    assert_eq!(summary["reported"], 10);
    assert_eq!(rx.with(|g| g.envelopes.len()), 0);
    let objects_before = s3_events(&client).await.len();

    // Kinesis retries the batch from the first record; HEC is back.
    rx.script(vec![], Reply::Ok);
    let (response, _, _) = run(event, env(&moto, &rx, tmp.path())).await;
    assert_eq!(response["batchItemFailures"], serde_json::json!([]));
    let want = expected_events(&expected);
    assert_eq!(rx.with(|g| g.envelopes.len()), want.len(), "every event reached HEC");
    assert_eq!(s3_events(&client).await.len(), want.len(), "and S3 holds each once");
    assert_eq!(objects_before, want.len(), "S3 had taken every event before the deadline: {summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn hec_token_is_read_from_secrets_manager() {
    let moto = Moto::start();
    s3(&moto).await;
    let secret = aws_sdk_secretsmanager::Client::new(&moto.sdk_config().await)
        .create_secret()
        .name("das/hec-token")
        .secret_string(format!(r#"{{"token":"{TOKEN}"}}"#))
        .send()
        .await
        .unwrap();
    let rx = Receiver::start(TOKEN, b"k").await;
    let tmp = tempfile::tempdir().unwrap();
    let (event, expected) = rds_batch(&moto, tmp.path());
    let mut env = env(&moto, &rx, tmp.path());
    env.retain(|(k, _)| *k != "HEC_TOKEN");
    env.push(("HEC_TOKEN_SECRET_ARN", secret.arn().unwrap().to_owned()));
    let (response, _, logs) = run(event, env).await;
    assert_eq!(response["batchItemFailures"], serde_json::json!([]), "{logs}");
    assert_eq!(rx.with(|g| (g.auth_failures, g.envelopes.len())), (0, expected_events(&expected).len()));
    assert!(!logs.contains(TOKEN), "HEC token in the logs");
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_secret_is_read_from_secrets_manager() {
    let moto = Moto::start();
    s3(&moto).await;
    let key = b"webhook-key-from-secrets-manager";
    let whsec = format!("whsec_{}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key));
    let secret = aws_sdk_secretsmanager::Client::new(&moto.sdk_config().await)
        .create_secret()
        .name("das/webhook-secret")
        .secret_string(format!(r#"{{"secret":"{whsec}"}}"#))
        .send()
        .await
        .unwrap();
    let rx = Receiver::start(TOKEN, key).await;
    let tmp = tempfile::tempdir().unwrap();
    let (event, expected) = rds_batch(&moto, tmp.path());
    let mut env = env(&moto, &rx, tmp.path());
    env.retain(|(k, _)| !k.starts_with("HEC_") && *k != "SINKS");
    env.push(("SINKS", "s3,webhook".to_owned()));
    env.push(("WEBHOOK_URL", format!("{}/webhook", rx.url)));
    env.push(("WEBHOOK_SECRET_ARN", secret.arn().unwrap().to_owned()));
    let (response, _, logs) = run(event, env).await;
    assert_eq!(response["batchItemFailures"], serde_json::json!([]), "{logs}");
    // The receiver accepts only correctly signed requests: the secret came through.
    assert_eq!(rx.with(|g| g.webhook_events.len()), expected_events(&expected).len());
    assert!(!logs.contains(&whsec), "webhook secret in the logs");
}
