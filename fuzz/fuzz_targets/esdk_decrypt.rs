//! The ESDK decryptor with a fixed wrapping key. The seeds are real messages for that key, so
//! mutations reach the data key unwrap, the header tag and the frames, not only the header parser.
#![no_main]

use das_forwarder::esdk::{self, RawAesKeyring};
use libfuzzer_sys::fuzz_target;

/// The wrapping key of the seed corpus (`fuzz/seeds.rs` writes it).
const WRAPPING_KEY: [u8; 32] = [0x17; 32];

fuzz_target!(|data: &[u8]| {
    let _ = esdk::header::parse(data);
    if let Ok(plain) = esdk::decrypt(data, &RawAesKeyring::das(&WRAPPING_KEY)) {
        // Whatever decrypts also inflates and parses without panicking.
        if let Ok(json) = das_forwarder::das::inflate::inflate(&plain, 1 << 20) {
            let limits = das_forwarder::das::activity::ReadLimits { max_events: 10_000, max_event_bytes: 1 << 20 };
            let _ = das_forwarder::das::activity::events_of(&json, limits);
        }
    }
});
