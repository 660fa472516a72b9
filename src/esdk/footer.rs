//! Signature footer of the signed suites: ECDSA over every byte before it.

use base64::Engine;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha256, Sha384};

use super::codec::Reader;
use super::error::EsdkError;
use super::header::{Header, PUBLIC_KEY_CONTEXT_KEY};
use super::suite::Signing;

/// Verifies the footer that starts at `footer_start`; returns the offset after it.
pub fn verify(msg: &[u8], header: &Header<'_>, footer_start: usize) -> Result<usize, EsdkError> {
    let Some(signing) = header.suite.signing else {
        return Ok(footer_start);
    };
    let signed = msg.get(..footer_start).ok_or(EsdkError::Truncated("footer"))?;
    let mut r = Reader::new(msg);
    r.take(footer_start).ok_or(EsdkError::Truncated("footer"))?;
    let sig = r.u16_prefixed().ok_or(EsdkError::Truncated("footer signature"))?;
    let key_b64 = header.context_value(PUBLIC_KEY_CONTEXT_KEY).ok_or(EsdkError::MissingPublicKey)?;
    let point = base64::engine::general_purpose::STANDARD.decode(key_b64).map_err(|_| EsdkError::BadPublicKey)?;
    let ok = match signing {
        Signing::EcdsaP256Sha256 => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| EsdkError::BadPublicKey)?;
            let sig = p256::ecdsa::Signature::from_der(sig).map_err(|_| EsdkError::Signature)?;
            key.verify_prehash(&Sha256::digest(signed), &sig).is_ok()
        }
        Signing::EcdsaP384Sha384 => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| EsdkError::BadPublicKey)?;
            let sig = p384::ecdsa::Signature::from_der(sig).map_err(|_| EsdkError::Signature)?;
            key.verify_prehash(&Sha384::digest(signed), &sig).is_ok()
        }
    };
    if ok {
        Ok(r.position())
    } else {
        Err(EsdkError::Signature)
    }
}
