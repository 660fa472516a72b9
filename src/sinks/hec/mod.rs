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

pub(crate) mod ack;
pub(crate) mod config;
pub(crate) mod encoder;
pub(crate) mod request;

use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

pub use config::{HecConfig, HecToken, TokenSource};

use super::http::{HttpSender, RetryLogic};
use super::retry::{classify, Action, Backoff};
use super::{BatchInfo, Chunk, Delivery, Gather, RejectedEvent, Sink, SinkError, SinkWriter};
use encoder::{envelope, Envelope};
use request::{auth_header, post, HecResponse};

pub struct HecSink {
    client: reqwest::Client,
    config: HecConfig,
    auth: HeaderValue,
    channel: Option<String>,
    sender: HttpSender,
}

/// A token that cannot be sent in a header (a control character in it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the HEC token is not a valid header value")]
pub struct BadToken;

impl HecSink {
    pub fn new(client: reqwest::Client, config: HecConfig, token: &HecToken) -> Result<HecSink, BadToken> {
        let auth = auth_header(token).ok_or(BadToken)?;
        let channel = config.ack.then(|| uuid::Uuid::new_v4().to_string());
        let sender = HttpSender::new("hec", "HEC", config.timeout);
        Ok(HecSink { client, config, auth, channel, sender })
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> HecSink {
        self.sender = self.sender.with_backoff(backoff);
        self
    }

    fn body(&self, envs: &[Envelope]) -> Vec<u8> {
        let mut raw = Vec::with_capacity(envs.iter().map(|e| e.bytes.len()).sum());
        for e in envs {
            raw.extend_from_slice(&e.bytes);
        }
        if self.config.gzip {
            crate::gzip::gzip(&raw, 6)
        } else {
            raw
        }
    }
}

/// One request: the envelopes, sent from the first one HEC has not taken or refused.
struct Request<'a> {
    sink: &'a HecSink,
    url: &'a str,
    envs: &'a [Envelope],
}

impl RetryLogic for Request<'_> {
    type Response = HecResponse;

    async fn attempt(&self, from: usize, timeout: Duration) -> (HecResponse, usize) {
        let sink = self.sink;
        let body = sink.body(&self.envs[from..]);
        let len = body.len();
        let channel = sink.channel.as_deref();
        (post(&sink.client, self.url, &sink.auth, channel, body, sink.config.gzip, timeout).await, len)
    }

    /// A 400 naming an `invalid-event-number` refuses that event; a 413 for one event alone
    /// refuses it as too large; the rest is the shared policy.
    fn action(&self, resp: &HecResponse, items: usize) -> Action {
        if resp.status == Some(400) {
            if let Some(item) = resp.invalid_event_number.filter(|&n| n < items) {
                return Action::Refuse { item, reason: "hec.invalid_event" };
            }
        }
        if resp.status == Some(413) && items == 1 {
            return Action::Refuse { item: 0, reason: "hec.event_too_large" };
        }
        classify(resp.status, resp.retry_after.as_deref())
    }

    fn describe(&self, resp: &HecResponse) -> String {
        match (&resp.status, &resp.error) {
            (Some(status), _) => format!(
                "HTTP {status}, HEC code {}, {}",
                resp.code.map_or("none".into(), |c| c.to_string()),
                resp.text_for_log()
            ),
            (None, Some(e)) => e.clone(),
            (None, None) => "no answer".into(),
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
    /// Sends one request's envelopes; refused events go to the quarantine, and the failure names
    /// the first record not taken.
    async fn send(&mut self, envs: Vec<Envelope>) -> Result<(), SinkError> {
        let sink = self.sink;
        let url = sink.config.event_url();
        let request = Request { sink, url: &url, envs: &envs };
        let sent = sink.sender.send(&request, envs.len(), self.deadline).await;
        for refusal in sent.refused {
            let env = &envs[refusal.item];
            self.delivery.rejected.push(RejectedEvent {
                sink: "hec",
                record: env.record,
                event: env.event,
                line: env.line().to_vec(),
                reason: refusal.reason,
                detail: refusal.detail,
            });
        }
        match sent.result {
            Ok(answer) => {
                if let (Some((from, HecResponse { ack_id: Some(id), .. })), true) = (answer, sink.channel.is_some()) {
                    self.acks.push((id, envs[from].record));
                }
                Ok(())
            }
            Err(failed) => Err(SinkError::new("hec", envs[failed.from].record, failed.detail)),
        }
    }
}

impl Gather for HecWriter<'_> {
    fn delivery(&mut self) -> &mut Delivery {
        &mut self.delivery
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

    async fn flush(&mut self) -> Result<(), SinkError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.pending_bytes = 0;
        let envs = std::mem::take(&mut self.pending);
        self.send(envs).await
    }

    /// With indexer acknowledgement, waits for every request's until the deadline; the
    /// earliest record of a request not acknowledged is reported.
    async fn settle(&mut self) {
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
    }
}

impl Sink for HecSink {
    fn name(&self) -> &'static str {
        "hec"
    }

    fn counters(&self) -> Option<&crate::sinks::SinkCounters> {
        Some(self.sender.counters())
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
