//! The Splunk HTTP Event Collector sink: `POST $HEC_URL/services/collector/event`
//! with `Authorization: Splunk <token>`, concatenated envelopes, requests
//! capped by bytes and events and sent as they fill, optional gzip and
//! indexer acknowledgement (polled when the batch finishes).
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

use super::retry::{classify, Action, Backoff};
use super::{BatchInfo, Chunk, Delivery, RejectedEvent, Sink, SinkError, SinkWriter};
use encoder::{envelope, Envelope};
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
        let mut raw = Vec::with_capacity(envs.iter().map(|e| e.bytes.len()).sum());
        for e in envs {
            raw.extend_from_slice(&e.bytes);
        }
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

    fn reject(env: &Envelope, reason: &'static str, resp: &HecResponse) -> RejectedEvent {
        RejectedEvent {
            sink: "hec",
            record: env.record,
            event: env.event,
            line: env.line().to_vec(),
            reason,
            detail: format!("HEC code {}: {}", resp.code.unwrap_or(-1), resp.text_for_log()),
        }
    }
}

/// One batch's requests: envelopes gather into a body until it is full, then go out.
struct HecWriter<'a> {
    sink: &'a HecSink,
    deadline: Instant,
    pending: Vec<Envelope>,
    pending_bytes: usize,
    /// Ack ids of the requests sent, with the first record each held.
    acks: Vec<(u64, usize)>,
    delivery: Delivery,
}

impl HecWriter<'_> {
    /// Sends one request's envelopes, resending after a refused event; the failure names the
    /// first record not taken.
    async fn send(&mut self, envs: Vec<Envelope>) -> Result<(), SinkError> {
        let sink = self.sink;
        let url = sink.config.event_url();
        let mut start = 0;
        let mut attempt = 0;
        while start < envs.len() {
            let left = self.deadline.saturating_duration_since(Instant::now());
            let first = envs[start].record;
            if left.is_zero() {
                return Err(sink.failure(first, &HecResponse::default(), "deadline reached"));
            }
            let body = sink.body(&envs[start..]);
            sink.counters.request(body.len());
            let timeout = sink.config.timeout.min(left);
            let channel = sink.channel.as_deref();
            let resp = post(&sink.client, &url, &sink.auth, channel, body, sink.config.gzip, timeout).await;
            if resp.status == Some(400) {
                if let Some(n) = resp.invalid_event_number.filter(|&n| n < envs.len() - start) {
                    warn!(sink = "hec", event = n, code = ?resp.code, "HEC refused one event; quarantining it and resending the rest");
                    self.delivery.rejected.push(HecSink::reject(&envs[start + n], "hec.invalid_event", &resp));
                    start += n + 1;
                    attempt = 0;
                    continue;
                }
            }
            if resp.status == Some(413) && envs.len() - start == 1 {
                self.delivery.rejected.push(HecSink::reject(&envs[start], "hec.event_too_large", &resp));
                start += 1;
                continue;
            }
            match classify(resp.status, resp.retry_after.as_deref()) {
                Action::Done => {
                    if let (Some(id), true) = (resp.ack_id, sink.channel.is_some()) {
                        self.acks.push((id, first));
                    }
                    start = envs.len();
                }
                Action::Retry(after) => {
                    let paused = sink
                        .backoff
                        .pause("hec", resp.status, &mut attempt, after, self.deadline, &sink.counters)
                        .await;
                    if !paused {
                        return Err(sink.failure(first, &resp, "retries exhausted before the deadline"));
                    }
                }
                Action::GiveUp => {
                    error!(sink = "hec", status = ?resp.status, hec_code = ?resp.code, text = %resp.text_for_log(), "HEC refused the request (configuration error?)");
                    return Err(sink.failure(first, &resp, "HEC refused the request"));
                }
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), SinkError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.pending_bytes = 0;
        let envs = std::mem::take(&mut self.pending);
        self.send(envs).await
    }

    async fn take(&mut self, chunk: &Chunk) -> Result<(), SinkError> {
        let config = &self.sink.config;
        for rec in &chunk.records {
            let host = rec.meta.instance_id.as_deref();
            let source = rec.meta.stream.as_deref();
            for line in rec.lines() {
                let (bytes, line_start) = envelope(config, line.time_ms, host, source, line.bytes);
                // A request holds at most max_batch_bytes and max_batch_events; a larger envelope goes alone.
                let full = self.pending_bytes + bytes.len() > config.max_batch_bytes
                    || self.pending.len() >= config.max_batch_events;
                if !self.pending.is_empty() && full {
                    self.flush().await?;
                }
                self.pending_bytes += bytes.len();
                self.pending.push(Envelope { record: rec.meta.index, event: line.event, bytes, line_start });
            }
        }
        Ok(())
    }
}

impl SinkWriter for HecWriter<'_> {
    fn append<'a>(&'a mut self, chunk: &'a Chunk) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let result = self.take(chunk).await;
            self.delivery.note(result)
        })
    }

    fn finish(&mut self) -> BoxFuture<'_, Delivery> {
        Box::pin(async move {
            if self.delivery.failed.is_none() {
                if let Err(e) = self.flush().await {
                    self.delivery.fail(e);
                }
            }
            let sink = self.sink;
            if let (Some(channel), false) = (&sink.channel, self.acks.is_empty()) {
                let ids: Vec<u64> = self.acks.iter().map(|(id, _)| *id).collect();
                let url = sink.config.ack_url(channel);
                let interval = sink.config.ack_poll_interval;
                let pending =
                    ack::wait_for_acks(&sink.client, &url, &sink.auth, channel, ids, interval, self.deadline).await;
                if let Some(first) = self.acks.iter().filter(|(id, _)| pending.contains(id)).map(|(_, r)| *r).min() {
                    let detail = format!("{} requests not acknowledged by the deadline", pending.len());
                    self.delivery.fail(SinkError::new("hec", first, detail));
                }
            }
            std::mem::take(&mut self.delivery)
        })
    }
}

impl Sink for HecSink {
    fn name(&self) -> &'static str {
        "hec"
    }

    fn counters(&self) -> Option<&crate::sinks::SinkCounters> {
        Some(&self.counters)
    }

    fn open<'a>(&'a self, batch: &BatchInfo) -> Box<dyn SinkWriter + 'a> {
        Box::new(HecWriter {
            sink: self,
            deadline: batch.deadline,
            pending: Vec::new(),
            pending_bytes: 0,
            acks: Vec::new(),
            delivery: Delivery::default(),
        })
    }
}
