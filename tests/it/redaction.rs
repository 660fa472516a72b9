//! `REDACT_SQL` end to end: the demo batch through `invoke`, every statement's literals gone
//! from the OCSF output (query text and the raw fields under `unmapped.das`), the redaction
//! recorded on each event, and `full` keeping a keyed hash that correlates identical statements.

use crate::common;

use std::collections::BTreeMap;

use serde_json::Value;

fn run(mode: &str, extra: &[(&'static str, String)]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let repo = common::repo_dir();
    let mut env = vec![
        ("KEY_PROVIDER", "local".to_owned()),
        ("LOCAL_MASTER_KEY_FILE", repo.join("events/local-master-key.hex").display().to_string()),
        ("SINKS", "file".to_owned()),
        ("FILE_SINK_DIR", dir.path().display().to_string()),
        ("REDACT_SQL", mode.to_owned()),
    ];
    env.extend(extra.iter().cloned());
    let (response, _, _) = common::invoke(&repo.join("events/demo-kinesis-event.json"), &env);
    assert_eq!(response["batchItemFailures"], serde_json::json!([]));
    common::ndjson_under(&dir.path().join("das"))
}

/// Literals the demo generator puts in its statements (src/cli/generate.rs).
const LITERALS: [&str; 8] = ["= 4711", "99.95", "'shipped'", "'DE'", "balance - 10", "id = 17", "< 28", "LIMIT 10"];

#[test]
fn literals_mode_removes_every_literal_and_says_so() {
    let plain = run("off", &[]);
    let text = |e: &Value| e["query_info"]["query_string"].as_str().map(str::to_owned);
    assert!(plain.iter().filter_map(text).any(|q| LITERALS.iter().any(|l| q.contains(l))), "the demo has literals");

    let events = run("literals", &[]);
    assert_eq!(events.len(), plain.len());
    let mut redacted = 0;
    for e in &events {
        // Where SQL lives: the query text and the raw DAS fields.
        let line = format!("{} {}", e["query_info"], e["unmapped"]["das"]);
        for l in LITERALS {
            assert!(!line.contains(l), "{l} survived: {line}");
        }
        if e["unmapped"]["das"]["commandText"].is_string() || e["query_info"]["query_string"].is_string() {
            assert_eq!(e["unmapped"]["redaction"]["mode"], "literals", "{line}");
            redacted += 1;
        }
    }
    assert!(redacted > 100, "{redacted} events redacted");
    // The shape stays: same statement kinds, placeholders where the literals were.
    assert!(events
        .iter()
        .filter_map(text)
        .any(|q| q.starts_with("SELECT id, total FROM orders WHERE customer_id = ?")));
}

#[test]
fn full_mode_keeps_only_a_keyed_hash_that_correlates() {
    let events = run("full", &[("REDACT_HMAC_KEY", "0123456789abcdef-test-key".to_owned())]);
    let plain = run("off", &[]);
    let mut by_text: BTreeMap<String, String> = BTreeMap::new();
    for (e, p) in events.iter().zip(&plain) {
        let Some(original) = p["query_info"]["query_string"].as_str() else { continue };
        assert_eq!(e["query_info"]["query_string"].as_str().unwrap_or(""), "", "no text kept");
        let hmac = e["unmapped"]["redaction"]["command_hmac"].as_str().unwrap().to_owned();
        if let Some(seen) = by_text.insert(original.to_owned(), hmac.clone()) {
            assert_eq!(seen, hmac, "identical statements, identical hashes");
        }
        let sql_fields = format!("{} {}", e["query_info"], e["unmapped"]["das"]);
        for l in LITERALS {
            assert!(!sql_fields.contains(l), "{l} survived");
        }
    }
    assert!(by_text.len() > 10);
    let distinct: std::collections::BTreeSet<&String> = by_text.values().collect();
    assert_eq!(distinct.len(), by_text.len(), "different statements, different hashes");
}
