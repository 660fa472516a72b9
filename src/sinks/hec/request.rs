//! One HEC request and what its response says.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use serde::Deserialize;

use super::config::HecToken;

/// The parts of a HEC answer the sink acts on. `status` is `None` when no
/// HTTP response arrived (connection error or timeout).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HecResponse {
    pub status: Option<u16>,
    pub retry_after: Option<String>,
    pub code: Option<i64>,
    pub text: Option<String>,
    pub ack_id: Option<u64>,
    pub invalid_event_number: Option<usize>,
    /// Transport error, when there was no response.
    pub error: Option<String>,
}

#[derive(Deserialize)]
struct Body {
    text: Option<String>,
    code: Option<i64>,
    #[serde(rename = "ackId")]
    ack_id: Option<u64>,
    #[serde(rename = "invalid-event-number")]
    invalid_event_number: Option<usize>,
}

/// The `Authorization: Splunk <token>` header, marked sensitive so it is never logged.
pub fn auth_header(token: &HecToken) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(&format!("Splunk {}", token.0)).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// The most of a reply body that is read: HEC replies are tiny, and a
/// receiver streaming more must not exhaust memory.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

impl HecResponse {
    /// The receiver's `text`, cut to 200 characters with control characters
    /// escaped: it is the receiver's words and goes into logs.
    pub fn text_for_log(&self) -> String {
        self.text.as_deref().unwrap_or("").chars().take(200).flat_map(char::escape_default).collect()
    }
}

/// Reads at most `MAX_REPLY_BYTES` of a response body.
pub async fn read_limited(mut resp: reqwest::Response) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = MAX_REPLY_BYTES - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= MAX_REPLY_BYTES {
            break;
        }
    }
    out
}

/// Parses a HEC reply (status, `Retry-After`, JSON body).
pub fn parse(status: u16, retry_after: Option<String>, body: &[u8]) -> HecResponse {
    let parsed: Option<Body> = serde_json::from_slice(body).ok();
    HecResponse {
        status: Some(status),
        retry_after,
        code: parsed.as_ref().and_then(|b| b.code),
        text: parsed.as_ref().and_then(|b| b.text.clone()),
        ack_id: parsed.as_ref().and_then(|b| b.ack_id),
        invalid_event_number: parsed.and_then(|b| b.invalid_event_number),
        error: None,
    }
}

/// POSTs `body` (already gzipped when `gzip`) and reads the answer.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    auth: &HeaderValue,
    channel: Option<&str>,
    body: Vec<u8>,
    gzip: bool,
    timeout: Duration,
) -> HecResponse {
    let mut req =
        client.post(url).header(AUTHORIZATION, auth.clone()).header(CONTENT_TYPE, "application/json").timeout(timeout);
    if gzip {
        req = req.header(CONTENT_ENCODING, "gzip");
    }
    if let Some(c) = channel {
        req = req.header("X-Splunk-Request-Channel", c);
    }
    match req.body(body).send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let retry_after = resp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let bytes = read_limited(resp).await;
            parse(status, retry_after, &bytes)
        }
        // The error names the URL and the cause, never headers.
        Err(e) => HecResponse { error: Some(e.without_url().to_string()), ..HecResponse::default() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hec_replies() {
        let r = parse(400, None, br#"{"text":"Invalid data format","code":6,"invalid-event-number":3}"#);
        assert_eq!((r.code, r.invalid_event_number), (Some(6), Some(3)));
        let ok = parse(200, None, br#"{"text":"Success","code":0,"ackId":7}"#);
        assert_eq!(ok.ack_id, Some(7));
        assert_eq!(parse(503, Some("2".into()), b"not json").code, None);
        let h = auth_header(&HecToken("abc".into())).unwrap();
        assert!(h.is_sensitive());
    }
}
