//! Where replayed records come from, and how their origin is cleared once they went through.

use std::path::{Path, PathBuf};

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use base64::Engine;
use serde_json::{json, Value};

use super::{Location, ReplayBatch, ReplayError};

/// What to remove once a record (or a whole on-failure range) went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Object { bucket: String, key: String },
    SqsMessage { queue_url: String, receipt_handle: String },
}

/// The clients that remove origins.
#[derive(Default)]
pub struct Cleaner {
    pub s3: Option<aws_sdk_s3::Client>,
    pub sqs: Option<aws_sdk_sqs::Client>,
}

impl Cleaner {
    pub async fn clear(&self, origin: &Origin) -> Result<(), ReplayError> {
        match origin {
            Origin::File(path) => {
                std::fs::remove_file(path).map_err(|e| ReplayError::io(format!("remove {}", path.display()), e))
            }
            Origin::Object { bucket, key } => {
                let s3 = self.s3.as_ref().ok_or(ReplayError::NoClient("removing an S3 object"))?;
                s3.delete_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| ReplayError::io(format!("delete s3://{bucket}/{key}"), e))
            }
            Origin::SqsMessage { queue_url, receipt_handle } => {
                let sqs = self.sqs.as_ref().ok_or(ReplayError::NoClient("deleting an SQS message"))?;
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(receipt_handle)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| ReplayError::io("delete the on-failure message", e))
            }
        }
    }
}

/// A Lambda Kinesis record, as the event source mapping would have delivered it.
pub fn kinesis_record(
    data: &[u8],
    stream_arn: Option<&str>,
    shard: &str,
    sequence_number: &str,
    partition_key: &str,
    arrival_secs: f64,
    region: Option<&str>,
) -> Result<KinesisEventRecord, ReplayError> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    crate::kinesis::record_from_value(json!({
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": partition_key, "sequenceNumber": sequence_number,
                    "data": b64, "approximateArrivalTimestamp": arrival_secs},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": format!("{shard}:{sequence_number}"),
        "eventName": "aws:kinesis:record", "awsRegion": region, "eventSourceARN": stream_arn,
    }))
    .map_err(|e| ReplayError::malformed(format!("the Kinesis record {shard}:{sequence_number}"), e))
}

