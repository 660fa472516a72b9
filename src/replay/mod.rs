//! `das-forwarder replay`: records that did not go through, run again through the exact
//! pipeline and the configured sinks. Three sources:
//!
//! * `--quarantine DIR|s3://bucket/prefix/`: quarantine entries (after fixing the cause); an
//!   entry is removed once its record is delivered, and stays where it is when it fails again;
//! * `--on-failure FILE|SQS-URL`: Kinesis on-failure destination messages, which only name a
//!   shard and a sequence range: the records are read back from the stream (`AT_SEQUENCE_NUMBER`)
//!   while they are within retention; a message is deleted from the queue once its range is done;
//! * `--archive DIR|s3://bucket/prefix/`: DAS records archived by Kinesis Data Firehose (files of
//!   concatenated or newline-separated records, optionally gzip).
//!
//! Output keys derive from the input (shard and sequence numbers), so a replay run twice writes
//! the same objects, never duplicates.

pub(crate) mod sources;

/// Why replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A source could not be read, or an origin not cleared: a file, an object, the stream, a queue.
    #[error(transparent)]
    Io(#[from] IoError),
    /// Something a source holds is not what replay reads (`what` names it).
    #[error("{what}: {why}")]
    Malformed { what: String, why: String },
    /// A source that needs a client that was not configured.
    #[error("{0} needs AWS configuration")]
    NoClient(&'static str),
}

impl ReplayError {
    /// `what` failed because of `source`.
    pub fn io(what: impl Into<String>, source: impl Into<BoxError>) -> ReplayError {
        ReplayError::Io(IoError::new(what, source))
    }

    pub fn malformed(what: impl Into<String>, why: impl std::fmt::Display) -> ReplayError {
        ReplayError::Malformed { what: what.into(), why: why.to_string() }
    }
}

use std::path::PathBuf;

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::error::{BoxError, IoError};
use crate::handler::Forwarder;

/// Where files come from: a local directory or an S3 prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Dir(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Location {
    pub fn parse(s: &str) -> Location {
        match s.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                Location::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned() }
            }
            None => Location::Dir(PathBuf::from(s)),
        }
    }
}

/// What replay did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct ReplaySummary {
    pub records: usize,
    pub delivered: usize,
    pub quarantined: usize,
    pub reported: usize,
    pub events: usize,
    pub filtered: usize,
    /// Quarantine entries or on-failure messages removed because their records went through.
    pub cleared: usize,
    pub dry_run: bool,
}

/// A group of records to run as one batch (one shard, in order), and how to clear its origin.
pub struct ReplayBatch {
    pub records: Vec<KinesisEventRecord>,
    /// Per record: the quarantine entry (or nothing) to remove once it is delivered.
    pub origins: Vec<Option<sources::Origin>>,
    /// Removed once every record of the batch is delivered or quarantined (an SQS message).
    pub batch_origin: Option<sources::Origin>,
}

/// Runs every batch through `forwarder`; clears origins unless `dry_run`.
pub async fn run(
    forwarder: &Forwarder,
    batches: Vec<ReplayBatch>,
    cleaner: &sources::Cleaner,
    dry_run: bool,
) -> Result<ReplaySummary, ReplayError> {
    let total: usize = batches.iter().map(|b| b.records.len()).sum();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} replay [{bar:40}] {pos}/{len} records {msg}")
            .map_err(|e| ReplayError::io("the progress bar", e))?
            .progress_chars("=> "),
    );
    let mut summary = ReplaySummary { dry_run, ..ReplaySummary::default() };
    for batch in batches {
        let mut event = KinesisEvent::default();
        event.records = batch.records;
        let (response, s) = forwarder.handle(&event).await;
        summary.records += s.records;
        summary.delivered += s.delivered;
        summary.quarantined += s.quarantined;
        summary.reported += s.reported;
        summary.events += s.events;
        summary.filtered += s.filtered.total();
        let reported: std::collections::BTreeSet<&str> =
            response.batch_item_failures.iter().filter_map(|f| f.item_identifier.as_deref()).collect();
        if !dry_run {
            for (record, origin) in event.records.iter().zip(&batch.origins) {
                let seq = record.kinesis.sequence_number.as_str();
                let delivered = !reported.contains(seq) && !s.quarantined_records.iter().any(|q| q == seq);
                if let (true, Some(origin)) = (delivered, origin) {
                    cleaner.clear(origin).await?;
                    summary.cleared += 1;
                }
            }
            if let (true, Some(origin)) = (reported.is_empty(), &batch.batch_origin) {
                cleaner.clear(origin).await?;
                summary.cleared += 1;
            }
        }
        bar.inc(s.records as u64);
        bar.set_message(format!(
            "{} delivered, {} quarantined, {} reported",
            summary.delivered, summary.quarantined, summary.reported
        ));
    }
    bar.finish_and_clear();
    Ok(summary)
}

/// Groups records by shard, in sequence order, into batches of at most `size`.
pub fn into_batches(mut items: Vec<(KinesisEventRecord, Option<sources::Origin>)>, size: usize) -> Vec<ReplayBatch> {
    let shard =
        |r: &KinesisEventRecord| r.event_id.as_deref().and_then(|id| id.split_once(':')).map(|(s, _)| s.to_owned());
    items.sort_by(|(a, _), (b, _)| {
        let (sa, sb) = (&a.kinesis.sequence_number, &b.kinesis.sequence_number);
        shard(a).cmp(&shard(b)).then(sa.len().cmp(&sb.len())).then(sa.cmp(sb))
    });
    let mut batches: Vec<ReplayBatch> = Vec::new();
    for (record, origin) in items {
        let same_shard = batches
            .last()
            .is_some_and(|b| b.records.len() < size.max(1) && b.records.last().map(shard) == Some(shard(&record)));
        if !same_shard {
            batches.push(ReplayBatch { records: Vec::new(), origins: Vec::new(), batch_origin: None });
        }
        if let Some(b) = batches.last_mut() {
            b.records.push(record);
            b.origins.push(origin);
        }
    }
    batches
}
