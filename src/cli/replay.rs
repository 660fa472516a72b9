//! `das-forwarder replay`: records that did not go through (quarantined, given up on by the
//! event source mapping, archived by Firehose) run through the pipeline and the configured
//! sinks again; prints a JSON summary.

use anyhow::Context;
use clap::{ArgGroup, Args};

use crate::config::Config;
use crate::replay::{self, sources, Location};
use crate::setup;

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("source").required(true).args(["quarantine", "on_failure", "archive"])))]
pub struct ReplayArgs {
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
}

pub async fn run(mut config: Config, args: ReplayArgs) -> anyhow::Result<()> {
    let ReplayArgs { quarantine, on_failure, archive, stream_arn, dry_run, since, until, batch_size } = args;
    config.filters.since_ms = since.as_deref().map(parse_time).transpose()?;
    config.filters.until_ms = until.as_deref().map(parse_time).transpose()?;
    let max_file = config.pipeline.limits.max_inflated_bytes;
    let sdk = setup::aws_config().await;
    let s3 = config.s3_access.without_role().client(&sdk).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let forwarder = if dry_run { setup::dry_run_forwarder(config).await? } else { setup::forwarder(config).await? };
    let batches = if let Some(q) = quarantine {
        replay::into_batches(sources::quarantine(&Location::parse(&q), Some(&s3)).await?, batch_size)
    } else if let Some(a) = archive {
        let arn = stream_arn.unwrap_or_default();
        replay::into_batches(sources::archive(&Location::parse(&a), Some(&s3), &arn, max_file).await?, batch_size)
    } else {
        let kinesis = aws_sdk_kinesis::Client::new(&sdk);
        sources::on_failure(&on_failure.unwrap_or_default(), Some(&sqs), &kinesis).await?
    };
    let cleaner = sources::Cleaner { s3: Some(s3), sqs: Some(sqs) };
    let summary = replay::run(&forwarder, batches, &cleaner, dry_run).await?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

/// `--since`/`--until`: RFC 3339 or epoch milliseconds.
fn parse_time(s: &str) -> anyhow::Result<i64> {
    s.parse::<i64>().or_else(|_| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .with_context(|| format!("{s:?} is neither RFC 3339 nor epoch milliseconds"))
    })
}
