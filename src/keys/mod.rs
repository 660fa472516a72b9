//! Wrapping keys: the KMS blob of a record decrypted to the raw AES key that
//! wraps the ESDK data key. `KeyProvider` is the I/O edge (KMS, or a local
//! key file for demos and tests); `DataKeyCache` sits in front of it.

pub(crate) mod cache;
pub(crate) mod kms;
pub mod local;

use std::fmt;

use futures::future::BoxFuture;
use zeroize::Zeroizing;

pub use cache::{DataKeyCache, KeyStats};

/// A plaintext wrapping key; zeroized when the last reference is dropped.
pub struct WrappingKey(Zeroizing<Vec<u8>>);

impl WrappingKey {
    pub fn new(bytes: Vec<u8>) -> WrappingKey {
        WrappingKey(Zeroizing::new(bytes))
    }
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for WrappingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WrappingKey({} bytes, redacted)", self.0.len())
    }
}

/// Why a key could not be had. `Permanent` errors quarantine the record
/// (retrying the same blob cannot succeed); `Transient` ones report it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{code}: {detail}")]
    Permanent { code: &'static str, detail: String },
    #[error("key provider unavailable: {0}")]
    Transient(String),
}

/// The encryption context pair RDS binds the key blob to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyContext<'a> {
    pub key: &'static str,
    pub value: &'a str,
}

pub trait KeyProvider: Send + Sync {
    /// Decrypts a key blob bound to `context`.
    fn decrypt<'a>(&'a self, blob: &'a [u8], context: KeyContext<'a>) -> BoxFuture<'a, Result<WrappingKey, KeyError>>;
    /// Short name for logs and metrics (`kms`, `local`).
    fn name(&self) -> &'static str;
}

/// AES wrapping keys are 16, 24 or 32 bytes; anything else is unusable.
pub(crate) fn check_key_length(bytes: Vec<u8>, code: &'static str) -> Result<WrappingKey, KeyError> {
    match bytes.len() {
        16 | 24 | 32 => Ok(WrappingKey::new(bytes)),
        n => {
            let _ = WrappingKey::new(bytes);
            Err(KeyError::Permanent { code, detail: format!("decrypted key has {n} bytes, expected 16, 24 or 32") })
        }
    }
}
