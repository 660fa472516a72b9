//! The checks of one activity stream: it exists and is active, its database streams activity,
//! and one recent record of each shard goes through the function's own path (envelope, KMS
//! `Decrypt` under the RDS encryption context, ESDK, gunzip, the event list). What is reported
//! is the record's version, engine and counts; never an event's content.

use std::time::SystemTime;

use aws_sdk_kinesis::types::{ShardIteratorType, StreamStatus};

use super::{described, timed, Report, LOOKBACK};
use crate::das::activity::{events_of, ReadLimits};
use crate::das::resource::{parse_stream_arn, resource_id_of, ResourceId};
use crate::error::Failure;
use crate::esdk::{self, RawAesKeyring};
use crate::keys::{KeyContext, KeyProvider};
use crate::pipeline::Settings;

/// Pages of `GetRecords` read per shard looking for a record.
const MAX_PAGES: usize = 5;

/// What the checks of a stream need.
pub struct Parts<'a> {
    pub kinesis: &'a aws_sdk_kinesis::Client,
    pub rds: &'a aws_sdk_rds::Client,
    pub keys: &'a dyn KeyProvider,
    pub settings: &'a Settings,
}

const KINESIS_ACTIONS: &str = "kinesis:DescribeStreamSummary, kinesis:ListShards, kinesis:GetShardIterator and \
     kinesis:GetRecords on the stream (AWSLambdaKinesisExecutionRole has them)";

/// The fix for an AWS error `code` from a call that needs `actions`.
fn aws_fix(code: Option<&str>, actions: &str) -> String {
    match code {
        Some("AccessDeniedException") => format!("allow {actions} to the role the checks ran as"),
        Some("ResourceNotFoundException") => "no stream with this ARN in this account and region: start the \
             activity stream (aws rds start-activity-stream --resource-arn <database ARN> --kms-key-id <key> \
             --mode async --apply-immediately), which creates aws-rds-das-<resource-id>"
            .into(),
        None => "the call timed out: check the network path to Kinesis (a VPC endpoint in a private subnet)".into(),
        Some(_) => "see the error; run the check again with RUST_LOG=info for the SDK's retries".into(),
    }
}

/// Checks the stream `arn`.
pub async fn check(parts: &Parts<'_>, arn: &str, report: &mut Report) {
    let source = parse_stream_arn(arn);
    let target = format!("stream {}", source.stream.as_deref().unwrap_or(arn));
    let resource = match resource_id_of(Some(&source), parts.settings.resource_id.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            let fix = "a DAS stream is named aws-rds-das-<resource-id>; pass its ARN, or set DAS_RESOURCE_ID to the \
                       database's resource id (cluster-… or db-…)";
            return report.fail(&target, "stream.name", e.to_string(), fix);
        }
    };
    let summary = timed(parts.kinesis.describe_stream_summary().stream_arn(arn).send()).await;
    let summary = match summary {
        Ok(out) => out.stream_description_summary,
        Err(e) => {
            let (code, detail) = described(e);
            return report.fail(&target, "stream.exists", detail, aws_fix(code.as_deref(), KINESIS_ACTIONS));
        }
    };
    let Some(summary) = summary else {
        return report.fail(&target, "stream.exists", "no description in the answer", aws_fix(None, KINESIS_ACTIONS));
    };
    let shards = summary.open_shard_count;
    match summary.stream_status {
        StreamStatus::Active | StreamStatus::Updating => {
            report.ok(&target, "stream.active", format!("{}, {shards} open shards", summary.stream_status.as_str()))
        }
        other => {
            let fix = "the stream is being created or deleted: wait for ACTIVE, or start the activity stream again";
            return report.fail(&target, "stream.active", format!("status {}", other.as_str()), fix);
        }
    }
    super::database::check(parts.rds, &resource, &target, report).await;
    let shard_ids = match timed(parts.kinesis.list_shards().stream_arn(arn).send()).await {
        Ok(out) => out.shards().iter().map(|s| s.shard_id().to_owned()).collect::<Vec<_>>(),
        Err(e) => {
            let (code, detail) = described(e);
            return report.fail(&target, "stream.shards", detail, aws_fix(code.as_deref(), KINESIS_ACTIONS));
        }
    };
    for shard in shard_ids {
        let target = format!("{target} {shard}");
        match recent_record(parts.kinesis, arn, &shard).await {
            Ok(Some((sequence, data))) => record(parts, &target, &resource, &sequence, &data, report).await,
            Ok(None) => report.warn(
                &target,
                "record.recent",
                format!("no record in the last {} minutes", LOOKBACK.as_secs() / 60),
                "DAS writes heartbeats every few seconds while the activity stream runs: check that it is started \
                 (aws rds describe-db-clusters: ActivityStreamStatus)",
            ),
            Err((code, detail)) => {
                report.fail(&target, "record.read", detail, aws_fix(code.as_deref(), KINESIS_ACTIONS));
            }
        }
    }
}

