//! Stage 1: each record's envelope, resource id and wrapping key, the only I/O before the
//! sinks. Key lookups run concurrently (`DECRYPT_CONCURRENCY`), answers keep the records' order,
//! and the cache makes one provider call per distinct key.

use std::collections::HashSet;
use std::sync::Arc;

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use futures::stream::{self, Stream, StreamExt};

use crate::das::resource::{ResourceError, ResourceId, StreamSource};
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

/// The stream a record came from, and the resource id it gives (or why it gives none).
#[derive(Debug, Clone)]
pub struct Source {
    pub stream: Arc<StreamSource>,
    pub resource: Result<ResourceId, ResourceError>,
}

/// Envelope, resource id and (cached) wrapping key of one record.
pub async fn lookup(data: &[u8], source: &Source, keys: &DataKeyCache) -> Result<Keyed, Failure> {
    let Envelope { version, message, key_blob } = envelope::parse(data)?;
    let resource = source.resource.clone()?;
    let ctx = KeyContext { key: resource.encryption_context_key(), value: resource.as_str() };
    let key = keys.get(&key_blob, ctx).await?;
    Ok(Keyed { resource, version, message, key })
}

/// The lookups of `records`, in order, `concurrency` at a time.
pub fn lookups<'a>(
    records: &'a [KinesisEventRecord],
    sources: &'a [Arc<Source>],
    keys: &'a DataKeyCache,
    concurrency: usize,
) -> impl Stream<Item = Result<Keyed, Failure>> + 'a {
    stream::iter(records.iter().zip(sources))
        .map(move |(r, source)| lookup(&r.kinesis.data.0, source, keys))
        .buffered(concurrency.max(1))
}

/// Asks for the keys of `records` ahead of their lookups (the first records of a batch whose
/// reading goes on), each distinct one once, `concurrency` at a time. A record that does not
/// parse, or whose stream gives no resource id, is left to its lookup, which reports it.
pub async fn warm(records: &[KinesisEventRecord], sources: &[Arc<Source>], keys: &DataKeyCache, concurrency: usize) {
    let mut seen = HashSet::new();
    let wanted: Vec<(Vec<u8>, &ResourceId)> = records
        .iter()
        .zip(sources)
        .filter_map(|(r, source)| {
            let key_blob = envelope::parse(&r.kinesis.data.0).ok()?.key_blob;
            let resource = source.resource.as_ref().ok()?;
            seen.insert((key_blob.clone(), resource.as_str())).then_some((key_blob, resource))
        })
        .collect();
    stream::iter(wanted)
        .for_each_concurrent(concurrency.max(1), |(blob, resource)| async move {
            let ctx = KeyContext { key: resource.encryption_context_key(), value: resource.as_str() };
            keys.warm(&blob, ctx).await
        })
        .await
}
