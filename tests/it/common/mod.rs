//! Helpers shared by the integration tests.

use std::path::PathBuf;

use base64::Engine;

pub fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).expect("test data is valid base64")
}

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared reference folder (`../shared`, or `DAS_SHARED_DIR`).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("DAS_SHARED_DIR").map(PathBuf::from).unwrap_or_else(|| repo_dir().join("../shared"))
}

/// `../shared/reference/vectors`, or `None` (with a message) when `../shared` is absent.
pub fn shared_vectors() -> Option<PathBuf> {
    let dir = shared_dir().join("reference/vectors");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} not found (set DAS_SHARED_DIR to the shared folder to run these vector tests)",
            dir.display()
        );
        None
    }
}

pub mod fault_proxy;
pub mod moto;
pub mod ocsf;
pub mod oracle;
pub mod rds_stub;
pub mod receiver;

/// Runs `das-forwarder invoke` with exactly `env` (plus PATH) and returns
/// (response JSON, summary JSON, stderr).
pub fn invoke(event: &std::path::Path, env: &[(&str, String)]) -> (serde_json::Value, serde_json::Value, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_das-forwarder"))
        .args(["invoke", "--event"])
        .arg(event)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run das-forwarder");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "invoke failed: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let response = serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("response JSON");
    let summary = stderr
        .lines()
        .find_map(|l| l.strip_prefix("summary: "))
        .map(|s| serde_json::from_str(s).unwrap())
        .expect("summary line");
    (response, summary, stderr)
}

/// Every file under `dir`, recursively (none when it does not exist).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every NDJSON line in the `.ndjson` files under `dir`.
pub fn ndjson_under(dir: &std::path::Path) -> Vec<serde_json::Value> {
    files_under(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
        .flat_map(|p| {
            std::fs::read_to_string(p).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<_>>()
        })
        .collect()
}

/// Every NDJSON line (`.ndjson`) and JSON document (`.json`) under `dir`.
pub fn ndjson_or_json_under(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let mut out = ndjson_under(dir);
    for p in files_under(dir).iter().filter(|p| p.extension().is_some_and(|x| x == "json")) {
        out.push(serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap());
    }
    out
}

/// A document of the repository (`docs/operations.md`, say), for tests that check that what
/// they exercise is documented.
pub fn doc(path: &str) -> String {
    std::fs::read_to_string(repo_dir().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}
