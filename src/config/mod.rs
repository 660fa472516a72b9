//! One typed configuration, read once from the environment (the same in Lambda and in the
//! CLI). Every variable is documented in docs/configuration.md; a bad value fails at start with
//! a message that names the variable.
//!
//! The tree: `env` reads and checks single values; each sink's configuration reads its own
//! variables (`HecConfig::from_env`, …) and builds its own sink; this module reads what the
//! whole function shares, puts the sinks in the order `SINKS` names them, and applies the rules
//! that span parts (`validate`).

pub(crate) mod env;

use std::path::PathBuf;
use std::time::Duration;

pub use env::{ConfigError, Env};

use crate::pipeline::Settings;
use crate::sinks::file::FileConfig;
use crate::sinks::hec::HecConfig;
use crate::sinks::s3::config::{security_lake_source_from_env, zstd_level_from_env, Prefixes, S3Access, Shared};
use crate::sinks::s3::S3Config;
use crate::sinks::webhook::WebhookConfig;
use env::err;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProviderKind {
    Kms,
    /// Demo and test only: a local master key file instead of KMS.
    Local {
        master_key_file: PathBuf,
    },
}

/// One sink, with its settings: the only way a sink is named in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkConfig {
    File(FileConfig),
    Stdout,
    S3(S3Config),
    Hec(HecConfig),
    Webhook(WebhookConfig),
}

impl SinkConfig {
    /// Its name in `SINKS`.
    pub fn name(&self) -> &'static str {
        match self {
            SinkConfig::File(_) => "file",
            SinkConfig::Stdout => "stdout",
            SinkConfig::S3(_) => "s3",
            SinkConfig::Hec(_) => "hec",
            SinkConfig::Webhook(_) => "webhook",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub key_provider: KeyProviderKind,
    /// In the order `SINKS` names them, each once.
    pub sinks: Vec<SinkConfig>,
    /// `FILE_SINK_DIR`: the file sink's root, and the quarantine's when there is no S3 sink.
    pub file_sink_dir: PathBuf,
    /// `S3_PREFIX` and `QUARANTINE_PREFIX`.
    pub prefixes: Prefixes,
    pub cache_capacity: u64,
    pub cache_ttl: Duration,
    /// How a batch runs: limits, memory budget, threads, the flush reserve, the resource id.
    pub pipeline: Settings,
    /// CloudWatch namespace of the EMF document; None when `METRICS=off`.
    pub metrics_namespace: Option<String>,
    pub kms_timeout: Duration,
    pub log_format: Option<LogFormat>,
    pub filters: crate::ocsf::Filters,
    /// `S3_BUCKET`, also when the s3 sink is off (`compact`, `replay`).
    pub s3_bucket: Option<String>,
    /// How every S3 client reaches S3 (`S3_FORCE_PATH_STYLE`, `S3_ROLE_ARN`, `S3_EXTERNAL_ID`).
    pub s3_access: S3Access,
    /// The custom source `compact` and `S3_LAYOUT=security-lake` write for, as its directory
    /// under `ext/`: `SECURITY_LAKE_SOURCE`, `/SECURITY_LAKE_SOURCE_VERSION` when set.
    pub security_lake_source: Option<String>,
    /// `SECURITY_LAKE_BUCKET`: where `compact` writes (default `S3_BUCKET`).
    pub security_lake_bucket: Option<String>,
    /// `PARQUET_ZSTD_LEVEL`.
    pub parquet_zstd_level: i32,
    /// How long an invocation may take when the runtime gives no deadline (the CLI).
    pub delivery_timeout: Duration,
    /// Time kept free before the Lambda deadline to answer Kinesis.
    pub deadline_margin: Duration,
}

/// The names `SINKS` accepts, in the order its error lists them.
const SINK_NAMES: [&str; 5] = ["s3", "hec", "webhook", "file", "stdout"];

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = Env::new(&lookup);
        let in_lambda = env.get("AWS_LAMBDA_RUNTIME_API").is_some();
        let key_provider = key_provider(&env)?;
        let names = sink_names(&env)?;
        let log_format = match env.get("LOG_FORMAT") {
            None => None,
            Some(_) => Some(env.choice("LOG_FORMAT", "", &[("json", LogFormat::Json), ("text", LogFormat::Text)])?),
        };
        let prefixes = Prefixes::from_env(&env)?;
        let s3_access = S3Access::from_env(&env)?;
        let security_lake_source = security_lake_source_from_env(&env)?;
        let parquet_zstd_level = zstd_level_from_env(&env)?;
        let pipeline = Settings::from_env(&env)?;
        let s3_bucket = env.get("S3_BUCKET");
        let file_sink_dir = PathBuf::from(
            env.get("FILE_SINK_DIR").unwrap_or_else(|| if in_lambda { "/tmp/das-forwarder" } else { "out" }.into()),
        );

