//! The webhook sink: `POST $WEBHOOK_URL` with NDJSON (`application/x-ndjson`),
//! signed as Standard Webhooks do, with the retry policy of the HEC sink.

pub mod config;
pub mod sign;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use tracing::error;

pub use config::{WebhookConfig, WebhookSecret};

use super::batching::chunks;
use super::retry::{classify, Action, Backoff};
use super::{OutputBatch, RejectedEvent, Sink, SinkError};

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

    async fn send(&self, batch: &OutputBatch) -> Result<Vec<RejectedEvent>, SinkError> {
        let events: Vec<(usize, &[u8])> = batch
            .records
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.events.iter().map(move |e| (i, &e.line[..])))
            .collect();
        let sizes: Vec<usize> = events.iter().map(|(_, l)| l.len() + 1).collect();
        for range in chunks(&sizes, self.config.max_batch_bytes, self.config.max_batch_events) {
            let first = events[range.start].0;
            let mut body = Vec::with_capacity(sizes[range.clone()].iter().sum());
            for (_, line) in &events[range] {
                body.extend_from_slice(line);
                body.push(b'\n');
            }
            let id = sign::message_id(&body);
            let mut attempt = 0;
            loop {
                let left = batch.deadline.saturating_duration_since(Instant::now());
                let fail = |detail: String| SinkError::new("webhook", first, detail);
                if left.is_zero() {
                    return Err(fail("deadline reached".into()));
                }
                self.counters.request(body.len());
                let (status, retry_after, err) = self.post(&body, &id, self.config.timeout.min(left)).await;
                match classify(status, retry_after.as_deref()) {
                    Action::Done => break,
                    Action::Retry(after) => {
                        let (deadline, counters) = (batch.deadline, &self.counters);
                        if !self.backoff.pause("webhook", status, &mut attempt, after, deadline, counters).await {
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
        Ok(Vec::new())
    }
}

impl Sink for WebhookSink {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn counters(&self) -> Option<&crate::sinks::SinkCounters> {
        Some(&self.counters)
    }

    fn deliver<'a>(&'a self, batch: &'a OutputBatch) -> BoxFuture<'a, Result<Vec<RejectedEvent>, SinkError>> {
        Box::pin(self.send(batch))
    }
}
