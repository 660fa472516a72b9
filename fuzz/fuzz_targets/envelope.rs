//! The outer Kinesis record: JSON envelope, base64 fields, resource id.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = das_forwarder::das::envelope::parse(data) {
        // A parsed envelope always carries a non-empty message and key.
        assert!(!env.message.is_empty() && !env.key_blob.is_empty());
    }
    let arn = std::str::from_utf8(data).ok();
    let _ = das_forwarder::das::resource::resource_id(arn, None);
});
