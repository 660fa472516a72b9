//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use base64::Engine;

pub fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).expect("test data is valid base64")
}

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/reference/vectors`, or `None` (with a message) when `../shared` is absent.
pub fn shared_vectors() -> Option<PathBuf> {
    let dir = std::env::var_os("DAS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_dir().join("../shared"))
        .join("reference/vectors");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} not found (set DAS_SHARED_DIR to the shared folder to run these vector tests)", dir.display());
        None
    }
}
