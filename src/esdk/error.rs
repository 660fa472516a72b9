//! Every way an ESDK message can be rejected, each with a stable reason code.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EsdkError {
    #[error("message truncated while reading {0}")]
    Truncated(&'static str),
    #[error("unsupported message format version {0:#04x}")]
    UnsupportedVersion(u8),
    #[error("unsupported message type {0:#04x} (expected 0x80)")]
    BadMessageType(u8),
    #[error("unknown algorithm suite {0:#06x}")]
    UnknownSuite(u16),
    #[error("algorithm suite {suite:#06x} is not valid in a version {version} header")]
    SuiteVersionMismatch { suite: u16, version: u8 },
    #[error("malformed encryption context: {0}")]
    BadEncryptionContext(&'static str),
    #[error("header declares no encrypted data keys")]
    NoEncryptedDataKeys,
    #[error("unknown content type {0:#04x}")]
    BadContentType(u8),
    #[error("reserved header bytes are not zero")]
    BadReserved,
    #[error("header IV length {0} does not match the suite (12)")]
    BadIvLength(u8),
    #[error("frame length {frame_length} is invalid for content type {content_type}")]
    BadFrameLength { content_type: u8, frame_length: u32 },
    /// No entry of the header is for the keyring asked for (its provider id and key name).
    #[error("no encrypted data key matched the raw AES keyring (provider {provider}, key {key})")]
    NoMatchingDataKey { provider: String, key: String },
    #[error("encrypted data key could not be unwrapped with the wrapping key")]
    DataKeyUnwrap,
    #[error("wrapping key has an invalid length {0} (16, 24 or 32 expected)")]
    BadWrappingKeyLength(usize),
    #[error("data key has length {got}, the suite needs {expected}")]
    BadDataKeyLength { expected: usize, got: usize },
    #[error("key commitment does not match the data key")]
    CommitmentMismatch,
    #[error("header authentication tag does not verify")]
    HeaderTag,
    #[error("frame sequence number {got} where {expected} was expected")]
    FrameSequence { expected: u32, got: u32 },
    #[error("final frame content length {got} exceeds the frame length {frame_length}")]
    FinalFrameTooLong { got: u32, frame_length: u32 },
    #[error("authentication tag of frame {0} does not verify")]
    FrameTag(u32),
    #[error("missing signature public key in the encryption context of a signed suite")]
    MissingPublicKey,
    #[error("unsigned suite carries a signature public key")]
    UnexpectedPublicKey,
    #[error("signature public key is malformed")]
    BadPublicKey,
    #[error("message signature does not verify")]
    Signature,
    #[error("{0} unexpected bytes after the end of the message")]
    TrailingBytes(usize),
}

impl EsdkError {
    /// Stable, machine-readable reason code (used for quarantine and metrics).
    pub fn code(&self) -> &'static str {
        use EsdkError::*;
        match self {
            Truncated(_) => "esdk.truncated",
            UnsupportedVersion(_) => "esdk.unsupported_version",
            BadMessageType(_) => "esdk.bad_message_type",
            UnknownSuite(_) => "esdk.unknown_suite",
            SuiteVersionMismatch { .. } => "esdk.suite_version_mismatch",
            BadEncryptionContext(_) => "esdk.bad_encryption_context",
            NoEncryptedDataKeys => "esdk.no_encrypted_data_keys",
            BadContentType(_) => "esdk.bad_content_type",
            BadReserved => "esdk.bad_reserved",
            BadIvLength(_) => "esdk.bad_iv_length",
            BadFrameLength { .. } => "esdk.bad_frame_length",
            NoMatchingDataKey { .. } => "esdk.no_matching_data_key",
            DataKeyUnwrap => "esdk.data_key_unwrap",
            BadWrappingKeyLength(_) => "esdk.bad_wrapping_key_length",
            BadDataKeyLength { .. } => "esdk.bad_data_key_length",
            CommitmentMismatch => "esdk.commitment_mismatch",
            HeaderTag => "esdk.header_tag",
            FrameSequence { .. } => "esdk.frame_sequence",
            FinalFrameTooLong { .. } => "esdk.final_frame_too_long",
            FrameTag(_) => "esdk.frame_tag",
            MissingPublicKey => "esdk.missing_public_key",
            UnexpectedPublicKey => "esdk.unexpected_public_key",
            BadPublicKey => "esdk.bad_public_key",
            Signature => "esdk.signature",
            TrailingBytes(_) => "esdk.trailing_bytes",
        }
    }
}
