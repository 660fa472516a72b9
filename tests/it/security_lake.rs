//! Amazon Security Lake output end to end through the binary and moto S3: `S3_FORMAT=parquet
//! S3_LAYOUT=security-lake` lands under the documented path, and `compact` merges a closed
//! window of hive objects (NDJSON and Parquet) idempotently. Every Parquet file is read back
//! with pyarrow (tests/support/check_parquet.py): the fixed schema, zstd, rows sorted by time,
//! and rows equal to the NDJSON events the file sink wrote in the same run.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_schema::DataType;
use common::moto::{venv, Moto};
use das_forwarder::cli::generate::{generate, GenerateOptions};
use das_forwarder::keys::local::LocalKeys;
use serde_json::{json, Value};

const MASTER: [u8; 32] = [0x5a; 32];
const SOURCE: &str = "rds-das";
/// Two eventDays: the batch starts half a second before midnight UTC (2025-11-27).
const START_MS: i64 = 1_764_201_600_000 - 500;
const DIR: &str = "ext/rds-das/region=us-east-1/accountId=123456789012";

struct Scratch {
    dir: tempfile::TempDir,
    event: PathBuf,
}

impl Scratch {
    fn new(poison: Option<usize>) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("master.hex"), hex::encode(MASTER)).unwrap();
        let options =
            GenerateOptions { records: 12, seed: 9, start_ms: START_MS, poison, ..GenerateOptions::default() };
        let event = dir.path().join("event.json");
        std::fs::write(&event, serde_json::to_vec(&generate(&options, &LocalKeys::new(MASTER))).unwrap()).unwrap();
        Scratch { dir, event }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn env(&self, moto: &Moto, vars: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        let mut env = moto.aws_env();
        env.extend([
            ("KEY_PROVIDER", "local".to_owned()),
            ("LOCAL_MASTER_KEY_FILE", self.path("master.hex").display().to_string()),
            ("FILE_SINK_DIR", self.path("out").display().to_string()),
            ("S3_FORCE_PATH_STYLE", "true".to_owned()),
        ]);
        env.extend(vars.iter().map(|(k, v)| (*k, (*v).to_owned())));
        env
    }
}

