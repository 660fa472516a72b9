//! A loopback stand-in for the AWS Lambda Runtime API (the endpoints a custom runtime polls):
//! `GET /2018-06-01/runtime/invocation/next` hands out one invocation of the given event each
//! time the test releases one, and the function's responses are kept. It lets a test run the
//! real binary as Lambda runs it, for as many warm invocations as it likes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{Mutex, Notify};

struct Inner {
    event: Vec<u8>,
    /// Invocations released and not yet handed out.
    released: Mutex<usize>,
    handed: Mutex<usize>,
    responses: Mutex<Vec<Vec<u8>>>,
    errors: Mutex<Vec<Vec<u8>>>,
    changed: Notify,
    /// Each invocation's deadline is this far from when it is handed out.
    timeout: Duration,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

async fn next(State(s): State<Arc<Inner>>) -> (StatusCode, HeaderMap, Vec<u8>) {
    loop {
        let notified = s.changed.notified();
        {
            let mut released = s.released.lock().await;
            if *released > 0 {
                *released -= 1;
                let mut handed = s.handed.lock().await;
                *handed += 1;
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                let deadline = (now + s.timeout).as_millis().to_string();
                let mut h = HeaderMap::new();
                let id = format!("request-{}", *handed);
                h.insert("Lambda-Runtime-Aws-Request-Id", HeaderValue::from_str(&id).unwrap());
                h.insert("Lambda-Runtime-Deadline-Ms", HeaderValue::from_str(&deadline).unwrap());
                h.insert(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:das-forwarder"),
                );
                h.insert(
                    "Lambda-Runtime-Trace-Id",
                    HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
                );
                return (StatusCode::OK, h, s.event.clone());
            }
        }
        notified.await;
    }
}

async fn response(State(s): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    s.responses.lock().await.push(body.to_vec());
    s.changed.notify_waiters();
    StatusCode::ACCEPTED
}

async fn error(State(s): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    s.errors.lock().await.push(body.to_vec());
    s.changed.notify_waiters();
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    pub async fn start(event: Vec<u8>, timeout: Duration) -> RuntimeApi {
        let inner = Arc::new(Inner {
            event,
            released: Mutex::new(0),
            handed: Mutex::new(0),
            responses: Mutex::new(Vec::new()),
            errors: Mutex::new(Vec::new()),
            changed: Notify::new(),
            timeout,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(error))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RuntimeApi { addr, inner, server }
    }

    /// Lets `n` more invocations out.
    pub async fn release(&self, n: usize) {
        *self.inner.released.lock().await += n;
        self.inner.changed.notify_waiters();
    }

    /// Waits until `n` invocations have been answered (responses and errors), at most `limit`.
    pub async fn wait_answered(&self, n: usize, limit: Duration) -> bool {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.inner.changed.notified();
            if self.answered().await >= n {
                return true;
            }
            if tokio::time::timeout_at(until, notified).await.is_err() {
                return self.answered().await >= n;
            }
        }
    }

    pub async fn answered(&self) -> usize {
        self.inner.responses.lock().await.len() + self.inner.errors.lock().await.len()
    }

    pub async fn responses(&self) -> Vec<Vec<u8>> {
        self.inner.responses.lock().await.clone()
    }

    pub async fn errors(&self) -> Vec<Vec<u8>> {
        self.inner.errors.lock().await.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}
