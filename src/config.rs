//! One typed configuration, read once from the environment (the same in
//! Lambda and in the CLI). Every variable is documented in docs/configuration.md;
//! a bad value fails at start with a message that names the variable.

use std::path::PathBuf;
use std::time::Duration;

use crate::sinks::hec::{HecConfig, HecToken, TokenSource};
use crate::sinks::s3::config::{check_source_name, check_source_version, Format, Layout, S3Access};
use crate::sinks::s3::S3Config;
use crate::sinks::webhook::{WebhookConfig, WebhookSecret};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProviderKind {
    Kms,
    /// Demo and test only: a local master key file instead of KMS.
    Local {
        master_key_file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    File,
    Stdout,
    S3,
    Hec,
    Webhook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub key_provider: KeyProviderKind,
    pub sinks: Vec<SinkKind>,
    pub file_sink_dir: PathBuf,
    /// Prefix of the partitioned output under the sink root (`S3_PREFIX`, default `das/`).
    pub output_prefix: String,
    pub quarantine_prefix: String,
    pub resource_id: Option<String>,
    pub cache_capacity: u64,
    pub cache_ttl: Duration,
    pub max_inflated_bytes: usize,
    pub max_events_per_record: usize,
    pub max_frame_length: u32,
    /// Largest JSON text of one event (`MAX_EVENT_BYTES`): a record with a larger one is quarantined.
    pub max_event_bytes: usize,
    /// What a batch may hold in memory beyond its input (`BATCH_MEMORY_MB`, in bytes).
    pub batch_memory: usize,
    /// From the deadline minus this on, nothing new is taken and the sinks finish (`FLUSH_RESERVE_MS`).
    pub flush_reserve: Duration,
    /// CloudWatch namespace of the EMF document; None when `METRICS=off`.
    pub metrics_namespace: Option<String>,
    pub decrypt_concurrency: usize,
    /// Threads that decrypt and normalize a batch (`DECODE_THREADS`).
    pub decode_threads: usize,
    pub kms_timeout: Duration,
    pub log_format: Option<LogFormat>,
    pub filters: crate::ocsf::Filters,
    pub s3: Option<S3Config>,
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
    pub hec: Option<HecConfig>,
    pub webhook: Option<WebhookConfig>,
    /// How long an invocation may take when the runtime gives no deadline (the CLI).
    pub delivery_timeout: Duration,
    /// Time kept free before the Lambda deadline to answer Kinesis.
    pub deadline_margin: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error in {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { var, message: message.into() }
}

struct Env<F: Fn(&str) -> Option<String>>(F);

/// A secret given directly, or as the ARN of a Secrets Manager secret that holds it.
enum Given {
    Value(String),
    Arn(String),
}

/// The secret in a Secrets Manager value: the whole (trimmed) string, or, when it is a JSON
/// object, the first of `keys` it has as a string.
pub fn secret_field(value: &str, keys: &[&str]) -> Option<String> {
    let trimmed = value.trim();
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(trimmed) {
        return keys.iter().find_map(|k| map.get(*k).and_then(|v| v.as_str())).map(str::to_owned);
    }
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get(&self, var: &'static str) -> Option<String> {
        (self.0)(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
        &self,
        var: &'static str,
        default: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError> {
        let Some(text) = self.get(var) else { return Ok(default) };
        let n: T = text.parse().map_err(|_| err(var, format!("{text:?} is not a number")))?;
        if n < min || n > max {
            return Err(err(var, format!("{n} is outside {min}..={max}")));
        }
        Ok(n)
    }

    fn flag(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(var).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(other) => Err(err(var, format!("{other:?} is not true or false"))),
        }
    }

    /// Exactly one of `var` and `arn_var`; `sink` names the sink that needs it.
    fn value_or_arn(&self, var: &'static str, arn_var: &'static str, sink: &str) -> Result<Given, ConfigError> {
        match (self.get(var), self.get(arn_var)) {
            (Some(v), None) => Ok(Given::Value(v)),
            (None, Some(arn)) => Ok(Given::Arn(arn)),
            (Some(_), Some(_)) => Err(err(var, format!("set {var} or {arn_var}, not both"))),
            (None, None) => Err(err(var, format!("{var} or {arn_var} is required when SINKS includes {sink}"))),
        }
    }

    fn required(&self, var: &'static str, why: &str) -> Result<String, ConfigError> {
        self.get(var).ok_or_else(|| err(var, format!("required {why}")))
    }

    fn url(&self, var: &'static str, why: &str) -> Result<String, ConfigError> {
        let url = self.required(var, why)?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(err(var, "must be an http:// or https:// URL"));
        }
        Ok(url)
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = Env(lookup);
        let in_lambda = env.get("AWS_LAMBDA_RUNTIME_API").is_some();

        let key_provider = match env.get("KEY_PROVIDER").as_deref().unwrap_or("kms") {
            "kms" => KeyProviderKind::Kms,
            "local" => KeyProviderKind::Local {
                master_key_file: env
                    .get("LOCAL_MASTER_KEY_FILE")
                    .map(PathBuf::from)
                    .ok_or_else(|| err("LOCAL_MASTER_KEY_FILE", "required when KEY_PROVIDER=local"))?,
            },
            other => return Err(err("KEY_PROVIDER", format!("{other:?} is not one of kms, local"))),
        };

        let mut sinks = Vec::new();
        for name in
            env.get("SINKS").unwrap_or_else(|| "file".into()).split(',').map(str::trim).filter(|s| !s.is_empty())
        {
            let kind = match name {
                "file" => SinkKind::File,
                "stdout" => SinkKind::Stdout,
                "s3" => SinkKind::S3,
                "hec" => SinkKind::Hec,
                "webhook" => SinkKind::Webhook,
                other => return Err(err("SINKS", format!("{other:?} is not one of s3, hec, webhook, file, stdout"))),
            };
            if !sinks.contains(&kind) {
                sinks.push(kind);
            }
        }
        if sinks.is_empty() {
            return Err(err("SINKS", "at least one sink is required"));
        }

        let default_dir = if in_lambda { "/tmp/das-forwarder" } else { "out" };
        let prefix = |var: &'static str, default: &str| -> Result<String, ConfigError> {
            let p = env.get(var).unwrap_or_else(|| default.to_owned());
            if p.split('/').any(|seg| seg == "..") || p.starts_with('/') {
                return Err(err(var, "must be a relative prefix without '..'"));
            }
            Ok(if p.is_empty() || p.ends_with('/') { p } else { format!("{p}/") })
        };

        let log_format = match env.get("LOG_FORMAT").as_deref() {
            None => None,
            Some("json") => Some(LogFormat::Json),
            Some("text") => Some(LogFormat::Text),
            Some(other) => return Err(err("LOG_FORMAT", format!("{other:?} is not one of json, text"))),
        };

        // Without S3 the quarantine would live in /tmp, which dies with the sandbox. The local key
        // provider (demos, the `cargo lambda watch` loop) is exempt: nothing real is at stake there.
        let local_loop = matches!(key_provider, KeyProviderKind::Local { .. });
        if in_lambda && !local_loop && !sinks.contains(&SinkKind::S3) {
            return Err(err("SINKS", "in Lambda, include s3 (with S3_BUCKET): it holds the quarantine"));
        }
        let output_prefix = prefix("S3_PREFIX", "das/")?;
        let quarantine_prefix = prefix("QUARANTINE_PREFIX", "quarantine/")?;
        let gzip_level = env.number("OUTPUT_GZIP_LEVEL", 6, 0, 9)?;
        let s3_access = S3Access {
            force_path_style: env.flag("S3_FORCE_PATH_STYLE", false)?,
            role_arn: env.get("S3_ROLE_ARN"),
            external_id: env.get("S3_EXTERNAL_ID"),
        };
        if s3_access.external_id.is_some() && s3_access.role_arn.is_none() {
            return Err(err("S3_EXTERNAL_ID", "is used only with S3_ROLE_ARN, which is not set"));
        }
        let security_lake_source = match (env.get("SECURITY_LAKE_SOURCE"), env.get("SECURITY_LAKE_SOURCE_VERSION")) {
            (None, Some(_)) => {
                return Err(err("SECURITY_LAKE_SOURCE_VERSION", "needs SECURITY_LAKE_SOURCE, which is not set"))
            }
            (None, None) => None,
            (Some(name), version) => {
                check_source_name(&name).map_err(|why| err("SECURITY_LAKE_SOURCE", why))?;
                match version {
                    Some(v) => {
                        check_source_version(&v).map_err(|why| err("SECURITY_LAKE_SOURCE_VERSION", why))?;
                        Some(format!("{name}/{v}"))
                    }
                    None => Some(name),
                }
            }
        };
        let format = match env.get("S3_FORMAT").as_deref() {
            None | Some("ndjson") => Format::Ndjson,
            Some("parquet") => Format::Parquet,
            Some(other) => return Err(err("S3_FORMAT", format!("{other:?} is not one of ndjson, parquet"))),
        };
        let layout = match env.get("S3_LAYOUT").as_deref() {
            None | Some("hive") => Layout::Hive,
            Some("security-lake") => Layout::SecurityLake {
                source: security_lake_source
                    .clone()
                    .ok_or_else(|| err("SECURITY_LAKE_SOURCE", "is required when S3_LAYOUT=security-lake"))?,
            },
            Some(other) => return Err(err("S3_LAYOUT", format!("{other:?} is not one of hive, security-lake"))),
        };
        if matches!(layout, Layout::SecurityLake { .. }) && format != Format::Parquet {
            return Err(err(
                "S3_FORMAT",
                "S3_LAYOUT=security-lake needs S3_FORMAT=parquet: Security Lake reads Parquet only",
            ));
        }
        let parquet_zstd_level = env.number("PARQUET_ZSTD_LEVEL", 3, 1, 22)?;
        let batch_memory: usize = env.number("BATCH_MEMORY_MB", 32, 8, 4096)? << 20;
        let budget = crate::pipeline::Budget { total: batch_memory };
        let s3_bucket = env.get("S3_BUCKET");
        let s3 = if sinks.contains(&SinkKind::S3) {
            Some(S3Config {
                bucket: env.required("S3_BUCKET", "when SINKS includes s3")?,
                prefix: output_prefix.clone(),
                quarantine_prefix: quarantine_prefix.clone(),
                quarantine_bucket: env.get("QUARANTINE_BUCKET"),
                access: s3_access.clone(),
                gzip_level,
                format,
                layout,
                zstd_level: parquet_zstd_level,
                buffer_bytes: budget.sink_bytes(),
            })
        } else {
            None
        };
        let hec = if sinks.contains(&SinkKind::Hec) {
            let token = match env.value_or_arn("HEC_TOKEN", "HEC_TOKEN_SECRET_ARN", "hec")? {
                Given::Value(t) => TokenSource::Value(HecToken(t)),
                Given::Arn(arn) => TokenSource::SecretArn(arn),
            };
            Some(HecConfig {
                url: env.url("HEC_URL", "when SINKS includes hec")?,
                token,
                index: env.get("HEC_INDEX"),
                sourcetype: env.get("HEC_SOURCETYPE").unwrap_or_else(|| "ocsf:aws:rds:das".into()),
                source: env.get("HEC_SOURCE"),
                max_batch_bytes: env.number("HEC_MAX_BATCH_BYTES", 1 << 20, 1 << 10, 512 << 20)?,
                max_batch_events: env.number("HEC_MAX_BATCH_EVENTS", 1000, 1, 1_000_000)?,
                gzip: env.flag("HEC_GZIP", false)?,
                ack: env.flag("HEC_ACK", false)?,
                timeout: Duration::from_secs(env.number("HEC_TIMEOUT_SECS", 10, 1, 900)?),
                ack_poll_interval: Duration::from_millis(env.number("HEC_ACK_POLL_MS", 1000, 10, 60_000)?),
            })
        } else {
            None
        };
        let webhook = if sinks.contains(&SinkKind::Webhook) {
            let (secret, secret_arn) = match env.value_or_arn("WEBHOOK_SECRET", "WEBHOOK_SECRET_ARN", "webhook")? {
                Given::Value(s) => {
                    crate::sinks::webhook::config::check_secret(&s).map_err(|why| err("WEBHOOK_SECRET", why))?;
                    (s, None)
                }
                Given::Arn(arn) => (String::new(), Some(arn)),
            };
            Some(WebhookConfig {
                url: env.url("WEBHOOK_URL", "when SINKS includes webhook")?,
                secret: WebhookSecret(secret),
                secret_arn,
                max_batch_bytes: env.number("WEBHOOK_MAX_BATCH_BYTES", 1 << 20, 1 << 10, 512 << 20)?,
                max_batch_events: env.number("WEBHOOK_MAX_BATCH_EVENTS", 1000, 1, 1_000_000)?,
                timeout: Duration::from_secs(env.number("WEBHOOK_TIMEOUT_SECS", 10, 1, 900)?),
            })
        } else {
            None
        };

        Ok(Config {
            s3,
            s3_bucket,
            s3_access,
            security_lake_source,
            security_lake_bucket: env.get("SECURITY_LAKE_BUCKET"),
            parquet_zstd_level,
            hec,
            webhook,
            delivery_timeout: Duration::from_secs(env.number("DELIVERY_TIMEOUT_SECS", 60, 1, 900)?),
            deadline_margin: Duration::from_millis(env.number("DEADLINE_MARGIN_MS", 2000, 0, 60_000)?),
            key_provider,
            sinks,
            file_sink_dir: PathBuf::from(env.get("FILE_SINK_DIR").unwrap_or_else(|| default_dir.into())),
            output_prefix,
            quarantine_prefix,
            resource_id: match env.get("DAS_RESOURCE_ID") {
                Some(id) => Some(
                    crate::das::ResourceId::new(&id)
                        .map_err(|e| err("DAS_RESOURCE_ID", e.to_string()))?
                        .as_str()
                        .to_owned(),
                ),
                None => None,
            },
            cache_capacity: env.number("DATA_KEY_CACHE_CAPACITY", 10_000, 1, 10_000_000)?,
            cache_ttl: Duration::from_secs(env.number("DATA_KEY_CACHE_TTL_SECS", 3600, 1, 7 * 86_400)?),
            max_inflated_bytes: env.number("MAX_INFLATED_BYTES", 64 << 20, 1 << 10, 1 << 30)?,
            max_events_per_record: env.number("MAX_EVENTS_PER_RECORD", 100_000, 1, 10_000_000)?,
            max_frame_length: env.number("MAX_FRAME_LENGTH", 1 << 20, 1 << 9, u32::MAX)?,
            max_event_bytes: env.number("MAX_EVENT_BYTES", 16 << 20, 64 << 10, 1 << 30)?,
            batch_memory,
            flush_reserve: Duration::from_millis(env.number("FLUSH_RESERVE_MS", 3000, 0, 600_000)?),
            filters: {
                let mut f = crate::ocsf::Filters::from_lists(
                    env.get("EXCLUDE_USERS").as_deref(),
                    env.get("EXCLUDE_COMMANDS").as_deref(),
                    env.get("EXCLUDE_DATABASES").as_deref(),
                );
                f.redaction = match env.get("REDACT_SQL").as_deref().unwrap_or("off") {
                    "off" => crate::redact::Redactor::default(),
                    "literals" => crate::redact::Redactor::new(crate::redact::Mode::Literals, Vec::new()),
                    "full" => {
                        let key = env.required("REDACT_HMAC_KEY", "when REDACT_SQL=full")?;
                        if key.len() < 16 {
                            return Err(err("REDACT_HMAC_KEY", "must be at least 16 characters"));
                        }
                        crate::redact::Redactor::new(crate::redact::Mode::Full, key.into_bytes())
                    }
                    other => return Err(err("REDACT_SQL", format!("{other:?} is not one of off, literals, full"))),
                };
                f
            },
            metrics_namespace: match env.get("METRICS").as_deref().unwrap_or("emf") {
                "emf" => Some(env.get("METRICS_NAMESPACE").unwrap_or_else(|| "DasForwarder".into())),
                "off" => None,
                other => return Err(err("METRICS", format!("{other:?} is not one of emf, off"))),
            },
            decrypt_concurrency: env.number("DECRYPT_CONCURRENCY", 32, 1, 1024)?,
            decode_threads: env.number("DECODE_THREADS", crate::parallel::default_threads().min(64), 1, 64)?,
            kms_timeout: Duration::from_millis(env.number("KMS_TIMEOUT_MS", 5_000, 100, 60_000)?),
            log_format,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(move |k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.key_provider, KeyProviderKind::Kms);
        assert_eq!(c.sinks, vec![SinkKind::File]);
        assert_eq!((c.cache_capacity, c.cache_ttl.as_secs()), (10_000, 3600));
        assert_eq!((c.output_prefix.as_str(), c.quarantine_prefix.as_str()), ("das/", "quarantine/"));
    }

    #[test]
    fn security_lake_settings() {
        let lake = [("SINKS", "s3"), ("S3_BUCKET", "b"), ("S3_LAYOUT", "security-lake"), ("S3_FORMAT", "parquet")];
        assert_eq!(cfg(&lake).unwrap_err().var, "SECURITY_LAKE_SOURCE");
        let with = |extra: &[(&'static str, &'static str)]| cfg(&[&lake[..], extra].concat());
        let c = with(&[("SECURITY_LAKE_SOURCE", "rds-das")]).unwrap();
        let s3 = c.s3.unwrap();
        assert_eq!((s3.format, s3.layout), (Format::Parquet, Layout::SecurityLake { source: "rds-das".into() }));
        let c = with(&[("SECURITY_LAKE_SOURCE", "rds-das"), ("SECURITY_LAKE_SOURCE_VERSION", "1.0")]).unwrap();
        assert_eq!(c.security_lake_source.as_deref(), Some("rds-das/1.0"));
        assert_eq!(c.s3.unwrap().layout, Layout::SecurityLake { source: "rds-das/1.0".into() });
        for (var, value) in [("SECURITY_LAKE_SOURCE", "../x"), ("SECURITY_LAKE_SOURCE_VERSION", "..")] {
            let e = with(&[("SECURITY_LAKE_SOURCE", "rds-das"), (var, value)]).unwrap_err();
            assert_eq!(e.var, var);
        }
        let ndjson =
            [("SINKS", "s3"), ("S3_BUCKET", "b"), ("S3_LAYOUT", "security-lake"), ("SECURITY_LAKE_SOURCE", "x")];
        assert_eq!(cfg(&ndjson).unwrap_err().var, "S3_FORMAT");
        assert_eq!(cfg(&[("S3_FORMAT", "csv")]).unwrap_err().var, "S3_FORMAT");
        assert_eq!(cfg(&[("S3_LAYOUT", "flat")]).unwrap_err().var, "S3_LAYOUT");
        assert_eq!(cfg(&[("S3_EXTERNAL_ID", "e")]).unwrap_err().var, "S3_EXTERNAL_ID");
        assert_eq!(cfg(&[("SECURITY_LAKE_SOURCE_VERSION", "1")]).unwrap_err().var, "SECURITY_LAKE_SOURCE_VERSION");
        assert_eq!(cfg(&[("PARQUET_ZSTD_LEVEL", "23")]).unwrap_err().var, "PARQUET_ZSTD_LEVEL");
        let c = cfg(&[("S3_ROLE_ARN", "arn:aws:iam::1:role/r"), ("S3_EXTERNAL_ID", "e")]).unwrap();
        assert_eq!(c.s3_access.without_role(), S3Access::default());
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(cfg(&[("KEY_PROVIDER", "vault")]).unwrap_err().var, "KEY_PROVIDER");
        assert_eq!(cfg(&[("KEY_PROVIDER", "local")]).unwrap_err().var, "LOCAL_MASTER_KEY_FILE");
        assert_eq!(cfg(&[("SINKS", "file,kafka")]).unwrap_err().var, "SINKS");
        assert_eq!(cfg(&[("DATA_KEY_CACHE_TTL_SECS", "soon")]).unwrap_err().var, "DATA_KEY_CACHE_TTL_SECS");
        assert_eq!(cfg(&[("DATA_KEY_CACHE_CAPACITY", "0")]).unwrap_err().var, "DATA_KEY_CACHE_CAPACITY");
        assert_eq!(cfg(&[("DAS_RESOURCE_ID", "mydb")]).unwrap_err().var, "DAS_RESOURCE_ID");
        assert_eq!(cfg(&[("S3_PREFIX", "../x")]).unwrap_err().var, "S3_PREFIX");
        assert_eq!(cfg(&[("SINKS", "s3")]).unwrap_err().var, "S3_BUCKET");
        assert_eq!(cfg(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"), ("SINKS", "hec")]).unwrap_err().var, "SINKS");
        // The local loop (`cargo lambda watch` with the demo key) may use the file sink alone.
        let local_loop = [
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("KEY_PROVIDER", "local"),
            ("LOCAL_MASTER_KEY_FILE", "k.hex"),
            ("SINKS", "file"),
        ];
        assert!(cfg(&local_loop).is_ok());
        assert_eq!(cfg(&[("SINKS", "hec"), ("HEC_TOKEN", "t")]).unwrap_err().var, "HEC_URL");
        assert_eq!(cfg(&[("SINKS", "hec"), ("HEC_URL", "http://h")]).unwrap_err().var, "HEC_TOKEN");
        assert_eq!(cfg(&[("SINKS", "hec"), ("HEC_URL", "h:8088"), ("HEC_TOKEN", "t")]).unwrap_err().var, "HEC_URL");
        assert_eq!(cfg(&[("SINKS", "webhook"), ("WEBHOOK_URL", "http://w")]).unwrap_err().var, "WEBHOOK_SECRET");
        let both =
            [("SINKS", "webhook"), ("WEBHOOK_URL", "http://w"), ("WEBHOOK_SECRET", "s"), ("WEBHOOK_SECRET_ARN", "a")];
        assert_eq!(cfg(&both).unwrap_err().var, "WEBHOOK_SECRET");
        let arn =
            [("SINKS", "webhook"), ("WEBHOOK_URL", "http://w"), ("WEBHOOK_SECRET_ARN", "arn:aws:secretsmanager:x")];
        assert_eq!(cfg(&arn).unwrap().webhook.unwrap().secret_arn.as_deref(), Some("arn:aws:secretsmanager:x"));
        let bad_whsec = [("SINKS", "webhook"), ("WEBHOOK_URL", "http://w"), ("WEBHOOK_SECRET", "whsec_!!")];
        assert_eq!(cfg(&bad_whsec).unwrap_err().var, "WEBHOOK_SECRET");
        assert_eq!(
            cfg(&[("SINKS", "s3"), ("S3_BUCKET", "b"), ("S3_FORCE_PATH_STYLE", "maybe")]).unwrap_err().var,
            "S3_FORCE_PATH_STYLE"
        );
        let msg = cfg(&[("SINKS", "nope")]).unwrap_err().to_string();
        assert!(msg.contains("SINKS"), "{msg}");
    }

    #[test]
    fn sinks_list_and_prefix_normalisation() {
        let c = cfg(&[
            ("SINKS", "stdout, file,stdout"),
            ("S3_PREFIX", "audit"),
            ("EXCLUDE_USERS", "rdsadmin, rdsproxyadmin"),
        ])
        .unwrap();
        assert_eq!(c.filters.users, vec!["rdsadmin", "rdsproxyadmin"]);
        assert!(c.filters.commands.is_empty());
        assert_eq!(c.sinks, vec![SinkKind::Stdout, SinkKind::File]);
        assert_eq!(c.output_prefix, "audit/");
        let hec =
            cfg(&[("SINKS", "hec,s3"), ("HEC_URL", "https://splunk:8088"), ("HEC_TOKEN", "t"), ("S3_BUCKET", "b")])
                .unwrap();
        let h = hec.hec.unwrap();
        assert_eq!(
            (h.sourcetype.as_str(), h.max_batch_bytes, h.gzip, h.ack),
            ("ocsf:aws:rds:das", 1 << 20, false, false)
        );
        assert_eq!(hec.s3.unwrap().prefix, "das/");
    }

    /// Every variable the configuration reads has a row in docs/configuration.md, and every
    /// variable a row names is read: here, or by the runtime, tracing or the AWS SDK.
    #[test]
    fn every_variable_read_is_documented_and_every_documented_one_is_read() {
        use std::cell::RefCell;
        use std::collections::BTreeSet;
        let read = RefCell::new(BTreeSet::new());
        let secret = "whsec_c2VjcmV0LWtleS1ieXRlcw==";
        // Between them these reach every branch that reads a variable.
        let envs: [&[(&str, &str)]; 3] = [
            &[
                ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
                ("KEY_PROVIDER", "local"),
                ("LOCAL_MASTER_KEY_FILE", "/k"),
                ("SINKS", "file,stdout,s3,hec,webhook"),
                ("S3_BUCKET", "b"),
                ("S3_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
                ("S3_FORMAT", "parquet"),
                ("S3_LAYOUT", "security-lake"),
                ("SECURITY_LAKE_SOURCE", "rds-das"),
                ("SECURITY_LAKE_SOURCE_VERSION", "1.0"),
                ("HEC_URL", "http://h"),
                ("HEC_TOKEN", "t"),
                ("WEBHOOK_URL", "http://w"),
                ("WEBHOOK_SECRET", secret),
                ("REDACT_SQL", "full"),
                ("REDACT_HMAC_KEY", "0123456789abcdef0123"),
            ],
            &[
                ("SINKS", "hec,webhook"),
                ("HEC_URL", "http://h"),
                ("HEC_TOKEN_SECRET_ARN", "arn:s"),
                ("WEBHOOK_URL", "http://w"),
                ("WEBHOOK_SECRET_ARN", "arn:w"),
            ],
            &[],
        ];
        for pairs in envs {
            let map: HashMap<&str, &str> = pairs.iter().copied().collect();
            let result = Config::from_lookup(|k| {
                read.borrow_mut().insert(k.to_owned());
                map.get(k).map(|v| v.to_string())
            });
            assert!(result.is_ok(), "{pairs:?}: {:?}", result.err());
        }
        let read = read.into_inner();
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md")).unwrap();
        // The names in the first cell of each row: `NAME`, or several of them.
        let documented: BTreeSet<String> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .flat_map(|l| l.split('|').next().unwrap_or("").split('`').map(str::trim).collect::<Vec<_>>())
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
            .map(str::to_owned)
            .collect();
        // Read by tracing and by the AWS SDK.
        let read_elsewhere = ["RUST_LOG", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_MAX_ATTEMPTS"];
        let undocumented: Vec<_> = read.iter().filter(|v| !documented.contains(*v)).collect();
        assert!(undocumented.is_empty(), "read but not in docs/configuration.md: {undocumented:?}");
        let unread: Vec<_> =
            documented.iter().filter(|v| !read.contains(*v) && !read_elsewhere.contains(&v.as_str())).collect();
        assert!(unread.is_empty(), "in docs/configuration.md but never read: {unread:?}");
    }
}
