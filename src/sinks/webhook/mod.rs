//! The webhook sink: `POST $WEBHOOK_URL` with NDJSON (`application/x-ndjson`),
//! signed as Standard Webhooks do, with the retry policy of the HEC sink; a
//! request goes out as soon as its body is full.

pub mod config;
pub mod sign;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use tracing::error;

pub use config::{WebhookConfig, WebhookSecret};

use super::retry::{classify, Action, Backoff};
use super::{BatchInfo, Chunk, Delivery, Sink, SinkError, SinkWriter};

pub struct WebhookSink {
    client: reqwest::Client,
    config: WebhookConfig,
    key: Vec<u8>,
    backoff: Backoff,
    counters: crate::sinks::SinkCounters,
}

impl WebhookSink {
    pub fn new(client: reqwest::Client, config: WebhookConfig) -> WebhookSink {
        let key = sign::key(&config.secret.0);
        WebhookSink { client, config, key, backoff: Backoff::default(), counters: Default::default() }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> WebhookSink {
        self.backoff = backoff;
        self
    }

    /// One attempt: the HTTP status (None without a response), `Retry-After`, and the error text.
    async fn post(&self, body: &[u8], id: &str, timeout: std::time::Duration) -> (Option<u16>, Option<String>, String) {
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let signature = sign::signature(&self.key, id, timestamp, body);
        let sent = self
            .client
            .post(&self.config.url)
            .header(CONTENT_TYPE, "application/x-ndjson")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .timeout(timeout)
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(resp) => {
                let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
                (Some(resp.status().as_u16()), retry_after, String::new())
            }
            Err(e) => (None, None, e.without_url().to_string()),
        }
    }

    /// Sends one body (retries with the same id and a fresh signature); the failure names `first`.
    async fn send(&self, body: &[u8], first: usize, deadline: Instant) -> Result<(), SinkError> {
        let id = sign::message_id(body);
        let mut attempt = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let fail = |detail: String| SinkError::new("webhook", first, detail);
            if left.is_zero() {
                return Err(fail("deadline reached".into()));
            }
            self.counters.request(body.len());
            let (status, retry_after, err) = self.post(body, &id, self.config.timeout.min(left)).await;
            match classify(status, retry_after.as_deref()) {
                Action::Done => return Ok(()),
                Action::Retry(after) => {
                    if !self.backoff.pause("webhook", status, &mut attempt, after, deadline, &self.counters).await {
                        return Err(fail(format!("retries exhausted: HTTP {status:?} {err}")));
                    }
                }
                Action::GiveUp => {
                    error!(sink = "webhook", status = ?status, "webhook receiver refused the request");
                    return Err(fail(format!("refused: HTTP {status:?}")));
                }
            }
        }
    }
}

/// One batch's requests: NDJSON lines gather into a body until it is full, then go out.
struct WebhookWriter<'a> {
    sink: &'a WebhookSink,
    deadline: Instant,
    body: Vec<u8>,
    events: usize,
    /// The record of the body's first line.
    first: usize,
    delivery: Delivery,
}

impl WebhookWriter<'_> {
    async fn flush(&mut self) -> Result<(), SinkError> {
        if self.events == 0 {
            return Ok(());
        }
        let body = std::mem::take(&mut self.body);
        self.events = 0;
        self.sink.send(&body, self.first, self.deadline).await
    }

    async fn take(&mut self, chunk: &Chunk) -> Result<(), SinkError> {
        let config = &self.sink.config;
        for rec in &chunk.records {
            for line in rec.lines() {
                let size = line.bytes.len() + 1;
                // A body holds at most max_batch_bytes and max_batch_events; a larger line goes alone.
                let full = self.body.len() + size > config.max_batch_bytes || self.events >= config.max_batch_events;
                if self.events > 0 && full {
                    self.flush().await?;
                }
                if self.events == 0 {
                    self.first = rec.meta.index;
                }
                self.body.extend_from_slice(line.bytes);
                self.body.push(b'\n');
                self.events += 1;
            }
        }
        Ok(())
    }
}

impl SinkWriter for WebhookWriter<'_> {
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
            std::mem::take(&mut self.delivery)
        })
    }
}

impl Sink for WebhookSink {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn counters(&self) -> Option<&crate::sinks::SinkCounters> {
        Some(&self.counters)
    }

    fn open<'a>(&'a self, batch: &BatchInfo) -> Box<dyn SinkWriter + 'a> {
        Box::new(WebhookWriter {
            sink: self,
            deadline: batch.deadline,
            body: Vec::new(),
            events: 0,
            first: 0,
            delivery: Delivery::default(),
        })
    }
}
