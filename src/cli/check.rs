//! `das-forwarder check`: the preflight (`crate::check`) with the function's configuration.

use anyhow::Context;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

use crate::check::{self, sinks, stream, Report, Status};
use crate::config::{Config, SinkConfig};
use crate::setup;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// An activity stream to check (repeat for several): `arn:aws:kinesis:<region>:<account>:stream/aws-rds-das-<id>`.
    #[arg(long = "stream-arn")]
    pub stream_arns: Vec<String>,
    /// Check this function's Kinesis event source mappings, and the streams they read.
    #[arg(long)]
    pub function: Option<String>,
    /// Run every check as this role (assumed), e.g. the function's, to test what it may do.
    #[arg(long)]
    pub role_arn: Option<String>,
    /// Also send the webhook one signed test message (it reaches the receiver as an event).
    #[arg(long)]
    pub send_test_message: bool,
    /// One JSON document instead of one line a check.
    #[arg(long)]
    pub json: bool,
}

/// The AWS configuration the checks run with: the environment's, or `role`'s when given.
async fn aws(role: Option<&str>, report: &mut Report) -> aws_config::SdkConfig {
    let sdk = setup::aws_config().await;
    let Some(role) = role else { return sdk };
    let provider = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name("das-forwarder-check")
        .configure(&sdk)
        .build()
        .await;
    match check::timed(provider.provide_credentials()).await {
        Ok(_) => report.ok("role", "role.assume", format!("assumed {role}")),
        Err(e) => report.fail(
            "role",
            "role.assume",
            e.map_or("timed out".into(), |e| crate::error::chain(&e)),
            "the role's trust policy must let the caller's principal sts:AssumeRole (a function's role trusts \
             lambda.amazonaws.com only: add the operator's principal to run the checks as it)",
        ),
    }
    sdk.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
}

pub async fn run(config: Config, args: CheckArgs) -> anyhow::Result<()> {
    let mut report = Report::default();
    let sdk = aws(args.role_arn.as_deref(), &mut report).await;
    let mut streams = args.stream_arns.clone();
    if let Some(function) = &args.function {
        let lambda = aws_sdk_lambda::Client::new(&sdk);
        for arn in check::mapping::check(&lambda, function, &mut report).await {
            if !streams.contains(&arn) {
                streams.push(arn);
            }
        }
    }
    if !streams.is_empty() {
        let keys = setup::key_provider(&config, Some(&sdk)).context("the key provider")?;
        let kinesis = aws_sdk_kinesis::Client::new(&sdk);
        let rds = aws_sdk_rds::Client::new(&sdk);
        let parts = stream::Parts { kinesis: &kinesis, rds: &rds, keys: keys.as_ref(), settings: &config.pipeline };
        for arn in &streams {
            stream::check(&parts, arn, &mut report).await;
        }
    }
    let http = reqwest::Client::builder().build().context("the HTTP client")?;
    for sink in &config.sinks {
        match sink {
            SinkConfig::S3(c) => {
                // The quarantine is written with the function's own role, never S3_ROLE_ARN's.
                let client = c.access.without_role().client(&sdk).await;
                sinks::s3(c, &client, &mut report).await;
            }
            SinkConfig::Hec(c) => match setup::hec_token(&c.token, Some(&sdk)).await {
                Ok(token) => sinks::hec(c, &token, &http, &mut report).await,
                Err(e) => report.fail(
                    "sink hec",
                    "hec.token",
                    crate::error::chain(&e),
                    "the role needs secretsmanager:GetSecretValue on HEC_TOKEN_SECRET_ARN",
                ),
            },
            SinkConfig::Webhook(c) => {
                sinks::webhook(c, &mut report).await;
                if args.send_test_message {
                    let secret = match &c.secret_arn {
                        Some(arn) => match setup::webhook_secret(arn, Some(&sdk)).await {
                            Ok(s) => Some(s),
                            Err(e) => {
                                let fix = "the role needs secretsmanager:GetSecretValue on WEBHOOK_SECRET_ARN";
                                report.fail("sink webhook", "webhook.secret", crate::error::chain(&e), fix);
                                continue;
                            }
                        },
                        None => None,
                    };
                    sinks::webhook_message(&c.clone().build(http.clone(), secret), &mut report).await;
                }
            }
            SinkConfig::File(_) | SinkConfig::Stdout => {}
        }
    }
    if report.checks.is_empty() {
        let fix = "pass --stream-arn or --function, and run with the function's variables (SINKS, …)";
        report.warn("check", "check.scope", "nothing to check: no stream and no sink that can be checked", fix);
    }
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    match report.count(Status::Fail) {
        0 => Ok(()),
        n => anyhow::bail!("{n} checks failed"),
    }
}
