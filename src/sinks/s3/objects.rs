//! Reading objects back (`compact`'s staging, `replay`'s quarantine and archives).

use bytes::Bytes;

use crate::error::IoError;

/// One object read back whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    /// Epoch ms of its last write (None when S3 did not say).
    pub modified_ms: Option<i64>,
    pub body: Bytes,
}

/// Every object under `prefix` of `bucket`, in key order, following the listing's pages.
pub async fn read_all(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Result<Vec<StoredObject>, IoError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(|e| IoError::new(format!("list s3://{bucket}/{prefix}"), e))?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            let got = s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| IoError::new(format!("get s3://{bucket}/{key}"), e))?;
            let body = got.body.collect().await.map_err(|e| IoError::new(format!("read s3://{bucket}/{key}"), e))?;
            let modified_ms = object.last_modified().and_then(|t| t.to_millis().ok());
            out.push(StoredObject { key: key.to_owned(), modified_ms, body: body.into_bytes() });
        }
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
    }
}
