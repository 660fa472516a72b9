//! The S3 sink: one object per partition per batch, gzip NDJSON (`.ndjson.gz`) or Parquet
//! (`.parquet`, `S3_FORMAT`), in the hive layout under `s3://$S3_BUCKET/$S3_PREFIX` +
//! `class_uid=6005/dt=YYYY-MM-DD/hour=HH/` or the Security Lake layout
//! `ext/<source>/region=…/accountId=…/eventDay=YYYYMMDD/` (`S3_LAYOUT`), named
//! `<shard>-<first seq>-<last seq>.<ext>` (input-derived: a retried batch overwrites its
//! objects). Also the quarantine, under `quarantine/`.

pub mod config;
pub mod encoder;
pub mod objects;

use aws_sdk_s3::primitives::ByteStream;
use futures::future::{join_all, BoxFuture};

pub use config::{Format, Layout, S3Config};

use super::partition::{earliest_failure, partition, partition_by, security_lake_dir, Partition};
use super::quarantine::{QuarantineEntry, QuarantineStore};
use super::{OutputBatch, RejectedEvent, Sink, SinkError};

pub struct S3Sink {
    client: aws_sdk_s3::Client,
    config: S3Config,
    counters: super::SinkCounters,
}

impl S3Sink {
    pub fn new(client: aws_sdk_s3::Client, config: S3Config) -> S3Sink {
        S3Sink { client, config, counters: super::SinkCounters::default() }
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), String> {
        self.counters.request(body.len());
        self.client
            .put_object()
            .bucket(&self.config.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("s3://{}/{key}: {}", self.config.bucket, aws_sdk_s3::error::DisplayErrorContext(e)))
    }
}

impl S3Sink {
    fn partitions<'a>(&self, batch: &'a OutputBatch) -> Vec<Partition<'a>> {
        let extension = match self.config.format {
            Format::Ndjson => "ndjson.gz",
            Format::Parquet => "parquet",
        };
        match &self.config.layout {
            Layout::Hive => partition(batch, &self.config.prefix, extension),
            Layout::SecurityLake { source } => partition_by(batch, extension, |record, event| {
                security_lake_dir(source, record.region.as_deref(), record.account.as_deref(), event.time_ms)
            }),
        }
    }

    /// The object body of one partition and its content type.
    fn encode(&self, part: &Partition<'_>) -> (Result<Vec<u8>, String>, &'static str) {
        match self.config.format {
            Format::Ndjson => {
                let threads = crate::parallel::default_threads();
                (Ok(encoder::gzip_lines(&part.lines, self.config.gzip_level, threads)), "application/x-ndjson")
            }
            Format::Parquet => {
                let options = crate::columnar::WriteOptions { zstd_level: self.config.zstd_level, dedupe: false };
                let file = crate::columnar::write(&part.lines, options).map(|(file, _)| file);
                (file.map_err(|e| e.to_string()), "application/vnd.apache.parquet")
            }
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

    fn deliver<'a>(&'a self, batch: &'a OutputBatch) -> BoxFuture<'a, Result<Vec<RejectedEvent>, SinkError>> {
        Box::pin(async move {
            let parts = self.partitions(batch);
            let puts = parts.iter().map(|part| async move {
                let (body, content_type) = crate::parallel::blocking(|| self.encode(part));
                let body = body.map_err(|e| (part.first_record, format!("{}: {e}", part.key)))?;
                self.put(&part.key, body, content_type).await.map_err(|e| (part.first_record, e))
            });
            let deadline = tokio::time::Instant::from_std(batch.deadline);
            let results = match tokio::time::timeout_at(deadline, join_all(puts)).await {
                Ok(results) => results,
                Err(_) => return Err(SinkError::new("s3", 0, "deadline reached")),
            };
            earliest_failure("s3", results.into_iter().filter_map(Result::err)).map_or(Ok(Vec::new()), Err)
        })
    }
}

/// Quarantined records as JSON objects under `$QUARANTINE_PREFIX` in the sink's bucket.
pub struct S3Quarantine(pub S3Sink);

impl QuarantineStore for S3Quarantine {
    fn put<'a>(&'a self, entries: &'a [QuarantineEntry]) -> BoxFuture<'a, Result<(), (usize, String)>> {
        Box::pin(async move {
            // 16 objects in flight at a time; the earliest entry that failed is reported.
            for (n, group) in entries.chunks(16).enumerate() {
                let puts = group.iter().enumerate().map(|(j, entry)| async move {
                    let i = n * 16 + j;
                    let body = serde_json::to_vec_pretty(entry).map_err(|e| (i, e.to_string()))?;
                    let key = entry.key(&self.0.config.quarantine_prefix);
                    self.0.put(&key, body, "application/json").await.map_err(|e| (i, e))
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
