//! The `das-forwarder` binary: the Lambda runtime when `AWS_LAMBDA_RUNTIME_API`
//! is set, otherwise a CLI.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use aws_lambda_events::event::kinesis::KinesisEvent;
use clap::{ArgGroup, Parser, Subcommand};
use das_forwarder::cli::generate::{generate, GenerateOptions};
use das_forwarder::cli::invoke::invoke;
use das_forwarder::config::{Config, LogFormat};
use das_forwarder::keys::local::LocalKeys;
use das_forwarder::setup;
use lambda_runtime::{service_fn, LambdaEvent};
use tracing_subscriber::filter::LevelFilter;

#[derive(Parser)]
#[command(
    name = "das-forwarder",
    version,
    about = "Decrypts Aurora/RDS Database Activity Streams and forwards the events"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Lambda handler on a Kinesis event file; prints the handler's JSON response.
    Invoke {
        /// A Kinesis event JSON file (the shape Lambda delivers).
        #[arg(long)]
        event: PathBuf,
    },
    /// Re-run records that did not go through (quarantined, on-failure, archived) through the
    /// pipeline and the configured sinks; prints a summary.
    #[command(group(ArgGroup::new("source").required(true).args(["quarantine", "on_failure", "archive"])))]
    Replay {
        /// Quarantine entries: a directory or s3://bucket/prefix/. Entries are removed once delivered.
        #[arg(long)]
        quarantine: Option<String>,
        /// Kinesis on-failure messages: a JSON file or an SQS queue URL; records are read back
        /// from the stream while within retention.
        #[arg(long)]
        on_failure: Option<String>,
        /// Firehose archive of DAS records: a directory or s3://bucket/prefix/ (gzip or not).
        #[arg(long, requires = "stream_arn")]
        archive: Option<String>,
        /// The activity stream the archive came from (its resource id, region and account).
        #[arg(long)]
        stream_arn: Option<String>,
        /// Decrypt and map everything, write nothing, remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only events at or after this time (RFC 3339 or epoch milliseconds).
        #[arg(long)]
        since: Option<String>,
        /// Only events before this time (RFC 3339 or epoch milliseconds).
        #[arg(long)]
        until: Option<String>,
        /// Records per batch.
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
    },
    /// Merge a closed window of the hive layout's objects under s3://$S3_BUCKET/$S3_PREFIX into
    /// one sorted Parquet object per region, account and event day, in the Security Lake
    /// location of $SECURITY_LAKE_SOURCE in $SECURITY_LAKE_BUCKET (default $S3_BUCKET).
    /// Idempotent: a rerun writes the same keys with the same bytes. Prints a JSON summary.
    Compact {
        /// Window start, a whole UTC hour in RFC 3339 (2026-11-27T05:00:00Z).
        #[arg(long)]
        start: String,
        /// Window length in hours (1-24).
        #[arg(long, default_value_t = 1)]
        hours: u32,
        /// A window is closed this many minutes after its end (late batches, retries).
        #[arg(long, default_value_t = 15)]
        grace_minutes: u32,
        /// Read and merge, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Replace a merged object even when it holds more rows than this run found.
        #[arg(long)]
        force: bool,
    },
    /// Write a synthetic DAS Kinesis event encrypted for the local key provider.
    Generate {
        #[arg(long)]
        out: PathBuf,
        /// The local master key (as for KEY_PROVIDER=local).
        #[arg(long, env = "LOCAL_MASTER_KEY_FILE")]
        master_key_file: PathBuf,
        #[command(flatten)]
        options: GenerateOptions,
    },
}

