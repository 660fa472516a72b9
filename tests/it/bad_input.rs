//! The bad-input catalogue: every kind of malformed record an attacker (or a bug) can put on the
//! stream, each placed between valid records of one batch. Each must end quarantined under its own
//! documented reason code while every valid record around it is delivered, and the batch must
//! report nothing (a bad record never blocks the shard).

use crate::common;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use aws_lambda_events::event::kinesis::KinesisEvent;
use base64::Engine;
use das_forwarder::cli::generate::{generate_with_keys, GenerateOptions};
use das_forwarder::config::Config;
use das_forwarder::esdk::encrypt::{encrypt, EncryptParams};
use das_forwarder::handler::Forwarder;
use das_forwarder::keys::local::LocalKeys;
use das_forwarder::keys::KeyContext;
use das_forwarder::sinks::file::FileSink;
use das_forwarder::sinks::quarantine::FileQuarantine;
use serde_json::{json, Value};

const MASTER: [u8; 32] = [0x42; 32];
const WRAPPING: [u8; 32] = [0x17; 32];
const RESOURCE: &str = "cluster-BADINPUTCATALOGUE";
const ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/aws-rds-das-cluster-BADINPUTCATALOGUE";
const MAX_INFLATED: usize = 1 << 20;
const MAX_EVENTS: usize = 50;
const MAX_FRAME: u32 = 64 * 1024;
const MAX_EVENT: usize = 256 << 10;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// The local provider's blob of the wrapping key, bound to the resource's context.
fn blob() -> String {
    let ctx = KeyContext { key: "aws:rds:dbc-id", value: RESOURCE };
    b64(&LocalKeys::new(MASTER).seal(&WRAPPING, ctx, [9; 12]))
}

/// A valid ESDK message (suite 0178, frames of `frame_length`) of `plaintext`.
fn message(plaintext: &[u8], frame_length: u32) -> Vec<u8> {
    let params = EncryptParams {
        suite_id: 0x0178,
        frame_length,
        data_key: &[0x33; 32],
        wrapping_key: &WRAPPING,
        message_id: &[0x55; 16],
        wrap_iv: [0x66; 12],
        context: &[],
    };
    encrypt(&params, plaintext).unwrap()
}

fn inner(events: Value) -> Vec<u8> {
    json!({"type": "DatabaseActivityMonitoringRecord", "clusterId": RESOURCE, "instanceId": "db-X",
           "databaseActivityEventList": events})
    .to_string()
    .into_bytes()
}

fn one_event() -> Value {
    json!([{"type": "record", "class": "READ", "command": "SELECT", "commandText": "SELECT 1",
            "dbUserName": "alice", "logTime": "2026-11-27 01:00:00.000000+00", "databaseName": "appdb"}])
}

/// The outer record JSON around a message.
fn record(message: &[u8]) -> Vec<u8> {
    json!({"type": "DatabaseActivityMonitoringRecords", "version": "1.1",
           "databaseActivityEvents": b64(message), "key": blob()})
    .to_string()
    .into_bytes()
}

/// A valid message to be mutated, and the offset where its body starts.
fn valid_message(frame_length: u32, plaintext: &[u8]) -> (Vec<u8>, usize) {
    let m = message(plaintext, frame_length);
    let end = das_forwarder::esdk::header::parse(&m).unwrap().end;
    (m, end)
}

