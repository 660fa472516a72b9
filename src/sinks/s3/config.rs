//! S3 sink settings: `S3_BUCKET`, `S3_PREFIX`, `QUARANTINE_PREFIX`, `S3_FORMAT`, `S3_LAYOUT`,
//! `SECURITY_LAKE_SOURCE`, `PARQUET_ZSTD_LEVEL`, and how the client reaches S3
//! (`S3_FORCE_PATH_STYLE`, `S3_ROLE_ARN`, `S3_EXTERNAL_ID`).

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

impl S3Config {
    /// NDJSON objects in the hive layout, the defaults, in `bucket`.
    pub fn new(bucket: impl Into<String>) -> S3Config {
        S3Config {
            bucket: bucket.into(),
            prefix: "das/".into(),
            quarantine_prefix: "quarantine/".into(),
            quarantine_bucket: None,
            access: S3Access::default(),
            gzip_level: 6,
            format: Format::Ndjson,
            layout: Layout::Hive,
            zstd_level: 3,
            buffer_bytes: 16 << 20,
        }
    }

    pub async fn client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
        self.access.client(sdk).await
    }
}

/// A Security Lake custom source version (`SECURITY_LAKE_SOURCE_VERSION`): 1-32 of `A-Z a-z 0-9 . - _`.
pub fn check_source_version(version: &str) -> Result<(), String> {
    let ok = !version.is_empty()
        && version.len() <= 32
        && version != "."
        && version != ".."
        && version.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(format!("{version:?} is not 1-32 of A-Z a-z 0-9 . - _"))
    }
}

/// A Security Lake custom source name: 1-64 of `A-Z a-z 0-9 - _` (it becomes a path segment).
pub fn check_source_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not 1-64 of A-Z a-z 0-9 - _"))
    }
}
