//! Byte-identity of everything `das-forwarder invoke` writes, against a manifest made by the engine
//! of record: every file under `FILE_SINK_DIR` (OCSF NDJSON and quarantine entries) and every
//! response, for every event in `events/` and two generated batches, under four configurations
//! (plain, `REDACT_SQL=literals`, `REDACT_SQL=full`, the event filters).
//!
//! The manifest, `tests/fixtures/golden/outputs.sha256`, holds one line per file: its SHA-256, its
//! line count and its path. A change of engine must leave it as it is. `UPDATE_GOLDEN=1` rewrites
//! it; a rewrite is a change of output format and is reviewed as one.

use crate::common;

use std::path::{Path, PathBuf};

use common::{files_under, repo_dir};
use sha2::{Digest, Sha256};

const VARIANTS: [(&str, &[(&str, &str)]); 4] = [
    ("plain", &[]),
    ("literals", &[("REDACT_SQL", "literals")]),
    ("full", &[("REDACT_SQL", "full"), ("REDACT_HMAC_KEY", "golden-outputs-hmac-key")]),
    ("filters", &[("EXCLUDE_USERS", "rdsadmin"), ("EXCLUDE_COMMANDS", "CONNECT,DROP TABLE")]),
];

fn generated(dir: &Path) -> Vec<PathBuf> {
    let key = repo_dir().join("events/local-master-key.hex");
    let batches: [(&str, &[&str]); 2] = [
        ("bench-shape", &["--records", "120", "--seed", "42", "--events-per-record", "25", "--data-keys", "4"]),
        (
            "oracle-many",
            &["--profile", "oracle", "--records", "30", "--seed", "9", "--resource-id", "db-GOLDENORA7Q2LKXH3ZC5RT"],
        ),
    ];
    batches
        .iter()
        .map(|(name, args)| {
            let out = dir.join(format!("{name}.json"));
            let status = std::process::Command::new(env!("CARGO_BIN_EXE_das-forwarder"))
                .args(["generate", "--out"])
                .arg(&out)
                .arg("--master-key-file")
                .arg(&key)
                .args(*args)
                .status()
                .expect("run das-forwarder generate");
            assert!(status.success());
            out
        })
        .collect()
}

fn manifest() -> String {
    let scratch = tempfile::tempdir().unwrap();
    let mut events: Vec<PathBuf> = std::fs::read_dir(repo_dir().join("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    events.sort();
    events.extend(generated(scratch.path()));
    let mut lines = Vec::new();
    for (variant, extra) in VARIANTS {
        for event in &events {
            let name = event.file_stem().unwrap().to_string_lossy().into_owned();
            let out = scratch.path().join(variant).join(&name);
            let mut env: Vec<(&str, String)> = vec![
                ("KEY_PROVIDER", "local".into()),
                ("LOCAL_MASTER_KEY_FILE", repo_dir().join("events/local-master-key.hex").display().to_string()),
                ("SINKS", "file".into()),
                ("FILE_SINK_DIR", out.display().to_string()),
                ("METRICS", "off".into()),
                ("RUST_LOG", "error".into()),
            ];
            env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
            let (response, _, _) = common::invoke(event, &env);
            lines.push(format!("response {variant}/{name} {response}"));
            for file in files_under(&out) {
                let bytes = std::fs::read(&file).unwrap();
                let rel = file.strip_prefix(&out).unwrap().display().to_string();
                let count = bytes.iter().filter(|&&b| b == b'\n').count();
                lines.push(format!("{}  {count}  {variant}/{name}/{rel}", hex::encode(Sha256::digest(&bytes))));
            }
        }
    }
    lines.join("\n") + "\n"
}

#[test]
fn outputs_are_byte_identical_to_the_manifest() {
    let path = repo_dir().join("tests/fixtures/golden/outputs.sha256");
    let got = manifest();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing {}", path.display()));
    let (got_lines, want_lines): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    let missing: Vec<&&str> = want_lines.iter().filter(|l| !got_lines.contains(l)).take(10).collect();
    let extra: Vec<&&str> = got_lines.iter().filter(|l| !want_lines.contains(l)).take(10).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "outputs differ from the manifest:\n  expected, not written: {missing:#?}\n  written, not expected: {extra:#?}"
    );
    assert!(want_lines.len() > 60, "{} manifest lines", want_lines.len());
}
