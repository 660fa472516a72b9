//! A loopback HTTP fault proxy: it sits in front of a real server (moto, the HEC receiver) and,
//! request by request, passes the request through or fails it the way real services fail:
//! a canned error response (KMS `ThrottlingException`, a 5xx, S3 `SlowDown`, HEC 503), a hang
//! (the client's timeout fires), or a connection reset. One request per connection: the proxy
//! asks the upstream for `Connection: close` and closes the client's connection after the reply.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Debug)]
pub enum Fault {
    Pass,
    /// Answer with this status line, content type and body instead of the upstream.
    Reply {
        status: &'static str,
        content_type: &'static str,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// Read the request and never answer.
    Hang,
    /// Read the request, then reset the connection (RST, no response).
    Reset,
}

impl Fault {
    /// A KMS JSON error response of `kind` (the SDK classifies it by `__type`).
    fn kms_error(status: &'static str, kind: &str, message: &str) -> Fault {
        Fault::Reply {
            status,
            content_type: "application/x-amz-json-1.1",
            body: serde_json::json!({"__type": kind, "message": message}).to_string(),
            headers: vec![("x-amzn-ErrorType".into(), kind.into())],
        }
    }
    pub fn kms_throttling() -> Fault {
        Fault::kms_error("400 Bad Request", "ThrottlingException", "Rate exceeded")
    }
    /// What KMS answers when neither the key policy nor the caller's policy allows the call.
    pub fn kms_access_denied() -> Fault {
        Fault::kms_error(
            "400 Bad Request",
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/fn/x is not authorized to perform: kms:Decrypt",
        )
    }

    /// What S3 answers to a write the policies do not allow.
    pub fn s3_access_denied() -> Fault {
        Fault::Reply {
            status: "403 Forbidden",
            content_type: "application/xml",
            body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>FAULT</RequestId></Error>".into(),
            headers: vec![],
        }
    }

    pub fn kms_internal() -> Fault {
        Fault::kms_error("500 Internal Server Error", "KMSInternalException", "internal error")
    }
    pub fn s3_slow_down() -> Fault {
        Fault::Reply {
            status: "503 Slow Down",
            content_type: "application/xml",
            body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>".into(),
            headers: vec![],
        }
    }
    pub fn hec_busy() -> Fault {
        Fault::Reply {
            status: "503 Service Unavailable",
            content_type: "application/json",
            body: r#"{"text":"Server is busy","code":9}"#.into(),
            headers: vec![],
        }
    }
}

struct State {
    script: VecDeque<Fault>,
    default: Fault,
    /// (request line, what was done) of every request, in order.
    log: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct FaultProxy {
    state: Arc<Mutex<State>>,
    pub url: String,
}

/// `host:port` of an `http://` URL (what `FaultProxy::start` takes).
pub fn host_port(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`host:port`) on a free loopback port, passing everything.
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State { script: VecDeque::new(), default: Fault::Pass, log: Vec::new() }));
        let proxy = FaultProxy { state, url };
        let (p, upstream) = (proxy.clone(), upstream.to_owned());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (p, upstream) = (p.clone(), upstream.clone());
                tokio::spawn(async move { p.serve(client, &upstream).await });
            }
        });
        proxy
    }

    /// The next requests get `faults` in order, every later one `then`.
    pub fn script(&self, faults: Vec<Fault>, then: Fault) {
        let mut s = self.state.lock().unwrap();
        s.script = faults.into();
        s.default = then;
    }

    /// (request line, action) of every request so far.
    pub fn log(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().log.clone()
    }

    async fn serve(&self, mut client: TcpStream, upstream: &str) {
        let Some(request) = read_request(&mut client).await else { return };
        let line = String::from_utf8_lossy(request.split(|&b| b == b'\r').next().unwrap_or_default()).into_owned();
        let fault = {
            let mut s = self.state.lock().unwrap();
            let f = s.script.pop_front().unwrap_or_else(|| s.default.clone());
            let what = match &f {
                Fault::Pass => "pass".to_owned(),
                Fault::Reply { status, .. } => format!("reply {status}"),
                Fault::Hang => "hang".to_owned(),
                Fault::Reset => "reset".to_owned(),
            };
            s.log.push((line, what));
            f
        };
        match fault {
            Fault::Pass => {
                let Ok(mut up) = TcpStream::connect(upstream).await else { return };
                if up.write_all(&with_connection_close(&request)).await.is_err() {
                    return;
                }
                let mut response = Vec::new();
                let _ = up.read_to_end(&mut response).await;
                let _ = client.write_all(&response).await;
                let _ = client.shutdown().await;
            }
            Fault::Reply { status, content_type, body, headers } => {
                let mut head = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = client.write_all(head.as_bytes()).await;
                let _ = client.write_all(body.as_bytes()).await;
                let _ = client.shutdown().await;
            }
            Fault::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Fault::Reset => {
                // SO_LINGER 0: closing sends RST instead of FIN. (Deprecated because a non-zero
                // linger blocks the thread on drop; zero never does.)
                #[allow(deprecated)]
                let _ = client.set_linger(Some(Duration::ZERO));
                drop(client);
            }
        }
    }
}

/// One HTTP/1.1 request: head and a `content-length` body (what the AWS SDK and reqwest send).
async fn read_request(client: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        let n = client.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    while buf.len() < head_end + length {
        let n = client.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf)
}

/// The request with its `connection` header replaced by `connection: close`.
fn with_connection_close(request: &[u8]) -> Vec<u8> {
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").map_or(request.len(), |p| p + 2);
    let head = String::from_utf8_lossy(&request[..head_end]);
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("connection: close\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&request[head_end..]);
    bytes
}
