//! Indexer acknowledgement: poll `/services/collector/ack` for the ack ids
//! of the sent requests until all are acknowledged or the deadline comes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde::Deserialize;

#[derive(Deserialize)]
struct AckReply {
    acks: BTreeMap<String, bool>,
}

/// Returns the ack ids still not acknowledged when it stops.
pub async fn wait_for_acks(
    client: &reqwest::Client,
    url: &str,
    auth: &HeaderValue,
    channel: &str,
    mut pending: Vec<u64>,
    interval: Duration,
    deadline: Instant,
) -> Vec<u64> {
    while !pending.is_empty() && Instant::now() + interval < deadline {
        tokio::time::sleep(interval).await;
        let body = serde_json::json!({ "acks": pending });
        let sent = client
            .post(url)
            .header(AUTHORIZATION, auth.clone())
            .header("X-Splunk-Request-Channel", channel)
            .json_body(&body)
            .timeout(deadline.saturating_duration_since(Instant::now()))
            .send()
            .await;
        let Ok(resp) = sent else { continue };
        let bytes = super::request::read_limited(resp).await;
        if let Ok(reply) = serde_json::from_slice::<AckReply>(&bytes) {
            pending.retain(|id| !reply.acks.get(&id.to_string()).copied().unwrap_or(false));
        }
    }
    pending
}

/// `reqwest` without its `json` feature: a small helper for JSON bodies.
trait JsonBody {
    fn json_body(self, v: &serde_json::Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, v: &serde_json::Value) -> Self {
        self.header(reqwest::header::CONTENT_TYPE, "application/json").body(v.to_string())
    }
}
