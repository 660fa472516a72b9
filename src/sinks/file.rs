//! The local sink: the partition layout of the S3 sink under a directory.
//! Each object is written to a temporary name and renamed, so a reader
//! never sees half a file and a retry replaces it whole.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;

use super::partition::{earliest_failure, partition};
use super::{OutputBatch, Sink, SinkError};

pub struct FileSink {
    root: PathBuf,
    prefix: String,
}

impl FileSink {
    pub fn new(root: PathBuf, prefix: String) -> FileSink {
        FileSink { root, prefix }
    }
}

/// Writes `bytes` to `path` atomically (temporary file, then rename).
pub async fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await
}

impl Sink for FileSink {
    fn name(&self) -> &'static str {
        "file"
    }

    fn deliver<'a>(&'a self, batch: &'a OutputBatch) -> BoxFuture<'a, Result<Vec<super::RejectedEvent>, SinkError>> {
        Box::pin(async move {
            let mut failures = Vec::new();
            for part in partition(batch, &self.prefix, "ndjson") {
                if let Err(e) = write_atomic(&self.root.join(&part.key), &part.ndjson()).await {
                    failures.push((part.first_record, format!("{}: {e}", part.key)));
                }
            }
            earliest_failure("file", failures).map_or(Ok(Vec::new()), Err)
        })
    }
}
