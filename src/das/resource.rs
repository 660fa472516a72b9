//! Which database a record belongs to, from the Kinesis stream it came from
//! (`aws-rds-das-<resource-id>`), and the KMS encryption context that follows.

use thiserror::Error;

const STREAM_PREFIX: &str = "aws-rds-das-";

/// An Aurora cluster (`cluster-…`) or an RDS instance (`db-…`) resource id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceId(String);

/// Where the record's stream lives (used by the output's cloud fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamSource {
    pub region: Option<String>,
    pub account: Option<String>,
    pub stream: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResourceError {
    #[error("event source ARN is missing and DAS_RESOURCE_ID is not set")]
    NoSource,
    #[error("stream {0:?} is not a Database Activity Stream (aws-rds-das-<resource-id>); set DAS_RESOURCE_ID")]
    NotDasStream(String),
    #[error("resource id {0:?} starts with neither cluster- nor db-")]
    UnknownPrefix(String),
}

impl ResourceError {
    pub fn code(&self) -> &'static str {
        match self {
            ResourceError::NoSource => "resource.no_source",
            ResourceError::NotDasStream(_) => "resource.not_das_stream",
            ResourceError::UnknownPrefix(_) => "resource.unknown_prefix",
        }
    }
}

impl ResourceId {
    pub fn new(id: &str) -> Result<ResourceId, ResourceError> {
        let suffix = id.strip_prefix("cluster-").or_else(|| id.strip_prefix("db-"));
        if suffix.is_some_and(|s| !s.is_empty()) && id.is_ascii() {
            Ok(ResourceId(id.to_owned()))
        } else {
            Err(ResourceError::UnknownPrefix(id.chars().take(80).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The KMS encryption context RDS bound the key blob to.
    pub fn encryption_context_key(&self) -> &'static str {
        if self.0.starts_with("cluster-") {
            "aws:rds:dbc-id"
        } else {
            "aws:rds:db-id"
        }
    }
}

/// Splits `arn:aws:kinesis:<region>:<account>:stream/<name>`.
pub fn parse_stream_arn(arn: &str) -> StreamSource {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let part = |i: usize| parts.get(i).filter(|s| !s.is_empty()).map(|s| s.to_string());
    StreamSource {
        region: part(3),
        account: part(4),
        stream: parts.get(5).and_then(|r| r.strip_prefix("stream/")).map(|s| s.to_string()),
    }
}

/// The resource id for a record: the override when configured, else the stream name.
pub fn resource_id(event_source_arn: Option<&str>, override_id: Option<&str>) -> Result<ResourceId, ResourceError> {
    resource_id_of(event_source_arn.map(parse_stream_arn).as_ref(), override_id)
}

/// `resource_id`, from the stream's ARN already parsed (None: the record named no ARN).
pub fn resource_id_of(source: Option<&StreamSource>, override_id: Option<&str>) -> Result<ResourceId, ResourceError> {
    if let Some(id) = override_id {
        return ResourceId::new(id);
    }
    let stream = source.ok_or(ResourceError::NoSource)?.stream.as_deref().unwrap_or_default();
    let id = stream.strip_prefix(STREAM_PREFIX).ok_or_else(|| ResourceError::NotDasStream(stream.to_owned()))?;
    ResourceId::new(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_and_instance_contexts() {
        let arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/aws-rds-das-cluster-ABCDEF";
        let id = resource_id(Some(arn), None).unwrap();
        assert_eq!((id.as_str(), id.encryption_context_key()), ("cluster-ABCDEF", "aws:rds:dbc-id"));
        let db = resource_id(Some("arn:aws:kinesis:us-east-1:1:stream/aws-rds-das-db-XYZ"), None).unwrap();
        assert_eq!(db.encryption_context_key(), "aws:rds:db-id");
        let src = parse_stream_arn(arn);
        assert_eq!((src.region.as_deref(), src.account.as_deref()), (Some("eu-west-1"), Some("123456789012")));
    }

    #[test]
    fn override_and_errors() {
        assert_eq!(resource_id(Some("arn:aws:kinesis:r:a:stream/other"), Some("db-1")).unwrap().as_str(), "db-1");
        assert_eq!(
            resource_id(Some("arn:aws:kinesis:r:a:stream/other"), None).unwrap_err().code(),
            "resource.not_das_stream"
        );
        assert_eq!(resource_id(None, None).unwrap_err(), ResourceError::NoSource);
        assert_eq!(
            resource_id(Some("arn:aws:kinesis:r:a:stream/aws-rds-das-foo"), None).unwrap_err().code(),
            "resource.unknown_prefix"
        );
    }
}