/// Every kind of bad record: (what it is, the record data, the reason code it must get).
fn catalogue() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let ok_gz = gzip(&inner(one_event()));
    let with = |f: &dyn Fn(&mut Vec<u8>, usize)| {
        let (mut m, end) = valid_message(4096, &ok_gz);
        f(&mut m, end);
        record(&m)
    };
    // 12 KB of events: three 4096-byte frames and a final one.
    let many: Vec<Value> = (0..60)
        .map(|i| json!({"type": "record", "commandText": format!("SELECT {i} /* {} */", "x".repeat(200))}))
        .collect();
    let big_plain = inner(Value::Array(many));
    let multi_frame = |f: &dyn Fn(&mut Vec<u8>, usize)| {
        let (mut m, end) = valid_message(4096, &big_plain);
        f(&mut m, end);
        record(&m)
    };
    let envelope = |v: Value| v.to_string().into_bytes();
    let good_message = b64(&message(&ok_gz, 4096));

    vec![
        ("not JSON", b"this is not json {".to_vec(), "envelope.not_json"),
        ("not UTF-8", vec![0xff, 0xfe, 0x7b, 0x7d], "envelope.not_utf8"),
        ("a JSON array", b"[1,2,3]".to_vec(), "envelope.not_object"),
        (
            "wrong type",
            envelope(json!({"type": "Other", "version": "1.1", "databaseActivityEvents": good_message, "key": blob()})),
            "envelope.wrong_type",
        ),
        (
            "missing key",
            envelope(
                json!({"type": "DatabaseActivityMonitoringRecords", "version": "1.1", "databaseActivityEvents": good_message}),
            ),
            "envelope.missing_field",
        ),
        (
            "key not a string",
            envelope(
                json!({"type": "DatabaseActivityMonitoringRecords", "version": "1.1", "databaseActivityEvents": good_message, "key": 7}),
            ),
            "envelope.field_not_string",
        ),
        (
            "bad base64",
            envelope(
                json!({"type": "DatabaseActivityMonitoringRecords", "version": "1.1", "databaseActivityEvents": "!!not base64!!", "key": blob()}),
            ),
            "envelope.bad_base64",
        ),
        (
            "empty payload",
            envelope(
                json!({"type": "DatabaseActivityMonitoringRecords", "version": "1.1", "databaseActivityEvents": "", "key": blob()}),
            ),
            "envelope.empty_field",
        ),
        (
            "key blob for another master key",
            envelope(
                json!({"type": "DatabaseActivityMonitoringRecords", "version": "1.1", "databaseActivityEvents": good_message,
                            "key": b64(&LocalKeys::new([1; 32]).seal(&WRAPPING, KeyContext { key: "aws:rds:dbc-id", value: RESOURCE }, [9; 12]))}),
            ),
            "local.invalid_ciphertext",
        ),
        ("unsupported message version", with(&|m, _| m[0] = 3), "esdk.unsupported_version"),
        ("bad message type", with(&|m, _| m[1] = 0x81), "esdk.bad_message_type"),
        ("unknown suite id", with(&|m, _| m[2..4].copy_from_slice(&[0x09, 0x99])), "esdk.unknown_suite"),
        (
            "v2 header with a v1 suite",
            with(&|m, _| {
                // Version 2 has no type byte: 02 | 01 78 | ...
                m[0] = 2;
                m[1] = 0x01;
                m[2] = 0x78;
            }),
            "esdk.suite_version_mismatch",
        ),
        ("encrypted data key count 0", with(&|m, _| m[22..24].copy_from_slice(&[0, 0])), "esdk.no_encrypted_data_keys"),
        ("huge declared length", with(&|m, _| m[20..22].copy_from_slice(&[0xff, 0xff])), "esdk.truncated"),
        ("wrong key provider id", with(&|m, _| m[26..28].copy_from_slice(b"XY")), "esdk.no_matching_data_key"),
        ("wrapped data key altered", with(&|m, _| m[70] ^= 1), "esdk.data_key_unwrap"),
        ("bad content type", with(&|m, end| m[end - 28 - 10] = 9), "esdk.bad_content_type"),
        ("reserved bytes set", with(&|m, end| m[end - 28 - 9] = 1), "esdk.bad_reserved"),
        ("bad IV length", with(&|m, end| m[end - 28 - 5] = 16), "esdk.bad_iv_length"),
        ("header tag altered", with(&|m, end| m[end - 1] ^= 0x80), "esdk.header_tag"),
        (
            "frame sequence out of order",
            multi_frame(&|m, end| m[end..end + 4].copy_from_slice(&2u32.to_be_bytes())),
            "esdk.frame_sequence",
        ),
        (
            "final frame longer than the frame length",
            // One final frame only: marker(4) seq(4) IV(12) then the content length.
            with(&|m, end| m[end + 20..end + 24].copy_from_slice(&4097u32.to_be_bytes())),
            "esdk.final_frame_too_long",
        ),
        ("frame ciphertext altered", with(&|m, end| m[end + 30] ^= 4), "esdk.frame_tag"),
        ("trailing bytes", with(&|m, _| m.extend_from_slice(b"xyz")), "esdk.trailing_bytes"),
        ("truncated body", with(&|m, end| m.truncate(end + 10)), "esdk.truncated"),
        ("frames over MAX_FRAME_LENGTH", record(&message(&ok_gz, MAX_FRAME * 2)), "limits.frame_too_large"),
        ("payload not gzip", record(&message(b"plain text, not gzip", 4096)), "inflate.not_gzip"),
        ("corrupt gzip", record(&message(&ok_gz[..ok_gz.len() / 2], 4096)), "inflate.corrupt"),
        ("gzip bomb", record(&message(&gzip(&vec![b' '; 16 << 20]), 4096)), "inflate.too_large"),
        ("non-UTF-8 JSON", record(&message(&gzip(&[0x7b, 0xff, 0xfe, 0x7d]), 4096)), "activity.not_utf8"),
        ("decrypted record not JSON", record(&message(&gzip(b"{\"type\": "), 4096)), "activity.not_json"),
        (
            "decrypted record of another type",
            record(&message(
                &gzip(json!({"type": "Other", "databaseActivityEventList": []}).to_string().as_bytes()),
                4096,
            )),
            "activity.wrong_type",
        ),
        (
            "no event list",
            record(&message(&gzip(json!({"type": "DatabaseActivityMonitoringRecord"}).to_string().as_bytes()), 4096)),
            "activity.missing_event_list",
        ),
        (
            "event list not a list",
            record(&message(&gzip(&inner(json!({"a": 1}))), 4096)),
            "activity.event_list_not_array",
        ),
        ("event not an object", record(&message(&gzip(&inner(json!([1, 2]))), 4096)), "activity.event_not_object"),
        (
            "too many events",
            record(&message(&gzip(&inner(Value::Array(vec![json!({"type": "heartbeat"}); MAX_EVENTS + 1]))), 4096)),
            "activity.too_many_events",
        ),
        (
            "an event over MAX_EVENT_BYTES",
            record(&message(&gzip(&inner(json!([{"commandText": "x".repeat(MAX_EVENT + 1)}]))), 4096)),
            "activity.event_too_large",
        ),
    ]
}

