//! Round trips through the demo encryptor and exhaustive tampering.
//! (Interop with the official ESDK is in `tests/it/esdk_interop.rs`.)

use super::encrypt::{encrypt, EncryptParams};
use super::keyring::DAS_KEY_NAME;
use super::suite::SUITES;
use super::*;

const WRAP: [u8; 32] = [0x42; 32];

fn message(suite_id: u16, frame_length: u32, plaintext: &[u8], context: &[(&str, &str)]) -> Vec<u8> {
    let suite = Suite::by_id(suite_id).unwrap();
    let data_key: Vec<u8> = (0..suite.key_len as u8).map(|i| i.wrapping_mul(7)).collect();
    let message_id: Vec<u8> = (0..suite.message_id_len() as u8).collect();
    let p = EncryptParams {
        suite_id,
        frame_length,
        data_key: &data_key,
        wrapping_key: &WRAP,
        message_id: &message_id,
        wrap_iv: [9; 12],
        context,
    };
    encrypt(&p, plaintext).unwrap()
}

fn open(msg: &[u8]) -> Result<Vec<u8>, EsdkError> {
    decrypt(msg, &RawAesKeyring::das(&WRAP))
}

#[test]
fn round_trips_every_unsigned_suite_and_size() {
    let ctx = [("aws:rds:dbc-id", "cluster-X"), ("b", "2")];
    for suite in SUITES.iter().filter(|s| s.signing.is_none()) {
        for len in [0usize, 1, 63, 64, 65, 200, 640] {
            let pt: Vec<u8> = (0..len).map(|i| (i * 31) as u8).collect();
            for context in [&[][..], &ctx[..]] {
                let msg = message(suite.id, 64, &pt, context);
                assert_eq!(open(&msg).unwrap(), pt, "suite {:04x} len {len}", suite.id);
            }
        }
    }
}

#[test]
fn every_flipped_bit_is_rejected() {
    // Every suite this encryptor makes (the unsigned ones; signed suites are tampered with in
    // tests/it/esdk_vectors.rs and tests/it/esdk_interop.rs on official messages).
    for suite_id in SUITES.iter().filter(|s| s.signing.is_none()).map(|s| s.id) {
        let msg = message(suite_id, 16, b"select * from payroll where salary > 100000;", &[("k", "v")]);
        for i in 0..msg.len() {
            for bit in 0..8 {
                let mut bad = msg.clone();
                bad[i] ^= 1 << bit;
                assert!(open(&bad).is_err(), "suite {suite_id:04x} byte {i} bit {bit} accepted");
            }
        }
    }
}

#[test]
fn every_truncation_and_any_appended_byte_is_rejected() {
    for suite_id in SUITES.iter().filter(|s| s.signing.is_none()).map(|s| s.id) {
        let msg = message(suite_id, 32, &[7u8; 100], &[]);
        for cut in 0..msg.len() {
            assert!(open(&msg[..cut]).is_err(), "suite {suite_id:04x} truncated at {cut}");
        }
        for extra in [1usize, 4, 100] {
            let longer = [&msg[..], &vec![0u8; extra]].concat();
            assert_eq!(open(&longer).unwrap_err(), EsdkError::TrailingBytes(extra), "suite {suite_id:04x}");
        }
    }
}

#[test]
fn wrong_wrapping_key_and_wrong_provider_are_distinct_errors() {
    let msg = message(0x0178, 4096, b"x", &[]);
    let err = decrypt(&msg, &RawAesKeyring::das(&[1; 32])).unwrap_err();
    assert_eq!(err, EsdkError::DataKeyUnwrap);
    let other = RawAesKeyring { provider_id: b"XX", key_name: DAS_KEY_NAME, wrapping_key: &WRAP };
    let err = decrypt(&msg, &other).unwrap_err();
    assert_eq!(err, EsdkError::NoMatchingDataKey { provider: "XX".into(), key: "DataKey".into() });
    // The message names the keyring asked for, not the one DAS uses.
    assert_eq!(err.to_string(), "no encrypted data key matched the raw AES keyring (provider XX, key DataKey)");
    assert_eq!(decrypt(&msg, &RawAesKeyring::das(&[1; 5])).unwrap_err(), EsdkError::BadWrappingKeyLength(5));
}

#[test]
fn header_errors_name_the_problem() {
    let msg = message(0x0178, 4096, b"x", &[]);
    let mut v3 = msg.clone();
    v3[0] = 3;
    assert_eq!(open(&v3).unwrap_err().code(), "esdk.unsupported_version");
    let mut suite = msg.clone();
    suite[2..4].copy_from_slice(&0x0999u16.to_be_bytes());
    assert_eq!(open(&suite).unwrap_err(), EsdkError::UnknownSuite(0x0999));
    let mut v1_with_v2_suite = msg.clone();
    v1_with_v2_suite[2..4].copy_from_slice(&0x0478u16.to_be_bytes());
    assert_eq!(open(&v1_with_v2_suite).unwrap_err().code(), "esdk.suite_version_mismatch");
    // EDK count sits after version, type, suite, 16-byte id and the empty AAD length.
    let mut no_edk = msg.clone();
    no_edk[22..24].copy_from_slice(&[0, 0]);
    assert_eq!(open(&no_edk).unwrap_err(), EsdkError::NoEncryptedDataKeys);
    assert_eq!(open(&[]).unwrap_err(), EsdkError::Truncated("version"));
    assert_eq!(open(&[1, 0x80, 0x01]).unwrap_err(), EsdkError::Truncated("algorithm suite id"));
}

#[test]
fn duplicate_context_keys_are_rejected() {
    let ctx = header::serialize_context(&[("a", "1"), ("b", "2")]);
    let mut dup = ctx.clone();
    // Turn key "b" into "a".
    let pos = dup.iter().rposition(|&b| b == b'b').unwrap();
    dup[pos] = b'a';
    assert_eq!(header::parse_context(&dup).unwrap_err(), EsdkError::BadEncryptionContext("duplicate key"));
    assert_eq!(header::parse_context(&ctx).unwrap(), vec![("a", "1"), ("b", "2")]);
}
