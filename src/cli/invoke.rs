//! `das-forwarder invoke --event FILE`: runs the exact Lambda handler on a
//! Kinesis event file and prints the handler's JSON response.

use std::path::Path;

use anyhow::Context;

use aws_lambda_events::event::kinesis::KinesisEvent;

use crate::config::Config;
use crate::setup;

/// Reads and parses a Kinesis event file (errors name the file).
pub fn read_event(path: &Path) -> anyhow::Result<KinesisEvent> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    crate::kinesis::parse(&bytes).with_context(|| format!("{} is not a Kinesis event", path.display()))
}

/// `das-forwarder invoke --event FILE`: the summary and the peak RSS on stderr, the EMF document
/// (unless `METRICS=off`) and then the response on stdout, its last line.
pub async fn run(config: Config, event: &Path) -> anyhow::Result<()> {
    // The event is read and parsed on a thread of its own while the forwarder is set up (clients,
    // keys, sinks): on a batch of megabytes, both take milliseconds.
    let path = event.to_owned();
    let reading = std::thread::Builder::new()
        .name("das-read-event".into())
        .spawn(move || read_event(&path))
        .context("cannot start a thread to read the event")?;
    let forwarder = setup::forwarder(config).await?;
    let event = reading.join().map_err(|_| anyhow::anyhow!("reading the event panicked"))??;
    let (response, summary) = forwarder.handle(&event).await;
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