/// Crates whose TRACE output can carry request bodies (the AWS SDK prints whole requests, S3
/// objects with SQL included): capped at these levels whatever RUST_LOG says. A cap, not a
/// setting: `RUST_LOG=warn` keeps them at WARN.
const QUIET: [(&str, LevelFilter); 4] = [
    ("aws_smithy_runtime", LevelFilter::DEBUG),
    ("aws_smithy_runtime_api", LevelFilter::DEBUG),
    ("hyper", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
];

fn init_logging(format: LogFormat) {
    use tracing_subscriber::filter::{FilterExt, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
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

async fn run_lambda(config: Config) -> Result<(), String> {
    let forwarder = Arc::new(setup::forwarder(config).await?);
    let handler = service_fn(move |event: LambdaEvent<KinesisEvent>| {
        let forwarder = forwarder.clone();
        async move {
            let (response, summary) = forwarder.handle_invocation(&event.payload, event.context.deadline).await;
            // The EMF document is its own stdout line: CloudWatch Logs extracts the metrics from it.
            if let Some(line) = forwarder.metrics_line(&summary) {
                println!("{line}");
            }
            Ok::<_, lambda_runtime::Error>(response)
        }
    });
    lambda_runtime::run(handler).await.map_err(|e| e.to_string())
}

async fn run_cli(config: Config, command: Command) -> Result<(), String> {
    match command {
        Command::Invoke { event } => {
            let forwarder = setup::forwarder(config).await?;
            let (response, summary) = invoke(&forwarder, &event).await?;
            eprintln!("summary: {}", serde_json::to_string(&summary).map_err(|e| e.to_string())?);
            if let Some(line) = forwarder.metrics_line(&summary) {
                println!("{line}");
            }
            if let Some(kib) = peak_rss_kib() {
                eprintln!("peak_rss_kib: {kib}");
            }
            println!("{}", serde_json::to_string(&response).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Replay { quarantine, on_failure, archive, stream_arn, dry_run, since, until, batch_size } => {
            use das_forwarder::replay::{self, sources, Location};
            let mut config = config;
            config.filters.since_ms = since.as_deref().map(parse_time).transpose()?;
            config.filters.until_ms = until.as_deref().map(parse_time).transpose()?;
            let max_file = config.max_inflated_bytes;
            let sdk = setup::aws_config().await;
            let s3 = config.s3_access.without_role().client(&sdk).await;
            let sqs = aws_sdk_sqs::Client::new(&sdk);
            let forwarder =
                if dry_run { setup::dry_run_forwarder(config).await? } else { setup::forwarder(config).await? };
            let batches = if let Some(q) = quarantine {
                replay::into_batches(sources::quarantine(&Location::parse(&q), Some(&s3)).await?, batch_size)
            } else if let Some(a) = archive {
                let arn = stream_arn.unwrap_or_default();
                replay::into_batches(
                    sources::archive(&Location::parse(&a), Some(&s3), &arn, max_file).await?,
                    batch_size,
                )
            } else {
                let kinesis = aws_sdk_kinesis::Client::new(&sdk);
                sources::on_failure(&on_failure.unwrap_or_default(), Some(&sqs), &kinesis).await?
            };
            let cleaner = sources::Cleaner { s3: Some(s3), sqs: Some(sqs) };
            let summary = replay::run(&forwarder, batches, &cleaner, dry_run).await?;
            println!("{}", serde_json::to_string(&summary).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Compact { start, hours, grace_minutes, dry_run, force } => {
            use das_forwarder::compact::{self, Target, Window};
            let window = Window::parse(&start, hours)?;
            let grace_ms = i64::from(grace_minutes) * 60_000;
            window.check_closed(chrono::Utc::now().timestamp_millis(), grace_ms)?;
            let bucket = config.s3_bucket.clone().ok_or("compact needs S3_BUCKET (where the hive layout is)")?;
            let source_dir =
                config.security_lake_source.clone().ok_or("compact needs SECURITY_LAKE_SOURCE (where it writes)")?;
            let lake_bucket = match (&config.security_lake_bucket, &config.s3_access.role_arn) {
                (Some(b), _) => b.clone(),
                (None, None) => bucket.clone(),
                (None, Some(_)) => {
                    return Err("compact with S3_ROLE_ARN needs SECURITY_LAKE_BUCKET: the role writes there".into())
                }
            };
            let sdk = setup::aws_config().await;
            let reader = config.s3_access.without_role().client(&sdk).await;
            let objects = compact::read_window(&reader, &bucket, &config.output_prefix, &window).await?;
            if objects.is_empty() {
                eprintln!(
                    "compact: no objects under s3://{bucket}/{}class_uid=6005/ for {} (S3_PREFIX?)",
                    config.output_prefix,
                    window.label()
                );
            }
            let target = Target { source_dir, zstd_level: config.parquet_zstd_level };
            let closed_ms = window.end_ms() + grace_ms;
            let mut summary =
                das_forwarder::parallel::blocking(|| compact::merge(objects, &window, closed_ms, &target))?;
            summary.dry_run = dry_run;
            if !dry_run {
                let writer = config.s3_access.client(&sdk).await;
                compact::write_objects(&writer, &lake_bucket, &summary, force).await?;
            }
            println!("{}", serde_json::to_string(&summary).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Generate { out, master_key_file, options: opts } => {
            das_forwarder::das::ResourceId::new(&opts.resource_id).map_err(|e| format!("--resource-id: {e}"))?;
            let keys = LocalKeys::from_file(&master_key_file)?;
            let event = generate(&opts, &keys);
            let text = serde_json::to_string_pretty(&event).map_err(|e| e.to_string())?;
            std::fs::write(&out, text + "\n").map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            eprintln!("wrote {} records to {}", opts.records, out.display());
            Ok(())
        }
    }
}

/// `--since`/`--until`: RFC 3339 or epoch milliseconds.
fn parse_time(s: &str) -> Result<i64, String> {
    s.parse::<i64>().or_else(|_| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .map_err(|e| format!("{s:?} is neither RFC 3339 nor epoch milliseconds: {e}"))
    })
}

/// The process's peak resident set (VmHWM), where /proc has it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> ExitCode {
    das_forwarder::tune_allocator();
    // The same test as the configuration's: set and not blank.
    let in_lambda = std::env::var("AWS_LAMBDA_RUNTIME_API").is_ok_and(|v| !v.trim().is_empty());
    // Parse the command line before anything else so --help works without configuration.
    let cli = if in_lambda { None } else { Some(Cli::parse()) };
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("das-forwarder: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format.unwrap_or(if in_lambda { LogFormat::Json } else { LogFormat::Text }));
    let result = match cli {
        None => run_lambda(config).await,
        Some(cli) => run_cli(config, cli.command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("das-forwarder: {e}");
            ExitCode::FAILURE
        }
    }
}