fn run(args: &[&str], env: &[(&'static str, String)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_das-forwarder"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap()
}

fn ok(args: &[&str], env: &[(&'static str, String)]) -> Value {
    let out = run(args, env);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

async fn bucket(client: &aws_sdk_s3::Client, name: &str) {
    client.create_bucket().bucket(name).send().await.unwrap();
}

async fn objects(client: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let list = client.list_objects_v2().bucket(bucket).prefix(prefix).send().await.unwrap();
    let mut out = Vec::new();
    for key in list.contents().iter().filter_map(|o| o.key()) {
        let body = client.get_object().bucket(bucket).key(key).send().await.unwrap().body.collect().await.unwrap();
        out.push((key.to_owned(), body.to_vec()));
    }
    out
}

/// The fixed schema in the canonical form check_parquet.py prints.
fn canon(t: &DataType) -> Value {
    match t {
        DataType::Int32 => json!("int32"),
        DataType::Int64 => json!("int64"),
        DataType::Utf8 => json!("string"),
        DataType::Boolean => json!("bool"),
        DataType::Struct(fields) => {
            json!({"struct": fields.iter().map(|f| json!([f.name(), canon(f.data_type()), f.is_nullable()])).collect::<Vec<_>>()})
        }
        DataType::List(item) => json!({"list": [item.name(), canon(item.data_type()), item.is_nullable()]}),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) => {
                json!({"map": [canon(kv[0].data_type()), canon(kv[1].data_type()), kv[1].is_nullable()]})
            }
            other => panic!("map entries {other:?}"),
        },
        other => panic!("type {other:?} not in the fixed schema"),
    }
}

/// Writes the Parquet bodies to files and checks them with pyarrow against the NDJSON under `ndjson`.
fn check_with_pyarrow(files: &[(String, Vec<u8>)], scratch: &Path, ndjson: &Path) -> Value {
    let mut paths = Vec::new();
    for (i, (_, body)) in files.iter().enumerate() {
        let p = scratch.join(format!("check-{i}.parquet"));
        std::fs::write(&p, body).unwrap();
        paths.push(p);
    }
    let out = Command::new(venv().join("bin/python"))
        .arg(common::repo_dir().join("tests/support/check_parquet.py"))
        .arg("--ndjson-dir")
        .arg(ndjson)
        .args(&paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "check_parquet.py: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema = das_forwarder::columnar::schema::schema();
    let want: Vec<Value> =
        schema.fields().iter().map(|f| json!([f.name(), canon(f.data_type()), f.is_nullable()])).collect();
    assert_eq!(report["schema"], json!(want), "the fixed schema");
    assert_eq!(report["compression"], json!(["ZSTD"]));
    assert_eq!(report["sorted"], true);
    for list in ["missing", "extra", "mismatches"] {
        assert_eq!(report[list], json!([]), "{list}: {report}");
    }
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn parquet_in_the_security_lake_layout_lands_under_the_documented_path_and_reads_back() {
    let moto = Moto::start();
    let client = das_forwarder::sinks::s3::config::S3Access { force_path_style: true, ..Default::default() }
        .client(&moto.sdk_config().await)
        .await;
    bucket(&client, "lake").await;
    bucket(&client, "quarantine").await;
    // Record 4 cannot be decrypted: it is quarantined, with the function's own credentials, in
    // its own bucket; the output goes through the assumed provider role.
    let s = Scratch::new(Some(4));
    let env = s.env(
        &moto,
        &[
            ("SINKS", "s3,file"),
            ("S3_BUCKET", "lake"),
            ("S3_FORMAT", "parquet"),
            ("S3_LAYOUT", "security-lake"),
            ("SECURITY_LAKE_SOURCE", SOURCE),
            ("S3_ROLE_ARN", "arn:aws:iam::123456789012:role/AmazonSecurityLake-Provider-rds-das-us-east-1"),
            ("S3_EXTERNAL_ID", "das-forwarder-test"),
            ("QUARANTINE_BUCKET", "quarantine"),
        ],
    );
    let event = s.event.display().to_string();
    let response = tokio::task::spawn_blocking(move || ok(&["invoke", "--event", &event], &env)).await.unwrap();
    assert_eq!(response["batchItemFailures"], json!([]));
    assert_eq!(objects(&client, "quarantine", "quarantine/").await.len(), 1);

    let written = objects(&client, "lake", "").await;
    let keys: Vec<&str> = written.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for (key, day) in keys.iter().zip(["20251126", "20251127"]) {
        let dir = format!("{DIR}/eventDay={day}/shardId-000000000000-");
        assert!(key.starts_with(&dir) && key.ends_with(".parquet"), "{key}");
    }
    let ndjson = das_forwarder::layout::hour_path(START_MS);
    assert!(s.path(&format!("out/das/class_uid=6005/{ndjson}")).is_dir());
    let report = check_with_pyarrow(&written, s.dir.path(), &s.path("out/das"));
    assert_eq!(report["rows"].as_u64().unwrap() as usize, common::ndjson_under(&s.path("out/das")).len());
}

#[tokio::test(flavor = "multi_thread")]
async fn compact_merges_a_closed_window_once_whatever_it_reads() {
    let moto = Moto::start();
    let client = das_forwarder::sinks::s3::config::S3Access { force_path_style: true, ..Default::default() }
        .client(&moto.sdk_config().await)
        .await;
    bucket(&client, "staging").await;
    bucket(&client, "lake").await;
    let s = Scratch::new(None);
    let event = s.event.display().to_string();
    // The same batch staged twice, as gzip NDJSON and as Parquet (as if retried after a
    // format change): every event is in the window twice.
    for format in ["ndjson", "parquet"] {
        let env = s.env(&moto, &[("SINKS", "s3,file"), ("S3_BUCKET", "staging"), ("S3_FORMAT", format)]);
        let response = ok(&["invoke", "--event", &event], &env);
        assert_eq!(response["batchItemFailures"], json!([]));
    }
    let staged = objects(&client, "staging", "das/").await;
    assert_eq!(staged.len(), 4, "two hours, two formats: {:?}", staged.iter().map(|o| &o.0).collect::<Vec<_>>());
    let events = common::ndjson_under(&s.path("out/das")).len();
    assert!(events > 100);

    let env =
        s.env(&moto, &[("S3_BUCKET", "staging"), ("SECURITY_LAKE_BUCKET", "lake"), ("SECURITY_LAKE_SOURCE", SOURCE)]);
    let window = ["compact", "--start", "2025-11-26T23:00:00Z", "--hours", "2"];
    let dry = ok(&[&window[..], &["--dry-run"]].concat(), &env);
    assert_eq!(dry["dry_run"], true);
    assert!(objects(&client, "lake", "").await.is_empty(), "a dry run writes nothing");

    let summary = ok(&window, &env);
    assert_eq!(summary["objects_read"], 4, "{summary}");
    assert_eq!(summary["events_read"].as_u64().unwrap() as usize, 2 * events);
    assert_eq!(summary["duplicates_dropped"].as_u64().unwrap() as usize, events);
    assert_eq!(summary["outside_window"], 0);
    let first = objects(&client, "lake", "").await;
    let keys: Vec<&str> = first.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            format!("{DIR}/eventDay=20251126/das-20251126T2300Z-20251127T0100Z.parquet"),
            format!("{DIR}/eventDay=20251127/das-20251126T2300Z-20251127T0100Z.parquet"),
        ]
    );
    // The file sink wrote the batch twice under the same names: each event once, as in the lake.
    let report = check_with_pyarrow(&first, s.dir.path(), &s.path("out/das"));
    assert_eq!(report["rows"].as_u64().unwrap() as usize, events);

    // The staging objects were written after the window closed (in 2025): all four are late.
    assert_eq!(summary["late_objects"].as_array().unwrap().len(), 4);

    // Idempotent: the same keys, the same bytes; the staging objects are left alone.
    ok(&window, &env);
    assert_eq!(objects(&client, "lake", "").await, first);
    assert_eq!(objects(&client, "staging", "das/").await.len(), 4);

    // Half of hour 00's staging is gone (as if expired): a rerun would drop events from the lake,
    // so it is refused and changes nothing, unless forced.
    let hour00 = objects(&client, "staging", "das/class_uid=6005/dt=2025-11-27/hour=00/").await;
    for (key, body) in &hour00 {
        if key.ends_with(".parquet") {
            client.delete_object().bucket("staging").key(key).send().await.unwrap();
        } else {
            let text = das_forwarder::das::inflate::inflate(body, 1 << 30).unwrap();
            let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
            let half: Vec<u8> = lines[..lines.len() / 2].iter().flat_map(|l| l.iter().chain(b"\n")).copied().collect();
            let half = das_forwarder::gzip::gzip(&half, 6);
            client.put_object().bucket("staging").key(key).body(half.into()).send().await.unwrap();
        }
    }
    let out = run(&window, &env);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force replaces it"));
    assert_eq!(objects(&client, "lake", "").await, first);
    let forced = ok(&[&window[..], &["--force"]].concat(), &env);
    let rows: Vec<u64> =
        forced["objects_written"].as_array().unwrap().iter().map(|o| o["rows"].as_u64().unwrap()).collect();
    let before: Vec<u64> =
        summary["objects_written"].as_array().unwrap().iter().map(|o| o["rows"].as_u64().unwrap()).collect();
    assert_eq!(rows[0], before[0]);
    assert!(rows[1] < before[1], "{rows:?} {before:?}");

    // A window that has not closed is refused, and says when it can run.
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:00:00Z").to_string();
    let out = run(&["compact", "--start", &now], &env);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not closed"));
}
