//! The process's logs: `tracing` to stderr, text or JSON, filtered by `RUST_LOG`.

use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::config::LogFormat;

/// Crates whose TRACE output can carry request bodies (the AWS SDK prints whole requests, S3
/// objects with SQL included): capped at these levels whatever RUST_LOG says. A cap, not a
/// setting: `RUST_LOG=warn` keeps them at WARN.
const QUIET: [(&str, LevelFilter); 4] = [
    ("aws_smithy_runtime", LevelFilter::DEBUG),
    ("aws_smithy_runtime_api", LevelFilter::DEBUG),
    ("hyper", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
];

/// Installs the global subscriber (once, at start).
pub fn init(format: LogFormat) {
    let wanted = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // An event is printed when RUST_LOG wants it and the cap allows it.
    let filter = wanted.and(Targets::new().with_default(LevelFilter::TRACE).with_targets(QUIET));
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let layer = match format {
        LogFormat::Json => layer.json().with_current_span(true).with_filter(filter).boxed(),
        LogFormat::Text => layer.with_filter(filter).boxed(),
    };
    tracing_subscriber::registry().with(layer).init();
}
