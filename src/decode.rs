//! One Kinesis record's data to activity events: envelope, resource id,
//! wrapping key, ESDK decrypt, gunzip, parse. Only the key lookup does I/O;
//! `open_payload` is the pure CPU path after it.

use crate::das::activity::{parse_record, ActivityRecord};
use crate::das::inflate::inflate;
use crate::das::resource::{resource_id, ResourceId};
use crate::das::{envelope, Envelope};
use crate::error::Failure;
use crate::esdk::{self, RawAesKeyring};
use crate::keys::{DataKeyCache, KeyContext};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_inflated_bytes: usize,
    pub max_events_per_record: usize,
}

/// A record that decrypted and parsed.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub resource: ResourceId,
    /// The outer record's format version (`1.1`, `1.2`, …).
    pub version: String,
    pub record: ActivityRecord,
}

/// The pure part: ESDK message + wrapping key → activity record.
pub fn open_payload(message: &[u8], wrapping_key: &[u8], limits: Limits) -> Result<ActivityRecord, Failure> {
    let compressed = esdk::decrypt(message, &RawAesKeyring::das(wrapping_key))?;
    let compressed = zeroize::Zeroizing::new(compressed);
    let json = zeroize::Zeroizing::new(inflate(&compressed, limits.max_inflated_bytes)?);
    Ok(parse_record(&json, limits.max_events_per_record)?)
}

pub async fn decode(
    data: &[u8],
    event_source_arn: Option<&str>,
    resource_override: Option<&str>,
    keys: &DataKeyCache,
    limits: Limits,
) -> Result<Decoded, Failure> {
    let Envelope { version, message, key_blob } = envelope::parse(data)?;
    let resource = resource_id(event_source_arn, resource_override)?;
    let ctx = KeyContext { key: resource.encryption_context_key(), value: resource.as_str() };
    let key = keys.get(&key_blob, ctx).await?;
    let record = open_payload(&message, key.bytes(), limits)?;
    Ok(Decoded { resource, version, record })
}
