//! Splunk HEC settings: `HEC_URL`, `HEC_TOKEN` or `HEC_TOKEN_SECRET_ARN`,
//! `HEC_INDEX`, `HEC_SOURCETYPE`, `HEC_SOURCE`, `HEC_MAX_BATCH_BYTES`,
//! `HEC_MAX_BATCH_EVENTS`, `HEC_GZIP`, `HEC_ACK`, `HEC_TIMEOUT_SECS`.

use std::fmt;
use std::time::Duration;

use crate::config::env::{secret_field, ConfigError, Env, Given};

/// The HEC token; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct HecToken(pub String);

impl fmt::Debug for HecToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HecToken(redacted)")
    }
}

/// Where the token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Value(HecToken),
    /// A Secrets Manager secret: the plain token, or JSON with a `token` or `HEC_TOKEN` key.
    SecretArn(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HecConfig {
    /// Base URL, e.g. `https://splunk.example.com:8088` (the path is added).
    pub url: String,
    pub token: TokenSource,
    pub index: Option<String>,
    pub sourcetype: String,
    /// Default: the Kinesis stream name of the record.
    pub source: Option<String>,
    pub max_batch_bytes: usize,
    pub max_batch_events: usize,
    pub gzip: bool,
    pub ack: bool,
    pub timeout: Duration,
    pub ack_poll_interval: Duration,
}

impl HecConfig {
    /// Reads the `HEC_*` variables (the sink is on: `HEC_URL` and a token are required).
    pub fn from_env(env: &Env) -> Result<HecConfig, ConfigError> {
        let token = match env.value_or_arn("HEC_TOKEN", "HEC_TOKEN_SECRET_ARN", "hec")? {
            Given::Value(t) => TokenSource::Value(HecToken(t)),
            Given::Arn(arn) => TokenSource::SecretArn(arn),
        };
        Ok(HecConfig {
            url: env.url("HEC_URL", "when SINKS includes hec")?,
            token,
            index: env.get("HEC_INDEX"),
            sourcetype: env.get("HEC_SOURCETYPE").unwrap_or_else(|| "ocsf:aws:rds:das".into()),
            source: env.get("HEC_SOURCE"),
            max_batch_bytes: env.number("HEC_MAX_BATCH_BYTES", 1 << 20, 1 << 10, 512 << 20)?,
            max_batch_events: env.number("HEC_MAX_BATCH_EVENTS", 1000, 1, 1_000_000)?,
            gzip: env.flag("HEC_GZIP", false)?,
            ack: env.flag("HEC_ACK", false)?,
            timeout: Duration::from_secs(env.number("HEC_TIMEOUT_SECS", 10, 1, 900)?),
            ack_poll_interval: Duration::from_millis(env.number("HEC_ACK_POLL_MS", 1000, 10, 60_000)?),
        })
    }

    /// The sink, sending with `client` and `token` (read by the set-up when it is in Secrets Manager).
    pub fn build(self, client: reqwest::Client, token: &HecToken) -> Result<super::HecSink, super::BadToken> {
        super::HecSink::new(client, self, token)
    }

    pub fn event_url(&self) -> String {
        format!("{}/services/collector/event", self.url.trim_end_matches('/'))
    }
    pub fn ack_url(&self, channel: &str) -> String {
        format!("{}/services/collector/ack?channel={channel}", self.url.trim_end_matches('/'))
    }
}

/// Reads the token from a Secrets Manager secret string (plain, or JSON with a `token`,
/// `HEC_TOKEN` or `hec_token` key).
pub fn token_from_secret(secret: &str) -> Option<HecToken> {
    secret_field(secret, &["token", "HEC_TOKEN", "hec_token"]).map(HecToken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_forms_and_redaction() {
        assert_eq!(token_from_secret(" abc \n"), Some(HecToken("abc".into())));
        assert_eq!(token_from_secret(r#"{"token":"t1"}"#), Some(HecToken("t1".into())));
        assert_eq!(token_from_secret(r#"{"other":"x"}"#), None);
        assert_eq!(format!("{:?}", HecToken("secret".into())), "HecToken(redacted)");
    }
}