        // The S3 sink's own settings are checked whether or not it is on (compact and replay read
        // the same variables, and a typo should fail at start either way).
        let shared = Shared {
            prefixes: &prefixes,
            access: &s3_access,
            security_lake_source: security_lake_source.as_deref(),
            zstd_level: parquet_zstd_level,
            buffer_bytes: pipeline.budget.sink_bytes(),
        };
        validate(in_lambda, &key_provider, &names)?;
        let s3_on = names.contains(&"s3");
        let bucket = if s3_on { env.required("S3_BUCKET", "when SINKS includes s3")? } else { String::new() };
        let mut s3 = Some(S3Config::from_env(&env, bucket, shared)?);
        let mut sinks = Vec::with_capacity(names.len());
        for name in names {
            sinks.push(match name {
                "file" => SinkConfig::File(FileConfig { dir: file_sink_dir.clone(), prefix: prefixes.output.clone() }),
                "stdout" => SinkConfig::Stdout,
                "s3" => SinkConfig::S3(s3.take().expect("s3 is named once")),
                "hec" => SinkConfig::Hec(HecConfig::from_env(&env)?),
                _ => SinkConfig::Webhook(WebhookConfig::from_env(&env)?),
            });
        }

        Ok(Config {
            key_provider,
            sinks,
            file_sink_dir,
            prefixes,
            s3_bucket,
            s3_access,
            security_lake_source,
            security_lake_bucket: env.get("SECURITY_LAKE_BUCKET"),
            parquet_zstd_level,
            delivery_timeout: Duration::from_secs(env.number("DELIVERY_TIMEOUT_SECS", 60, 1, 900)?),
            deadline_margin: Duration::from_millis(env.number("DEADLINE_MARGIN_MS", 2000, 0, 60_000)?),
            cache_capacity: env.number("DATA_KEY_CACHE_CAPACITY", 10_000, 1, 10_000_000)?,
            cache_ttl: Duration::from_secs(env.number("DATA_KEY_CACHE_TTL_SECS", 3600, 1, 7 * 86_400)?),
            pipeline,
            filters: filters(&env)?,
            metrics_namespace: match env.choice("METRICS", "emf", &[("emf", true), ("off", false)])? {
                true => Some(env.get("METRICS_NAMESPACE").unwrap_or_else(|| "DasForwarder".into())),
                false => None,
            },
            kms_timeout: Duration::from_millis(env.number("KMS_TIMEOUT_MS", 5_000, 100, 60_000)?),
            log_format,
        })
    }

    /// The S3 sink's settings, when it is on.
    pub fn s3(&self) -> Option<&S3Config> {
        self.sinks.iter().find_map(|s| match s {
            SinkConfig::S3(c) => Some(c),
            _ => None,
        })
    }
}

/// The rules that span parts of the configuration (a part's own rules, such as S3_LAYOUT's
/// need of S3_FORMAT=parquet, stay with the part). Checked before any sink reads its variables.
fn validate(in_lambda: bool, key_provider: &KeyProviderKind, sinks: &[&str]) -> Result<(), ConfigError> {
    // Without S3 the quarantine would live in /tmp, which dies with the sandbox. The local key
    // provider (demos, the `cargo lambda watch` loop) is exempt: nothing real is at stake there.
    let local_loop = matches!(key_provider, KeyProviderKind::Local { .. });
    if in_lambda && !local_loop && !sinks.contains(&"s3") {
        return Err(err("SINKS", "in Lambda, include s3 (with S3_BUCKET): it holds the quarantine"));
    }
    Ok(())
}

/// `KEY_PROVIDER`, and `LOCAL_MASTER_KEY_FILE` for the local one.
fn key_provider(env: &Env) -> Result<KeyProviderKind, ConfigError> {
    Ok(match env.choice("KEY_PROVIDER", "kms", &[("kms", false), ("local", true)])? {
        false => KeyProviderKind::Kms,
        true => KeyProviderKind::Local {
            master_key_file: env
                .get("LOCAL_MASTER_KEY_FILE")
                .map(PathBuf::from)
                .ok_or_else(|| err("LOCAL_MASTER_KEY_FILE", "required when KEY_PROVIDER=local"))?,
        },
    })
}

/// `SINKS`: a comma-separated list, each name once (default `file`).
fn sink_names(env: &Env) -> Result<Vec<&'static str>, ConfigError> {
    let mut names = Vec::new();
    let list = env.get("SINKS").unwrap_or_else(|| "file".into());
    for given in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some(name) = SINK_NAMES.iter().find(|n| **n == given) else {
            return Err(err("SINKS", format!("{given:?} is not one of {}", SINK_NAMES.join(", "))));
        };
        if !names.contains(name) {
            names.push(*name);
        }
    }
    if names.is_empty() {
        return Err(err("SINKS", "at least one sink is required"));
    }
    Ok(names)
}

/// The event filters (`EXCLUDE_*`) and the SQL redaction (`REDACT_SQL`, `REDACT_HMAC_KEY`).
fn filters(env: &Env) -> Result<crate::ocsf::Filters, ConfigError> {
    use crate::redact::{Mode, Redactor};
    let mut f = crate::ocsf::Filters::from_lists(
        env.get("EXCLUDE_USERS").as_deref(),
        env.get("EXCLUDE_COMMANDS").as_deref(),
        env.get("EXCLUDE_DATABASES").as_deref(),
    );
    let modes = [("off", None), ("literals", Some(Mode::Literals)), ("full", Some(Mode::Full))];
    f.redaction = match env.choice("REDACT_SQL", "off", &modes)? {
        None => Redactor::default(),
        Some(Mode::Full) => {
            let key = env.required("REDACT_HMAC_KEY", "when REDACT_SQL=full")?;
            if key.len() < 16 {
                return Err(err("REDACT_HMAC_KEY", "must be at least 16 characters"));
            }
            Redactor::new(Mode::Full, key.into_bytes())
        }
        Some(mode) => Redactor::new(mode, Vec::new()),
    };
    Ok(f)
}

#[cfg(test)]
mod tests;
