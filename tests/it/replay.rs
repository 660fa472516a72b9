//! `das-forwarder replay` and the invocation metrics, end to end through the binary: quarantined
//! records recovered after the cause is fixed (from a directory and from moto S3), Firehose
//! archives in moto S3, and on-failure messages read back from moto Kinesis (file and SQS); each
//! replay run twice writes nothing twice.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::moto::Moto;
use das_forwarder::cli::generate::{generate, GenerateOptions};
use das_forwarder::keys::local::LocalKeys;
use serde_json::Value;

const RESOURCE: &str = "cluster-REPLAYTEST";
const ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/aws-rds-das-cluster-REPLAYTEST";
const RIGHT: [u8; 32] = [0x21; 32];
const WRONG: [u8; 32] = [0x22; 32];
const BUCKET: &str = "das-replay";

fn options(records: usize) -> GenerateOptions {
    GenerateOptions {
        max_events: Some(4),
        records,
        seed: 5,
        resource_id: RESOURCE.into(),
        data_keys: 2,
        ..GenerateOptions::default()
    }
}

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("right.hex"), hex::encode(RIGHT)).unwrap();
        std::fs::write(dir.path().join("wrong.hex"), hex::encode(WRONG)).unwrap();
        Scratch { dir }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    /// A batch encrypted for the RIGHT master key.
    fn event(&self, records: usize) -> (PathBuf, Value) {
        let event = generate(&options(records), &LocalKeys::new(RIGHT));
        let path = self.path("event.json");
        std::fs::write(&path, serde_json::to_vec(&event).unwrap()).unwrap();
        (path, event)
    }
}

/// Runs the binary; returns (stdout lines, stderr).
fn run(args: &[&str], env: &[(&str, String)]) -> (Vec<String>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_das-forwarder"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect(), stderr)
}

fn local(s: &Scratch, key: &str, sinks: &str) -> Vec<(&'static str, String)> {
    vec![
        ("KEY_PROVIDER", "local".into()),
        ("LOCAL_MASTER_KEY_FILE", s.path(key).display().to_string()),
        ("SINKS", sinks.into()),
        ("FILE_SINK_DIR", s.path("out").display().to_string()),
    ]
}

fn last_json(lines: &[String]) -> Value {
    serde_json::from_str(lines.last().expect("output")).unwrap()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    common::files_under(dir)
}

