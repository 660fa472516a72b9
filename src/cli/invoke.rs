//! `das-forwarder invoke --event FILE`: runs the exact Lambda handler on a
//! Kinesis event file and prints the handler's JSON response.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use tokio::sync::oneshot;

use crate::config::Config;
use crate::setup;

/// Reads a Kinesis event file: its first `peek` records go to `first` as soon as they are read,
/// then the whole event is parsed (errors name the file).
fn read_event(
    path: &Path,
    peek: usize,
    first: oneshot::Sender<Vec<KinesisEventRecord>>,
) -> anyhow::Result<KinesisEvent> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let _ = first.send(crate::kinesis::first_records(&bytes, peek));
    crate::kinesis::parse(&bytes).with_context(|| format!("{} is not a Kinesis event", path.display()))
}

/// `das-forwarder invoke --event FILE`: the summary and the peak RSS on stderr, the EMF document
/// (unless `METRICS=off`) and then the response on stdout, its last line.
pub async fn run(config: Config, event: &Path) -> anyhow::Result<()> {
    // The event is read and parsed on a thread of its own while the forwarder is set up (clients,
    // keys, sinks): on a batch of megabytes, both take milliseconds. The keys of its first
    // records (`DECRYPT_CONCURRENCY` of them) are asked for as soon as both are there, while
    // the rest of the event is still being parsed: a key service's answers overlap the reading.
    let path = event.to_owned();
    let peek = config.pipeline.decrypt_concurrency;
    let (first_tx, first_rx) = oneshot::channel();
    let (event_tx, event_rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("das-read-event".into())
        .spawn(move || {
            let _ = event_tx.send(read_event(&path, peek, first_tx));
        })
        .context("cannot start a thread to read the event")?;
    let forwarder = setup::forwarder(config).await?;
    tracing::debug!("forwarder ready");
    // The batch's key counters include the calls made ahead of it.
    let before = forwarder.key_stats();
    let warm = async {
        if let Ok(first) = first_rx.await {
            forwarder.warm_keys(&first).await;
        }
    };
    let batch = async {
        let event = event_rx.await.map_err(|_| anyhow::anyhow!("reading the event panicked"))??;
        tracing::debug!(records = event.records.len(), "event read");
        // The deadline counts from the batch in hand, as in Lambda.
        let deadline = Instant::now() + forwarder.config().delivery_timeout;
        anyhow::Ok(forwarder.handle_since(&event, deadline, before).await)
    };
    let mut batch = std::pin::pin!(batch);
    // Polled together, the warm-up first (its calls go out before the batch's lookups); it never
    // outlives the batch: what is left of it is dropped.
    let (response, summary) = tokio::select! {
        biased;
        () = warm => batch.await,
        done = &mut batch => done,
    }?;
    eprintln!("summary: {}", serde_json::to_string(&summary)?);
    if let Some(line) = forwarder.metrics_line(&summary) {
        println!("{line}");
    }
    if let Some(kib) = peak_rss_kib() {
        eprintln!("peak_rss_kib: {kib}");
    }
    println!("{}", serde_json::to_string(&response)?);
    Ok(())
}

/// The process's peak resident set (VmHWM), where /proc has it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
