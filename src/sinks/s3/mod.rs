//! The S3 sink: one object per partition per batch, gzip NDJSON (`.ndjson.gz`) or Parquet
//! (`.parquet`, `S3_FORMAT`), in the hive layout under `s3://$S3_BUCKET/$S3_PREFIX` +
//! `class_uid=6005/dt=YYYY-MM-DD/hour=HH/` or the Security Lake layout
//! `ext/<source>/region=…/accountId=…/eventDay=YYYYMMDD/` (`S3_LAYOUT`). Also the quarantine,
//! under `quarantine/`.
//!
//! Objects are compressed as chunks come (a gzip member per chunk and partition; Parquet row
//! groups as they fill) and held in memory up to `S3Config::buffer_bytes` in all: an object
//! that outgrows a part becomes a multipart upload, and when the buffers are full the largest
//! object is closed early (a later event of its partition starts a new object). Names derive
//! from the input only: `<shard>-<first seq>-<last seq>` of the records an object holds, or,
//! for a multipart upload (named before its last record is known), the batch's last sequence
//! number. A record too large for one chunk is written to objects of its own, completed with
//! its last piece and aborted if the batch ends first.

pub mod config;
pub(crate) mod objects;
pub(crate) mod upload;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::{join_all, BoxFuture};

pub use config::{Format, Layout, S3Config};
use upload::{Target, Upload, MIN_PART_BYTES, PART_BYTES};

use super::quarantine::{QuarantineEntry, QuarantineStore};
use super::{BatchInfo, Chunk, Delivery, Gather, Part, RecordMeta, Sink, SinkError, SinkWriter};
use crate::columnar::{ColumnarError, StreamWriter};
use crate::error::chain;
use crate::layout::{hive_dir, object_key, security_lake_dir};

pub struct S3Sink {
    client: aws_sdk_s3::Client,
    config: S3Config,
    counters: super::SinkCounters,
}

impl S3Sink {
    pub fn new(client: aws_sdk_s3::Client, config: S3Config) -> S3Sink {
        S3Sink { client, config, counters: super::SinkCounters::default() }
    }

    fn target(&self, deadline: std::time::Instant) -> Target<'_> {
        Target { client: &self.client, bucket: &self.config.bucket, counters: &self.counters, deadline }
    }

    fn extension(&self) -> &'static str {
        match self.config.format {
            Format::Ndjson => "ndjson.gz",
            Format::Parquet => "parquet",
        }
    }

    /// The directory of an event in the layout.
    fn dir(&self, meta: &RecordMeta, time_ms: i64) -> String {
        match &self.config.layout {
            Layout::Hive => hive_dir(&self.config.prefix, time_ms),
            Layout::SecurityLake { source } => {
                security_lake_dir(source, meta.region.as_deref(), meta.account.as_deref(), time_ms)
            }
        }
    }
}

/// One object being written: its bytes so far and, for Parquet, the file being encoded.
struct Object {
    dir: String,
    upload: Upload,
    parquet: Option<StreamWriter>,
}

impl Object {
    /// Bytes this object holds in memory.
    fn held(&self) -> usize {
        self.upload.pending.len() + self.parquet.as_ref().map_or(0, StreamWriter::held)
    }

    /// Moves the file bytes Parquet produced into the upload.
    fn drain(&mut self) {
        if let Some(p) = &mut self.parquet {
            self.upload.pending.extend_from_slice(&p.take_output());
        }
    }
}

fn new_object(config: &S3Config, dir: &str, first: &Arc<RecordMeta>) -> Result<Object, ColumnarError> {
    let (content_type, parquet) = match config.format {
        Format::Ndjson => ("application/x-ndjson", None),
        Format::Parquet => {
            // Row groups of a quarter of the buffers' budget (at least 1 MiB of lines).
            let row_group = (config.buffer_bytes / 4).max(1 << 20);
            let writer = StreamWriter::new(config.zstd_level, row_group)?;
            ("application/vnd.apache.parquet", Some(writer))
        }
    };
    Ok(Object { dir: dir.to_owned(), upload: Upload::new(first, content_type), parquet })
}

/// How the batch's objects are named.
struct Naming {
    shard: String,
    /// The batch's last record: a multipart upload is named before its own last is known.
    batch_last: String,
    extension: &'static str,
}

impl Naming {
    fn key(&self, o: &Object, multipart: bool) -> String {
        let last = if multipart { &self.batch_last } else { &o.upload.last.sequence_number };
        object_key(&o.dir, &self.shard, &o.upload.first.sequence_number, last, self.extension)
    }
}

