//! The `das-forwarder` binary: the Lambda runtime when `AWS_LAMBDA_RUNTIME_API` is set,
//! otherwise a CLI (`das_forwarder::cli`).

use std::process::ExitCode;

use clap::Parser;
use das_forwarder::cli::{self, Cli};
use das_forwarder::config::{Config, LogFormat};
use das_forwarder::{lambda, logging};

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
    logging::init(config.log_format.unwrap_or(if in_lambda { LogFormat::Json } else { LogFormat::Text }));
    let result = match cli {
        None => lambda::run(config).await,
        Some(cli) => cli::run(config, cli.command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}`: the error and each of its causes, `a: b: c`.
            eprintln!("das-forwarder: {e:#}");
            ExitCode::FAILURE
        }
    }
}
