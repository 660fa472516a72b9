//! The outer DAS record, as it arrives in a Kinesis record's data:
//! `{"type":"DatabaseActivityMonitoringRecords","version":"1.1",
//!   "databaseActivityEvents":"<base64 ESDK message>","key":"<base64 KMS blob>"}`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

pub const RECORD_TYPE: &str = "DatabaseActivityMonitoringRecords";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The record format version (`1.0` … `1.4` today); kept for the output.
    pub version: String,
    /// The ESDK message.
    pub message: Vec<u8>,
    /// The KMS ciphertext blob of the wrapping key.
    pub key_blob: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EnvelopeError {
    #[error("record data is not UTF-8")]
    NotUtf8,
    #[error("record data is not JSON: {0}")]
    NotJson(String),
    #[error("record data is JSON but not an object")]
    NotObject,
    #[error("record type is {0:?}, expected DatabaseActivityMonitoringRecords")]
    WrongType(String),
    #[error("field {0} is missing")]
    MissingField(&'static str),
    #[error("field {0} is not a string")]
    NotAString(&'static str),
    #[error("field {0} is not valid base64")]
    BadBase64(&'static str),
    #[error("field {0} is empty")]
    Empty(&'static str),
}

impl EnvelopeError {
    pub fn code(&self) -> &'static str {
        match self {
            EnvelopeError::NotUtf8 => "envelope.not_utf8",
            EnvelopeError::NotJson(_) => "envelope.not_json",
            EnvelopeError::NotObject => "envelope.not_object",
            EnvelopeError::WrongType(_) => "envelope.wrong_type",
            EnvelopeError::MissingField(_) => "envelope.missing_field",
            EnvelopeError::NotAString(_) => "envelope.field_not_string",
            EnvelopeError::BadBase64(_) => "envelope.bad_base64",
            EnvelopeError::Empty(_) => "envelope.empty_field",
        }
    }
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<&'a RawValue>,
    #[serde(borrow)]
    version: Option<&'a RawValue>,
    #[serde(rename = "databaseActivityEvents", borrow)]
    events: Option<&'a RawValue>,
    #[serde(borrow)]
    key: Option<&'a RawValue>,
}

fn string<'a>(v: Option<&'a RawValue>, name: &'static str) -> Result<Cow<'a, str>, EnvelopeError> {
    let v = v.ok_or(EnvelopeError::MissingField(name))?.get();
    // A valid JSON string with no backslash is its text between the quotes: no second pass
    // over the (megabyte) base64 text.
    if let Some(inner) = v.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        if memchr::memchr(b'\\', inner.as_bytes()).is_none() {
            return Ok(Cow::Borrowed(inner));
        }
    }
    serde_json::from_str::<Cow<'a, str>>(v).map_err(|_| EnvelopeError::NotAString(name))
}

fn base64_field(v: Option<&RawValue>, name: &'static str) -> Result<Vec<u8>, EnvelopeError> {
    let s = string(v, name)?;
    if s.is_empty() {
        return Err(EnvelopeError::Empty(name));
    }
    let bytes = base64_simd::STANDARD.decode_to_vec(s.as_bytes()).map_err(|_| EnvelopeError::BadBase64(name))?;
    if bytes.is_empty() {
        return Err(EnvelopeError::Empty(name));
    }
    Ok(bytes)
}

/// Parses the outer record. Unknown fields are ignored; `version` may be a
/// string or a number.
pub fn parse(data: &[u8]) -> Result<Envelope, EnvelopeError> {
    let text = std::str::from_utf8(data).map_err(|_| EnvelopeError::NotUtf8)?;
    if !text.trim_start().starts_with('{') {
        return Err(match serde_json::from_str::<&RawValue>(text) {
            Ok(_) => EnvelopeError::NotObject,
            Err(e) => EnvelopeError::NotJson(e.to_string()),
        });
    }
    let raw: Raw<'_> = serde_json::from_str(text).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
    let kind = string(raw.kind, "type")?;
    if kind != RECORD_TYPE {
        return Err(EnvelopeError::WrongType(kind.chars().take(64).collect()));
    }
    let version = match raw.version {
        Some(v) => match serde_json::from_str::<Cow<'_, str>>(v.get()) {
            Ok(s) => s.into_owned(),
            Err(_) if v.get().parse::<f64>().is_ok() => v.get().to_owned(),
            Err(_) => return Err(EnvelopeError::NotAString("version")),
        },
        None => return Err(EnvelopeError::MissingField("version")),
    };
    Ok(Envelope {
        version,
        message: base64_field(raw.events, "databaseActivityEvents")?,
        key_blob: base64_field(raw.key, "key")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(json: &str) -> Envelope {
        parse(json.as_bytes()).unwrap()
    }
    fn err(json: &[u8]) -> &'static str {
        parse(json).unwrap_err().code()
    }

    #[test]
    fn parses_and_tolerates_unknown_fields() {
        let e = ok(
            r#"{"type":"DatabaseActivityMonitoringRecords","version":"1.1","databaseActivityEvents":"AQID","key":"BAU=","extra":{"x":1}}"#,
        );
        assert_eq!((e.version.as_str(), e.message, e.key_blob), ("1.1", vec![1, 2, 3], vec![4, 5]));
        assert_eq!(ok(r#"{"type":"DatabaseActivityMonitoringRecords","version":1.2,"databaseActivityEvents":"AQID","key":"BAU="}"#).version, "1.2");
        // Escaped characters in strings are decoded before base64.
        assert_eq!(ok(r#"{"type":"DatabaseActivityMonitoringRecords","version":"1.0","databaseActivityEvents":"AQ\u0049D","key":"BAU="}"#).message, vec![1, 2, 3]);
    }

    #[test]
    fn each_malformation_has_its_code() {
        assert_eq!(err(b"\xff\xfe"), "envelope.not_utf8");
        assert_eq!(err(b"{not json"), "envelope.not_json");
        assert_eq!(err(b"[1,2]"), "envelope.not_object");
        assert_eq!(
            err(br#"{"type":"Other","version":"1","databaseActivityEvents":"AQ==","key":"AQ=="}"#),
            "envelope.wrong_type"
        );
        assert_eq!(
            err(br#"{"type":"DatabaseActivityMonitoringRecords","version":"1","databaseActivityEvents":"AQ=="}"#),
            "envelope.missing_field"
        );
        assert_eq!(err(br#"{"type":"DatabaseActivityMonitoringRecords","version":"1","databaseActivityEvents":5,"key":"AQ=="}"#), "envelope.field_not_string");
        assert_eq!(err(br#"{"type":"DatabaseActivityMonitoringRecords","version":"1","databaseActivityEvents":"!!","key":"AQ=="}"#), "envelope.bad_base64");
        assert_eq!(err(br#"{"type":"DatabaseActivityMonitoringRecords","version":"1","databaseActivityEvents":"","key":"AQ=="}"#), "envelope.empty_field");
        assert_eq!(err(br#"{"version":"1","databaseActivityEvents":"AQ==","key":"AQ=="}"#), "envelope.missing_field");
    }
}
