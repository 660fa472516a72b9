//! Messages produced by the official AWS Encryption SDK for Python (raw AES
//! keyring "BC"/"DataKey", as RDS writes them) decrypt byte for byte, and
//! any tampering is rejected. Fixtures: tests/support/gen_esdk_fixtures.py.

use crate::common;

use common::{b64, repo_dir};
use das_forwarder::esdk::{self, RawAesKeyring};
use serde_json::Value;

fn fixtures() -> (Vec<u8>, Vec<Value>) {
    let text = std::fs::read_to_string(repo_dir().join("tests/fixtures/esdk/python-esdk.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    (b64(doc["wrapping_key_b64"].as_str().unwrap()), doc["cases"].as_array().unwrap().clone())
}

#[test]
fn official_python_esdk_messages_decrypt() {
    let (key, cases) = fixtures();
    let mut suites = std::collections::BTreeSet::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let msg = b64(case["ciphertext_b64"].as_str().unwrap());
        let expected = b64(case["plaintext_b64"].as_str().unwrap());
        let got = esdk::decrypt(&msg, &RawAesKeyring::das(&key)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, expected, "{name}");
        let header = esdk::header::parse(&msg).unwrap();
        for (k, v) in case["encryption_context"].as_object().unwrap() {
            assert_eq!(header.context_value(k), v.as_str(), "{name}: context {k}");
        }
        suites.insert(header.suite.id);
    }
    assert_eq!(suites.into_iter().collect::<Vec<_>>(), vec![0x0178, 0x0378, 0x0478, 0x0578]);
    assert!(cases.len() >= 20);
}

#[test]
fn tampering_any_byte_of_official_messages_is_rejected() {
    let (key, cases) = fixtures();
    let keyring = RawAesKeyring::das(&key);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let msg = b64(case["ciphertext_b64"].as_str().unwrap());
        // Every byte of small messages; a stride through the big ones, plus header and tail.
        let stride = if msg.len() > 2048 { 7 } else { 1 };
        let positions =
            (0..msg.len()).step_by(stride).chain(0..msg.len().min(400)).chain(msg.len().saturating_sub(200)..msg.len());
        for i in positions {
            let mut bad = msg.clone();
            bad[i] ^= 0x80;
            assert!(esdk::decrypt(&bad, &keyring).is_err(), "{name}: flipped byte {i} accepted");
        }
        for cut in [0, 1, 10, msg.len() / 2, msg.len() - 1] {
            assert!(esdk::decrypt(&msg[..cut], &keyring).is_err(), "{name}: truncation at {cut} accepted");
        }
        let mut longer = msg.clone();
        longer.extend_from_slice(&[0, 0]);
        assert!(esdk::decrypt(&longer, &keyring).is_err(), "{name}: trailing bytes accepted");
    }
}
