//! One object being written: its compressed bytes gather in memory and go out in one
//! `PutObject` when it closes, or, once they outgrow a part, as a multipart upload (one part per
//! `PART_BYTES` and the rest as the last part). An upload that fails is aborted: S3 keeps no
//! part of it (and the template's lifecycle rule removes what an abort could not).

use std::sync::Arc;
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::error::{chain, BoxError};
use crate::sinks::RecordMeta;

/// A part is uploaded once this much is waiting (S3's minimum part is 5 MiB).
pub const PART_BYTES: usize = 8 << 20;
/// S3's smallest part but the last.
pub const MIN_PART_BYTES: usize = 5 << 20;

/// Where the objects go and how the requests are counted.
pub struct Target<'a> {
    pub client: &'a aws_sdk_s3::Client,
    pub bucket: &'a str,
    pub counters: &'a crate::sinks::SinkCounters,
    pub deadline: Instant,
}

/// A request about `s3://bucket/key` that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// S3 or the connection refused it (the SDK's error, with its causes, is the source).
    #[error("s3://{bucket}/{key}")]
    Failed {
        bucket: String,
        key: String,
        #[source]
        source: BoxError,
    },
    #[error("s3://{bucket}/{key}: deadline reached")]
    Deadline { bucket: String, key: String },
    #[error("s3://{bucket}/{key}: no upload id in the answer")]
    NoUploadId { bucket: String, key: String },
}

impl Target<'_> {
    /// Runs one request by the deadline.
    async fn call<T, E: std::error::Error + Send + Sync + 'static>(
        &self,
        key: &str,
        request: impl std::future::Future<Output = Result<T, aws_sdk_s3::error::SdkError<E>>>,
    ) -> Result<T, RequestError> {
        let (bucket, key) = (self.bucket.to_owned(), key.to_owned());
        match tokio::time::timeout_at(self.deadline.into(), request).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(RequestError::Failed { bucket, key, source: e.into() }),
            Err(_) => Err(RequestError::Deadline { bucket, key }),
        }
    }

    /// One whole object.
    pub async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), RequestError> {
        self.counters.request(body.len());
        let request = self
            .client
            .put_object()
            .bucket(self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send();
        self.call(key, request).await.map(drop)
    }
}

/// One object of the batch.
pub struct Upload {
    /// Its name once it has one (a single PUT is named when it closes).
    pub key: Option<String>,
    pub content_type: &'static str,
    pub first: Arc<RecordMeta>,
    pub last: Arc<RecordMeta>,
    pub pending: Vec<u8>,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
}

impl Upload {
    pub fn new(first: &Arc<RecordMeta>, content_type: &'static str) -> Upload {
        Upload {
            key: None,
            content_type,
            first: first.clone(),
            last: first.clone(),
            pending: Vec::new(),
            upload_id: None,
            parts: Vec::new(),
        }
    }

    /// Uploads what is pending as the next part (starting the multipart upload under `key`
    /// when this is the first). The caller makes sure it is at least `MIN_PART_BYTES`.
    pub async fn upload_part(&mut self, to: &Target<'_>, key: impl FnOnce() -> String) -> Result<(), RequestError> {
        let key = self.key.get_or_insert_with(key).clone();
        if self.upload_id.is_none() {
            to.counters.request(0);
            let request =
                to.client.create_multipart_upload().bucket(to.bucket).key(&key).content_type(self.content_type).send();
            let created = to.call(&key, request).await?;
            let no_id = || RequestError::NoUploadId { bucket: to.bucket.to_owned(), key: key.clone() };
            let id = created.upload_id().ok_or_else(no_id)?;
            self.upload_id = Some(id.to_owned());
        }
        let id = self.upload_id.clone().unwrap_or_default();
        let number = self.parts.len() as i32 + 1;
        let body = std::mem::take(&mut self.pending);
        to.counters.request(body.len());
        let request = to
            .client
            .upload_part()
            .bucket(to.bucket)
            .key(&key)
            .upload_id(&id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send();
        let part = to.call(&key, request).await?;
        self.parts
            .push(CompletedPart::builder().part_number(number).set_e_tag(part.e_tag().map(str::to_owned)).build());
        Ok(())
    }

    /// Closes the object: one PUT under `key`, or the last part and the completion.
    pub async fn close(mut self, to: &Target<'_>, key: impl FnOnce() -> String) -> Result<String, RequestError> {
        if self.upload_id.is_none() {
            let key = self.key.take().unwrap_or_else(key);
            let body = std::mem::take(&mut self.pending);
            to.put(&key, body, self.content_type).await?;
            return Ok(key);
        }
        let key = self.key.clone().unwrap_or_default();
        let result = async {
            if !self.pending.is_empty() {
                self.upload_part(to, String::new).await?;
            }
            to.counters.request(0);
            let parts = CompletedMultipartUpload::builder().set_parts(Some(self.parts.clone())).build();
            let request = to
                .client
                .complete_multipart_upload()
                .bucket(to.bucket)
                .key(&key)
                .upload_id(self.upload_id.clone().unwrap_or_default())
                .multipart_upload(parts)
                .send();
            to.call(&key, request).await.map(drop)
        }
        .await;
        match result {
            Ok(()) => Ok(key),
            Err(e) => {
                self.abort(to).await;
                Err(e)
            }
        }
    }

    /// Drops the object: a multipart upload is aborted, so S3 keeps none of its parts.
    pub async fn abort(self, to: &Target<'_>) {
        let (Some(key), Some(id)) = (self.key, self.upload_id) else { return };
        to.counters.request(0);
        let request = to.client.abort_multipart_upload().bucket(to.bucket).key(&key).upload_id(&id).send();
        if let Err(e) = to.call(&key, request).await {
            // The bucket's lifecycle rule for incomplete uploads removes it later.
            tracing::warn!(sink = "s3", detail = %chain(&e), "aborting a multipart upload failed");
        }
    }
}
