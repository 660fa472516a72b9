//! The Splunk HTTP Event Collector sink: `POST $HEC_URL/services/collector/event`
//! with `Authorization: Splunk <token>`, concatenated envelopes, batches
//! capped by bytes and events, optional gzip and indexer acknowledgement.
//!
//! Retries (backoff with jitter, `Retry-After` honoured, bounded by the
//! deadline): connection errors, timeouts, 429, 500, 502, 503, 504. No retry
//! on 400/401/403: the records are reported and the HEC code is logged. A 400
//! naming an `invalid-event-number` quarantines that event and resends only
//! the events after it; an event too large for HEC alone (413) is quarantined.

pub mod ack;
pub mod config;
pub mod encoder;
pub mod request;

use std::time::Instant;

use futures::future::BoxFuture;
use reqwest::header::HeaderValue;
use tracing::{error, warn};

pub use config::{HecConfig, HecToken, TokenSource};

use super::batching::chunks;
use super::retry::{classify, Action, Backoff};
use super::{OutputBatch, RejectedEvent, Sink, SinkError};
use encoder::{envelopes, Envelope};
use request::{auth_header, post, HecResponse};

pub struct HecSink {
    client: reqwest::Client,
    config: HecConfig,
    auth: HeaderValue,
    channel: Option<String>,
    backoff: Backoff,
    counters: crate::sinks::SinkCounters,
}

impl HecSink {
    pub fn new(client: reqwest::Client, config: HecConfig, token: &HecToken) -> Result<HecSink, String> {
        let auth = auth_header(token).ok_or("HEC_TOKEN: not a valid header value")?;
        let channel = config.ack.then(|| uuid::Uuid::new_v4().to_string());
        Ok(HecSink { client, config, auth, channel, backoff: Backoff::default(), counters: Default::default() })
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> HecSink {
        self.backoff = backoff;
        self
    }

    fn body(&self, envs: &[Envelope]) -> Vec<u8> {
        let raw: Vec<u8> = envs.iter().flat_map(|e| e.bytes.iter().copied()).collect();
        if self.config.gzip {
            super::s3::encoder::gzip(&raw, 6)
        } else {
            raw
        }
    }

    fn failure(&self, record: usize, resp: &HecResponse, why: &str) -> SinkError {
        let detail = match (&resp.status, &resp.error) {
            (Some(status), _) => format!(
                "{why}: HTTP {status}, HEC code {}, {}",
                resp.code.map_or("none".into(), |c| c.to_string()),
                resp.text_for_log()
            ),
            (None, Some(e)) => format!("{why}: {e}"),
            (None, None) => why.to_owned(),
        };
        SinkError::new("hec", record, detail)
    }

    fn reject(batch: &OutputBatch, env: &Envelope, reason: &'static str, resp: &HecResponse) -> RejectedEvent {
        RejectedEvent {
            sink: "hec",
            record: env.record,
            event: env.event,
            line: batch.records[env.record].events[env.event].line.to_vec(),
            reason,
            detail: format!("HEC code {}: {}", resp.code.unwrap_or(-1), resp.text_for_log()),
        }
    }

    /// Sends the batch; events refused for good are returned on failure too.
    async fn send(&self, batch: &OutputBatch) -> Result<Vec<RejectedEvent>, SinkError> {
        let mut rejected = Vec::new();
        match self.send_into(batch, &mut rejected).await {
            Ok(()) => Ok(rejected),
            Err(mut e) => {
                e.rejected = rejected;
                Err(e)
            }
        }
    }

    async fn send_into(&self, batch: &OutputBatch, rejected: &mut Vec<RejectedEvent>) -> Result<(), SinkError> {
        let envs = envelopes(&self.config, batch);
        let url = self.config.event_url();
        let mut acks: Vec<(u64, usize)> = Vec::new();
        let sizes: Vec<usize> = envs.iter().map(|e| e.bytes.len()).collect();
        for range in chunks(&sizes, self.config.max_batch_bytes, self.config.max_batch_events) {
            let mut start = range.start;
            let mut attempt = 0;
            while start < range.end {
                let left = batch.deadline.saturating_duration_since(Instant::now());
                let first = envs[start].record;
                if left.is_zero() {
                    return Err(self.failure(first, &HecResponse::default(), "deadline reached"));
                }
                let body = self.body(&envs[start..range.end]);
                self.counters.request(body.len());
                let timeout = self.config.timeout.min(left);
                let resp =
                    post(&self.client, &url, &self.auth, self.channel.as_deref(), body, self.config.gzip, timeout)
                        .await;
                if resp.status == Some(400) {
                    if let Some(n) = resp.invalid_event_number.filter(|&n| n < range.end - start) {
                        warn!(sink = "hec", event = n, code = ?resp.code, "HEC refused one event; quarantining it and resending the rest");
                        rejected.push(Self::reject(batch, &envs[start + n], "hec.invalid_event", &resp));
                        start += n + 1;
                        attempt = 0;
                        continue;
                    }
                }
                if resp.status == Some(413) && range.end - start == 1 {
                    rejected.push(Self::reject(batch, &envs[start], "hec.event_too_large", &resp));
                    start += 1;
                    continue;
                }
                match classify(resp.status, resp.retry_after.as_deref()) {
                    Action::Done => {
                        if let (Some(id), true) = (resp.ack_id, self.channel.is_some()) {
                            acks.push((id, first));
                        }
                        start = range.end;
                    }
                    Action::Retry(after) => {
                        let (deadline, counters) = (batch.deadline, &self.counters);
                        if !self.backoff.pause("hec", resp.status, &mut attempt, after, deadline, counters).await {
                            return Err(self.failure(first, &resp, "retries exhausted before the deadline"));
                        }
                    }
                    Action::GiveUp => {
                        error!(sink = "hec", status = ?resp.status, hec_code = ?resp.code, text = %resp.text_for_log(), "HEC refused the request (configuration error?)");
                        return Err(self.failure(first, &resp, "HEC refused the request"));
                    }
                }
            }
        }
        if let Some(channel) = &self.channel {
            let ids: Vec<u64> = acks.iter().map(|(id, _)| *id).collect();
            let url = self.config.ack_url(channel);
            let interval = self.config.ack_poll_interval;
            let pending =
                ack::wait_for_acks(&self.client, &url, &self.auth, channel, ids, interval, batch.deadline).await;
            if let Some(first) = acks.iter().filter(|(id, _)| pending.contains(id)).map(|(_, r)| *r).min() {
                let detail = format!("{} requests not acknowledged by the deadline", pending.len());
                return Err(SinkError::new("hec", first, detail));
            }
        }
        Ok(())
    }
}

impl Sink for HecSink {
    fn name(&self) -> &'static str {
        "hec"
    }

    fn counters(&self) -> Option<&crate::sinks::SinkCounters> {
        Some(&self.counters)
    }

    fn deliver<'a>(&'a self, batch: &'a OutputBatch) -> BoxFuture<'a, Result<Vec<RejectedEvent>, SinkError>> {
        Box::pin(self.send(batch))
    }
}
