//! The command-line side of the binary (when not running in Lambda): the subcommands and what
//! each runs. Each runs with the same configuration as the function.

pub(crate) mod check;
pub(crate) mod compact;
pub mod generate;
pub(crate) mod invoke;
pub(crate) mod replay;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use generate::{generate, GenerateOptions};

#[derive(Parser)]
#[command(
    name = "das-forwarder",
    version,
    about = "Decrypts Aurora/RDS Database Activity Streams and forwards the events"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the Lambda handler on a Kinesis event file; prints the handler's JSON response.
    Invoke {
        /// A Kinesis event JSON file (the shape Lambda delivers).
        #[arg(long)]
        event: PathBuf,
    },
    /// Re-run records that did not go through (quarantined, on-failure, archived) through the
    /// pipeline and the configured sinks; prints a summary.
    Replay(replay::ReplayArgs),
    /// Merge a closed window of the hive layout's objects under s3://$S3_BUCKET/$S3_PREFIX into
    /// one sorted Parquet object per region, account and event day, in the Security Lake
    /// location of $SECURITY_LAKE_SOURCE in $SECURITY_LAKE_BUCKET (default $S3_BUCKET).
    /// Idempotent: a rerun writes the same keys with the same bytes. Prints a JSON summary.
    Compact(compact::CompactArgs),
    /// Check a set-up, read-only: the streams (exists, active, one recent record of each shard
    /// through KMS, ESDK, gunzip and the event list) and the configured sinks (an S3 probe
    /// object put and deleted, HEC's health and token, the webhook's host). One line a check,
    /// ok / warn / FAIL with the fix; exits non-zero on any failure. Prints no event, key or token.
    Check(check::CheckArgs),
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

/// Runs one subcommand.
pub async fn run(config: Config, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Invoke { event } => invoke::run(config, &event).await,
        Command::Replay(args) => replay::run(config, args).await,
        Command::Compact(args) => compact::run(config, args).await,
        Command::Check(args) => check::run(config, args).await,
        Command::Generate { out, master_key_file, options } => {
            crate::das::ResourceId::new(&options.resource_id).context("--resource-id")?;
            let keys = crate::keys::local::LocalKeys::from_file(&master_key_file).context("--master-key-file")?;
            let event = generate(&options, &keys);
            let text = serde_json::to_string_pretty(&event)?;
            std::fs::write(&out, text + "\n").with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("wrote {} records to {}", options.records, out.display());
            Ok(())
        }
    }
}
