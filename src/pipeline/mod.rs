//! One Kinesis batch through bounded stages, in data-flow order:
//!
//! 1. `lookup`: envelopes and wrapping keys (the KMS calls, concurrent, cached);
//! 2. `decode` on the `workers` threads: decrypt, inflate and read each record event by event,
//!    writing OCSF lines; outputs come back in record order, bounded by the memory budget;
//! 3. `deliver`: lines gather into chunks of about `chunk_bytes`, each appended to every
//!    sink while the threads decode the next; permanent failures go to the quarantine with the
//!    chunk they fall in; the sinks finish by the deadline;
//! 4. `fates`: each record's fate, the cut, the summary and the response.
//!
//! The deadline bounds every stage: from `deadline - FLUSH_RESERVE_MS` (at most half the time
//! left) on nothing new is taken, what was taken is finished, and the records not done are
//! reported (the cut), so the invocation answers in time and the shard moves on.

pub mod decode;
mod deliver;
pub(crate) mod fates;
pub(crate) mod lookup;
mod uids;
pub(crate) mod workers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::event::streams::KinesisEventResponse;
use futures::StreamExt;
use tracing::{debug, error, info};

use crate::config::env::{err, ConfigError, Env};
use crate::das::resource::{parse_stream_arn, resource_id_of, ResourceId};
use crate::error::Failure;
use crate::keys::{DataKeyCache, KeyStats};
use crate::ocsf::Filters;
use crate::sinks::quarantine::{QuarantineEntry, QuarantineStore};
use crate::sinks::{BatchInfo, Chunk, Fanout};
use decode::{Job, Limits};
use deliver::{quarantine_entry, Delivery};
use fates::{Fates, Summary};
use lookup::Source;
use workers::Workers;

/// How the memory budget of a batch (`BATCH_MEMORY_MB`) is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub total: usize,
}

impl Budget {
    /// A chunk: the lines appended to the sinks at a time (one is filled while one is delivered).
    pub fn chunk_bytes(&self) -> usize {
        (self.total / 8).max(64 << 10)
    }
    /// Outputs decoded ahead of the delivery.
    pub fn ahead_bytes(&self) -> usize {
        self.total / 4
    }
    /// The sinks' own buffers (the S3 sink's compressed objects and row groups).
    pub fn sink_bytes(&self) -> usize {
        self.total / 2
    }
}

/// How a batch runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// What one record may hold (`MAX_INFLATED_BYTES`, `MAX_EVENTS_PER_RECORD`, …).
    pub limits: Limits,
    /// What a batch may hold in memory beyond its input (`BATCH_MEMORY_MB`).
    pub budget: Budget,
    /// From the deadline minus this on, nothing new is taken and the sinks finish (`FLUSH_RESERVE_MS`).
    pub flush_reserve: Duration,
    /// Threads that decrypt and normalize a batch (`DECODE_THREADS`).
    pub decode_threads: usize,
    /// Key lookups in flight (`DECRYPT_CONCURRENCY`).
    pub decrypt_concurrency: usize,
    /// The resource id of every record, instead of the one its stream's name gives (`DAS_RESOURCE_ID`).
    pub resource_id: Option<String>,
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Settings, ConfigError> {
        Ok(Settings {
            limits: Limits::from_env(env)?,
            budget: Budget { total: env.number("BATCH_MEMORY_MB", 32, 8, 4096)? << 20 },
            flush_reserve: Duration::from_millis(env.number("FLUSH_RESERVE_MS", 3000, 0, 600_000)?),
            decode_threads: env.number("DECODE_THREADS", crate::parallel::default_threads().min(64), 1, 64)?,
            decrypt_concurrency: env.number("DECRYPT_CONCURRENCY", 32, 1, 1024)?,
            resource_id: match env.get("DAS_RESOURCE_ID") {
                Some(id) => {
                    Some(ResourceId::new(&id).map_err(|e| err("DAS_RESOURCE_ID", e.to_string()))?.as_str().to_owned())
                }
                None => None,
            },
        })
    }
}

/// The parts of the forwarder a batch runs through.
pub struct Stages<'a> {
    pub settings: &'a Settings,
    pub filters: &'a Arc<Filters>,
    pub keys: &'a DataKeyCache,
    pub sinks: &'a Fanout,
    pub quarantine: &'a dyn QuarantineStore,
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

