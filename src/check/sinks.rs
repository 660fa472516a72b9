//! The checks of the configured sinks, each with what the function's own requests need and no
//! more: S3 takes and removes one probe object under the quarantine prefix; HEC answers its
//! health endpoint and tells a good token from a bad one on an empty request (400 "No data"
//! against 401/403); the webhook's host accepts a TCP connection. The HEC token is never printed.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::primitives::ByteStream;

use super::{described, timed, Report, CALL_TIMEOUT};
use crate::sinks::hec::request::{auth_header, post};
use crate::sinks::hec::{HecConfig, HecToken};
use crate::sinks::s3::S3Config;
use crate::sinks::webhook::{WebhookConfig, WebhookSink};

/// Puts and deletes a probe object where the quarantine goes (the function's own role writes it).
pub async fn s3(config: &S3Config, client: &aws_sdk_s3::Client, report: &mut Report) {
    let bucket = config.quarantine_bucket.as_deref().unwrap_or(&config.bucket);
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let key = format!("{}das-forwarder-check-{stamp}.probe", config.quarantine_prefix);
    let target = format!("sink s3 s3://{bucket}/{}", config.quarantine_prefix);
    let put = client
        .put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("text/plain")
        .body(ByteStream::from_static(b"das-forwarder check\n"))
        .send();
    if let Err(e) = timed(put).await {
        let (code, detail) = described(e);
        let fix = match code.as_deref() {
            Some("AccessDenied") => format!(
                "allow s3:PutObject on arn:aws:s3:::{bucket}/{}* to the function's role (and check the bucket \
                 policy and, for SSE-KMS, kms:GenerateDataKey on the bucket's key)",
                config.quarantine_prefix
            ),
            Some("NoSuchBucket") => {
                format!("no bucket {bucket}: set S3_BUCKET (or QUARANTINE_BUCKET) to an existing one")
            }
            None => "the call timed out: check the network path to S3 (a gateway endpoint in a private subnet)".into(),
            Some(_) => "see the error".into(),
        };
        return report.fail(&target, "s3.write", detail, fix);
    }
    report.ok(&target, "s3.write", "a probe object was written");
    if let Err(e) = timed(client.delete_object().bucket(bucket).key(&key).send()).await {
        let (_, detail) = described(e);
        let fix = format!(
            "remove s3://{bucket}/{key} by hand; the function itself needs no s3:DeleteObject (the probe could \
             not remove its object: {detail})"
        );
        report.warn(&target, "s3.probe_removed", "the probe object is still there", fix);
    }
}

/// HEC's health endpoint, then an empty request to the event endpoint: 400 "No data" proves the
/// token, 401 or 403 refutes it.
pub async fn hec(config: &HecConfig, token: &HecToken, client: &reqwest::Client, report: &mut Report) {
    let base = config.url.trim_end_matches('/');
    let target = format!("sink hec {base}");
    let health = client.get(format!("{base}/services/collector/health")).timeout(CALL_TIMEOUT).send().await;
    match health {
        Ok(resp) if resp.status().is_success() => report.ok(&target, "hec.health", "HEC is healthy"),
        Ok(resp) => report.warn(
            &target,
            "hec.health",
            format!("health endpoint answered HTTP {}", resp.status().as_u16()),
            "HEC may be disabled, or the indexers busy (503): check Settings > Data inputs > HTTP Event Collector",
        ),
        Err(e) => {
            let fix = "check HEC_URL (scheme, host and port, usually 8088), the network path and the certificate";
            return report.fail(&target, "hec.reach", e.without_url().to_string(), fix);
        }
    }
    let Some(auth) = auth_header(token) else {
        let fix = "the token holds a character a header cannot carry: copy it again from Splunk";
        return report.fail(&target, "hec.token", "the token is not a valid header value", fix);
    };
    // The sink's own request: an empty body, no channel, no gzip.
    let resp = post(client, &config.event_url(), &auth, None, Vec::new(), false, CALL_TIMEOUT).await;
    let Some(status) = resp.status else {
        return report.fail(&target, "hec.token", resp.error.unwrap_or_default(), "check HEC_URL");
    };
    let code = resp.code;
    match (status, code) {
        (400, Some(5)) | (200, _) => report.ok(&target, "hec.token", "the token is accepted"),
        (401 | 403, _) => report.fail(
            &target,
            "hec.token",
            format!("HTTP {status}, HEC code {}", code.map_or("none".into(), |c| c.to_string())),
            "set HEC_TOKEN (or the secret HEC_TOKEN_SECRET_ARN names) to the token of an enabled HEC input; \
             code 4 is a bad token, code 1 a disabled one",
        ),
        _ => report.warn(
            &target,
            "hec.token",
            format!("HTTP {status} to an empty request (expected 400 \"No data\")"),
            "check that HEC_URL is the collector's base URL (the forwarder adds /services/collector/event)",
        ),
    }
}

/// With `--send-test-message`: one signed NDJSON line through the sink itself (its signing, its
/// retries), marked as a test; the receiver must answer 2xx.
pub async fn webhook_message(sink: &WebhookSink, report: &mut Report) {
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let body = format!("{{\"das_forwarder_check\":\"test message\",\"time\":{stamp}}}\n");
    let deadline = std::time::Instant::now() + CALL_TIMEOUT;
    match sink.send_one(body.as_bytes(), deadline).await {
        Ok(()) => report.ok("sink webhook", "webhook.message", "a signed test message was taken"),
        Err(e) => report.fail(
            "sink webhook",
            "webhook.message",
            e.detail,
            "a 401/403 is a signature the receiver refuses: check WEBHOOK_SECRET against the receiver's; other \
             statuses: see the receiver's logs",
        ),
    }
}

/// A TCP connection to the webhook's host.
pub async fn webhook(config: &WebhookConfig, report: &mut Report) {
    let target = "sink webhook".to_owned();
    let Ok(url) = reqwest::Url::parse(&config.url) else {
        return report.fail(&target, "webhook.url", "WEBHOOK_URL does not parse", "set WEBHOOK_URL to an http(s) URL");
    };
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return report.fail(&target, "webhook.url", "WEBHOOK_URL has no host", "set WEBHOOK_URL to an http(s) URL");
    };
    match timed(tokio::net::TcpStream::connect((host, port))).await {
        Ok(_) => report.ok(&target, "webhook.connect", format!("{host}:{port} accepts connections")),
        Err(e) => report.fail(
            &target,
            "webhook.connect",
            format!("{host}:{port}: {}", e.map_or("timed out".into(), |e| e.to_string())),
            "check WEBHOOK_URL, DNS, and the network path (security groups, a NAT gateway from a private subnet)",
        ),
    }
}