/// Finishes an object's encoding and closes its upload.
async fn close(mut o: Object, naming: &Naming, to: &Target<'_>) -> Result<(), SinkError> {
    let first = o.upload.first.index;
    if let Some(writer) = o.parquet.take() {
        let tail = crate::parallel::blocking(|| writer.finish());
        match tail {
            Ok(bytes) => o.upload.pending.extend_from_slice(&bytes),
            Err(e) => {
                o.upload.abort(to).await;
                return Err(SinkError::new("s3", first, chain(&e)));
            }
        }
    }
    let key = naming.key(&o, false);
    o.upload.close(to, || key).await.map(drop).map_err(|e| SinkError::new("s3", first, chain(&e)))
}

struct S3Writer<'a> {
    sink: &'a S3Sink,
    /// One compressor for the batch, and buffers for each chunk's lines of a partition, kept
    /// for the next chunk: large buffers are not made and dropped for every chunk.
    gzip: crate::gzip::Gzip,
    scratch: Vec<Vec<u8>>,
    deadline: std::time::Instant,
    naming: Naming,
    open: BTreeMap<String, Object>,
    /// The objects of a large record being written in pieces.
    large: BTreeMap<String, Object>,
    delivery: Delivery,
}

impl S3Writer<'_> {
    /// Encodes one chunk's lines into the objects of their partitions (CPU: run blocking):
    /// one gzip member per partition per chunk, or the lines into the Parquet row group.
    fn encode(&mut self, chunk: &Chunk) -> Result<(), SinkError> {
        let mut groups: BTreeMap<(bool, String), Vec<u8>> = BTreeMap::new();
        for rec in &chunk.records {
            let large = !matches!(rec.part, Part::Whole);
            for line in rec.lines() {
                let dir = self.sink.dir(&rec.meta, line.time_ms);
                let objects = if large { &mut self.large } else { &mut self.open };
                let o = match objects.entry(dir.clone()) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        let o = new_object(&self.sink.config, &dir, &rec.meta)
                            .map_err(|e| SinkError::new("s3", rec.meta.index, chain(&e)))?;
                        e.insert(o)
                    }
                };
                o.upload.last = rec.meta.clone();
                match &mut o.parquet {
                    Some(writer) => {
                        writer.push(line.bytes).map_err(|e| SinkError::new("s3", o.upload.first.index, chain(&e)))?
                    }
                    None => {
                        let body = groups.entry((large, dir)).or_insert_with(|| self.scratch.pop().unwrap_or_default());
                        body.extend_from_slice(line.bytes);
                        body.push(b'\n');
                    }
                }
            }
        }
        for ((large, dir), mut body) in groups {
            let objects = if large { &mut self.large } else { &mut self.open };
            if let Some(o) = objects.get_mut(&dir) {
                o.upload.pending.extend_from_slice(self.gzip.compress(&body));
            }
            body.clear();
            if self.scratch.len() < 4 {
                self.scratch.push(body);
            }
        }
        for o in self.open.values_mut().chain(self.large.values_mut()) {
            o.drain();
        }
        Ok(())
    }

    /// Uploads parts of the objects that outgrew one, and, while the buffers hold more than
    /// their budget, makes room: a Parquet row group is written, a part uploaded, or the
    /// largest object closed (a large record's objects close only with its last piece).
    async fn make_room(&mut self) -> Result<(), SinkError> {
        let to = self.sink.target(self.deadline);
        for large in [false, true] {
            let objects = if large { &self.large } else { &self.open };
            let full: Vec<String> =
                objects.iter().filter(|(_, o)| o.upload.pending.len() >= PART_BYTES).map(|(d, _)| d.clone()).collect();
            for dir in full {
                self.upload_part(large, &dir, &to).await?;
            }
        }
        loop {
            let held: usize = self.open.values().chain(self.large.values()).map(Object::held).sum();
            if held <= self.sink.config.buffer_bytes {
                return Ok(());
            }
            let reducible = |o: &Object, large: bool| {
                !large || o.parquet.as_ref().is_some_and(|w| w.held() > 0) || o.upload.pending.len() >= MIN_PART_BYTES
            };
            let largest = self
                .open
                .iter()
                .map(|(d, o)| (d, o, false))
                .chain(self.large.iter().map(|(d, o)| (d, o, true)))
                .filter(|(_, o, large)| reducible(o, *large))
                .max_by_key(|(_, o, _)| o.held())
                .map(|(d, _, large)| (d.clone(), large));
            let Some((dir, large)) = largest else { return Ok(()) };
            let objects = if large { &mut self.large } else { &mut self.open };
            let Some(o) = objects.get_mut(&dir) else { return Ok(()) };
            if let Some(writer) = o.parquet.as_mut().filter(|w| w.held() > 0) {
                let written = crate::parallel::blocking(|| writer.write_row_group());
                written.map_err(|e| SinkError::new("s3", o.upload.first.index, chain(&e)))?;
                o.drain();
            } else if o.upload.pending.len() >= MIN_PART_BYTES {
                self.upload_part(large, &dir, &to).await?;
            } else if let Some(o) = self.open.remove(&dir) {
                close(o, &self.naming, &to).await?;
            }
        }
    }

    async fn upload_part(&mut self, large: bool, dir: &str, to: &Target<'_>) -> Result<(), SinkError> {
        let objects = if large { &mut self.large } else { &mut self.open };
        let Some(mut o) = objects.remove(dir) else { return Ok(()) };
        let key = self.naming.key(&o, true);
        match o.upload.upload_part(to, || key).await {
            Ok(()) => {
                let objects = if large { &mut self.large } else { &mut self.open };
                objects.insert(dir.to_owned(), o);
                Ok(())
            }
            Err(e) => {
                let first = o.upload.first.index;
                o.upload.abort(to).await;
                Err(SinkError::new("s3", first, chain(&e)))
            }
        }
    }
}