fn valid_event(records: usize) -> KinesisEvent {
    let opts = GenerateOptions {
        max_events: Some(4),
        records,
        seed: 31,
        resource_id: RESOURCE.into(),
        data_keys: 1,
        ..GenerateOptions::default()
    };
    serde_json::from_value(generate_with_keys(&opts, &[(WRAPPING, blob())])).unwrap()
}

fn forwarder(out: &Path) -> Forwarder {
    let config = Config::from_lookup(|k| match k {
        "MAX_INFLATED_BYTES" => Some(MAX_INFLATED.to_string()),
        "MAX_EVENTS_PER_RECORD" => Some(MAX_EVENTS.to_string()),
        "MAX_FRAME_LENGTH" => Some(MAX_FRAME.to_string()),
        "MAX_EVENT_BYTES" => Some(MAX_EVENT.to_string()),
        _ => None,
    })
    .unwrap();
    Forwarder::new(
        config,
        Arc::new(LocalKeys::new(MASTER)),
        vec![Box::new(FileSink::new(out.to_path_buf(), "das/".into()))],
        Box::new(FileQuarantine::new(out.to_path_buf(), "quarantine/".into())),
    )
}

#[tokio::test]
async fn every_bad_record_is_quarantined_under_its_own_code_and_the_rest_delivered() {
    let catalogue = catalogue();
    assert!(catalogue.len() >= 20, "the catalogue holds {} kinds", catalogue.len());

    // valid, bad, valid, bad, ..., valid: each bad record sits between valid ones.
    let valid = valid_event(catalogue.len() + 1);
    let mut event = valid.clone();
    event.records.clear();
    let template = valid.records[0].clone();
    for (i, good) in valid.records.iter().enumerate() {
        let mut good = good.clone();
        good.kinesis.sequence_number = format!("{:056}", 2 * i);
        good.event_id = Some(format!("shardId-000000000000:{}", good.kinesis.sequence_number));
        event.records.push(good);
        if let Some((_, data, _)) = catalogue.get(i) {
            let mut bad = template.clone();
            bad.kinesis.data = serde_json::from_value(json!(b64(data))).unwrap();
            bad.kinesis.sequence_number = format!("{:056}", 2 * i + 1);
            bad.event_id = Some(format!("shardId-000000000000:{}", bad.kinesis.sequence_number));
            bad.event_source_arn = Some(ARN.into());
            event.records.push(bad);
        }
    }

    let out = tempfile::tempdir().unwrap();
    let (response, summary) = forwarder(out.path()).handle(&event).await;
    assert!(response.batch_item_failures.is_empty(), "nothing reported: {summary:?}");
    assert_eq!(summary.delivered, valid.records.len(), "{summary:?}");
    assert_eq!(summary.quarantined, catalogue.len(), "{summary:?}");

    // Each quarantine entry holds the raw record and the catalogue's reason code.
    let mut by_seq = std::collections::BTreeMap::new();
    for file in common::files_under(&out.path().join("quarantine")) {
        let entry: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        by_seq.insert(entry["sequenceNumber"].as_str().unwrap().to_owned(), entry);
    }
    let mut codes = std::collections::BTreeSet::new();
    for (i, (what, data, code)) in catalogue.iter().enumerate() {
        let entry = by_seq.get(&format!("{:056}", 2 * i + 1)).unwrap_or_else(|| panic!("{what}: not quarantined"));
        assert_eq!(entry["reason"], *code, "{what}: {}", entry["detail"]);
        assert_eq!(common::b64(entry["data"].as_str().unwrap()), *data, "{what}: the raw record is kept");
        codes.insert(*code);
        // The reason is documented.
        assert!(
            common::doc("docs/operations.md").contains(&format!("`{code}`")),
            "{code} is not in the reason table of docs/operations.md"
        );
    }
    assert!(codes.len() + 1 >= catalogue.len(), "reason codes are distinct per kind (esdk.truncated twice)");

    // Every valid record's events were written.
    let written = common::ndjson_under(&out.path().join("das")).len();
    assert_eq!(written, summary.events);
    assert!(written > 0);
}