#[test]
fn invoke_prints_one_emf_document_whose_counts_add_up() {
    let s = Scratch::new();
    let opts = GenerateOptions { poison: Some(2), ..options(9) };
    let event = generate(&opts, &LocalKeys::new(RIGHT));
    let path = s.path("event.json");
    std::fs::write(&path, serde_json::to_vec(&event).unwrap()).unwrap();
    let mut env = local(&s, "right.hex", "file");
    env.push(("METRICS_NAMESPACE", "DasTest".into()));
    let (lines, _) = run(&["invoke", "--event", &path.display().to_string()], &env);
    let docs: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    assert_eq!(docs.len(), 1, "one EMF document per invocation: {lines:?}");
    let emf = &docs[0];
    let directive = &emf["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "DasTest");
    assert_eq!(directive["Dimensions"], serde_json::json!([["ResourceId"]]));
    assert_eq!(emf["ResourceId"], RESOURCE);
    for m in directive["Metrics"].as_array().unwrap() {
        assert!(emf[m["Name"].as_str().unwrap()].is_u64(), "{m}");
    }
    let n = |k: &str| emf[k].as_u64().unwrap();
    assert_eq!(n("Records"), 9);
    assert_eq!(n("Records"), n("Delivered") + n("Quarantined") + n("Reported"));
    assert_eq!((n("Quarantined"), n("Quarantined.esdk.frame_tag")), (1, 1));
    assert_eq!(n("KmsCalls"), 2);
    assert_eq!(n("KmsCalls") + n("KeyCacheHits"), 9);
    assert_eq!(n("file.Events"), n("Events"));
    assert!(n("Events") > 0 && emf["file.Latency"].is_u64() && emf["IteratorAge"].is_u64());
    // The response is still the last line.
    assert_eq!(last_json(&lines)["batchItemFailures"], serde_json::json!([]));
    // METRICS=off: no document.
    env.push(("METRICS", "off".into()));
    let (lines, _) = run(&["invoke", "--event", &path.display().to_string()], &env);
    assert_eq!(lines.len(), 1, "{lines:?}");
}

#[test]
fn replay_recovers_quarantined_records_from_a_directory_once() {
    let s = Scratch::new();
    let (event, _) = s.event(8);
    // The wrong master key (a key policy mistake, say): every record is quarantined.
    let (lines, _) = run(&["invoke", "--event", &event.display().to_string()], &local(&s, "wrong.hex", "file"));
    assert_eq!(last_json(&lines)["batchItemFailures"], serde_json::json!([]));
    let quarantine = s.path("out/quarantine");
    assert_eq!(files(&quarantine).len(), 8);
    assert!(files(&s.path("out/das")).is_empty());

    // Still the wrong key: a dry run and a real run change nothing, entries stay where they are.
    let q = quarantine.display().to_string();
    let (lines, _) = run(&["replay", "--quarantine", &q, "--dry-run"], &local(&s, "right.hex", "file"));
    let dry = last_json(&lines);
    assert_eq!(
        (dry["records"].as_u64(), dry["delivered"].as_u64(), dry["cleared"].as_u64()),
        (Some(8), Some(8), Some(0))
    );
    assert!(files(&s.path("out/das")).is_empty(), "a dry run writes nothing");
    let (lines, _) = run(&["replay", "--quarantine", &q], &local(&s, "wrong.hex", "file"));
    assert_eq!(last_json(&lines)["quarantined"], 8);
    assert_eq!(files(&quarantine).len(), 8, "records that still fail stay where they are");

    // The cause fixed: everything is delivered and the entries are gone.
    let (lines, _) = run(&["replay", "--quarantine", &q], &local(&s, "right.hex", "file"));
    let done = last_json(&lines);
    assert_eq!((done["delivered"].as_u64(), done["cleared"].as_u64()), (Some(8), Some(8)), "{done}");
    assert!(files(&quarantine).is_empty());
    let written = common::ndjson_under(&s.path("out/das"));
    assert_eq!(written.len() as u64, done["events"].as_u64().unwrap());

    // The same output as a direct invocation with the right key (same keys, same bytes).
    let before: Vec<(PathBuf, Vec<u8>)> =
        files(&s.path("out/das")).into_iter().map(|f| (f.clone(), std::fs::read(f).unwrap())).collect();
    run(&["invoke", "--event", &event.display().to_string()], &local(&s, "right.hex", "file"));
    let after: Vec<(PathBuf, Vec<u8>)> =
        files(&s.path("out/das")).into_iter().map(|f| (f.clone(), std::fs::read(f).unwrap())).collect();
    assert_eq!(before, after, "replay and invoke write the same objects");
}

/// The outer DAS records of an event (what Firehose archives and what Kinesis carries).
fn outer_records(event: &Value) -> Vec<Vec<u8>> {
    event["Records"].as_array().unwrap().iter().map(|r| common::b64(r["kinesis"]["data"].as_str().unwrap())).collect()
}

#[test]
fn replay_of_an_archive_directory_honours_since_and_until() {
    let s = Scratch::new();
    let (_, event) = s.event(10);
    let archive = s.path("archive");
    std::fs::create_dir_all(&archive).unwrap();
    // Newline-separated in one file, concatenated and gzipped in the other.
    let records = outer_records(&event);
    std::fs::write(archive.join("part-1"), records[..5].join(&b"\n"[..])).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &records[5..].concat()).unwrap();
    std::fs::write(archive.join("part-2.gz"), gz.finish().unwrap()).unwrap();
    let a = archive.display().to_string();
    let env = local(&s, "right.hex", "file");

    let (lines, _) = run(&["replay", "--archive", &a, "--stream-arn", ARN, "--dry-run"], &env);
    let all = last_json(&lines);
    assert_eq!((all["records"].as_u64(), all["delivered"].as_u64()), (Some(10), Some(10)), "{all}");
    let total = all["events"].as_u64().unwrap();
    // Records are a second apart from start_ms: the window keeps records 3..7 only.
    let (since, until) = ("1764201603000", "2025-11-27T00:00:07Z");
    let (lines, _) =
        run(&["replay", "--archive", &a, "--stream-arn", ARN, "--dry-run", "--since", since, "--until", until], &env);
    let window = last_json(&lines);
    let (kept, dropped) = (window["events"].as_u64().unwrap(), window["filtered"].as_u64().unwrap());
    assert_eq!(kept + dropped, total, "{window}");
    assert!(kept > 0 && dropped > 0, "{window}");
    assert!(files(&s.path("out/das")).is_empty(), "dry runs write nothing");

    // For real, twice: the same files with the same bytes.
    run(&["replay", "--archive", &a, "--stream-arn", ARN], &env);
    let first: Vec<(PathBuf, Vec<u8>)> =
        files(&s.path("out/das")).into_iter().map(|f| (f.clone(), std::fs::read(f).unwrap())).collect();
    run(&["replay", "--archive", &a, "--stream-arn", ARN], &env);
    let second: Vec<(PathBuf, Vec<u8>)> =
        files(&s.path("out/das")).into_iter().map(|f| (f.clone(), std::fs::read(f).unwrap())).collect();
    assert_eq!(first, second);
    assert_eq!(common::ndjson_under(&s.path("out/das")).len() as u64, total);
}

