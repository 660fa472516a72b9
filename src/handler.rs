//! A Kinesis batch in, a `KinesisEventResponse` out: the forwarder's parts, built once per
//! cold start, and the entry point of each invocation. The batch runs through the stages of
//! `pipeline` (see there for the record states and the cut).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::event::streams::KinesisEventResponse;

use crate::config::Config;
use crate::keys::{DataKeyCache, KeyProvider, KeyStats};
use crate::ocsf::Filters;
use crate::pipeline::{run, Stages};
use crate::sinks::quarantine::QuarantineStore;
use crate::sinks::{Fanout, Sink};

pub use crate::pipeline::fates::Summary;

pub struct Forwarder {
    config: Config,
    filters: Arc<Filters>,
    keys: DataKeyCache,
    sinks: Fanout,
    quarantine: Box<dyn QuarantineStore>,
}

impl Forwarder {
    pub fn new(
        config: Config,
        provider: Arc<dyn KeyProvider>,
        sinks: Vec<Box<dyn Sink>>,
        quarantine: Box<dyn QuarantineStore>,
    ) -> Forwarder {
        let keys = DataKeyCache::new(provider, config.cache_capacity, config.cache_ttl);
        let filters = Arc::new(config.filters.clone());
        Forwarder { config, filters, keys, sinks: Fanout::new(sinks), quarantine }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The invocation's CloudWatch EMF document as one line, unless `METRICS=off`.
    pub fn metrics_line(&self, summary: &Summary) -> Option<String> {
        let namespace = self.config.metrics_namespace.as_deref()?;
        Some(crate::metrics::emf(summary, namespace, chrono::Utc::now().timestamp_millis()).to_string())
    }

    /// Processes one Kinesis batch by now + `DELIVERY_TIMEOUT_SECS`.
    pub async fn handle(&self, event: &KinesisEvent) -> (KinesisEventResponse, Summary) {
        self.handle_until(event, Instant::now() + self.config.delivery_timeout).await
    }

    /// Processes one Lambda invocation whose runtime deadline is `deadline` (the runtime
    /// context's `deadline()`), answering `DEADLINE_MARGIN_MS` before it.
    pub async fn handle_invocation(
        &self,
        event: &KinesisEvent,
        deadline: SystemTime,
    ) -> (KinesisEventResponse, Summary) {
        let now = SystemTime::now();
        let left = time_left(deadline, now, self.config.deadline_margin).unwrap_or_else(|| {
            let epoch_ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
            tracing::warn!(
                deadline_ms = epoch_ms(deadline),
                now_ms = epoch_ms(now),
                "the runtime's deadline had passed when the invocation arrived, which Lambda never does \
                 (cargo lambda watch sends a fixed one): using now + DELIVERY_TIMEOUT_SECS"
            );
            self.config.delivery_timeout
        });
        self.handle_until(event, Instant::now() + left).await
    }

    /// Processes one Kinesis batch; every stage gives up in time to answer by `deadline`, and
    /// the records not done by then are reported.
    pub async fn handle_until(&self, event: &KinesisEvent, deadline: Instant) -> (KinesisEventResponse, Summary) {
        self.handle_since(event, deadline, self.key_stats()).await
    }

    /// The key cache's counters now: what `handle_since` counts from.
    pub fn key_stats(&self) -> KeyStats {
        self.keys.stats()
    }

    /// Asks for the keys of a batch's first records, while the rest of the batch is read.
    pub async fn warm_keys(&self, first: &[KinesisEventRecord]) {
        crate::pipeline::warm_keys(&self.keys, &self.config.pipeline, first).await
    }

    /// As `handle_until`, with the key counters of the summary counted from `before` (taken
    /// before `warm_keys`, whose calls belong to the batch).
    pub async fn handle_since(
        &self,
        event: &KinesisEvent,
        deadline: Instant,
        before: KeyStats,
    ) -> (KinesisEventResponse, Summary) {
        let stages = Stages {
            settings: &self.config.pipeline,
            filters: &self.filters,
            keys: &self.keys,
            sinks: &self.sinks,
            quarantine: self.quarantine.as_ref(),
        };
        run(&stages, event, deadline, before).await
    }
}

/// The time an invocation may take: up to `margin` before the runtime's deadline. None when the
/// deadline is not in the future at all: Lambda hands an invocation over with its whole timeout
/// ahead, so such a deadline comes from an emulator, not from Lambda.
pub fn time_left(deadline: SystemTime, now: SystemTime, margin: Duration) -> Option<Duration> {
    let ahead = deadline.duration_since(now).ok().filter(|d| !d.is_zero())?;
    Some(ahead.saturating_sub(margin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_is_the_deadline_minus_the_margin() {
        let margin = Duration::from_millis(2000);
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        let now = 1_796_300_000_000;
        assert_eq!(time_left(at(now + 60_000), at(now), margin), Some(Duration::from_millis(58_000)));
        // Less than the margin ahead: no time at all, every record is reported.
        assert_eq!(time_left(at(now + 1_500), at(now), margin), Some(Duration::ZERO));
        // Passed on arrival: not a Lambda deadline (cargo lambda watch sends 600000).
        assert_eq!(time_left(at(600_000), at(now), margin), None);
        assert_eq!(time_left(at(now), at(now), margin), None);
    }
}