/// The seed corpus of the fuzz targets (`fuzz/seeds/<target>/`): real inputs, so the fuzzer starts
/// from bytes that get deep. `UPDATE_FUZZ_SEEDS=1 cargo test --test bad_input` rewrites them; the
/// test checks that the committed ESDK seeds still decrypt with the fuzz target's fixed key.
#[test]
fn fuzz_seeds_are_real_inputs() {
    let seeds = common::repo_dir().join("fuzz/seeds");
    let ok_gz = gzip(&inner(one_event()));
    let many: Vec<Value> = (0..60).map(|i| json!({"type": "record", "commandText": format!("SELECT {i}")})).collect();
    let wanted: Vec<(&str, &str, Vec<u8>)> = vec![
        ("esdk_decrypt", "one-frame", message(&ok_gz, 4096)),
        ("esdk_decrypt", "multi-frame", message(&gzip(&inner(Value::Array(many))), 512)),
        ("envelope", "record", record(&message(&ok_gz, 4096))),
        ("das_events", "one-event", inner(one_event())),
    ];
    let update = std::env::var_os("UPDATE_FUZZ_SEEDS").is_some();
    for (target, name, bytes) in &wanted {
        let path = seeds.join(target).join(name);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
        let committed =
            std::fs::read(&path).unwrap_or_else(|_| panic!("{} missing (UPDATE_FUZZ_SEEDS=1)", path.display()));
        if *target == "esdk_decrypt" {
            let plain = das_forwarder::esdk::decrypt(&committed, &das_forwarder::esdk::RawAesKeyring::das(&WRAPPING));
            assert!(plain.is_ok(), "{} does not decrypt with the fuzz key", path.display());
        }
    }
    if update {
        for fixture in std::fs::read_dir(common::repo_dir().join("tests/fixtures/das")).unwrap() {
            let path = fixture.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let dest = seeds.join("das_events").join(path.file_stem().unwrap());
                std::fs::copy(&path, dest).unwrap();
            }
        }
    }
}