/// The stream of each record and the resource id it gives, its ARN parsed once per run of
/// records with the same ARN (a batch comes from one stream), and shared by those records.
fn sources(records: &[KinesisEventRecord], resource_override: Option<&str>) -> Vec<Arc<Source>> {
    let mut last: Option<(Option<&str>, Arc<Source>)> = None;
    records
        .iter()
        .map(|r| {
            let arn = r.event_source_arn.as_deref();
            match &last {
                Some((a, s)) if *a == arn => s.clone(),
                _ => {
                    let parsed = arn.map(parse_stream_arn);
                    let resource = resource_id_of(parsed.as_ref(), resource_override);
                    let s = Arc::new(Source { stream: Arc::new(parsed.unwrap_or_default()), resource });
                    last = Some((arn, s.clone()));
                    s
                }
            }
        })
        .collect()
}

/// Asks for the keys of a batch's first records while the rest of the batch is still being read
/// (`invoke`): each distinct key once, `DECRYPT_CONCURRENCY` at a time.
pub async fn warm_keys(keys: &DataKeyCache, settings: &Settings, first: &[KinesisEventRecord]) {
    let sources = sources(first, settings.resource_id.as_deref());
    lookup::warm(first, &sources, keys, settings.decrypt_concurrency).await
}

/// Runs one batch; every stage gives up in time for the invocation to answer by `deadline`.
/// `before` is the key cache's counters when the invocation began (the summary gives the
/// difference).
pub async fn run(
    stages: &Stages<'_>,
    event: &KinesisEvent,
    deadline: Instant,
    before: KeyStats,
) -> (KinesisEventResponse, Summary) {
    let settings = stages.settings;
    let records = &event.records;
    // The sinks' last requests need time after the last chunk: FLUSH_RESERVE_MS, or half the
    // time left when that is shorter.
    let now = Instant::now();
    let left = deadline.saturating_duration_since(now);
    let reserve = settings.flush_reserve.min(left / 2);
    let stop_at = deadline.checked_sub(reserve).unwrap_or(deadline).max(now);
    // The sinks answer a little before the deadline: the events they refused still have to
    // reach the quarantine.
    let sinks_deadline = deadline.checked_sub((left / 10).min(std::time::Duration::from_millis(500))).unwrap_or(now);
    let resource_override = settings.resource_id.as_deref();
    let mut summary = Summary::default();

    // 1. Envelopes and wrapping keys, in record order; 2. each record goes to the decode
    // threads as soon as its key is in hand, while the next ones are looked up.
    let budget = settings.budget;
    let limits = settings.limits;
    let workers = Workers::start(
        0,
        records.len(),
        settings.decode_threads,
        limits,
        stages.filters.clone(),
        budget.chunk_bytes(),
        budget.ahead_bytes(),
    );
    let sources = sources(records, resource_override);
    let mut fates = Fates::new(records.len());
    let mut cut_reason = None;
    let mut to_decode = 0;
    let mut lookups = std::pin::pin!(lookup::lookups(records, &sources, stages.keys, settings.decrypt_concurrency));
    let until = tokio::time::Instant::from_std(stop_at);
    loop {
        let index = to_decode;
        match tokio::time::timeout_at(until, lookups.next()).await {
            Ok(Some(Err(failure @ Failure::Transient(_)))) => {
                error!(sequence_number = %records[index].kinesis.sequence_number, cause = %failure, "record could not be decoded now; reporting it for retry");
                cut_reason = Some(failure.to_string());
                fates.cut_at(index);
                break;
            }
            Ok(Some(looked_up)) => {
                if index == 0 {
                    debug!("first record's key in hand");
                }
                workers.give(match looked_up {
                    Ok(keyed) => Ok(Job {
                        index,
                        keyed,
                        source: sources[index].stream.clone(),
                        arrival_ms: arrival_ms(&records[index]),
                    }),
                    Err(f) => Err((index, f)),
                });
                to_decode += 1;
            }
            Ok(None) => break,
            Err(_) => {
                cut_reason = Some("deadline: key lookups not finished".into());
                fates.cut_at(index);
                break;
            }
        }
    }
    workers.given_all(to_decode);
    debug!(given = to_decode, "every record's key in hand");

    // 3. Delivery, chunk by chunk, while the threads decode ahead.
    let batch = BatchInfo {
        shard_id: records.first().map(shard_of).unwrap_or_default(),
        last_sequence_number: records.last().map(|r| r.kinesis.sequence_number.clone()).unwrap_or_default(),
        deadline: sinks_deadline,
    };
    let mut d = Delivery {
        records,
        sources: sources.iter().map(|s| s.stream.clone()).collect(),
        writer: stages.sinks.open(&batch),
        quarantine: stages.quarantine,
        fates,
        cut_reason,
        chunk: Chunk::default(),
        entries: Vec::new(),
        handed: 0,
        chunk_bytes: budget.chunk_bytes(),
        stop_at,
        deadline,
        chunks: 0,
    };
    let until = tokio::time::Instant::from_std(stop_at);
    loop {
        let next = tokio::select! {
            next = workers.handoff.next() => next,
            () = tokio::time::sleep_until(until) => {
                let at = d.handed;
                d.cut(at, "deadline: stopped before decoding the rest".into());
                break;
            }
        };
        let Some((index, outcome)) = next else {
            // Every record given, unless no decode thread could be started: the records no
            // thread took are reported, never taken as handed.
            let given = workers.handoff.head().min(to_decode);
            if d.handed < given {
                d.flush(given).await;
            }
            if given < to_decode {
                d.cut(given, "no decode thread could be started".into());
            }
            break;
        };
        if !d.take(index, outcome).await {
            break;
        }
    }
    workers.stop();
    debug!(chunks = d.chunks, "decoded and handed to the sinks");
    let last = d.fates.cut().min(to_decode);
    if d.handed < last && d.fates.cut() > d.handed {
        // Outcomes taken but not yet flushed when the loop stopped early are not delivered.
        let at = d.handed;
        d.cut(at, "stopped before delivering the rest".into());
    }

    // 4. The sinks finish; refused events go to the quarantine.
    let Delivery { writer, mut fates, mut cut_reason, chunks, .. } = d;
    let done = writer.finish().await;
    debug!("sinks finished");
    for e in &done.errors {
        error!(sink = e.sink, detail = %e.detail, "sink failed; reporting from its first undelivered record");
    }
    if let Some(e) = done.errors.first() {
        if e.first_undelivered < fates.cut() {
            fates.cut_at(e.first_undelivered);
            cut_reason = Some(e.to_string());
        }
    }
    let rejected: Vec<(usize, QuarantineEntry)> = done
        .rejected
        .iter()
        .filter(|r| r.record < fates.cut())
        .map(|r| (r.record, quarantine_entry(&records[r.record], r.reason, &r.detail, Some(r))))
        .collect();
    summary.rejected_events = rejected.len();
    let (r_index, r_entries): (Vec<usize>, Vec<QuarantineEntry>) = rejected.into_iter().unzip();
    let until = tokio::time::Instant::from_std(deadline);
    let written = match tokio::time::timeout_at(until, stages.quarantine.put(&r_entries)).await {
        Ok(r) => r,
        Err(_) => Err((0, "deadline reached".into())),
    };
    if let Err((k, cause)) = written {
        error!(%cause, "quarantine write of refused events failed; reporting from their record");
        if r_index[k] < fates.cut() {
            fates.cut_at(r_index[k]);
            cut_reason = Some(format!("quarantine: {cause}"));
        }
    }

    // 5. The fates, folded.
    let stats = stages.keys.stats().since(&before);
    summary.key_provider_calls = stats.provider_calls;
    summary.cache_hits = stats.cache_hits;
    summary.cache_misses = stats.cache_misses;
    summary.sink_errors = done.errors.iter().map(|e| e.to_string()).collect();
    summary.resource_id = records
        .first()
        .and_then(|r| crate::das::resource::resource_id(r.event_source_arn.as_deref(), resource_override).ok())
        .map(|r| r.as_str().to_owned());
    summary.sinks = done.stats.into_iter().collect();
    summary.chunks = chunks;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let age = |arrival: i64| u64::try_from(now_ms - arrival).unwrap_or(0);
    summary.iterator_age_ms = records.last().map(|r| age(arrival_ms(r)));
    summary.oldest_record_age_ms = records.iter().map(arrival_ms).min().map(age);
    fates.fold(records, &mut summary);
    summary.cut_reason = if summary.reported > 0 { cut_reason } else { None };
    let response = fates.response(records);
    info!(
        records = summary.records,
        delivered = summary.delivered,
        quarantined = summary.quarantined,
        reported = summary.reported,
        events = summary.events,
        heartbeats = summary.heartbeats,
        chunks = summary.chunks,
        key_provider_calls = summary.key_provider_calls,
        cache_hits = summary.cache_hits,
        "batch done"
    );
    (response, summary)
}