async fn s3(moto: &Moto) -> aws_sdk_s3::Client {
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
    client
}

async fn keys(client: &aws_sdk_s3::Client, prefix: &str) -> Vec<String> {
    let list = client.list_objects_v2().bucket(BUCKET).prefix(prefix).send().await.unwrap();
    list.contents().iter().map(|o| o.key().unwrap().to_owned()).collect()
}

fn s3_env(s: &Scratch, moto: &Moto, key: &str) -> Vec<(&'static str, String)> {
    let mut env = local(s, key, "s3");
    env.extend(moto.aws_env());
    env.extend([("S3_BUCKET", BUCKET.to_owned()), ("S3_FORCE_PATH_STYLE", "true".to_owned())]);
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_from_s3_quarantine_and_archive_is_idempotent() {
    let moto = Moto::start();
    let client = s3(&moto).await;
    let s = Scratch::new();
    let (event, json) = s.event(6);
    let e = event.display().to_string();
    let blocking = |args: Vec<String>, env: Vec<(&'static str, String)>| {
        tokio::task::spawn_blocking(move || run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &env))
    };

    // Quarantined in S3 under the wrong key, recovered under the right one.
    blocking(vec!["invoke".into(), "--event".into(), e.clone()], s3_env(&s, &moto, "wrong.hex")).await.unwrap();
    assert_eq!(keys(&client, "quarantine/").await.len(), 6);
    let q = format!("s3://{BUCKET}/quarantine/");
    let (lines, _) = blocking(vec!["replay".into(), "--quarantine".into(), q.clone()], s3_env(&s, &moto, "right.hex"))
        .await
        .unwrap();
    let done = last_json(&lines);
    assert_eq!((done["delivered"].as_u64(), done["cleared"].as_u64()), (Some(6), Some(6)), "{done}");
    assert!(keys(&client, "quarantine/").await.is_empty(), "entries removed once delivered");
    let objects = keys(&client, "das/").await;
    assert!(!objects.is_empty());
    let (lines, _) =
        blocking(vec!["replay".into(), "--quarantine".into(), q], s3_env(&s, &moto, "right.hex")).await.unwrap();
    assert_eq!(last_json(&lines)["records"], 0, "nothing left to replay");

    // A Firehose archive in S3, replayed twice: the same objects, no new ones.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &outer_records(&json).concat()).unwrap();
    client
        .put_object()
        .bucket(BUCKET)
        .key("archive/2026/11/27/part-0.gz")
        .body(gz.finish().unwrap().into())
        .send()
        .await
        .unwrap();
    let a = format!("s3://{BUCKET}/archive/");
    let args = vec!["replay".into(), "--archive".into(), a, "--stream-arn".into(), ARN.into()];
    let (lines, _) = blocking(args.clone(), s3_env(&s, &moto, "right.hex")).await.unwrap();
    assert_eq!(last_json(&lines)["delivered"], 6);
    let after_first = keys(&client, "das/").await;
    assert!(after_first.len() > objects.len(), "archive objects under their own shard name");
    blocking(args, s3_env(&s, &moto, "right.hex")).await.unwrap();
    assert_eq!(keys(&client, "das/").await, after_first, "a second replay adds no object");
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_on_failure_reads_the_records_back_from_kinesis() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let kinesis = aws_sdk_kinesis::Client::new(&sdk);
    let stream = "aws-rds-das-cluster-REPLAYTEST";
    kinesis.create_stream().stream_name(stream).shard_count(1).send().await.unwrap();
    let s = Scratch::new();
    let (_, json) = s.event(7);
    let mut seqs = Vec::new();
    let mut shard = String::new();
    for (i, data) in outer_records(&json).into_iter().enumerate() {
        let put = kinesis
            .put_record()
            .stream_name(stream)
            .partition_key(format!("pk-{i}"))
            .data(aws_sdk_kinesis::primitives::Blob::new(data))
            .send()
            .await
            .unwrap();
        shard = put.shard_id().to_owned();
        seqs.push(put.sequence_number().to_owned());
    }
    let arn = kinesis.describe_stream_summary().stream_name(stream).send().await.unwrap();
    let arn = arn.stream_description_summary().unwrap().stream_arn().to_owned();
    // The mapping gave up on records 2..=5: its message names only the range.
    let message = serde_json::json!({
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 101},
        "version": "1.0", "timestamp": "2026-11-27T01:00:00.000Z",
        "KinesisBatchInfo": {"shardId": shard, "startSequenceNumber": seqs[2], "endSequenceNumber": seqs[5],
                             "batchSize": 4, "streamArn": arn}
    });
    let file = s.path("on-failure.json");
    std::fs::write(&file, message.to_string()).unwrap();
    let mut env = local(&s, "right.hex", "file");
    env.extend(moto.aws_env());
    let f = file.display().to_string();
    let env2 = env.clone();
    let (lines, _) = tokio::task::spawn_blocking(move || run(&["replay", "--on-failure", &f], &env2)).await.unwrap();
    let done = last_json(&lines);
    assert_eq!((done["records"].as_u64(), done["delivered"].as_u64()), (Some(4), Some(4)), "{done}");

    // From the SQS on-failure queue: the message is deleted once its range went through.
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs.create_queue().queue_name("das-on-failure").send().await.unwrap().queue_url().unwrap().to_owned();
    sqs.send_message().queue_url(&queue).message_body(message.to_string()).send().await.unwrap();
    let (q, env2) = (queue.clone(), env.clone());
    let (lines, _) = tokio::task::spawn_blocking(move || run(&["replay", "--on-failure", &q], &env2)).await.unwrap();
    let done = last_json(&lines);
    assert_eq!((done["delivered"].as_u64(), done["cleared"].as_u64()), (Some(4), Some(1)), "{done}");
    let (q, env2) = (queue.clone(), env.clone());
    let (lines, _) = tokio::task::spawn_blocking(move || run(&["replay", "--on-failure", &q], &env2)).await.unwrap();
    assert_eq!(last_json(&lines)["records"], 0, "the queue is empty");
    // Replayed twice (file and queue): the same files, one copy of each event.
    let events = common::ndjson_under(&s.path("out/das"));
    let uids: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e["metadata"]["uid"].as_str().unwrap()).collect();
    assert_eq!(uids.len(), events.len());
}
