//! One Kinesis record's data to activity events, in two halves: `lookup`
//! (envelope, resource id, wrapping key: the only I/O) and `Keyed::open`
//! (ESDK decrypt, gunzip, parse: pure CPU, run on every core by the handler).

use std::sync::Arc;

use crate::das::activity::{parse_record, ActivityRecord};
use crate::das::inflate::inflate;
use crate::das::resource::{resource_id, ResourceId};
use crate::das::{envelope, Envelope};
use crate::error::Failure;
use crate::esdk::{self, RawAesKeyring};
use crate::keys::{DataKeyCache, KeyContext, WrappingKey};

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_inflated_bytes: usize,
    pub max_events_per_record: usize,
    /// Largest ESDK frame accepted (`MAX_FRAME_LENGTH`); DAS writes 4096-byte frames.
    pub max_frame_length: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_inflated_bytes: 64 << 20, max_events_per_record: 100_000, max_frame_length: 1 << 20 }
    }
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
    let frame_length = esdk::header::parse(message)?.frame_length;
    if frame_length > limits.max_frame_length {
        return Err(Failure::Permanent {
            code: "limits.frame_too_large",
            detail: format!("frame length {frame_length} is over MAX_FRAME_LENGTH ({})", limits.max_frame_length),
        });
    }
    let compressed = esdk::decrypt(message, &RawAesKeyring::das(wrapping_key))?;
    let compressed = zeroize::Zeroizing::new(compressed);
    let json = zeroize::Zeroizing::new(inflate(&compressed, limits.max_inflated_bytes)?);
    Ok(parse_record(&json, limits.max_events_per_record)?)
}

/// A record whose wrapping key is in hand: everything the CPU half needs.
pub struct Keyed {
    pub resource: ResourceId,
    pub version: String,
    /// The ESDK message, base64-decoded.
    pub message: Vec<u8>,
    pub key: Arc<WrappingKey>,
}

impl Keyed {
    /// Decrypt, gunzip, parse.
    pub fn open(&self, limits: Limits) -> Result<Decoded, Failure> {
        let record = open_payload(&self.message, self.key.bytes(), limits)?;
        Ok(Decoded { resource: self.resource.clone(), version: self.version.clone(), record })
    }
}

/// Envelope, resource id and (cached) wrapping key of one record.
pub async fn lookup(
    data: &[u8],
    event_source_arn: Option<&str>,
    resource_override: Option<&str>,
    keys: &DataKeyCache,
) -> Result<Keyed, Failure> {
    let Envelope { version, message, key_blob } = envelope::parse(data)?;
    let resource = resource_id(event_source_arn, resource_override)?;
    let ctx = KeyContext { key: resource.encryption_context_key(), value: resource.as_str() };
    let key = keys.get(&key_blob, ctx).await?;
    Ok(Keyed { resource, version, message, key })
}

/// Both halves at once.
pub async fn decode(
    data: &[u8],
    event_source_arn: Option<&str>,
    resource_override: Option<&str>,
    keys: &DataKeyCache,
    limits: Limits,
) -> Result<Decoded, Failure> {
    lookup(data, event_source_arn, resource_override, keys).await?.open(limits)
}
