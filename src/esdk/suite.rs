//! The eleven ESDK algorithm suites and their key derivation.

use hkdf::Hkdf;
use sha2::{Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::error::EsdkError;

/// How the message encryption key is derived from the data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    Identity,
    HkdfSha256,
    HkdfSha384,
    /// HKDF-SHA512 with key commitment (message format v2).
    CommittingHkdfSha512,
}

/// The footer signature algorithm, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    EcdsaP256Sha256,
    EcdsaP384Sha384,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Suite {
    pub id: u16,
    /// Message format version that carries this suite (1 or 2).
    pub message_version: u8,
    /// Data key and encryption key length in bytes.
    pub key_len: usize,
    pub kdf: Kdf,
    pub signing: Option<Signing>,
}

pub const IV_LEN: usize = 12;
pub const TAG_LEN: usize = 16;

const fn suite(id: u16, v: u8, key_len: usize, kdf: Kdf, signing: Option<Signing>) -> Suite {
    Suite { id, message_version: v, key_len, kdf, signing }
}

use Kdf::*;
use Signing::*;

pub static SUITES: [Suite; 11] = [
    suite(0x0014, 1, 16, Identity, None),
    suite(0x0046, 1, 24, Identity, None),
    suite(0x0078, 1, 32, Identity, None),
    suite(0x0114, 1, 16, HkdfSha256, None),
    suite(0x0146, 1, 24, HkdfSha256, None),
    suite(0x0178, 1, 32, HkdfSha256, None),
    suite(0x0214, 1, 16, HkdfSha256, Some(EcdsaP256Sha256)),
    suite(0x0346, 1, 24, HkdfSha384, Some(EcdsaP384Sha384)),
    suite(0x0378, 1, 32, HkdfSha384, Some(EcdsaP384Sha384)),
    suite(0x0478, 2, 32, CommittingHkdfSha512, None),
    suite(0x0578, 2, 32, CommittingHkdfSha512, Some(EcdsaP384Sha384)),
];

impl Suite {
    pub fn by_id(id: u16) -> Result<&'static Suite, EsdkError> {
        SUITES.iter().find(|s| s.id == id).ok_or(EsdkError::UnknownSuite(id))
    }

    /// Length of the message ID in the header.
    pub fn message_id_len(&self) -> usize {
        if self.message_version == 2 {
            32
        } else {
            16
        }
    }

    /// Derives the message encryption key; for committing suites also checks
    /// `commitment` (the header's suite data) in constant time.
    pub fn derive_key(
        &self,
        data_key: &[u8],
        message_id: &[u8],
        commitment: Option<&[u8]>,
    ) -> Result<Zeroizing<Vec<u8>>, EsdkError> {
        if data_key.len() != self.key_len {
            return Err(EsdkError::BadDataKeyLength { expected: self.key_len, got: data_key.len() });
        }
        let mut out = Zeroizing::new(vec![0u8; self.key_len]);
        let mut info = Vec::with_capacity(2 + message_id.len());
        info.extend_from_slice(&self.id.to_be_bytes());
        // `expand` only fails for lengths above 255 * HashLen; ours are at most 32.
        let expand_failed = |_| EsdkError::BadDataKeyLength { expected: self.key_len, got: data_key.len() };
        match self.kdf {
            Identity => out.copy_from_slice(data_key),
            HkdfSha256 => {
                info.extend_from_slice(message_id);
                Hkdf::<Sha256>::new(None, data_key).expand(&info, &mut out).map_err(expand_failed)?;
            }
            HkdfSha384 => {
                info.extend_from_slice(message_id);
                Hkdf::<Sha384>::new(None, data_key).expand(&info, &mut out).map_err(expand_failed)?;
            }
            CommittingHkdfSha512 => {
                let hk = Hkdf::<Sha512>::new(Some(message_id), data_key);
                info.extend_from_slice(b"DERIVEKEY");
                hk.expand(&info, &mut out).map_err(expand_failed)?;
                let mut commit = Zeroizing::new([0u8; 32]);
                hk.expand(b"COMMITKEY", commit.as_mut()).map_err(expand_failed)?;
                let expected = commitment.ok_or(EsdkError::CommitmentMismatch)?;
                if !bool::from(commit.as_slice().ct_eq(expected)) {
                    return Err(EsdkError::CommitmentMismatch);
                }
            }
        }
        Ok(out)
    }
}
