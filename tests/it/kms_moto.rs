//! The whole path through the real `aws-sdk-kms` client against a local moto
//! server, on batches the official Python ESDK produced the way RDS does
//! (suite 0178, frame 4096, "BC"/"DataKey", key blob bound to aws:rds:dbc-id).

use crate::common;

use std::path::Path;
use std::process::Command;

use common::moto::{free_port, venv, Moto};
use common::{invoke, ndjson_under, repo_dir};
use serde_json::Value;

/// Runs tests/support/make_rds_batch.py; returns (event file, expected JSON).
fn rds_batch(moto: &Moto, dir: &Path, args: &[&str]) -> (std::path::PathBuf, Value) {
    let event = dir.join("event.json");
    let expected = dir.join("expected.json");
    let status = Command::new(venv().join("bin/python"))
        .arg(repo_dir().join("tests/support/make_rds_batch.py"))
        .args(["--endpoint", &moto.endpoint, "--out"])
        .arg(&event)
        .arg("--expected")
        .arg(&expected)
        .args(args)
        .status()
        .expect("run make_rds_batch.py");
    assert!(status.success(), "make_rds_batch.py failed");
    (event, serde_json::from_slice(&std::fs::read(expected).unwrap()).unwrap())
}

fn env(moto: &Moto, out: &Path, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = moto.aws_env();
    env.push(("KEY_PROVIDER", "kms".into()));
    env.push(("SINKS", "file".into()));
    env.push(("FILE_SINK_DIR", out.display().to_string()));
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    env
}

fn failures(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

/// Every expected non-heartbeat event of the non-corrupt records is in the
/// output exactly once, as a valid OCSF event that carries all its fields.
fn assert_every_event_once(expected: &Value, lines: &[Value]) {
    let validator = common::ocsf::OcsfValidator::new();
    let key = |das: &Value| (das["statementId"].to_string(), das["substatementId"].to_string());
    let mut want: Vec<&Value> = Vec::new();
    for r in expected["records"].as_array().unwrap() {
        if !r["corrupt"].as_bool().unwrap() {
            want.extend(r["events"].as_array().unwrap());
        }
    }
    assert_eq!(lines.len(), want.len(), "output line count");
    for w in &want {
        let found: Vec<&Value> = lines.iter().filter(|l| key(&l["unmapped"]["das"]) == key(w)).collect();
        assert_eq!(found.len(), 1, "event not delivered exactly once: {w}");
        validator.check(found[0]);
        common::ocsf::assert_lossless(w.as_object().unwrap(), found[0]);
    }
}

#[test]
fn rds_format_batch_decrypts_through_kms_and_a_corrupt_record_is_quarantined() {
    let moto = Moto::start();
    let tmp = tempfile::tempdir().unwrap();
    let (event, expected) =
        rds_batch(&moto, tmp.path(), &["--records", "12", "--engine", "mixed", "--corrupt-index", "11"]);
    let out = tmp.path().join("out");
    let (response, summary, stderr) = invoke(&event, &env(&moto, &out, &[]));
    assert_eq!(failures(&response), Vec::<String>::new(), "{stderr}");
    assert_eq!(summary["delivered"], 11);
    assert_eq!(summary["quarantined"], 1);
    assert_eq!(summary["quarantine_reasons"]["esdk.frame_tag"], 1);
    assert_eq!(summary["key_provider_calls"], 3);
    assert_every_event_once(&expected, &ndjson_under(&out.join("das")));
    let seq = expected["records"][11]["sequenceNumber"].as_str().unwrap();
    let q = std::fs::read_dir(out.join("quarantine")).unwrap().next().unwrap().unwrap().path();
    let entry = std::fs::read_dir(&q).unwrap().next().unwrap().unwrap().path();
    assert!(entry.file_name().unwrap().to_string_lossy().contains(seq));
    // The entry keeps the record's arrival time exactly (1700000002.51 here: read through
    // `aws_lambda_events` it would be 51 ms past the second instead of 510).
    let entry: Value = serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
    let sent: Value = serde_json::from_slice(&std::fs::read(&event).unwrap()).unwrap();
    let arrival = &sent["Records"][11]["kinesis"]["approximateArrivalTimestamp"];
    assert_eq!(entry["approximateArrivalTimestamp"].as_f64(), arrival.as_f64(), "{arrival}");
}

#[test]
fn one_hundred_records_sharing_three_data_keys_make_three_kms_calls() {
    let moto = Moto::start();
    let tmp = tempfile::tempdir().unwrap();
    let (event, expected) = rds_batch(&moto, tmp.path(), &["--records", "100", "--data-keys", "3"]);
    let out = tmp.path().join("out");
    let (response, summary, _) = invoke(&event, &env(&moto, &out, &[]));
    assert!(failures(&response).is_empty());
    assert_eq!(summary["key_provider_calls"], 3);
    assert_eq!(summary["cache_hits"], 97);
    assert_every_event_once(&expected, &ndjson_under(&out.join("das")));
}

#[test]
fn wrong_encryption_context_is_rejected_by_kms_and_quarantined() {
    let moto = Moto::start();
    let tmp = tempfile::tempdir().unwrap();
    let (event, _) = rds_batch(&moto, tmp.path(), &["--records", "4", "--data-keys", "1"]);
    let out = tmp.path().join("out");
    let (response, summary, _) = invoke(&event, &env(&moto, &out, &[("DAS_RESOURCE_ID", "cluster-SOMEOTHERCLUSTER")]));
    assert!(failures(&response).is_empty());
    assert_eq!(summary["quarantine_reasons"]["kms.invalid_ciphertext"], 4);
    assert!(ndjson_under(&out.join("das")).is_empty());
}

#[test]
fn kms_unreachable_reports_the_batch_from_its_first_record() {
    let moto = Moto::start();
    let tmp = tempfile::tempdir().unwrap();
    let (event, expected) = rds_batch(&moto, tmp.path(), &["--records", "5"]);
    let out = tmp.path().join("out");
    let dead = format!("http://127.0.0.1:{}", free_port());
    let mut env = env(&moto, &out, &[("AWS_MAX_ATTEMPTS", "2"), ("KMS_TIMEOUT_MS", "2000")]);
    env.retain(|(k, _)| *k != "AWS_ENDPOINT_URL");
    env.push(("AWS_ENDPOINT_URL", dead));
    let (response, summary, _) = invoke(&event, &env);
    let first = expected["records"][0]["sequenceNumber"].as_str().unwrap();
    assert_eq!(failures(&response).first().map(String::as_str), Some(first));
    assert_eq!(summary["reported"], 5);
    assert_eq!(summary["delivered"], 0);
    assert!(ndjson_under(&out).is_empty(), "nothing delivered, nothing quarantined");
}
