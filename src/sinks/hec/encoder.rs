//! HEC event envelopes: `{"time": <epoch seconds>, "host", "source", "sourcetype", "index",
//! "event": <OCSF event>}`, concatenated into request bodies.

use serde::Serialize;

use super::config::HecConfig;

/// One envelope, and the event it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Index of the event's record in the batch.
    pub record: usize,
    /// Index of the event within its record (to quarantine it if HEC refuses it).
    pub event: usize,
    pub bytes: Vec<u8>,
    /// Where the OCSF line starts in `bytes` (it ends one byte before the end).
    pub line_start: usize,
}

impl Envelope {
    pub fn line(&self) -> &[u8] {
        &self.bytes[self.line_start..self.bytes.len() - 1]
    }
}

#[derive(Serialize)]
struct Meta<'a> {
    time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    sourcetype: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<&'a str>,
}

/// Builds one envelope around an already serialized event; also where the event starts in it.
pub fn envelope(
    config: &HecConfig,
    time_ms: i64,
    host: Option<&str>,
    source: Option<&str>,
    event: &[u8],
) -> (Vec<u8>, usize) {
    let meta = Meta {
        time: time_ms as f64 / 1000.0,
        host,
        source: config.source.as_deref().or(source),
        sourcetype: &config.sourcetype,
        index: config.index.as_deref(),
    };
    // Serializing this struct cannot fail; the result always ends with `}`.
    let mut out = serde_json::to_vec(&meta).unwrap_or_else(|_| b"{}".to_vec());
    out.pop();
    out.reserve(event.len() + 10);
    if out.len() > 1 {
        out.push(b',');
    }
    out.extend_from_slice(b"\"event\":");
    let start = out.len();
    out.extend_from_slice(event);
    out.push(b'}');
    (out, start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config() -> HecConfig {
        HecConfig {
            url: "http://x".into(),
            token: super::super::config::TokenSource::Value(super::super::config::HecToken("t".into())),
            index: Some("security".into()),
            sourcetype: "ocsf:aws:rds:das".into(),
            source: None,
            max_batch_bytes: 100,
            max_batch_events: 2,
            gzip: false,
            ack: false,
            timeout: Duration::from_secs(1),
            ack_poll_interval: Duration::from_secs(1),
        }
    }

    #[test]
    fn envelope_shape() {
        let (e, start) =
            envelope(&config(), 1_558_658_389_940, Some("db-1"), Some("aws-rds-das-cluster-1"), br#"{"a":1}"#);
        assert_eq!(&e[start..e.len() - 1], br#"{"a":1}"#);
        let v: serde_json::Value = serde_json::from_slice(&e).unwrap();
        assert_eq!(v["time"], 1_558_658_389.94);
        assert_eq!(v["host"], "db-1");
        assert_eq!(v["source"], "aws-rds-das-cluster-1");
        assert_eq!(v["sourcetype"], "ocsf:aws:rds:das");
        assert_eq!(v["index"], "security");
        assert_eq!(v["event"]["a"], 1);
    }
}
