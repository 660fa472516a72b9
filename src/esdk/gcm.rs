//! AES-GCM with 128, 192 or 256-bit keys, 12-byte IVs and 16-byte tags.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm, Nonce, Tag};

type Aes192Gcm = AesGcm<aes::Aes192, aes_gcm::aead::consts::U12>;

pub enum Gcm {
    A128(Box<Aes128Gcm>),
    A192(Box<Aes192Gcm>),
    A256(Box<Aes256Gcm>),
}

/// The AEAD check failed (wrong key, wrong AAD or altered bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailed;

impl Gcm {
    /// `None` when the key is not 16, 24 or 32 bytes long.
    pub fn new(key: &[u8]) -> Option<Gcm> {
        Some(match key.len() {
            16 => Gcm::A128(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
            24 => Gcm::A192(Box::new(Aes192Gcm::new_from_slice(key).ok()?)),
            32 => Gcm::A256(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
            _ => return None,
        })
    }

    /// Decrypts `buf` in place; on failure `buf` is left as ciphertext.
    pub fn open(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> Result<(), AuthFailed> {
        let nonce: &Nonce<_> = &(*iv).into();
        let tag: &Tag = &(*tag).into();
        let r = match self {
            Gcm::A128(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
            Gcm::A192(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
            Gcm::A256(c) => c.decrypt_in_place_detached(nonce, aad, buf, tag),
        };
        r.map_err(|_| AuthFailed)
    }

    /// Encrypts `buf` in place and returns the tag (used by the test and demo encryptor).
    pub fn seal(&self, iv: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> Result<[u8; 16], aes_gcm::Error> {
        let nonce: &Nonce<_> = &(*iv).into();
        let r = match self {
            Gcm::A128(c) => c.encrypt_in_place_detached(nonce, aad, buf),
            Gcm::A192(c) => c.encrypt_in_place_detached(nonce, aad, buf),
            Gcm::A256(c) => c.encrypt_in_place_detached(nonce, aad, buf),
        };
        r.map(Into::into)
    }
}
