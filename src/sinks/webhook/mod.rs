//! The webhook sink: `POST $WEBHOOK_URL` with NDJSON (`application/x-ndjson`),
//! signed as Standard Webhooks do, with the retry policy of the HEC sink; a
//! request goes out as soon as its body is full.

pub(crate) mod config;
pub(crate) mod sign;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

pub use config::{WebhookConfig, WebhookSecret};

use super::http::{HttpSender, RetryLogic};
use super::retry::{classify, Action, Backoff};
use super::{BatchInfo, Chunk, Delivery, Gather, Sink, SinkError, SinkWriter};

pub struct WebhookSink {
    client: reqwest::Client,
    config: WebhookConfig,
    key: Vec<u8>,
    sender: HttpSender,
}

impl WebhookSink {
    pub fn new(client: reqwest::Client, config: WebhookConfig) -> WebhookSink {
        let key = sign::key(&config.secret.0);
        let sender = HttpSender::new("webhook", "webhook", config.timeout);
        WebhookSink { client, config, key, sender }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> WebhookSink {
        self.sender = self.sender.with_backoff(backoff);
        self
    }

    /// Sends `body` as one signed request, with the sink's retries, by `deadline` (`check
    /// --send-test-message`).
    pub(crate) async fn send_one(&self, body: &[u8], deadline: Instant) -> Result<(), SinkError> {
        self.send(body, 0, deadline).await
    }

    /// Sends one body (retries with the same id and a fresh signature); the failure names `first`.
    async fn send(&self, body: &[u8], first: usize, deadline: Instant) -> Result<(), SinkError> {
        let request = Request { sink: self, body, id: sign::message_id(body) };
        // The body is one item: the receiver takes or refuses it whole.
        let sent = self.sender.send(&request, 1, deadline).await;
        sent.result.map(drop).map_err(|failed| SinkError::new("webhook", first, failed.detail))
    }
}

/// One body, signed afresh at each attempt under the same message id.
struct Request<'a> {
    sink: &'a WebhookSink,
    body: &'a [u8],
    id: String,
}

/// The answer to one attempt: the HTTP status (None without a response), `Retry-After`, and
/// the transport error.
struct Answer {
    status: Option<u16>,
    retry_after: Option<String>,
    error: String,
}

impl RetryLogic for Request<'_> {
    type Response = Answer;

    async fn attempt(&self, _from: usize, timeout: Duration) -> (Answer, usize) {
        let (sink, body) = (self.sink, self.body);
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let signature = sign::signature(&sink.key, &self.id, timestamp, body);
        let sent = sink
            .client
            .post(&sink.config.url)
            .header(CONTENT_TYPE, "application/x-ndjson")
            .header("webhook-id", &self.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .timeout(timeout)
            .body(body.to_vec())
            .send()
            .await;
        let answer = match sent {
            Ok(resp) => {
                let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
                Answer { status: Some(resp.status().as_u16()), retry_after, error: String::new() }
            }
            Err(e) => Answer { status: None, retry_after: None, error: e.without_url().to_string() },
        };
        (answer, body.len())
    }

    fn action(&self, answer: &Answer, _items: usize) -> Action {
        classify(answer.status, answer.retry_after.as_deref())
    }

    fn describe(&self, answer: &Answer) -> String {
        match answer.status {
            Some(status) => format!("HTTP {status}"),
            None => answer.error.clone(),
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

impl Gather for WebhookWriter<'_> {
    fn delivery(&mut self) -> &mut Delivery {
        &mut self.delivery
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

    async fn flush(&mut self) -> Result<(), SinkError> {
        if self.events == 0 {
            return Ok(());
        }
        let body = std::mem::take(&mut self.body);
        self.events = 0;
        self.sink.send(&body, self.first, self.deadline).await
    }
}

impl Sink for WebhookSink {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn counters(&self) -> Option<&crate::sinks::SinkCounters> {
        Some(self.sender.counters())
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
