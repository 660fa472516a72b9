//! A decrypt-only implementation of the AWS Encryption SDK message format
//! (all 11 suites, message format v1 and v2, framed and non-framed bodies,
//! raw AES keyring). Pure: bytes and keys in, plaintext or a typed error out.
//!
//! Order of checks (see `shared/reference/esdk-format.md` §7): header parse,
//! data key unwrap, key derivation and commitment, header tag, every frame,
//! footer signature, no trailing bytes. Plaintext is only returned once all
//! of them passed; partial plaintext is zeroized on failure.

mod body;
pub(crate) mod codec;
pub mod encrypt;
mod error;
mod footer;
pub(crate) mod gcm;
pub mod header;
mod keyring;
mod suite;
#[cfg(test)]
mod tests;

use zeroize::Zeroizing;

pub use error::EsdkError;
pub use header::Header;
pub use keyring::RawAesKeyring;
pub use suite::Suite;

use gcm::Gcm;

/// Decrypts a message whose data key is wrapped for `keyring`.
pub fn decrypt(msg: &[u8], keyring: &RawAesKeyring<'_>) -> Result<Vec<u8>, EsdkError> {
    decrypt_with_header(msg, &header::parse(msg)?, keyring)
}

/// [`decrypt`], for a caller that parsed `msg`'s header already (to check its frame length,
/// say): the header is not parsed again.
pub fn decrypt_with_header(msg: &[u8], header: &Header<'_>, keyring: &RawAesKeyring<'_>) -> Result<Vec<u8>, EsdkError> {
    let data_key = keyring.unwrap_data_key(header)?;
    decrypt_parsed(msg, header, &data_key)
}

/// Decrypts a message given its plaintext data key directly (test vectors do this).
pub fn decrypt_with_data_key(msg: &[u8], data_key: &[u8]) -> Result<Vec<u8>, EsdkError> {
    let header = header::parse(msg)?;
    decrypt_parsed(msg, &header, data_key)
}

fn decrypt_parsed(msg: &[u8], header: &Header<'_>, data_key: &[u8]) -> Result<Vec<u8>, EsdkError> {
    let suite = header.suite;
    let key = suite.derive_key(data_key, header.message_id, header.suite_data)?;
    let gcm = Gcm::new(&key).ok_or(EsdkError::BadDataKeyLength { expected: suite.key_len, got: key.len() })?;
    header.verify(&gcm)?;
    let (plaintext, body_end) = body::decrypt(msg, header, &gcm)?;
    let plaintext = Zeroizing::new(plaintext);
    let end = footer::verify(msg, header, body_end)?;
    if end != msg.len() {
        return Err(EsdkError::TrailingBytes(msg.len() - end));
    }
    let mut plaintext = plaintext;
    Ok(std::mem::take(&mut *plaintext))
}
