//! The raw AES keyring that RDS uses: provider `BC`, key name `DataKey`,
//! AES-GCM with a 12-byte IV and a 128-bit tag (Java's `JceMasterKey`).

use zeroize::Zeroizing;

use super::error::EsdkError;
use super::gcm::Gcm;
use super::header::{EncryptedDataKey, Header};
use super::suite::{IV_LEN, TAG_LEN};

pub const DAS_PROVIDER_ID: &[u8] = b"BC";
pub const DAS_KEY_NAME: &[u8] = b"DataKey";

/// A raw AES wrapping key with its namespace and name.
pub struct RawAesKeyring<'k> {
    pub provider_id: &'k [u8],
    pub key_name: &'k [u8],
    pub wrapping_key: &'k [u8],
}

impl<'k> RawAesKeyring<'k> {
    /// The keyring DAS records are wrapped for.
    pub fn das(wrapping_key: &'k [u8]) -> Self {
        RawAesKeyring { provider_id: DAS_PROVIDER_ID, key_name: DAS_KEY_NAME, wrapping_key }
    }

    /// Provider info layout: key name ‖ tag bits (u32 = 128) ‖ IV length (u32 = 12) ‖ IV.
    fn iv_for<'a>(&self, edk: &EncryptedDataKey<'a>) -> Option<[u8; IV_LEN]> {
        if edk.provider_id != self.provider_id {
            return None;
        }
        let rest = edk.provider_info.strip_prefix(self.key_name)?;
        if rest.len() != 8 + IV_LEN || rest[..4] != 128u32.to_be_bytes() || rest[4..8] != 12u32.to_be_bytes() {
            return None;
        }
        rest[8..].try_into().ok()
    }

    /// Tries every matching data key entry in order; returns the first that unwraps.
    pub fn unwrap_data_key(&self, header: &Header<'_>) -> Result<Zeroizing<Vec<u8>>, EsdkError> {
        let gcm = Gcm::new(self.wrapping_key).ok_or(EsdkError::BadWrappingKeyLength(self.wrapping_key.len()))?;
        let mut matched = false;
        for edk in &header.data_keys {
            let Some(iv) = self.iv_for(edk) else { continue };
            matched = true;
            let Some(split) = edk.ciphertext.len().checked_sub(TAG_LEN) else { continue };
            let (ct, tag) = edk.ciphertext.split_at(split);
            let Ok(tag) = <[u8; TAG_LEN]>::try_from(tag) else { continue };
            let mut key = Zeroizing::new(ct.to_vec());
            if gcm.open(&iv, header.context_bytes, &mut key, &tag).is_ok() {
                if key.len() != header.suite.key_len {
                    return Err(EsdkError::BadDataKeyLength { expected: header.suite.key_len, got: key.len() });
                }
                return Ok(key);
            }
        }
        Err(if matched {
            EsdkError::DataKeyUnwrap
        } else {
            EsdkError::NoMatchingDataKey {
                provider: String::from_utf8_lossy(self.provider_id).into_owned(),
                key: String::from_utf8_lossy(self.key_name).into_owned(),
            }
        })
    }
}
