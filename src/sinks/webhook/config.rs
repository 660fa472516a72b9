//! Webhook settings: `WEBHOOK_URL`, `WEBHOOK_SECRET`, `WEBHOOK_MAX_BATCH_BYTES`,
//! `WEBHOOK_MAX_BATCH_EVENTS`, `WEBHOOK_TIMEOUT_SECS`.

use std::fmt;
use std::time::Duration;

/// The signing secret; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(pub String);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(redacted)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: WebhookSecret,
    pub max_batch_bytes: usize,
    pub max_batch_events: usize,
    pub timeout: Duration,
}
