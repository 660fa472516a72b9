//! S3 sink settings: `S3_BUCKET`, `S3_PREFIX`, `QUARANTINE_PREFIX`, `S3_FORMAT`, `S3_LAYOUT`,
//! `SECURITY_LAKE_SOURCE`, `PARQUET_ZSTD_LEVEL`, and how the client reaches S3
//! (`S3_FORCE_PATH_STYLE`, `S3_ROLE_ARN`, `S3_EXTERNAL_ID`).

use crate::config::env::{err, ConfigError, Env};

/// The objects' format (`S3_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// gzip NDJSON, `.ndjson.gz`.
    #[default]
    Ndjson,
    /// Apache Parquet of the fixed OCSF schema, zstd, `.parquet`.
    Parquet,
}

/// Where the objects go (`S3_LAYOUT`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Layout {
    /// `<S3_PREFIX>class_uid=6005/dt=YYYY-MM-DD/hour=HH/`.
    #[default]
    Hive,
    /// `ext/<source>/region=<r>/accountId=<a>/eventDay=YYYYMMDD/` from the bucket root: the
    /// location of an Amazon Security Lake custom source. `source` is the source's directory
    /// under `ext/`: its name, or `<name>/<version>` when its location has a version.
    SecurityLake { source: String },
}

/// How the S3 client is built: addressing, and an optional role to assume (e.g. the
/// provider role Security Lake creates for a custom source).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct S3Access {
    /// Path-style addressing for S3-compatible endpoints (moto, MinIO).
    pub force_path_style: bool,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
}

impl S3Access {
    /// `S3_FORCE_PATH_STYLE`, `S3_ROLE_ARN`, `S3_EXTERNAL_ID` (the latter only with a role).
    pub fn from_env(env: &Env) -> Result<S3Access, ConfigError> {
        let access = S3Access {
            force_path_style: env.flag("S3_FORCE_PATH_STYLE", false)?,
            role_arn: env.get("S3_ROLE_ARN"),
            external_id: env.get("S3_EXTERNAL_ID"),
        };
        if access.external_id.is_some() && access.role_arn.is_none() {
            return Err(err("S3_EXTERNAL_ID", "is used only with S3_ROLE_ARN, which is not set"));
        }
        Ok(access)
    }

    /// The same addressing with the function's own credentials: the quarantine, `replay` and
    /// `compact`'s reads (a Security Lake provider role may write under `ext/<source>/` only).
    pub fn without_role(&self) -> S3Access {
        S3Access { force_path_style: self.force_path_style, role_arn: None, external_id: None }
    }

    /// Builds the client from the shared AWS configuration; with a role, its credentials
    /// come from `sts:AssumeRole` (fetched on first use and refreshed before they expire).
    pub async fn client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
        let mut conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(self.force_path_style);
        if let Some(role) = &self.role_arn {
            let mut provider = aws_config::sts::AssumeRoleProvider::builder(role).session_name("das-forwarder");
            if let Some(id) = &self.external_id {
                provider = provider.external_id(id);
            }
            conf = conf.credentials_provider(provider.configure(sdk).build().await);
        }
        aws_sdk_s3::Client::from_conf(conf.build())
    }
}

/// What the S3 sink shares with the rest of the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Shared<'a> {
    pub prefixes: &'a Prefixes,
    pub access: &'a S3Access,
    pub security_lake_source: Option<&'a str>,
    pub zstd_level: i32,
    /// Half of `BATCH_MEMORY_MB`.
    pub buffer_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// Prefix of the hive layout, ending in `/` (default `das/`).
    pub prefix: String,
    pub quarantine_prefix: String,
    /// Bucket of the quarantine (`QUARANTINE_BUCKET`, default `bucket`).
    pub quarantine_bucket: Option<String>,
    pub access: S3Access,
    /// gzip level of NDJSON objects (0-9).
    pub gzip_level: u32,
    pub format: Format,
    pub layout: Layout,
    /// zstd level of Parquet objects (1-22).
    pub zstd_level: i32,
    /// The most the sink holds in memory for one batch: compressed bytes waiting for their PUT
    /// or part, and Parquet row groups being gathered (half of `BATCH_MEMORY_MB`).
    pub buffer_bytes: usize,
}

/// The output's location, shared by every sink and the quarantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefixes {
    /// `S3_PREFIX`: the hive layout's prefix, ending in `/`.
    pub output: String,
    /// `QUARANTINE_PREFIX`.
    pub quarantine: String,
}

impl Default for Prefixes {
    fn default() -> Prefixes {
        Prefixes { output: "das/".into(), quarantine: "quarantine/".into() }
    }
}

impl Prefixes {
    pub fn from_env(env: &Env) -> Result<Prefixes, ConfigError> {
        let d = Prefixes::default();
        Ok(Prefixes {
            output: env.prefix("S3_PREFIX", &d.output)?,
            quarantine: env.prefix("QUARANTINE_PREFIX", &d.quarantine)?,
        })
    }
}

