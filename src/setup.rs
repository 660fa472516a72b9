//! Builds the forwarder's parts from the configuration: the key provider,
//! the AWS and HTTP clients (each made once per cold start), the sinks and
//! the quarantine. The only place that reads secrets from Secrets Manager.

use std::sync::Arc;

use tracing::warn;

use crate::config::{Config, KeyProviderKind, SinkConfig};
use crate::error::IoError;
use crate::handler::Forwarder;
use crate::keys::kms::KmsKeys;
use crate::keys::local::{LocalKeys, MasterKeyError};
use crate::keys::KeyProvider;
use crate::sinks::hec::{config::token_from_secret, BadToken, HecToken, TokenSource};
use crate::sinks::quarantine::{FileQuarantine, QuarantineStore};
use crate::sinks::s3::{S3Config, S3Quarantine, S3Sink};
use crate::sinks::stdout::StdoutSink;
use crate::sinks::webhook::WebhookSecret;
use crate::sinks::Sink;

/// Why the forwarder could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A part that needs AWS (`what`), without an AWS configuration.
    #[error("{0} needs an AWS configuration")]
    NoAws(&'static str),
    /// A secret that could not be read from Secrets Manager.
    #[error(transparent)]
    Secret(#[from] IoError),
    /// A secret read, but not one the sink can use (`var` names its variable).
    #[error("{var}: {why}")]
    BadSecret { var: &'static str, why: String },
    #[error(transparent)]
    HecToken(#[from] BadToken),
    #[error("LOCAL_MASTER_KEY_FILE")]
    MasterKey(#[from] MasterKeyError),
    #[error("the HTTP client")]
    Http(#[from] reqwest::Error),
}

async fn aws() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

/// KMS gets `KMS_TIMEOUT_MS`; S3 and the HTTP sinks are bounded by the delivery deadline.
fn kms_client(sdk: &aws_config::SdkConfig, config: &Config) -> aws_sdk_kms::Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder().operation_timeout(config.kms_timeout).build();
    aws_sdk_kms::Client::from_conf(aws_sdk_kms::config::Builder::from(sdk).timeout_config(timeouts).build())
}

/// The string of the Secrets Manager secret `arn`; errors name `var`.
async fn secret_string(
    arn: &str,
    sdk: Option<&aws_config::SdkConfig>,
    var: &'static str,
) -> Result<String, SetupError> {
    let sdk = sdk.ok_or(SetupError::NoAws(var))?;
    let out = aws_sdk_secretsmanager::Client::new(sdk)
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| IoError::new(format!("{var}: reading the secret"), e))?;
    let bad = || SetupError::BadSecret { var, why: "the secret has no string value".into() };
    out.secret_string().map(str::to_owned).ok_or_else(bad)
}

/// The HEC token, read from Secrets Manager when the configuration names a secret.
pub(crate) async fn hec_token(
    source: &TokenSource,
    sdk: Option<&aws_config::SdkConfig>,
) -> Result<HecToken, SetupError> {
    const VAR: &str = "HEC_TOKEN_SECRET_ARN";
    match source {
        TokenSource::Value(t) => Ok(t.clone()),
        TokenSource::SecretArn(arn) => token_from_secret(&secret_string(arn, sdk, VAR).await?)
            .ok_or_else(|| SetupError::BadSecret { var: VAR, why: "the secret holds no token".into() }),
    }
}

/// The webhook secret from Secrets Manager (`WEBHOOK_SECRET_ARN`), checked like `WEBHOOK_SECRET`.
pub(crate) async fn webhook_secret(
    arn: &str,
    sdk: Option<&aws_config::SdkConfig>,
) -> Result<WebhookSecret, SetupError> {
    const VAR: &str = "WEBHOOK_SECRET_ARN";
    let value = secret_string(arn, sdk, VAR).await?;
    let bad = |why: &str| SetupError::BadSecret { var: VAR, why: why.to_owned() };
    let secret = crate::sinks::webhook::config::secret_from_value(&value)
        .ok_or_else(|| bad("the secret holds no webhook secret"))?;
    crate::sinks::webhook::config::check_secret(&secret.0).map_err(bad)?;
    Ok(secret)
}

/// The key provider the configuration names: KMS (with `KMS_TIMEOUT_MS`), or the local demo key.
pub(crate) fn key_provider(
    config: &Config,
    sdk: Option<&aws_config::SdkConfig>,
) -> Result<Arc<dyn KeyProvider>, SetupError> {
    Ok(match (&config.key_provider, sdk) {
        (KeyProviderKind::Kms, Some(sdk)) => Arc::new(KmsKeys::new(kms_client(sdk, config))),
        (KeyProviderKind::Kms, None) => return Err(SetupError::NoAws("KEY_PROVIDER=kms")),
        (KeyProviderKind::Local { master_key_file }, _) => {
            warn!(
                file = %master_key_file.display(),
                "KEY_PROVIDER=local: using a local master key instead of AWS KMS. For demos and tests only; never in production."
            );
            Arc::new(LocalKeys::from_file(master_key_file)?)
        }
    })
}

/// The client in `slot`, made on first use.
fn shared_http(slot: &mut Option<reqwest::Client>) -> Result<reqwest::Client, SetupError> {
    if let Some(client) = slot {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder().build()?;
    *slot = Some(client.clone());
    Ok(client)
}

/// Everything the configuration names, ready to handle batches.
pub async fn forwarder(config: Config) -> Result<Forwarder, SetupError> {
    build(config, false).await
}

/// The same key provider and pipeline, but no sink and a quarantine that keeps nothing
/// (`replay --dry-run`: what would happen, with nothing written).
pub async fn dry_run_forwarder(config: Config) -> Result<Forwarder, SetupError> {
    build(config, true).await
}

/// The AWS SDK configuration from the environment (no network I/O).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws().await
}

async fn build(config: Config, dry_run: bool) -> Result<Forwarder, SetupError> {
    let s3_config = config.s3().cloned();
    let needs_aws = config.key_provider == KeyProviderKind::Kms
        || config.sinks.iter().any(|s| match s {
            SinkConfig::S3(_) => true,
            SinkConfig::Hec(c) => matches!(c.token, TokenSource::SecretArn(_)),
            SinkConfig::Webhook(c) => c.secret_arn.is_some(),
            SinkConfig::File(_) | SinkConfig::Stdout => false,
        });
    let sdk = if needs_aws { Some(aws().await) } else { None };
    // One HTTP client, made when the first HTTP sink needs it.
    let mut http: Option<reqwest::Client> = None;

    let provider = key_provider(&config, sdk.as_ref())?;

    let s3_client = match (&s3_config, &sdk) {
        (Some(c), Some(sdk)) => Some(c.client(sdk).await),
        _ => None,
    };
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    for sink in config.sinks.iter().filter(|_| !dry_run) {
        let sink: Box<dyn Sink> = match sink.clone() {
            SinkConfig::File(c) => Box::new(c.build()),
            SinkConfig::Stdout => Box::new(StdoutSink),
            SinkConfig::S3(c) => Box::new(c.build(s3_client.clone().ok_or(SetupError::NoAws("the s3 sink"))?)),
            SinkConfig::Hec(c) => {
                let token = hec_token(&c.token, sdk.as_ref()).await?;
                Box::new(c.build(shared_http(&mut http)?, &token)?)
            }
            SinkConfig::Webhook(c) => {
                let secret = match &c.secret_arn {
                    Some(arn) => Some(webhook_secret(arn, sdk.as_ref()).await?),
                    None => None,
                };
                Box::new(c.build(shared_http(&mut http)?, secret))
            }
        };
        sinks.push(sink);
    }
    // Quarantine beside the S3 output when there is one, else under FILE_SINK_DIR.
    let quarantine: Box<dyn QuarantineStore> = match (s3_config, s3_client) {
        _ if dry_run => Box::new(crate::sinks::quarantine::Discard),
        (Some(c), Some(client)) => {
            // Written with the function's own role: an assumed S3_ROLE_ARN (a Security Lake
            // provider role) may not write outside the output location.
            let client = match (&c.access.role_arn, &sdk) {
                (Some(_), Some(sdk)) => c.access.without_role().client(sdk).await,
                _ => client,
            };
            let bucket = c.quarantine_bucket.clone().unwrap_or_else(|| c.bucket.clone());
            Box::new(S3Quarantine(S3Sink::new(client, S3Config { bucket, ..c })))
        }
        _ => Box::new(FileQuarantine::new(config.file_sink_dir.clone(), config.prefixes.quarantine.clone())),
    };
    Ok(Forwarder::new(config, provider, sinks, quarantine))
}
