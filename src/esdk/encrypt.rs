//! A small framed encryptor for the unsigned suites, wrapping the data key
//! with the DAS raw AES keyring. It exists for the synthetic `generate`
//! command, benchmarks and tests; interoperability is proven against the
//! official Python ESDK, never only against this encryptor.

use super::body::body_aad;
use super::gcm::Gcm;
use super::header::serialize_context;
use super::keyring::{DAS_KEY_NAME, DAS_PROVIDER_ID};
use super::suite::{Suite, IV_LEN};

/// Everything random an encryption needs, supplied by the caller so output can be reproducible.
pub struct EncryptParams<'a> {
    pub suite_id: u16,
    pub frame_length: u32,
    pub data_key: &'a [u8],
    pub wrapping_key: &'a [u8],
    /// 16 bytes for v1 suites, 32 for v2.
    pub message_id: &'a [u8],
    pub wrap_iv: [u8; IV_LEN],
    pub context: &'a [(&'a str, &'a str)],
}

#[derive(Debug, thiserror::Error)]
pub enum EncryptError {
    #[error("unsupported suite for this encryptor: {0:#06x}")]
    Suite(u16),
    #[error("bad key, message id or frame length")]
    Params,
}

fn u16_prefixed(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), EncryptError> {
    let len = u16::try_from(bytes.len()).map_err(|_| EncryptError::Params)?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Encrypts `plaintext` as a framed message (frame length > 0).
pub fn encrypt(p: &EncryptParams<'_>, plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
    let suite = Suite::by_id(p.suite_id).map_err(|_| EncryptError::Suite(p.suite_id))?;
    if suite.signing.is_some() {
        return Err(EncryptError::Suite(p.suite_id));
    }
    if p.message_id.len() != suite.message_id_len() || p.frame_length == 0 || p.data_key.len() != suite.key_len {
        return Err(EncryptError::Params);
    }
    let context = serialize_context(p.context);
    let v2 = suite.message_version == 2;

    // Wrap the data key: AES-GCM under the wrapping key, AAD = serialized context.
    let wrapper = Gcm::new(p.wrapping_key).ok_or(EncryptError::Params)?;
    let mut wrapped = p.data_key.to_vec();
    let wrap_tag = wrapper.seal(&p.wrap_iv, &context, &mut wrapped).map_err(|_| EncryptError::Params)?;
    wrapped.extend_from_slice(&wrap_tag);
    let mut info = DAS_KEY_NAME.to_vec();
    info.extend_from_slice(&128u32.to_be_bytes());
    info.extend_from_slice(&12u32.to_be_bytes());
    info.extend_from_slice(&p.wrap_iv);

    let mut out = Vec::with_capacity(plaintext.len() + plaintext.len() / 64 + 256);
    out.push(suite.message_version);
    if !v2 {
        out.push(0x80);
    }
    out.extend_from_slice(&suite.id.to_be_bytes());
    out.extend_from_slice(p.message_id);
    u16_prefixed(&mut out, &context)?;
    out.extend_from_slice(&1u16.to_be_bytes());
    u16_prefixed(&mut out, DAS_PROVIDER_ID)?;
    u16_prefixed(&mut out, &info)?;
    u16_prefixed(&mut out, &wrapped)?;
    out.push(2);
    if !v2 {
        out.extend_from_slice(&[0, 0, 0, 0, IV_LEN as u8]);
    }
    out.extend_from_slice(&p.frame_length.to_be_bytes());

    // Derive the key the same way the decryptor does; v2 also needs the commitment.
    let commitment = if v2 {
        let hk = hkdf::Hkdf::<sha2::Sha512>::new(Some(p.message_id), p.data_key);
        let mut c = [0u8; 32];
        hk.expand(b"COMMITKEY", &mut c).map_err(|_| EncryptError::Params)?;
        out.extend_from_slice(&c);
        Some(c)
    } else {
        None
    };
    let key = suite
        .derive_key(p.data_key, p.message_id, commitment.as_ref().map(|c| c.as_slice()))
        .map_err(|_| EncryptError::Params)?;
    let gcm = Gcm::new(&key).ok_or(EncryptError::Params)?;
    let header_iv = [0u8; IV_LEN];
    let header_tag = gcm.seal(&header_iv, &out, &mut []).map_err(|_| EncryptError::Params)?;
    if !v2 {
        out.extend_from_slice(&header_iv);
    }
    out.extend_from_slice(&header_tag);

    let frame = p.frame_length as usize;
    let mut aad = Vec::new();
    let mut chunks: Vec<&[u8]> = plaintext.chunks(frame).collect();
    // An exact multiple of the frame length ends with an empty final frame.
    let last = if plaintext.len().is_multiple_of(frame) { &[][..] } else { chunks.pop().unwrap_or(&[]) };
    let mut seq: u32 = 1;
    for chunk in chunks {
        let iv = frame_iv(seq);
        body_aad(&mut aad, p.message_id, b"AWSKMSEncryptionClient Frame", seq, chunk.len() as u64);
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&iv);
        let start = out.len();
        out.extend_from_slice(chunk);
        let tag = gcm.seal(&iv, &aad, &mut out[start..]).map_err(|_| EncryptError::Params)?;
        out.extend_from_slice(&tag);
        seq = seq.checked_add(1).ok_or(EncryptError::Params)?;
    }
    let iv = frame_iv(seq);
    body_aad(&mut aad, p.message_id, b"AWSKMSEncryptionClient Final Frame", seq, last.len() as u64);
    out.extend_from_slice(&u32::MAX.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&iv);
    out.extend_from_slice(&(last.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(last);
    let tag = gcm.seal(&iv, &aad, &mut out[start..]).map_err(|_| EncryptError::Params)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

fn frame_iv(seq: u32) -> [u8; IV_LEN] {
    let mut iv = [0u8; IV_LEN];
    iv[8..].copy_from_slice(&seq.to_be_bytes());
    iv
}
