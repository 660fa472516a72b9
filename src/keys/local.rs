//! A local stand-in for KMS, for demos and tests only: key blobs are the
//! wrapping key sealed with AES-256-GCM under a master key read from a file,
//! with the RDS encryption context as AAD (so a wrong context fails, as in KMS).
//!
//! Blob layout: `DASLOCAL1` ‖ IV (12) ‖ sealed key ‖ tag (16).

use std::path::Path;

use base64::Engine;
use futures::future::BoxFuture;
use zeroize::Zeroizing;

use super::{check_key_length, KeyContext, KeyError, KeyProvider, WrappingKey};
use crate::esdk::gcm::Gcm;
use crate::esdk::header::serialize_context;

const MAGIC: &[u8] = b"DASLOCAL1";

/// Why a local master key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} must hold a 32-byte key (64 hex digits, base64, or 32 raw bytes)")]
    Format { path: String },
}

pub struct LocalKeys {
    gcm: Gcm,
}

impl LocalKeys {
    pub fn new(master: [u8; 32]) -> LocalKeys {
        let master = Zeroizing::new(master);
        let Some(gcm) = Gcm::new(master.as_slice()) else { unreachable!("a 32-byte key is a valid AES-256 key") };
        LocalKeys { gcm }
    }

    /// Reads a 32-byte master key stored as 64 hex digits, base64, or raw bytes.
    pub fn from_file(path: &Path) -> Result<LocalKeys, MasterKeyError> {
        let shown = || path.display().to_string();
        let raw = Zeroizing::new(std::fs::read(path).map_err(|source| MasterKeyError::Read { path: shown(), source })?);
        let text = String::from_utf8_lossy(&raw);
        let text = text.trim();
        let decoded = Zeroizing::new(if raw.len() == 32 {
            raw.to_vec()
        } else if let Ok(bytes) = hex::decode(text) {
            bytes
        } else {
            base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()
        });
        let key: [u8; 32] = decoded.as_slice().try_into().map_err(|_| MasterKeyError::Format { path: shown() })?;
        Ok(LocalKeys::new(key))
    }

    /// Seals `wrapping_key` for `ctx` (what KMS `Encrypt` would do).
    pub fn seal(&self, wrapping_key: &[u8], ctx: KeyContext<'_>, iv: [u8; 12]) -> Vec<u8> {
        let aad = serialize_context(&[(ctx.key, ctx.value)]);
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&iv);
        let start = out.len();
        out.extend_from_slice(wrapping_key);
        let tag = self.gcm.seal(&iv, &aad, &mut out[start..]).unwrap_or_else(|_| unreachable!("small input"));
        out.extend_from_slice(&tag);
        out
    }

    fn open(&self, blob: &[u8], ctx: KeyContext<'_>) -> Result<WrappingKey, KeyError> {
        let invalid =
            |detail: &str| KeyError::Permanent { code: "local.invalid_ciphertext", detail: detail.to_owned() };
        let body = blob.strip_prefix(MAGIC).ok_or_else(|| invalid("not a local key blob"))?;
        if body.len() < 12 + 16 {
            return Err(invalid("blob too short"));
        }
        let (iv, rest) = body.split_at(12);
        let (sealed, tag) = rest.split_at(rest.len() - 16);
        let iv: [u8; 12] = iv.try_into().map_err(|_| invalid("bad IV"))?;
        let tag: [u8; 16] = tag.try_into().map_err(|_| invalid("bad tag"))?;
        let mut key = sealed.to_vec();
        let aad = serialize_context(&[(ctx.key, ctx.value)]);
        if self.gcm.open(&iv, &aad, &mut key, &tag).is_err() {
            return Err(invalid("does not decrypt under the master key with this encryption context"));
        }
        check_key_length(key, "local.bad_key_length")
    }
}

impl KeyProvider for LocalKeys {
    fn decrypt<'a>(&'a self, blob: &'a [u8], ctx: KeyContext<'a>) -> BoxFuture<'a, Result<WrappingKey, KeyError>> {
        Box::pin(async move { self.open(blob, ctx) })
    }

    fn name(&self) -> &'static str {
        "local"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_context_binding() {
        let keys = LocalKeys::new([3; 32]);
        let ctx = KeyContext { key: "aws:rds:dbc-id", value: "cluster-A" };
        let blob = keys.seal(&[9; 32], ctx, [1; 12]);
        assert_eq!(keys.open(&blob, ctx).unwrap().bytes(), &[9; 32]);
        let wrong = KeyContext { key: "aws:rds:dbc-id", value: "cluster-B" };
        assert!(matches!(keys.open(&blob, wrong), Err(KeyError::Permanent { code: "local.invalid_ciphertext", .. })));
        assert!(keys.open(b"DASLOCAL1short", ctx).is_err());
        assert!(keys.open(b"", ctx).is_err());
    }
}