/// The default of `PARQUET_ZSTD_LEVEL`.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

/// `PARQUET_ZSTD_LEVEL` (the S3 sink's Parquet and `compact`'s).
pub fn zstd_level_from_env(env: &Env) -> Result<i32, ConfigError> {
    env.number("PARQUET_ZSTD_LEVEL", DEFAULT_ZSTD_LEVEL, 1, 22)
}

/// The custom source `compact` and `S3_LAYOUT=security-lake` write for, as its directory
/// under `ext/`: `SECURITY_LAKE_SOURCE`, `/SECURITY_LAKE_SOURCE_VERSION` when set.
pub fn security_lake_source_from_env(env: &Env) -> Result<Option<String>, ConfigError> {
    match (env.get("SECURITY_LAKE_SOURCE"), env.get("SECURITY_LAKE_SOURCE_VERSION")) {
        (None, Some(_)) => Err(err("SECURITY_LAKE_SOURCE_VERSION", "needs SECURITY_LAKE_SOURCE, which is not set")),
        (None, None) => Ok(None),
        (Some(name), version) => {
            check_source_name(&name)?;
            match version {
                Some(v) => {
                    check_source_version(&v)?;
                    Ok(Some(format!("{name}/{v}")))
                }
                None => Ok(Some(name)),
            }
        }
    }
}

impl S3Config {
    /// NDJSON objects in the hive layout, the defaults, in `bucket`.
    pub fn new(bucket: impl Into<String>) -> S3Config {
        let prefixes = Prefixes::default();
        S3Config {
            bucket: bucket.into(),
            prefix: prefixes.output,
            quarantine_prefix: prefixes.quarantine,
            quarantine_bucket: None,
            access: S3Access::default(),
            gzip_level: 6,
            format: Format::Ndjson,
            layout: Layout::Hive,
            zstd_level: DEFAULT_ZSTD_LEVEL,
            buffer_bytes: 16 << 20,
        }
    }

    /// The S3 sink's settings in `bucket`: `S3_FORMAT`, `S3_LAYOUT`, `OUTPUT_GZIP_LEVEL`,
    /// `QUARANTINE_BUCKET`, over the settings it shares with `compact` and `replay`.
    pub fn from_env(env: &Env, bucket: String, shared: Shared<'_>) -> Result<S3Config, ConfigError> {
        let d = S3Config::new(bucket);
        let format = env.choice("S3_FORMAT", "ndjson", &[("ndjson", Format::Ndjson), ("parquet", Format::Parquet)])?;
        let layout = match env.choice("S3_LAYOUT", "hive", &[("hive", false), ("security-lake", true)])? {
            false => Layout::Hive,
            true => Layout::SecurityLake {
                source: shared
                    .security_lake_source
                    .map(str::to_owned)
                    .ok_or_else(|| err("SECURITY_LAKE_SOURCE", "is required when S3_LAYOUT=security-lake"))?,
            },
        };
        if matches!(layout, Layout::SecurityLake { .. }) && format != Format::Parquet {
            return Err(err(
                "S3_FORMAT",
                "S3_LAYOUT=security-lake needs S3_FORMAT=parquet: Security Lake reads Parquet only",
            ));
        }
        Ok(S3Config {
            prefix: shared.prefixes.output.clone(),
            quarantine_prefix: shared.prefixes.quarantine.clone(),
            quarantine_bucket: env.get("QUARANTINE_BUCKET"),
            access: shared.access.clone(),
            gzip_level: env.number("OUTPUT_GZIP_LEVEL", d.gzip_level, 0, 9)?,
            format,
            layout,
            zstd_level: shared.zstd_level,
            buffer_bytes: shared.buffer_bytes,
            ..d
        })
    }

    pub async fn client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
        self.access.client(sdk).await
    }

    /// The sink, writing with `client` (from `client`).
    pub fn build(self, client: aws_sdk_s3::Client) -> super::S3Sink {
        super::S3Sink::new(client, self)
    }
}

/// A Security Lake custom source version (`SECURITY_LAKE_SOURCE_VERSION`): 1-32 of `A-Z a-z 0-9 . - _`.
fn check_source_version(version: &str) -> Result<(), ConfigError> {
    let ok = !version.is_empty()
        && version.len() <= 32
        && version != "."
        && version != ".."
        && version.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(err("SECURITY_LAKE_SOURCE_VERSION", format!("{version:?} is not 1-32 of A-Z a-z 0-9 . - _")))
    }
}

/// A Security Lake custom source name: 1-64 of `A-Z a-z 0-9 - _` (it becomes a path segment).
fn check_source_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(err("SECURITY_LAKE_SOURCE", format!("{name:?} is not 1-64 of A-Z a-z 0-9 - _")))
    }
}
