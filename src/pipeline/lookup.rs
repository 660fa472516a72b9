//! Stage 1: each record's envelope, resource id and wrapping key, the only I/O before the
//! sinks. Key lookups run concurrently (`DECRYPT_CONCURRENCY`), answers keep the records' order,
//! and the cache makes one provider call per distinct key.

use std::sync::Arc;

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use futures::stream::{self, Stream, StreamExt};

use crate::das::resource::{resource_id, ResourceId};
use crate::das::{envelope, Envelope};
use crate::error::Failure;
use crate::keys::{DataKeyCache, KeyContext, WrappingKey};

/// A record whose wrapping key is in hand: everything the CPU half needs.
pub struct Keyed {
    pub resource: ResourceId,
    /// The outer record's format version (`1.1`, `1.2`, …).
    pub version: String,
    /// The ESDK message, base64-decoded.
    pub message: Vec<u8>,
    pub key: Arc<WrappingKey>,
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

/// The lookups of `records`, in order, `concurrency` at a time.
pub fn lookups<'a>(
    records: &'a [KinesisEventRecord],
    resource_override: Option<&'a str>,
    keys: &'a DataKeyCache,
    concurrency: usize,
) -> impl Stream<Item = Result<Keyed, Failure>> + 'a {
    stream::iter(records)
        .map(move |r| lookup(&r.kinesis.data.0, r.event_source_arn.as_deref(), resource_override, keys))
        .buffered(concurrency.max(1))
}
