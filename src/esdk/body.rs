//! Message body: framed (regular frames then one final frame) or non-framed.

use zeroize::Zeroizing;

use super::codec::Reader;
use super::error::EsdkError;
use super::gcm::Gcm;
use super::header::{ContentType, Header};
use super::suite::{IV_LEN, TAG_LEN};

const FINAL_FRAME_MARKER: u32 = 0xFFFF_FFFF;
const FRAME: &[u8] = b"AWSKMSEncryptionClient Frame";
const FINAL_FRAME: &[u8] = b"AWSKMSEncryptionClient Final Frame";
const SINGLE_BLOCK: &[u8] = b"AWSKMSEncryptionClient Single Block";

/// The body AAD: message id ‖ content string ‖ sequence number ‖ plaintext length.
pub fn body_aad(aad: &mut Vec<u8>, message_id: &[u8], kind: &[u8], seq: u32, len: u64) {
    aad.clear();
    aad.extend_from_slice(message_id);
    aad.extend_from_slice(kind);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.extend_from_slice(&len.to_be_bytes());
}

/// Decrypts one frame's `ct` into the tail of `out`.
fn open_into(
    gcm: &Gcm,
    out: &mut Vec<u8>,
    iv: &[u8; IV_LEN],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8; TAG_LEN],
    seq: u32,
) -> Result<(), EsdkError> {
    let start = out.len();
    out.extend_from_slice(ct);
    gcm.open(iv, aad, &mut out[start..], tag).map_err(|_| EsdkError::FrameTag(seq))
}

/// Decrypts the body that starts at `header.end`. Returns the plaintext and
/// the offset just past the body. Nothing is returned unless every frame verified.
pub fn decrypt(msg: &[u8], header: &Header<'_>, gcm: &Gcm) -> Result<(Vec<u8>, usize), EsdkError> {
    use EsdkError::Truncated as T;
    let mut r = Reader::new(msg);
    r.take(header.end).ok_or(T("header"))?;
    // The plaintext is never longer than the ciphertext that remains.
    let mut out = Zeroizing::new(Vec::with_capacity(r.remaining()));
    let mut aad = Vec::with_capacity(header.message_id.len() + FINAL_FRAME.len() + 12);

    match header.content_type {
        ContentType::NonFramed => {
            let iv = r.array().ok_or(T("body IV"))?;
            let len = r.u64().ok_or(T("body content length"))?;
            let ct = usize::try_from(len).ok().and_then(|n| r.take(n)).ok_or(T("body content"))?;
            let tag = r.array().ok_or(T("body tag"))?;
            body_aad(&mut aad, header.message_id, SINGLE_BLOCK, 1, len);
            open_into(gcm, &mut out, &iv, &aad, ct, &tag, 1)?;
        }
        ContentType::Framed => {
            let frame_length = header.frame_length;
            let mut expected: u32 = 1;
            loop {
                let seq = r.u32().ok_or(T("frame sequence number"))?;
                if seq == FINAL_FRAME_MARKER {
                    let seq = r.u32().ok_or(T("final frame sequence number"))?;
                    if seq != expected {
                        return Err(EsdkError::FrameSequence { expected, got: seq });
                    }
                    let iv = r.array().ok_or(T("final frame IV"))?;
                    let len = r.u32().ok_or(T("final frame content length"))?;
                    if len > frame_length {
                        return Err(EsdkError::FinalFrameTooLong { got: len, frame_length });
                    }
                    let ct = r.take(len as usize).ok_or(T("final frame content"))?;
                    let tag = r.array().ok_or(T("final frame tag"))?;
                    body_aad(&mut aad, header.message_id, FINAL_FRAME, seq, u64::from(len));
                    open_into(gcm, &mut out, &iv, &aad, ct, &tag, seq)?;
                    break;
                }
                if seq != expected {
                    return Err(EsdkError::FrameSequence { expected, got: seq });
                }
                let iv = r.array().ok_or(T("frame IV"))?;
                let ct = r.take(frame_length as usize).ok_or(T("frame content"))?;
                let tag = r.array().ok_or(T("frame tag"))?;
                body_aad(&mut aad, header.message_id, FRAME, seq, u64::from(frame_length));
                open_into(gcm, &mut out, &iv, &aad, ct, &tag, seq)?;
                // `expected` cannot reach the marker: that would need 2^32 frames
                // of at least 32 bytes each.
                expected = expected.checked_add(1).ok_or(T("frame sequence number"))?;
            }
        }
    }
    Ok((std::mem::take(&mut *out), r.position()))
}
