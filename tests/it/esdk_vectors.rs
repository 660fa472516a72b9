//! The decryptor against the public vectors of the official Python ESDK.

use crate::common;

use common::{b64, shared_vectors};
use das_forwarder::esdk;
use serde_json::Value;

#[test]
fn decrypt_oracle_vectors_all_v1_suites() {
    let Some(dir) = shared_vectors() else { return };
    let text = std::fs::read_to_string(dir.join("esdk-python-decrypt-oracle-vectors.json")).unwrap();
    let vectors: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for v in &vectors {
        let suite = u16::from_str_radix(v["algorithm-suite"].as_str().unwrap(), 16).unwrap();
        let key_len = esdk::Suite::by_id(suite).unwrap().key_len;
        let data_key: Vec<u8> = match v["key-type"].as_str().unwrap() {
            "null" => vec![0; key_len],
            "test_counting" => (1..=key_len as u8).collect(),
            _ => continue, // aws-kms vectors need a real KMS key
        };
        let msg = b64(v["ciphertext"].as_str().unwrap());
        let expected = b64(v["plaintext"].as_str().unwrap());
        let got = esdk::decrypt_with_data_key(&msg, &data_key)
            .unwrap_or_else(|e| panic!("suite {suite:04x} {}: {e}", v["key-type"]));
        assert_eq!(got, expected, "suite {suite:04x}");
        // A wrong data key never decrypts.
        let mut wrong = data_key.clone();
        wrong[0] ^= 1;
        assert!(esdk::decrypt_with_data_key(&msg, &wrong).is_err());
        checked += 1;
    }
    assert_eq!(checked, 18, "18 offline vectors expected");
}

/// Tampering with official messages of every v1 suite (signed ones included): every flipped bit,
/// every truncation and appended bytes are rejected.
#[test]
fn tampering_official_messages_of_every_v1_suite_is_rejected() {
    let Some(dir) = shared_vectors() else { return };
    let text = std::fs::read_to_string(dir.join("esdk-python-decrypt-oracle-vectors.json")).unwrap();
    let vectors: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut suites = std::collections::BTreeSet::new();
    for v in &vectors {
        let suite = u16::from_str_radix(v["algorithm-suite"].as_str().unwrap(), 16).unwrap();
        if v["key-type"] != "null" || !suites.insert(suite) {
            continue; // one message per suite: every bit of it
        }
        let data_key = vec![0; esdk::Suite::by_id(suite).unwrap().key_len];
        let msg = b64(v["ciphertext"].as_str().unwrap());
        assert!(esdk::decrypt_with_data_key(&msg, &data_key).is_ok());
        for i in 0..msg.len() {
            for bit in 0..8 {
                let mut bad = msg.clone();
                bad[i] ^= 1 << bit;
                assert!(esdk::decrypt_with_data_key(&bad, &data_key).is_err(), "suite {suite:04x}: byte {i} bit {bit}");
            }
        }
        for cut in 0..msg.len() {
            assert!(esdk::decrypt_with_data_key(&msg[..cut], &data_key).is_err(), "suite {suite:04x}: cut at {cut}");
        }
        for extra in [&[0u8][..], &[0, 0, 0, 0], &[0xff; 64]] {
            let longer = [&msg[..], extra].concat();
            assert!(esdk::decrypt_with_data_key(&longer, &data_key).is_err(), "suite {suite:04x}: trailing bytes");
        }
    }
    assert_eq!(suites.len(), 9, "every v1 suite: {suites:04x?}");
}

#[test]
fn commitment_vectors_v2_suites() {
    let Some(dir) = shared_vectors() else { return };
    let text = std::fs::read_to_string(dir.join("esdk-python-commitment-test-vectors.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let tests = doc["tests"].as_array().unwrap();
    let (mut good, mut bad) = (0, 0);
    for t in tests {
        let msg = b64(t["ciphertext"].as_str().unwrap());
        let data_key = b64(t["decrypted-dek"].as_str().unwrap());
        let result = esdk::decrypt_with_data_key(&msg, &data_key);
        if t["status"].as_bool().unwrap() {
            let expected: Vec<u8> =
                t["plaintext-frames"].as_array().unwrap().iter().flat_map(|f| f.as_str().unwrap().bytes()).collect();
            assert_eq!(result.unwrap_or_else(|e| panic!("{}: {e}", t["comment"])), expected);
            good += 1;
        } else {
            let err = result.expect_err(t["comment"].as_str().unwrap_or("negative vector"));
            assert_eq!(err, esdk::EsdkError::CommitmentMismatch, "{}", t["comment"]);
            bad += 1;
        }
    }
    assert_eq!((good, bad), (41, 5));
}

#[test]
fn real_das_record_header_parses() {
    let Some(dir) = shared_vectors() else { return };
    let text = std::fs::read_to_string(dir.join("das-real-record-payload.b64")).unwrap();
    let msg = b64(text.trim());
    assert_eq!(msg.len(), 357);
    let h = esdk::header::parse(&msg).unwrap();
    assert_eq!((h.version, h.suite.id, h.frame_length), (1, 0x0178, 4096));
    assert!(h.context.is_empty());
    assert_eq!(h.data_keys.len(), 1);
    assert_eq!(h.data_keys[0].provider_id, b"BC");
    assert!(h.data_keys[0].provider_info.starts_with(b"DataKey"));
    assert_eq!(h.data_keys[0].ciphertext.len(), 48);
    assert_eq!(h.end, 145);
    // Its KMS key is not available: with any other wrapping key the unwrap fails cleanly.
    let err = esdk::decrypt(&msg, &esdk::RawAesKeyring::das(&[7u8; 32])).unwrap_err();
    assert_eq!(err.code(), "esdk.data_key_unwrap");
}