impl Gather for S3Writer<'_> {
    fn delivery(&mut self) -> &mut Delivery {
        &mut self.delivery
    }

    async fn take(&mut self, chunk: &Chunk) -> Result<(), SinkError> {
        crate::parallel::blocking(|| self.encode(chunk))?;
        self.make_room().await?;
        // A large record's last piece: its objects are complete.
        if chunk.records.iter().any(|r| matches!(r.part, Part::Piece { last: true, .. })) {
            let to = self.sink.target(self.deadline);
            let large = std::mem::take(&mut self.large);
            let naming = &self.naming;
            let closed = join_all(large.into_values().map(|o| close(o, naming, &to))).await;
            if let Some(e) = closed.into_iter().filter_map(Result::err).min_by_key(|e| e.first_undelivered) {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Closes every object, after a failure too (what came before it is delivered); a large
    /// record cut off in its middle has its objects aborted, and is reported.
    async fn settle(&mut self) {
        let to = self.sink.target(self.deadline);
        for o in std::mem::take(&mut self.large).into_values() {
            o.upload.abort(&to).await;
        }
        let open = std::mem::take(&mut self.open);
        let naming = &self.naming;
        let closed = join_all(open.into_values().map(|o| close(o, naming, &to))).await;
        for e in closed.into_iter().filter_map(Result::err) {
            self.delivery.fail(e);
        }
    }
}

impl Sink for S3Sink {
    fn name(&self) -> &'static str {
        "s3"
    }

    fn counters(&self) -> Option<&super::SinkCounters> {
        Some(&self.counters)
    }

    fn open<'a>(&'a self, batch: &BatchInfo) -> Box<dyn SinkWriter + 'a> {
        Box::new(S3Writer {
            sink: self,
            gzip: crate::gzip::Gzip::new(self.config.gzip_level),
            scratch: Vec::new(),
            deadline: batch.deadline,
            naming: Naming {
                shard: batch.shard_id.clone(),
                batch_last: batch.last_sequence_number.clone(),
                extension: self.extension(),
            },
            open: BTreeMap::new(),
            large: BTreeMap::new(),
            delivery: Delivery::default(),
        })
    }
}

/// Quarantined records as JSON objects under `$QUARANTINE_PREFIX` in the sink's bucket.
pub struct S3Quarantine(pub S3Sink);

impl QuarantineStore for S3Quarantine {
    fn put<'a>(&'a self, entries: &'a [QuarantineEntry]) -> BoxFuture<'a, Result<(), (usize, String)>> {
        Box::pin(async move {
            // No deadline of its own: the pipeline bounds the quarantine's writes.
            let to = self.0.target(std::time::Instant::now() + std::time::Duration::from_secs(3600));
            // 16 objects in flight at a time; the earliest entry that failed is reported.
            for (n, group) in entries.chunks(16).enumerate() {
                let puts = group.iter().enumerate().map(|(j, entry)| {
                    let to = &to;
                    async move {
                        let i = n * 16 + j;
                        let body = serde_json::to_vec_pretty(entry).map_err(|e| (i, e.to_string()))?;
                        let key = entry.key(&self.0.config.quarantine_prefix);
                        to.put(&key, body, "application/json").await.map_err(|e| (i, chain(&e)))
                    }
                });
                let failed = join_all(puts).await.into_iter().filter_map(Result::err).min_by_key(|(i, _)| *i);
                if let Some(f) = failed {
                    return Err(f);
                }
            }
            Ok(())
        })
    }
}
