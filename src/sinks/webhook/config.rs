//! Webhook settings: `WEBHOOK_URL`, `WEBHOOK_SECRET` or `WEBHOOK_SECRET_ARN`, `WEBHOOK_MAX_BATCH_BYTES`,
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
    /// Empty until read from Secrets Manager when `secret_arn` is set.
    pub secret: WebhookSecret,
    /// `WEBHOOK_SECRET_ARN`: the secret is read once per cold start.
    pub secret_arn: Option<String>,
    pub max_batch_bytes: usize,
    pub max_batch_events: usize,
    pub timeout: Duration,
}

/// A `whsec_` secret must carry base64 key bytes; any other string is used as is.
pub fn check_secret(secret: &str) -> Result<(), &'static str> {
    use base64::Engine;
    match secret.strip_prefix("whsec_") {
        Some(b64) if base64::engine::general_purpose::STANDARD.decode(b64).map_or(true, |k| k.is_empty()) => {
            Err("a whsec_ secret must be followed by base64 key bytes")
        }
        _ if secret.is_empty() => Err("the secret is empty"),
        _ => Ok(()),
    }
}

/// The signing secret in a Secrets Manager value: plain, or JSON with a `secret`,
/// `WEBHOOK_SECRET` or `webhook_secret` key.
pub fn secret_from_value(value: &str) -> Option<WebhookSecret> {
    crate::config::secret_field(value, &["secret", "WEBHOOK_SECRET", "webhook_secret"]).map(WebhookSecret)
}
