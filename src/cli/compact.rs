//! `das-forwarder compact`: a closed window of the hive layout's objects merged into the
//! Security Lake location, one sorted Parquet object per region, account and event day; prints
//! a JSON summary.

use anyhow::Context;
use clap::Args;

use crate::compact::{self, Target, Window};
use crate::config::Config;
use crate::setup;

#[derive(Args, Debug)]
pub struct CompactArgs {
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
}

/// Where `compact` reads and writes: the hive layout's bucket, the Security Lake source
/// directory, and the bucket written to (the role's, when `S3_ROLE_ARN` is set).
fn locations(config: &Config) -> anyhow::Result<(String, String, String)> {
    let bucket = config.s3_bucket.clone().context("compact needs S3_BUCKET (where the hive layout is)")?;
    let source_dir =
        config.security_lake_source.clone().context("compact needs SECURITY_LAKE_SOURCE (where it writes)")?;
    let lake_bucket = match (&config.security_lake_bucket, &config.s3_access.role_arn) {
        (Some(b), _) => b.clone(),
        (None, None) => bucket.clone(),
        (None, Some(_)) => {
            anyhow::bail!("compact with S3_ROLE_ARN needs SECURITY_LAKE_BUCKET: the role writes there")
        }
    };
    Ok((bucket, source_dir, lake_bucket))
}

pub async fn run(config: Config, args: CompactArgs) -> anyhow::Result<()> {
    let CompactArgs { start, hours, grace_minutes, dry_run, force } = args;
    let window = Window::parse(&start, hours)?;
    let grace_ms = i64::from(grace_minutes) * 60_000;
    window.check_closed(chrono::Utc::now().timestamp_millis(), grace_ms)?;
    let (bucket, source_dir, lake_bucket) = locations(&config)?;
    let sdk = setup::aws_config().await;
    let reader = config.s3_access.without_role().client(&sdk).await;
    let objects = compact::read_window(&reader, &bucket, &config.prefixes.output, &window).await?;
    if objects.is_empty() {
        eprintln!(
            "compact: no objects under s3://{bucket}/{}class_uid=6005/ for {} (S3_PREFIX?)",
            config.prefixes.output,
            window.label()
        );
    }
    let target = Target { source_dir, zstd_level: config.parquet_zstd_level };
    let closed_ms = window.end_ms() + grace_ms;
    let mut summary = crate::parallel::blocking(|| compact::merge(objects, &window, closed_ms, &target))?;
    summary.dry_run = dry_run;
    if !dry_run {
        let writer = config.s3_access.client(&sdk).await;
        compact::write_objects(&writer, &lake_bucket, &summary, force).await?;
    }
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}
