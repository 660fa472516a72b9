//! `das-forwarder check` through the binary: Kinesis, KMS and S3 on moto, HEC on the loopback
//! receiver. Records are made as RDS makes them (tests/support/make_rds_batch.py: the official
//! ESDK, a moto KMS key blob bound to aws:rds:dbc-id) and put on a moto Kinesis stream.
//! Two refusals moto cannot produce (it evaluates neither key policies nor IAM) come from the
//! loopback fault proxy standing in for KMS and S3, named as such below; the databases'
//! activity streams, which moto does not implement, from a loopback stub of the RDS API
//! (`common::rds_stub`).

use crate::common;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use common::fault_proxy::{host_port, Fault, FaultProxy};
use common::moto::{venv, Moto};
use common::rds_stub::RdsStub;
use common::receiver::Receiver;
use common::repo_dir;
use serde_json::Value;

const RESOURCE: &str = "cluster-CHECKABCDEFGHIJKLMNOPQRSTU";
const OTHER: &str = "cluster-OTHERABCDEFGHIJKLMNOPQRST";
const TOKEN: &str = "11111111-2222-3333-4444-checktoken55";
const BUCKET: &str = "check-bucket";

fn arn(resource: &str) -> String {
    format!("arn:aws:kinesis:us-east-1:123456789012:stream/aws-rds-das-{resource}")
}

/// Records of `RESOURCE` as RDS writes them (data, base64-decoded), and the statements they hold.
fn rds_records(moto: &Moto, dir: &Path) -> (Vec<Vec<u8>>, Vec<String>) {
    let (event, expected) = (dir.join("event.json"), dir.join("expected.json"));
    let status = Command::new(venv().join("bin/python"))
        .arg(repo_dir().join("tests/support/make_rds_batch.py"))
        .args(["--endpoint", &moto.endpoint, "--records", "3", "--resource-id", RESOURCE, "--out"])
        .arg(&event)
        .arg("--expected")
        .arg(&expected)
        .status()
        .expect("run make_rds_batch.py");
    assert!(status.success());
    let event: Value = serde_json::from_slice(&std::fs::read(event).unwrap()).unwrap();
    let data = event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| base64::engine::general_purpose::STANDARD.decode(r["kinesis"]["data"].as_str().unwrap()).unwrap())
        .collect();
    let expected: Value = serde_json::from_slice(&std::fs::read(expected).unwrap()).unwrap();
    let statements = expected["records"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["events"].as_array().unwrap().iter())
        .filter_map(|e| e["commandText"].as_str().map(str::to_owned))
        .filter(|s| s.len() > 12)
        .collect();
    (data, statements)
}

/// A function in moto with a Kinesis mapping from `stream`, made with boto3 (moto needs an IAM
/// role and a zip to create a function; nothing is ever invoked).
fn function_with_mapping(moto: &Moto, function: &str, stream: &str, report_failures: bool) {
    let script = r##"
import io, sys, zipfile, boto3
endpoint, function, stream, report = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
iam, lam, sqs = boto3.client("iam", **kw), boto3.client("lambda", **kw), boto3.client("sqs", **kw)
role = iam.create_role(RoleName=function + "-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("bootstrap", "#!/bin/sh\n")
lam.create_function(FunctionName=function, Runtime="provided.al2023", Role=role, Handler="bootstrap", Code={"ZipFile": buf.getvalue()})
queue = sqs.create_queue(QueueName=function + "-on-failure")["QueueUrl"]
queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
extra = dict(FunctionResponseTypes=["ReportBatchItemFailures"]) if report else {}
lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=function, StartingPosition="LATEST", BatchSize=100,
    MaximumBatchingWindowInSeconds=1, BisectBatchOnFunctionError=True, MaximumRetryAttempts=100, MaximumRecordAgeInSeconds=86400,
    DestinationConfig={"OnFailure": {"Destination": queue_arn}}, **extra)
"##;
    let status = Command::new(venv().join("bin/python"))
        .args(["-c", script, &moto.endpoint, function, stream, if report_failures { "1" } else { "0" }])
        .status()
        .expect("run boto3");
    assert!(status.success(), "creating the function and its mapping in moto failed");
}

