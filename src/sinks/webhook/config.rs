//! Webhook settings: `WEBHOOK_URL`, `WEBHOOK_SECRET` or `WEBHOOK_SECRET_ARN`, `WEBHOOK_MAX_BATCH_BYTES`,
//! `WEBHOOK_MAX_BATCH_EVENTS`, `WEBHOOK_TIMEOUT_SECS`.

use std::fmt;
use std::time::Duration;

use crate::config::env::{err, secret_field, ConfigError, Env, Given};

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

impl WebhookConfig {
    /// Reads the `WEBHOOK_*` variables (the sink is on: the URL and a secret are required).
    pub fn from_env(env: &Env) -> Result<WebhookConfig, ConfigError> {
        let (secret, secret_arn) = match env.value_or_arn("WEBHOOK_SECRET", "WEBHOOK_SECRET_ARN", "webhook")? {
            Given::Value(s) => {
                check_secret(&s).map_err(|why| err("WEBHOOK_SECRET", why))?;
                (s, None)
            }
            Given::Arn(arn) => (String::new(), Some(arn)),
        };
        Ok(WebhookConfig {
            url: env.url("WEBHOOK_URL", "when SINKS includes webhook")?,
            secret: WebhookSecret(secret),
            secret_arn,
            max_batch_bytes: env.number("WEBHOOK_MAX_BATCH_BYTES", 1 << 20, 1 << 10, 512 << 20)?,
            max_batch_events: env.number("WEBHOOK_MAX_BATCH_EVENTS", 1000, 1, 1_000_000)?,
            timeout: Duration::from_secs(env.number("WEBHOOK_TIMEOUT_SECS", 10, 1, 900)?),
        })
    }
}

impl WebhookConfig {
    /// The sink, sending with `client`; `secret` is the one read from `WEBHOOK_SECRET_ARN`.
    pub fn build(mut self, client: reqwest::Client, secret: Option<WebhookSecret>) -> super::WebhookSink {
        if let Some(secret) = secret {
            self.secret = secret;
        }
        super::WebhookSink::new(client, self)
    }
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
    secret_field(value, &["secret", "WEBHOOK_SECRET", "webhook_secret"]).map(WebhookSecret)
}
