//! A real HTTP server on loopback that speaks the Splunk HEC protocol (and
//! receives signed webhooks), scriptable to fail in the ways receivers fail.

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// How the receiver answers the next request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Ok,
    /// 503, HEC code 9 "Server is busy".
    Busy,
    /// 429 with `Retry-After: <secs>`.
    TooMany(u64),
    /// 400, code 6, `invalid-event-number`: the events before it are kept.
    InvalidEvent(usize),
    /// Sleeps this long before answering 200.
    Hang(Duration),
}

#[derive(Default)]
pub struct Received {
    /// Accepted HEC envelopes.
    pub envelopes: Vec<Value>,
    /// Accepted webhook NDJSON lines.
    pub webhook_events: Vec<Value>,
    pub webhook_ids: Vec<String>,
    /// `webhook-id` of every correctly signed request, refused or not.
    pub webhook_attempts: Vec<String>,
    pub requests: usize,
    pub auth_failures: usize,
    pub bad_signatures: usize,
    pub gzip_requests: usize,
    pub ack_polls: usize,
}

struct Inner {
    token: String,
    webhook_key: Vec<u8>,
    script: VecDeque<Reply>,
    /// Used once the script is empty.
    default: Reply,
    got: Received,
    next_ack: u64,
}

#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

fn hec_reply(status: StatusCode, body: Value) -> Response {
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

async fn hec_event(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let reply = {
        let mut inner = r.inner.lock().unwrap();
        inner.got.requests += 1;
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Splunk {}", inner.token)) {
            inner.got.auth_failures += 1;
            return hec_reply(StatusCode::UNAUTHORIZED, json!({"text": "Invalid authorization", "code": 3}));
        }
        let default = inner.default.clone();
        inner.script.pop_front().unwrap_or(default)
    };
    let gzip = headers.get("content-encoding").is_some_and(|v| v == "gzip");
    let raw = if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut out).unwrap();
        out
    } else {
        body.to_vec()
    };
    if raw.iter().all(u8::is_ascii_whitespace) {
        return hec_reply(StatusCode::BAD_REQUEST, json!({"text": "No data", "code": 5}));
    }
    // Concatenated JSON objects, each with an `event`.
    let mut envelopes = Vec::new();
    for item in serde_json::Deserializer::from_slice(&raw).into_iter::<Value>() {
        match item {
            Ok(v) if v.get("event").is_some_and(|e| !e.is_null()) => envelopes.push(v),
            Ok(_) => return hec_reply(StatusCode::BAD_REQUEST, json!({"text": "Event field is required", "code": 12})),
            Err(_) => return hec_reply(StatusCode::BAD_REQUEST, json!({"text": "Invalid data format", "code": 6})),
        }
    }
    if let Reply::Hang(d) = reply {
        tokio::time::sleep(d).await;
    }
    let mut inner = r.inner.lock().unwrap();
    inner.got.gzip_requests += usize::from(gzip);
    match reply {
        Reply::Ok | Reply::Hang(_) => {
            inner.got.envelopes.extend(envelopes);
            let mut body = json!({"text": "Success", "code": 0});
            if headers.contains_key("x-splunk-request-channel") {
                body["ackId"] = json!(inner.next_ack);
                inner.next_ack += 1;
            }
            hec_reply(StatusCode::OK, body)
        }
        Reply::Busy => hec_reply(StatusCode::SERVICE_UNAVAILABLE, json!({"text": "Server is busy", "code": 9})),
        Reply::TooMany(secs) => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", secs.to_string())], "slow down").into_response()
        }
        Reply::InvalidEvent(n) => {
            inner.got.envelopes.extend(envelopes.into_iter().take(n));
            hec_reply(
                StatusCode::BAD_REQUEST,
                json!({"text": "Invalid data format", "code": 6, "invalid-event-number": n}),
            )
        }
    }
}

async fn hec_health() -> Response {
    hec_reply(StatusCode::OK, json!({"text": "HEC is healthy", "code": 17}))
}

async fn hec_ack(State(r): State<Receiver>, body: Bytes) -> Response {
    let req: Value = serde_json::from_slice(&body).unwrap_or_default();
    r.inner.lock().unwrap().got.ack_polls += 1;
    let acks: serde_json::Map<String, Value> =
        req["acks"].as_array().into_iter().flatten().map(|id| (id.to_string(), json!(true))).collect();
    hec_reply(StatusCode::OK, json!({ "acks": acks }))
}

async fn webhook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = r.inner.lock().unwrap();
    inner.got.requests += 1;
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (id, ts, sig) = (h("webhook-id"), h("webhook-timestamp"), h("webhook-signature"));
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&inner.webhook_key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&body);
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    if sig != expected || h("content-type") != "application/x-ndjson" {
        inner.got.bad_signatures += 1;
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    inner.got.webhook_attempts.push(id.clone());
    let default = inner.default.clone();
    match inner.script.pop_front().unwrap_or(default) {
        Reply::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response(),
        Reply::TooMany(secs) => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", secs.to_string())], "").into_response()
        }
        _ => {
            inner.got.webhook_ids.push(id);
            let lines: Vec<Value> = body
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| serde_json::from_slice(l).unwrap())
                .collect();
            inner.got.webhook_events.extend(lines);
            (StatusCode::NO_CONTENT, "").into_response()
        }
    }
}

impl Receiver {
    /// Starts on a free loopback port; `webhook_key` is the HMAC key bytes.
    pub async fn start(token: &str, webhook_key: &[u8]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let receiver = Receiver {
            inner: Arc::new(Mutex::new(Inner {
                token: token.to_owned(),
                webhook_key: webhook_key.to_vec(),
                script: VecDeque::new(),
                default: Reply::Ok,
                got: Received::default(),
                next_ack: 0,
            })),
            url: format!("http://{addr}"),
        };
        let app = Router::new()
            .route("/services/collector/event", post(hec_event))
            .route("/services/collector/ack", post(hec_ack))
            .route("/services/collector/health", axum::routing::get(hec_health))
            .route("/webhook", post(webhook))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    /// Answers the next requests with `replies`, then with `default`.
    pub fn script(&self, replies: Vec<Reply>, default: Reply) {
        let mut inner = self.inner.lock().unwrap();
        inner.script = replies.into();
        inner.default = default;
    }

    pub fn with<T>(&self, f: impl FnOnce(&Received) -> T) -> T {
        f(&self.inner.lock().unwrap().got)
    }
}
