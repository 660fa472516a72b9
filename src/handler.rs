//! A Kinesis batch in, a `KinesisEventResponse` out. This is the only place
//! that knows the Kinesis semantics. Every record ends in exactly one state
//! of the response:
//!
//! * **delivered**: decoded, and every sink took its events;
//! * **quarantined**: failed permanently; stored with its reason code;
//! * **reported**: listed in `batchItemFailures` for Kinesis to retry.
//!
//! The earliest transient failure (a key provider error, the quarantine
//! store or a sink failing) is the *cut*: every record from the cut on is
//! reported and nothing from it on is delivered or quarantined in this
//! invocation, because Kinesis resumes from the earliest reported record.
//! (When a sink fails after another sink took the batch, the records from
//! the cut on reach that other sink again on the retry: delivery is at least
//! once; S3 keys and `metadata.uid` let those copies be told apart.)

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::event::streams::KinesisEventResponse;
use futures::stream::{self, StreamExt};
use serde::Serialize;
use tracing::{error, info, warn};

use std::time::Instant;

use crate::config::Config;
use crate::decode::{lookup, Keyed, Limits};
use crate::error::Failure;
use crate::keys::{DataKeyCache, KeyProvider};
use crate::output::{encode_record, EncodedRecord, FilterCounts};
use crate::parallel;
use crate::sinks::quarantine::{QuarantineEntry, QuarantineStore};
use crate::sinks::{Fanout, OutputBatch, OutputRecord, RejectedEvent, Sink};

pub struct Forwarder {
    config: Config,
    keys: DataKeyCache,
    sinks: Fanout,
    quarantine: Box<dyn QuarantineStore>,
}

/// What one invocation did; logged as one line and printed by `invoke`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub records: usize,
    pub delivered: usize,
    pub quarantined: usize,
    pub reported: usize,
    pub events: usize,
    pub heartbeats: usize,
    /// Events dropped by EXCLUDE_USERS, EXCLUDE_COMMANDS, EXCLUDE_DATABASES.
    pub filtered: FilterCounts,
    pub quarantine_reasons: BTreeMap<&'static str, usize>,
    pub key_provider_calls: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub sink_errors: Vec<String>,
    /// Events a sink refused for good, quarantined one by one.
    pub rejected_events: usize,
    pub first_reported: Option<String>,
    /// The DAS resource id of the batch (the metrics' dimension).
    pub resource_id: Option<String>,
    /// Now minus the arrival time of the batch's last record (what Lambda calls the iterator age).
    pub iterator_age_ms: Option<u64>,
    /// Now minus the arrival time of the batch's oldest record.
    pub oldest_record_age_ms: Option<u64>,
    /// What each sink did with the batch.
    pub sinks: BTreeMap<&'static str, crate::sinks::SinkStats>,
    /// Sequence numbers of the records quarantined in this invocation.
    pub quarantined_records: Vec<String>,
}

fn shard_of(record: &KinesisEventRecord) -> String {
    record
        .event_id
        .as_deref()
        .and_then(|id| id.split_once(':'))
        .map(|(shard, _)| shard.to_owned())
        .unwrap_or_else(|| "shardId-unknown".to_owned())
}

fn arrival_ms(record: &KinesisEventRecord) -> i64 {
    record.kinesis.approximate_arrival_timestamp.0.timestamp_millis()
}

fn quarantine_entry(record: &KinesisEventRecord, reason: &'static str, detail: &str) -> QuarantineEntry {
    quarantine_entry_for(record, reason, detail, None)
}

/// An entry for one event a sink refused for good (the record is kept whole too, for replay).
fn rejected_entry(record: &KinesisEventRecord, rejected: &RejectedEvent) -> QuarantineEntry {
    // The line is our own serialization; should it not parse back, keep it as a string.
    let event = serde_json::from_slice(&rejected.line)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&rejected.line).into_owned()));
    let mut entry = quarantine_entry_for(record, rejected.reason, &rejected.detail, Some((rejected.sink, event)));
    entry.event_index = Some(rejected.event);
    entry
}