/// The first record of `shard` from `LOOKBACK` ago on: (sequence number, data).
async fn recent_record(
    kinesis: &aws_sdk_kinesis::Client,
    arn: &str,
    shard: &str,
) -> Result<Option<(String, Vec<u8>)>, (Option<String>, String)> {
    let since = SystemTime::now().checked_sub(LOOKBACK).unwrap_or(SystemTime::UNIX_EPOCH);
    let request = kinesis
        .get_shard_iterator()
        .stream_arn(arn)
        .shard_id(shard)
        .shard_iterator_type(ShardIteratorType::AtTimestamp)
        .timestamp(since.into())
        .send();
    let mut iterator = timed(request).await.map_err(described)?.shard_iterator;
    for _ in 0..MAX_PAGES {
        let Some(it) = iterator.take() else { break };
        let request = kinesis.get_records().shard_iterator(it).limit(10).stream_arn(arn).send();
        let page = timed(request).await.map_err(described)?;
        if let Some(r) = page.records().first() {
            return Ok(Some((r.sequence_number().to_owned(), r.data().as_ref().to_vec())));
        }
        if page.millis_behind_latest() == Some(0) {
            break;
        }
        iterator = page.next_shard_iterator;
    }
    Ok(None)
}

/// The fix for a key failure `code`, for the stream of `resource`.
fn key_fix(code: &str, resource: &ResourceId) -> String {
    let (context, id) = (resource.encryption_context_key(), resource.as_str());
    match code {
        "kms.access_denied" => format!(
            "the key policy (or the role's policy) must allow kms:Decrypt to this role with the condition \
             kms:EncryptionContext:{context} = {id} (the template grants it on DasKmsKeyArn)"
        ),
        "kms.invalid_ciphertext" => format!(
            "the key blob is not bound to {context} = {id}: the record comes from another database than the \
             stream's name says, or DAS_RESOURCE_ID names another one. Unset DAS_RESOURCE_ID, or set it to the \
             resource id of the database that writes this stream"
        ),
        "kms.incorrect_key" | "kms.key_unavailable" => "the activity stream's KMS key is disabled, deleted or \
             pending deletion, or not the key the stream was started with: enable it (a deletion can be \
             cancelled during its waiting period), or restart the activity stream with a usable key"
            .into(),
        "transient" => "KMS did not answer: check the network path to KMS (a VPC endpoint in a private subnet) \
             and KMS_TIMEOUT_MS"
            .into(),
        _ => "see the error".into(),
    }
}

/// One record through the function's path.
async fn record(
    parts: &Parts<'_>,
    target: &str,
    resource: &ResourceId,
    sequence: &str,
    data: &[u8],
    report: &mut Report,
) {
    let envelope = match crate::das::envelope::parse(data) {
        Ok(e) => e,
        Err(e) => {
            let fix = "the stream holds something else than Database Activity Stream records: check the stream ARN";
            return report.fail(target, "record.envelope", format!("record {sequence}: {e}"), fix);
        }
    };
    let ctx = KeyContext { key: resource.encryption_context_key(), value: resource.as_str() };
    let key = match timed(parts.keys.decrypt(&envelope.key_blob, ctx)).await {
        Ok(k) => k,
        Err(e) => {
            let failure = e.map_or(Failure::Transient("KMS Decrypt timed out".into()), Failure::from);
            let fix = key_fix(failure.code(), resource);
            return report.fail(target, "record.kms", format!("record {sequence}: {failure}"), fix);
        }
    };
    report.ok(target, "record.kms", format!("KMS Decrypt under {} = {}", ctx.key, ctx.value));
    let limits = &parts.settings.limits;
    let read = esdk::decrypt(&envelope.message, &RawAesKeyring::das(key.bytes()))
        .map_err(Failure::from)
        .and_then(|plain| crate::das::inflate::inflate(&plain, limits.max_inflated_bytes).map_err(Failure::from))
        .and_then(|json| {
            let read_limits =
                ReadLimits { max_events: limits.max_events_per_record, max_event_bytes: limits.max_event_bytes };
            events_of(&json, read_limits).map_err(Failure::from)
        });
    match read {
        Ok((info, events)) => {
            let engine = events
                .first()
                .and_then(|e| serde_json::from_str::<serde_json::Value>(e).ok())
                .and_then(|e| e["serverType"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "heartbeats only".into());
            let detail = format!(
                "record {sequence}: version {}, {engine}, {} events, {} heartbeats",
                envelope.version,
                events.len(),
                info.heartbeats
            );
            report.ok(target, "record.decode", detail);
        }
        Err(failure) => {
            let fix = "the record would be quarantined under this reason code: see docs/operations.md";
            report.fail(target, "record.decode", format!("record {sequence}: {failure}"), fix);
        }
    }
}
