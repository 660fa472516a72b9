//! Message header: parse with every length checked, then verify its tag.

use super::codec::Reader;
use super::error::EsdkError;
use super::gcm::Gcm;
use super::suite::{Suite, IV_LEN, TAG_LEN};

/// The encryption context key that carries the signing public key.
pub const PUBLIC_KEY_CONTEXT_KEY: &str = "aws-crypto-public-key";

/// One encrypted data key entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedDataKey<'a> {
    pub provider_id: &'a [u8],
    pub provider_info: &'a [u8],
    pub ciphertext: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    NonFramed,
    Framed,
}

/// A parsed header; all slices borrow from the message.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    pub version: u8,
    pub suite: &'static Suite,
    pub message_id: &'a [u8],
    /// The serialized encryption context (without its u16 length prefix);
    /// empty when the context is empty.
    pub context_bytes: &'a [u8],
    /// The encryption context pairs, in serialized (sorted) order.
    pub context: Vec<(&'a str, &'a str)>,
    pub data_keys: Vec<EncryptedDataKey<'a>>,
    pub content_type: ContentType,
    pub frame_length: u32,
    /// Commitment key (v2 only).
    pub suite_data: Option<&'a [u8]>,
    /// Header body bytes: the region the header tag authenticates.
    pub body: &'a [u8],
    pub auth_iv: [u8; IV_LEN],
    pub auth_tag: [u8; TAG_LEN],
    /// Offset of the first body byte in the message.
    pub end: usize,
}

impl<'a> Header<'a> {
    pub fn context_value(&self, key: &str) -> Option<&'a str> {
        self.context.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// Verifies the header authentication tag with the derived key.
    pub fn verify(&self, gcm: &Gcm) -> Result<(), EsdkError> {
        // The required-encryption-context part of the AAD is empty: DAS
        // producers use the default materials manager.
        gcm.open(&self.auth_iv, self.body, &mut [], &self.auth_tag).map_err(|_| EsdkError::HeaderTag)
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, EsdkError> {
    std::str::from_utf8(bytes).map_err(|_| EsdkError::BadEncryptionContext("key or value is not UTF-8"))
}

/// Parses the serialized encryption context (unique, non-empty keys). Writers
/// sort the pairs, but the official decryptors do not insist on it (a public
/// vector carries an unsorted context), so neither does this one.
pub fn parse_context(bytes: &[u8]) -> Result<Vec<(&str, &str)>, EsdkError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader::new(bytes);
    let count = r.u16().ok_or(EsdkError::BadEncryptionContext("truncated pair count"))?;
    if count == 0 {
        return Err(EsdkError::BadEncryptionContext("non-empty context with zero pairs"));
    }
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for _ in 0..count {
        let key = r.u16_prefixed().ok_or(EsdkError::BadEncryptionContext("truncated key"))?;
        let value = r.u16_prefixed().ok_or(EsdkError::BadEncryptionContext("truncated value"))?;
        if key.is_empty() {
            return Err(EsdkError::BadEncryptionContext("empty key"));
        }
        pairs.push((utf8(key)?, utf8(value)?));
    }
    if r.remaining() != 0 {
        return Err(EsdkError::BadEncryptionContext("bytes after the last pair"));
    }
    let mut keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(EsdkError::BadEncryptionContext("duplicate key"));
    }
    Ok(pairs)
}

/// Serializes an encryption context the way the ESDK does (sorted by key bytes).
pub fn serialize_context(pairs: &[(&str, &str)]) -> Vec<u8> {
    if pairs.is_empty() {
        return Vec::new();
    }
    let mut sorted = pairs.to_vec();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = Vec::new();
    out.extend_from_slice(&(sorted.len() as u16).to_be_bytes());
    for (k, v) in sorted {
        out.extend_from_slice(&(k.len() as u16).to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as u16).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

/// Parses the header at the start of `msg`.
pub fn parse(msg: &[u8]) -> Result<Header<'_>, EsdkError> {
    use EsdkError::Truncated as T;
    let mut r = Reader::new(msg);
    let version = r.u8().ok_or(T("version"))?;
    if version != 1 && version != 2 {
        return Err(EsdkError::UnsupportedVersion(version));
    }
    if version == 1 {
        let kind = r.u8().ok_or(T("message type"))?;
        if kind != 0x80 {
            return Err(EsdkError::BadMessageType(kind));
        }
    }
    let suite_id = r.u16().ok_or(T("algorithm suite id"))?;
    let suite = Suite::by_id(suite_id)?;
    if suite.message_version != version {
        return Err(EsdkError::SuiteVersionMismatch { suite: suite_id, version });
    }
    let message_id = r.take(suite.message_id_len()).ok_or(T("message id"))?;
    let context_bytes = r.u16_prefixed().ok_or(T("encryption context"))?;
    let context = parse_context(context_bytes)?;

    let edk_count = r.u16().ok_or(T("encrypted data key count"))?;
    if edk_count == 0 {
        return Err(EsdkError::NoEncryptedDataKeys);
    }
    let mut data_keys = Vec::new();
    for _ in 0..edk_count {
        data_keys.push(EncryptedDataKey {
            provider_id: r.u16_prefixed().ok_or(T("key provider id"))?,
            provider_info: r.u16_prefixed().ok_or(T("key provider info"))?,
            ciphertext: r.u16_prefixed().ok_or(T("encrypted data key"))?,
        });
    }

    let content_type = match r.u8().ok_or(T("content type"))? {
        1 => ContentType::NonFramed,
        2 => ContentType::Framed,
        other => return Err(EsdkError::BadContentType(other)),
    };
    if version == 1 {
        if r.u32().ok_or(T("reserved"))? != 0 {
            return Err(EsdkError::BadReserved);
        }
        let iv_len = r.u8().ok_or(T("IV length"))?;
        if usize::from(iv_len) != IV_LEN {
            return Err(EsdkError::BadIvLength(iv_len));
        }
    }
    let frame_length = r.u32().ok_or(T("frame length"))?;
    let bad_frame = || EsdkError::BadFrameLength { content_type: content_type as u8 + 1, frame_length };
    match content_type {
        ContentType::NonFramed if frame_length != 0 => return Err(bad_frame()),
        ContentType::Framed if frame_length == 0 => return Err(bad_frame()),
        _ => {}
    }
    let suite_data = if version == 2 { Some(r.take(32).ok_or(T("algorithm suite data"))?) } else { None };
    let body = &msg[..r.position()];

    let auth_iv = if version == 1 { r.array().ok_or(T("header IV"))? } else { [0u8; IV_LEN] };
    let auth_tag = r.array().ok_or(T("header tag"))?;

    if suite.signing.is_some() != context.iter().any(|(k, _)| *k == PUBLIC_KEY_CONTEXT_KEY) {
        return Err(if suite.signing.is_some() { EsdkError::MissingPublicKey } else { EsdkError::UnexpectedPublicKey });
    }

    Ok(Header {
        version,
        suite,
        message_id,
        context_bytes,
        context,
        data_keys,
        content_type,
        frame_length,
        suite_data,
        body,
        auth_iv,
        auth_tag,
        end: r.position(),
    })
}