/// Every file under a directory or object under an S3 prefix: (name, bytes, modified epoch secs, origin).
async fn files(
    loc: &Location,
    s3: Option<&aws_sdk_s3::Client>,
) -> Result<Vec<(String, Vec<u8>, f64, Origin)>, ReplayError> {
    match loc {
        Location::Dir(dir) => {
            let mut out = Vec::new();
            let mut stack = vec![dir.clone()];
            while let Some(d) = stack.pop() {
                let entries = std::fs::read_dir(&d).map_err(|e| ReplayError::io(d.display().to_string(), e))?;
                for entry in entries {
                    let path = entry.map_err(|e| ReplayError::io(d.display().to_string(), e))?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else {
                        let bytes = std::fs::read(&path).map_err(|e| ReplayError::io(path.display().to_string(), e))?;
                        let modified = std::fs::metadata(&path)
                            .and_then(|m| m.modified())
                            .ok()
                            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                            .map_or(0.0, |d| d.as_secs() as f64);
                        let name = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
                        out.push((name, bytes, modified, Origin::File(path)));
                    }
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(out)
        }
        Location::S3 { bucket, prefix } => {
            let s3 = s3.ok_or(ReplayError::NoClient("an s3:// source"))?;
            let objects = crate::sinks::s3::objects::read_all(s3, bucket, prefix).await?;
            let out = objects.into_iter().map(|o| {
                // Whole seconds, as the listing's timestamps are.
                let modified = o.modified_ms.map_or(0.0, |ms| ms.div_euclid(1000) as f64);
                let origin = Origin::Object { bucket: bucket.clone(), key: o.key.clone() };
                (o.key, o.body.to_vec(), modified, origin)
            });
            Ok(out.collect())
        }
    }
}

/// Quarantine entries: the raw Kinesis record each holds, and the entry to remove on success.
pub async fn quarantine(
    loc: &Location,
    s3: Option<&aws_sdk_s3::Client>,
) -> Result<Vec<(KinesisEventRecord, Option<Origin>)>, ReplayError> {
    let mut out = Vec::new();
    for (name, bytes, _, origin) in files(loc, s3).await? {
        if !name.ends_with(".json") {
            continue;
        }
        let e: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ReplayError::malformed(&name, format!("not a quarantine entry: {e}")))?;
        let text = |k: &str| e[k].as_str().map(str::to_owned);
        let data = base64::engine::general_purpose::STANDARD
            .decode(text("data").ok_or_else(|| ReplayError::malformed(&name, "no data"))?)
            .map_err(|e| ReplayError::malformed(&name, format!("data is not base64: {e}")))?;
        let record = kinesis_record(
            &data,
            text("eventSourceARN").as_deref(),
            &text("shardId").unwrap_or_else(|| "shardId-unknown".into()),
            &text("sequenceNumber").ok_or_else(|| ReplayError::malformed(&name, "no sequenceNumber"))?,
            &text("partitionKey").unwrap_or_default(),
            e["approximateArrivalTimestamp"].as_f64().unwrap_or(0.0),
            text("awsRegion").as_deref(),
        )?;
        out.push((record, Some(origin)));
    }
    Ok(out)
}

/// Firehose archive files: concatenated or newline-separated DAS records, optionally gzip.
/// Each record gets the shard `archive-<file>` and its index in the file as sequence number,
/// so a replay twice writes the same output keys.
pub async fn archive(
    loc: &Location,
    s3: Option<&aws_sdk_s3::Client>,
    stream_arn: &str,
    max_file_bytes: usize,
) -> Result<Vec<(KinesisEventRecord, Option<Origin>)>, ReplayError> {
    let region = crate::das::resource::parse_stream_arn(stream_arn).region;
    let mut out = Vec::new();
    for (name, bytes, modified, _) in files(loc, s3).await? {
        let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
            crate::das::inflate::inflate(&bytes, max_file_bytes).map_err(|e| ReplayError::malformed(&name, e))?
        } else {
            bytes
        };
        let shard = format!("archive-{}", crate::layout::path_safe(&name));
        let values = serde_json::Deserializer::from_slice(&bytes).into_iter::<&serde_json::value::RawValue>();
        for (index, value) in values.enumerate() {
            let raw = value.map_err(|e| ReplayError::malformed(format!("{name}: record {index}"), e))?;
            let seq = format!("{index:020}");
            let record =
                kinesis_record(raw.get().as_bytes(), Some(stream_arn), &shard, &seq, "", modified, region.as_deref())?;
            out.push((record, None));
        }
    }
    Ok(out)
}

/// The shard and range of one on-failure message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRange {
    pub stream_arn: String,
    pub shard_id: String,
    pub start: String,
    pub end: String,
}

pub fn failed_range(message: &Value) -> Result<FailedRange, ReplayError> {
    let info = &message["KinesisBatchInfo"];
    let field = |k: &str| {
        let missing = || ReplayError::malformed("an on-failure message", format!("no KinesisBatchInfo.{k}"));
        info[k].as_str().map(str::to_owned).ok_or_else(missing)
    };
    Ok(FailedRange {
        stream_arn: field("streamArn")?,
        shard_id: field("shardId")?,
        start: field("startSequenceNumber")?,
        end: field("endSequenceNumber")?,
    })
}

fn seq_le(a: &str, b: &str) -> bool {
    (a.len(), a) <= (b.len(), b)
}

