//! `das-forwarder compact`: merges a closed window of the hive layout's small objects
//! (`.ndjson.gz`, `.ndjson`, `.parquet`) into one sorted Parquet object per region, account and
//! event day, in the Security Lake layout, named after the window. Duplicate events (a batch
//! retried with another split wrote them twice) are dropped by `metadata.uid`. Rerunning a
//! window writes the same keys with the same bytes; the sources are left in place.

pub(crate) mod window;

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Serialize;

use crate::columnar::{self, WriteOptions};
use crate::error::{BoxError, IoError};
use crate::layout::security_lake_dir;
pub use window::Window;

/// Why `compact` stopped.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    /// The window asked for is not one compact merges (`--start`, `--hours`, not closed yet).
    #[error("{0}")]
    Window(String),
    /// A staging object that is not what its suffix says.
    #[error("{key}")]
    Object {
        key: String,
        #[source]
        source: BoxError,
    },
    /// The merged lines of one directory could not become Parquet.
    #[error("{dir}")]
    Parquet {
        dir: String,
        #[source]
        source: crate::columnar::ColumnarError,
    },
    /// Replacing an object would drop events: the window's staging objects are partly gone.
    #[error(
        "s3://{bucket}/{key} holds {before} rows and this run has {now}: some staging objects of the window are \
         gone (a lifecycle rule?). Nothing replaced; --force replaces it"
    )]
    WouldShrink { bucket: String, key: String, before: usize, now: usize },
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Largest inflated staging object read.
pub const MAX_OBJECT_BYTES: usize = 1 << 30;

/// Where the window's objects go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The custom source's directory under `ext/`: `<name>` or `<name>/<version>`.
    pub source_dir: String,
    pub zstd_level: i32,
}

/// One merged object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    pub key: String,
    pub rows: usize,
    pub bytes: usize,
    #[serde(skip)]
    pub body: Bytes,
}

/// One staging object: its key, when it was last written, its body.
pub use crate::sinks::s3::objects::StoredObject as Staged;

/// What a run read, dropped and wrote (printed as one JSON line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub window: String,
    pub objects_read: usize,
    /// Objects under the window's prefixes that are not output (other suffixes), left alone.
    pub objects_skipped: usize,
    pub events_read: usize,
    pub duplicates_dropped: usize,
    /// Events found in the window's partitions with a time outside it (not written).
    pub outside_window: usize,
    /// Staging objects written after the window closed (a replay, a function far behind): a
    /// window compacted before they came missed their events, and this run includes them.
    pub late_objects: Vec<String>,
    pub objects_written: Vec<Written>,
    pub dry_run: bool,
}

/// Event lines of one staging object, by its suffix; None for a key that is not output.
pub fn object_lines(key: &str, body: Bytes) -> Option<Result<Vec<Vec<u8>>, CompactError>> {
    let split = |text: &[u8]| text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
    let lines = if key.ends_with(".ndjson.gz") {
        crate::das::inflate::inflate(&body, MAX_OBJECT_BYTES).map(|t| split(&t)).map_err(BoxError::from)
    } else if key.ends_with(".ndjson") {
        Ok(split(&body))
    } else if key.ends_with(".parquet") {
        columnar::read_lines(body).map_err(BoxError::from)
    } else {
        return None;
    };
    Some(lines.map_err(|source| CompactError::Object { key: key.to_owned(), source }))
}

/// The pure core: the window's staging objects in, its merged objects out. `closed_ms`: when
/// the window closed (its end plus the grace).
pub fn merge(objects: Vec<Staged>, window: &Window, closed_ms: i64, target: &Target) -> Result<Summary, CompactError> {
    let mut summary = Summary { window: window.label(), ..Summary::default() };
    // By (directory, window): lines of every event, from every object, in key order.
    let mut groups: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut objects = objects;
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    for Staged { key, modified_ms, body } in objects {
        if modified_ms.is_some_and(|m| m > closed_ms) {
            summary.late_objects.push(key.clone());
        }
        let Some(lines) = object_lines(&key, body) else {
            summary.objects_skipped += 1;
            continue;
        };
        summary.objects_read += 1;
        for line in lines? {
            let k = columnar::key(&line).map_err(|e| CompactError::Object { key: key.clone(), source: e.into() })?;
            summary.events_read += 1;
            if !window.contains(k.time) {
                summary.outside_window += 1;
                continue;
            }
            let dir = security_lake_dir(&target.source_dir, k.region.as_deref(), k.account.as_deref(), k.time);
            groups.entry(dir).or_default().push(line);
        }
    }
    let options = WriteOptions { zstd_level: target.zstd_level, dedupe: true };
    for (dir, lines) in groups {
        let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        let (body, rows) =
            columnar::write(&refs, options).map_err(|source| CompactError::Parquet { dir: dir.clone(), source })?;
        summary.duplicates_dropped += lines.len() - rows;
        let key = format!("{dir}/{}.parquet", window.label());
        summary.objects_written.push(Written { key, rows, bytes: body.len(), body: Bytes::from(body) });
    }
    Ok(summary)
}

/// Lists and reads every object under the window's hour prefixes of `s3://bucket/prefix`.
pub async fn read_window(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    window: &Window,
) -> Result<Vec<Staged>, IoError> {
    let mut objects = Vec::new();
    for hour in window.hour_prefixes(prefix) {
        objects.extend(crate::sinks::s3::objects::read_all(s3, bucket, &hour).await?);
    }
    Ok(objects)
}

/// The object metadata key holding an object's row count (`x-amz-meta-das-rows`).
const ROWS_METADATA: &str = "das-rows";

/// Puts the merged objects into `bucket`. An object already there with more rows is not
/// replaced unless `force`: the window's staging objects were partly expired, and a rerun
/// would otherwise drop events from Security Lake.
pub async fn write_objects(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    summary: &Summary,
    force: bool,
) -> Result<(), CompactError> {
    for written in &summary.objects_written {
        let key = &written.key;
        if !force {
            if let Ok(head) = s3.head_object().bucket(bucket).key(key).send().await {
                let before = head.metadata().and_then(|m| m.get(ROWS_METADATA)).and_then(|n| n.parse::<usize>().ok());
                if let Some(before) = before.filter(|b| *b > written.rows) {
                    let (bucket, key) = (bucket.to_owned(), key.clone());
                    return Err(CompactError::WouldShrink { bucket, key, before, now: written.rows });
                }
            }
        }
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/vnd.apache.parquet")
            .metadata(ROWS_METADATA, written.rows.to_string())
            .body(aws_sdk_s3::primitives::ByteStream::from(written.body.clone()))
            .send()
            .await
            .map_err(|e| IoError::new(format!("put s3://{bucket}/{key}"), e))?;
    }
    Ok(())
}