struct SetUp {
    moto: Moto,
    hec: Receiver,
    rds: RdsStub,
    statements: Vec<String>,
}

/// Moto with the bucket and two streams: `RESOURCE`'s, holding its records, and `OTHER`'s,
/// holding the same records (bound to `RESOURCE`'s context, so they cannot decrypt there).
async fn set_up() -> (SetUp, tempfile::TempDir) {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (records, statements) = rds_records(&moto, dir.path());
    let sdk = moto.sdk_config().await;
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build())
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let kinesis = aws_sdk_kinesis::Client::new(&sdk);
    for resource in [RESOURCE, OTHER] {
        let name = format!("aws-rds-das-{resource}");
        kinesis.create_stream().stream_name(&name).shard_count(1).send().await.unwrap();
        for (i, data) in records.iter().enumerate() {
            let blob = aws_sdk_kinesis::primitives::Blob::new(data.clone());
            let put = kinesis.put_record().stream_arn(arn(resource)).partition_key(format!("p{i}")).data(blob);
            put.send().await.unwrap();
        }
    }
    let hec = Receiver::start(TOKEN, b"k").await;
    let rds = RdsStub::start().await;
    rds.set(RESOURCE, "started");
    rds.set(OTHER, "started");
    (SetUp { moto, hec, rds, statements }, dir)
}

impl SetUp {
    fn env(&self, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
        let mut env = self.moto.aws_env();
        env.extend([
            ("KEY_PROVIDER", "kms".to_owned()),
            ("SINKS", "s3,hec".to_owned()),
            ("S3_BUCKET", BUCKET.to_owned()),
            ("S3_FORCE_PATH_STYLE", "true".to_owned()),
            ("HEC_URL", self.hec.url.clone()),
            ("HEC_TOKEN", TOKEN.to_owned()),
            ("AWS_ENDPOINT_URL_RDS", self.rds.url.clone()),
        ]);
        for (k, v) in extra {
            env.retain(|(name, _)| name != k);
            env.push((k, v.clone()));
        }
        env
    }
}

