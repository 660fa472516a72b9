//! A Kinesis batch in, a `KinesisEventResponse` out: the forwarder's parts, built once per
//! cold start, and the entry point of each invocation. The batch runs through the stages of
//! `pipeline` (see there for the record states and the cut).

use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;

use crate::config::Config;
use crate::keys::{DataKeyCache, KeyProvider};
use crate::ocsf::Filters;
use crate::pipeline::{run, Stages};
use crate::sinks::quarantine::QuarantineStore;
use crate::sinks::{Fanout, Sink};

pub use crate::pipeline::fates::{FilterCounts, Summary};

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

    /// Processes one Kinesis batch; every stage gives up in time to answer by `deadline`, and
    /// the records not done by then are reported.
    pub async fn handle_until(&self, event: &KinesisEvent, deadline: Instant) -> (KinesisEventResponse, Summary) {
        let stages = Stages {
            config: &self.config,
            filters: &self.filters,
            keys: &self.keys,
            sinks: &self.sinks,
            quarantine: self.quarantine.as_ref(),
        };
        run(&stages, event, deadline).await
    }
}
