//! S3 sink settings: `S3_BUCKET`, `S3_PREFIX`, `S3_FORCE_PATH_STYLE`, `QUARANTINE_PREFIX`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// Prefix of the partitioned output, ending in `/` (default `das/`).
    pub prefix: String,
    pub quarantine_prefix: String,
    /// Path-style addressing for S3-compatible endpoints (moto, MinIO).
    pub force_path_style: bool,
    /// gzip level of the objects (0-9).
    pub gzip_level: u32,
}

impl S3Config {
    /// Builds the client from the shared AWS configuration.
    pub fn client(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(self.force_path_style).build();
        aws_sdk_s3::Client::from_conf(conf)
    }
}