fn quarantine_entry_for(
    record: &KinesisEventRecord,
    reason: &'static str,
    detail: &str,
    event: Option<(&'static str, serde_json::Value)>,
) -> QuarantineEntry {
    QuarantineEntry {
        reason,
        detail: detail.to_owned(),
        event_source_arn: record.event_source_arn.clone(),
        event_id: record.event_id.clone(),
        aws_region: record.aws_region.clone(),
        shard_id: shard_of(record),
        sequence_number: record.kinesis.sequence_number.clone(),
        partition_key: record.kinesis.partition_key.clone(),
        approximate_arrival_timestamp: arrival_ms(record) as f64 / 1000.0,
        data: QuarantineEntry::encode_data(&record.kinesis.data.0),
        sink: event.as_ref().map(|(sink, _)| *sink),
        event: event.map(|(_, e)| e),
        event_index: None,
        forwarder_version: env!("CARGO_PKG_VERSION"),
    }
}

impl Forwarder {
    pub fn new(
        config: Config,
        provider: Arc<dyn KeyProvider>,
        sinks: Vec<Box<dyn Sink>>,
        quarantine: Box<dyn QuarantineStore>,
    ) -> Forwarder {
        let keys = DataKeyCache::new(provider, config.cache_capacity, config.cache_ttl);
        Forwarder { config, keys, sinks: Fanout::new(sinks), quarantine }
    }

    pub fn key_provider_name(&self) -> &'static str {
        self.keys.provider_name()
    }

    pub fn sink_names(&self) -> Vec<&'static str> {
        self.sinks.names()
    }

    /// The invocation's CloudWatch EMF document as one line, unless `METRICS=off`.
    pub fn metrics_line(&self, summary: &Summary) -> Option<String> {
        let namespace = self.config.metrics_namespace.as_deref()?;
        Some(crate::metrics::emf(summary, namespace, chrono::Utc::now().timestamp_millis()).to_string())
    }

    /// Processes one Kinesis batch with `DELIVERY_TIMEOUT_SECS` for the sinks.
    pub async fn handle(&self, event: &KinesisEvent) -> (KinesisEventResponse, Summary) {
        self.handle_until(event, Instant::now() + self.config.delivery_timeout).await
    }

    /// Processes one Kinesis batch; the sinks give up (and records are
    /// reported) at `deadline`.
    pub async fn handle_until(&self, event: &KinesisEvent, deadline: Instant) -> (KinesisEventResponse, Summary) {
        let records = &event.records;
        let before = self.keys.stats();
        let limits = Limits {
            max_inflated_bytes: self.config.max_inflated_bytes,
            max_events_per_record: self.config.max_events_per_record,
            max_frame_length: self.config.max_frame_length,
        };
        let resource_override = self.config.resource_id.as_deref();

        // 1. Envelope and wrapping key of every record (key lookups run concurrently, order is kept).
        let keyed: Vec<Result<Keyed, Failure>> = stream::iter(records)
            .map(|r| lookup(&r.kinesis.data.0, r.event_source_arn.as_deref(), resource_override, &self.keys))
            .buffered(self.config.decrypt_concurrency)
            .collect()
            .await;
        let mut cut = keyed.iter().position(|o| matches!(o, Err(Failure::Transient(_)))).unwrap_or(records.len());
        if let Some(Err(failure)) = keyed.get(cut) {
            error!(sequence_number = %records[cut].kinesis.sequence_number, cause = %failure, "record could not be decoded now; reporting it for retry");
        }

        // 2. Decrypt, inflate, parse and encode the records before the cut on every core, in order.
        //    Each record's parsed events are dropped as soon as its lines exist.
        let filters = &self.config.filters;
        let indices: Vec<usize> = (0..cut).collect();
        let outcomes: Vec<Result<EncodedRecord, Failure>> = parallel::blocking(|| {
            parallel::map_ordered(&indices, self.config.decode_threads, |&i| {
                let keyed = keyed[i].as_ref().map_err(Clone::clone)?;
                let decoded = keyed.open(limits)?;
                Ok(encode_record(decoded, records[i].event_source_arn.as_deref(), arrival_ms(&records[i]), filters))
            })
        });
        drop(keyed);

        // 3. Quarantine the permanent failures before the cut.
        let (q_index, q_entries): (Vec<usize>, Vec<QuarantineEntry>) = outcomes
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                Err(Failure::Permanent { code, detail }) => Some((i, quarantine_entry(&records[i], code, detail))),
                _ => None,
            })
            .unzip();
        for entry in &q_entries {
            warn!(reason = entry.reason, detail = %entry.detail, sequence_number = %entry.sequence_number, "record quarantined");
        }
        if let Err((k, cause)) = self.quarantine.put(&q_entries).await {
            error!(%cause, sequence_number = %q_entries[k].sequence_number, "quarantine write failed; reporting from this record");
            cut = cut.min(q_index[k]);
        }

        // 4. Deliver the records before the cut to every sink.
        let shard_id = records.first().map(shard_of).unwrap_or_default();
        let mut batch = OutputBatch { shard_id, records: Vec::new(), deadline };
        let mut batch_index = Vec::new();
        // Per delivered record: (events, heartbeats, filtered); per quarantined record: its code.
        let mut delivered_counts: Vec<(usize, usize, FilterCounts)> = Vec::new();
        let mut quarantined_codes: Vec<(usize, &'static str)> = Vec::new();
        for (i, outcome) in outcomes.into_iter().enumerate().take(cut) {
            match outcome {
                Ok(encoded) => {
                    delivered_counts.push((encoded.events.len(), encoded.heartbeats, encoded.filtered));
                    batch.records.push(OutputRecord {
                        sequence_number: records[i].kinesis.sequence_number.clone(),
                        stream: encoded.stream,
                        instance_id: encoded.instance_id,
                        region: encoded.region,
                        account: encoded.account,
                        events: encoded.events,
                    });
                    batch_index.push(i);
                }
                Err(f) => quarantined_codes.push((i, f.code())),
            }
        }
        let (rejected, sink_errors, sink_stats) = self.sinks.deliver(&batch).await;
        for e in &sink_errors {
            error!(sink = e.sink, detail = %e.detail, "sink failed; reporting from its first undelivered record");
        }
        if let Some(first) = sink_errors.first() {
            cut = cut.min(batch_index[first.first_undelivered]);
        }

        // 5. Events a receiver refused for good go to the quarantine too.
        let rejected: Vec<(usize, QuarantineEntry)> = rejected
            .iter()
            .map(|r| batch_index[r.record])
            .zip(&rejected)
            .filter(|(i, _)| *i < cut)
            .map(|(i, r)| (i, rejected_entry(&records[i], r)))
            .collect();
        let rejected_events = rejected.len();
        let (r_index, r_entries): (Vec<usize>, Vec<QuarantineEntry>) = rejected.into_iter().unzip();
        if let Err((k, cause)) = self.quarantine.put(&r_entries).await {
            error!(%cause, "quarantine write of refused events failed; reporting from their record");
            cut = cut.min(r_index[k]);
        }

        // 6. Account for every record and answer Kinesis.
        let stats = self.keys.stats().since(&before);
        let mut summary = Summary {
            records: records.len(),
            reported: records.len() - cut,
            key_provider_calls: stats.provider_calls,
            cache_hits: stats.cache_hits,
            cache_misses: stats.cache_misses,
            sink_errors: sink_errors.iter().map(|e| e.to_string()).collect(),
            rejected_events,
            first_reported: records.get(cut).map(|r| r.kinesis.sequence_number.clone()),
            resource_id: records
                .first()
                .and_then(|r| crate::das::resource::resource_id(r.event_source_arn.as_deref(), resource_override).ok())
                .map(|r| r.as_str().to_owned()),
            sinks: sink_stats.into_iter().collect(),
            ..Summary::default()
        };
        let now_ms = chrono::Utc::now().timestamp_millis();
        let age = |arrival: i64| u64::try_from(now_ms - arrival).unwrap_or(0);
        summary.iterator_age_ms = records.last().map(|r| age(arrival_ms(r)));
        summary.oldest_record_age_ms = records.iter().map(arrival_ms).min().map(age);
        // A sink or quarantine failure may have moved the cut: count only the records before it.
        for (&i, (events, heartbeats, filtered)) in batch_index.iter().zip(&delivered_counts) {
            if i < cut {
                summary.delivered += 1;
                summary.events += events;
                summary.heartbeats += heartbeats;
                summary.filtered.add(filtered);
            }
        }
        for &(i, code) in quarantined_codes.iter().filter(|(i, _)| *i < cut) {
            summary.quarantined_records.push(records[i].kinesis.sequence_number.clone());
            summary.quarantined += 1;
            *summary.quarantine_reasons.entry(code).or_default() += 1;
        }
        let mut response = KinesisEventResponse::default();
        response.set_failures(records[cut..].iter().map(|r| r.kinesis.sequence_number.clone()));
        info!(
            records = summary.records,
            delivered = summary.delivered,
            quarantined = summary.quarantined,
            reported = summary.reported,
            events = summary.events,
            heartbeats = summary.heartbeats,
            key_provider_calls = summary.key_provider_calls,
            cache_hits = summary.cache_hits,
            "batch done"
        );
        (response, summary)
    }
}