/// Runs `check` for `streams` (flags among them, `--function NAME` say, are passed as such):
/// (exit success, the JSON report, stdout + stderr).
fn check(env: &[(&'static str, String)], streams: &[String], json: bool) -> (bool, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_das-forwarder"));
    cmd.arg("check").env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for s in streams {
        match s.split_once(' ') {
            Some((flag, value)) if flag.starts_with("--") => cmd.args([flag, value]),
            _ if s.starts_with("--") => cmd.arg(s),
            _ => cmd.args(["--stream-arn", s]),
        };
    }
    if json {
        cmd.arg("--json");
    }
    let out = cmd.envs(env.iter().map(|(k, v)| (k, v))).output().expect("run das-forwarder check");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let report = if json { serde_json::from_str(&stdout).expect("JSON report") } else { Value::Null };
    (out.status.success(), report, all)
}

/// The check named `name` on a target containing `target`.
fn find<'r>(report: &'r Value, target: &str, name: &str) -> &'r Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["target"].as_str().unwrap().contains(target) && c["check"] == name)
        .unwrap_or_else(|| panic!("no {name} on {target}: {report:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_set_up_is_all_ok_and_prints_no_secret_and_no_statement() {
    let (s, _dir) = set_up().await;
    function_with_mapping(&s.moto, "das-forwarder", &arn(RESOURCE), true);
    // The function's mapping names the stream: --function alone checks both.
    let (ok, report, _) = check(&s.env(&[]), &["--function das-forwarder".to_owned()], true);
    assert!(ok, "{report:#}");
    assert_eq!((report["fail"].as_u64(), report["warn"].as_u64()), (Some(0), Some(0)), "{report:#}");
    for name in [
        "mapping.enabled",
        "mapping.report_batch_item_failures",
        "mapping.bisect",
        "mapping.on_failure",
        "mapping.batching",
        "stream.active",
        "database.activity_stream",
        "record.kms",
        "record.decode",
        "s3.write",
        "hec.health",
        "hec.token",
    ] {
        assert_eq!(find(&report, "", name)["status"], "ok", "{name}");
    }
    let decoded = find(&report, RESOURCE, "record.decode")["detail"].as_str().unwrap().to_owned();
    assert!(decoded.contains("version 1.") && decoded.contains("events"), "{decoded}");
    // The probe object is gone again: the check writes nothing that stays.
    let sdk = s.moto.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    assert_eq!(s3.list_objects_v2().bucket(BUCKET).send().await.unwrap().key_count(), Some(0));

    // As the function's role (assumed through moto's STS, which lets any caller assume it).
    let role = "--role-arn arn:aws:iam::123456789012:role/das-forwarder-role".to_owned();
    let (ok, report, _) = check(&s.env(&[]), &[arn(RESOURCE), role], true);
    assert!(ok, "{report:#}");
    assert_eq!(find(&report, "role", "role.assume")["status"], "ok");
    assert_eq!(find(&report, RESOURCE, "record.decode")["status"], "ok");

    // At every log level: no token, no statement text.
    for level in ["trace", "debug", "info", "warn"] {
        let function = ["--function das-forwarder".to_owned()];
        let (ok, _, all) = check(&s.env(&[("RUST_LOG", level.to_owned())]), &function, false);
        assert!(ok, "{all}");
        assert!(all.contains("ok  "), "{all}");
        if level == "warn" {
            // The README's transcript (`cargo test --test it check:: -- --nocapture`).
            eprintln!("{all}");
        }
        assert!(!all.contains(TOKEN), "the HEC token is printed at RUST_LOG={level}");
        for sql in &s.statements {
            assert!(!all.contains(sql.as_str()), "a statement is printed at RUST_LOG={level}: {sql}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_broken_part_is_a_failure_that_names_its_fix() {
    let (s, _dir) = set_up().await;

    // A wrong HEC token.
    let (ok, report, _) = check(&s.env(&[("HEC_TOKEN", "wrong-token".to_owned())]), &[], true);
    assert!(!ok);
    let c = find(&report, "sink hec", "hec.token");
    assert_eq!(c["status"], "fail");
    assert!(c["fix"].as_str().unwrap().contains("HEC_TOKEN"), "{c}");

    // Records bound to another encryption context than the stream's name gives.
    let (ok, report, _) = check(&s.env(&[]), &[arn(OTHER)], true);
    assert!(!ok);
    let c = find(&report, OTHER, "record.kms");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(c["detail"].as_str().unwrap().contains("kms.invalid_ciphertext"), "{c}");
    assert!(c["fix"].as_str().unwrap().contains(&format!("aws:rds:dbc-id = {OTHER}")), "{c}");
    assert!(c["fix"].as_str().unwrap().contains("DAS_RESOURCE_ID"), "{c}");

    // A key whose policy refuses the role. Loopback stub: moto does not evaluate key policies,
    // so the fault proxy stands in for KMS and answers AccessDeniedException as KMS does.
    let kms = FaultProxy::start(&host_port(&s.moto.endpoint)).await;
    kms.script(vec![], Fault::kms_access_denied());
    let (ok, report, _) = check(&s.env(&[("AWS_ENDPOINT_URL_KMS", kms.url.clone())]), &[arn(RESOURCE)], true);
    assert!(!ok);
    let c = find(&report, RESOURCE, "record.kms");
    assert_eq!(c["status"], "fail", "{c}");
    let fix = c["fix"].as_str().unwrap();
    assert!(fix.contains("kms:Decrypt") && fix.contains(&format!("kms:EncryptionContext:aws:rds:dbc-id = {RESOURCE}")));

    // An S3 prefix the role cannot write. Loopback stub: moto does not evaluate IAM, so the
    // fault proxy stands in for S3 and answers AccessDenied as S3 does.
    let s3 = FaultProxy::start(&host_port(&s.moto.endpoint)).await;
    s3.script(vec![], Fault::s3_access_denied());
    let (ok, report, _) = check(&s.env(&[("AWS_ENDPOINT_URL_S3", s3.url.clone())]), &[], true);
    assert!(!ok);
    let c = find(&report, "sink s3", "s3.write");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(c["fix"].as_str().unwrap().contains("s3:PutObject on arn:aws:s3:::check-bucket/quarantine/*"), "{c}");

    // A mapping without ReportBatchItemFailures.
    function_with_mapping(&s.moto, "no-partial", &arn(RESOURCE), false);
    let (ok, report, _) = check(&s.env(&[]), &["--function no-partial".to_owned()], true);
    assert!(!ok);
    let c = find(&report, "no-partial", "mapping.report_batch_item_failures");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(c["fix"].as_str().unwrap().contains("--function-response-types ReportBatchItemFailures"), "{c}");

    // A stream that does not exist.
    let missing = arn("cluster-MISSINGABCDEFGHIJKLMNOPQ");
    let (ok, report, _) = check(&s.env(&[]), &[missing], true);
    assert!(!ok);
    let c = find(&report, "MISSING", "stream.exists");
    assert!(c["fix"].as_str().unwrap().contains("start-activity-stream"), "{c}");

    // A database whose activity stream is stopped.
    s.rds.set(RESOURCE, "stopped");
    let (ok, report, _) = check(&s.env(&[]), &[arn(RESOURCE)], true);
    assert!(!ok);
    let c = find(&report, RESOURCE, "database.activity_stream");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(c["detail"].as_str().unwrap().contains("stopped"), "{c}");
    assert!(c["fix"].as_str().unwrap().contains("aws rds start-activity-stream"), "{c}");

    // The text form: one line a check, FAIL marked, the fix under it, a non-zero exit.
    let (ok, _, all) = check(&s.env(&[("HEC_TOKEN", "wrong-token".to_owned())]), &[], false);
    assert!(!ok);
    // The README's example of a failure.
    eprintln!("{all}");
    assert!(all.contains("FAIL  sink hec"), "{all}");
    assert!(all.contains("      fix: set HEC_TOKEN"), "{all}");
    assert!(all.contains("checks failed"), "{all}");
    assert!(!all.contains("wrong-token"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_gets_a_connection_and_a_message_only_when_asked() {
    let (s, _dir) = set_up().await;
    let key = b"check-webhook-key";
    let rx = Receiver::start(TOKEN, key).await;
    let whsec = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key));
    let env = s.env(&[
        ("SINKS", "webhook".to_owned()),
        ("WEBHOOK_URL", format!("{}/webhook", rx.url)),
        ("WEBHOOK_SECRET", whsec.clone()),
    ]);
    let (ok, report, _) = check(&env, &[], true);
    assert!(ok, "{report:#}");
    assert_eq!(find(&report, "sink webhook", "webhook.connect")["status"], "ok");
    assert_eq!(rx.with(|got| got.requests), 0, "a plain check sent the webhook a request");

    let (ok, report, all) = check(&env, &["--send-test-message".to_owned()], true);
    assert!(ok, "{report:#}");
    assert_eq!(find(&report, "sink webhook", "webhook.message")["status"], "ok");
    let events = rx.with(|got| got.webhook_events.clone());
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["das_forwarder_check"], "test message");
    assert!(!all.contains(&whsec), "the webhook secret is printed");

    // A secret the receiver does not share: the signature is refused.
    let wrong = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(b"another-key"));
    let env = s.env(&[
        ("SINKS", "webhook".to_owned()),
        ("WEBHOOK_URL", format!("{}/webhook", rx.url)),
        ("WEBHOOK_SECRET", wrong),
    ]);
    let (ok, report, _) = check(&env, &["--send-test-message".to_owned()], true);
    assert!(!ok);
    let c = find(&report, "sink webhook", "webhook.message");
    assert!(c["fix"].as_str().unwrap().contains("WEBHOOK_SECRET"), "{c}");
}