/// The records of `range`, read back from the stream.
pub async fn read_range(
    kinesis: &aws_sdk_kinesis::Client,
    range: &FailedRange,
) -> Result<Vec<KinesisEventRecord>, ReplayError> {
    use aws_sdk_kinesis::types::ShardIteratorType;
    let region = crate::das::resource::parse_stream_arn(&range.stream_arn).region;
    let what = || {
        let (shard, start) = (&range.shard_id, &range.start);
        format!("read {shard} from {start} (records past the stream's retention cannot be read back)")
    };
    let mut iterator = kinesis
        .get_shard_iterator()
        .stream_arn(&range.stream_arn)
        .shard_id(&range.shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .starting_sequence_number(&range.start)
        .send()
        .await
        .map_err(|e| ReplayError::io(what(), e))?
        .shard_iterator
        .ok_or_else(|| ReplayError::malformed(what(), "no shard iterator"))?;
    let mut out = Vec::new();
    loop {
        let page = kinesis
            .get_records()
            .shard_iterator(&iterator)
            .limit(10_000)
            .stream_arn(&range.stream_arn)
            .send()
            .await
            .map_err(|e| ReplayError::io(what(), e))?;
        let mut past_end = false;
        for r in page.records() {
            if !seq_le(r.sequence_number(), &range.end) {
                past_end = true;
                break;
            }
            let arrival = r.approximate_arrival_timestamp().map_or(0.0, |t| t.as_secs_f64());
            out.push(kinesis_record(
                r.data().as_ref(),
                Some(&range.stream_arn),
                &range.shard_id,
                r.sequence_number(),
                r.partition_key().unwrap_or_default(),
                arrival,
                region.as_deref(),
            )?);
        }
        let reached = out.last().is_some_and(|r| r.kinesis.sequence_number == range.end);
        match page.next_shard_iterator() {
            Some(next) if !past_end && !reached && !page.records().is_empty() => iterator = next.to_owned(),
            _ => break,
        }
    }
    Ok(out)
}

/// On-failure messages from a file (one JSON message, a JSON array, or one message a line) or
/// from an SQS queue URL (every message received until the queue is empty).
pub async fn on_failure(
    source: &str,
    sqs: Option<&aws_sdk_sqs::Client>,
    kinesis: &aws_sdk_kinesis::Client,
) -> Result<Vec<ReplayBatch>, ReplayError> {
    let mut messages: Vec<(Value, Option<Origin>)> = Vec::new();
    if source.starts_with("https://") || source.starts_with("http://") {
        let sqs = sqs.ok_or(ReplayError::NoClient("an SQS source"))?;
        loop {
            let got = sqs
                .receive_message()
                .queue_url(source)
                .max_number_of_messages(10)
                .visibility_timeout(900)
                .send()
                .await
                .map_err(|e| ReplayError::io(format!("receive from {source}"), e))?;
            if got.messages().is_empty() {
                break;
            }
            for m in got.messages() {
                let body: Value = serde_json::from_str(m.body().unwrap_or(""))
                    .map_err(|e| ReplayError::malformed("an SQS message", format!("not JSON: {e}")))?;
                let origin = m
                    .receipt_handle()
                    .map(|h| Origin::SqsMessage { queue_url: source.to_owned(), receipt_handle: h.to_owned() });
                messages.push((body, origin));
            }
        }
    } else {
        let text = std::fs::read_to_string(Path::new(source)).map_err(|e| ReplayError::io(source, e))?;
        for value in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
            match value.map_err(|e| ReplayError::malformed(source, e))? {
                Value::Array(list) => messages.extend(list.into_iter().map(|m| (m, None))),
                m => messages.push((m, None)),
            }
        }
    }
    let mut batches = Vec::new();
    for (message, origin) in messages {
        let range = failed_range(&message)?;
        let records = read_range(kinesis, &range).await?;
        let origins = vec![None; records.len()];
        batches.push(ReplayBatch { records, origins, batch_origin: origin });
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert!(seq_le("9", "10"));
        assert!(seq_le(
            "49590000000000000000000000000000000000000000000000000001",
            "49590000000000000000000000000000000000000000000000000002"
        ));
        assert!(!seq_le("11", "10"));
    }

    #[test]
    fn on_failure_message_fields() {
        let m = json!({"KinesisBatchInfo": {"shardId": "shardId-000000000001", "startSequenceNumber": "1", "endSequenceNumber": "5",
                       "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/aws-rds-das-cluster-A", "batchSize": 5}});
        let r = failed_range(&m).unwrap();
        assert_eq!((r.shard_id.as_str(), r.start.as_str(), r.end.as_str()), ("shardId-000000000001", "1", "5"));
        assert!(failed_range(&json!({"requestContext": {}})).unwrap_err().to_string().contains("KinesisBatchInfo"));
    }

    #[test]
    fn locations() {
        assert_eq!(Location::parse("s3://b/q/"), Location::S3 { bucket: "b".into(), prefix: "q/".into() });
        assert_eq!(Location::parse("s3://b"), Location::S3 { bucket: "b".into(), prefix: "".into() });
        assert_eq!(Location::parse("out/quarantine"), Location::Dir("out/quarantine".into()));
    }
}
