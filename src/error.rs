//! The error taxonomy that decides a record's fate: a `Permanent` failure
//! (the same bytes will fail again) quarantines the record under a stable
//! reason code; a `Transient` one reports it to Kinesis for a retry.

use crate::das::activity::ActivityError;
use crate::das::envelope::EnvelopeError;
use crate::das::inflate::InflateError;
use crate::das::resource::ResourceError;
use crate::esdk::EsdkError;
use crate::keys::KeyError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `code` is part of the interface (documented, used in quarantine entries and metrics).
    Permanent {
        code: &'static str,
        detail: String,
    },
    Transient(String),
}

impl Failure {
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Permanent { code, .. } => code,
            Failure::Transient(_) => "transient",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Permanent { code, detail } => write!(f, "{code}: {detail}"),
            Failure::Transient(detail) => write!(f, "transient: {detail}"),
        }
    }
}

macro_rules! permanent_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Failure {
                Failure::Permanent { code: e.code(), detail: e.to_string() }
            }
        }
    )*};
}

permanent_from!(EnvelopeError, ResourceError, EsdkError, InflateError, ActivityError);

impl From<crate::das::activity::ReadError> for Failure {
    fn from(e: crate::das::activity::ReadError) -> Failure {
        use crate::das::activity::ReadError;
        match e {
            ReadError::Inflate(e) => e.into(),
            ReadError::Activity(e) => e.into(),
            ReadError::Stopped => Failure::Transient("the batch stopped before the record was read".into()),
        }
    }
}

impl From<KeyError> for Failure {
    fn from(e: KeyError) -> Failure {
        match e {
            KeyError::Permanent { code, detail } => Failure::Permanent { code, detail },
            KeyError::Transient(detail) => Failure::Transient(detail),
        }
    }
}

/// A cause kept as an error's source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An operation on the outside world that failed (`what` names it: the file, the object, the
/// call), with its cause as the source. The binary prints the chain.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct IoError {
    pub what: String,
    #[source]
    pub source: BoxError,
}

impl IoError {
    pub fn new(what: impl Into<String>, source: impl Into<BoxError>) -> IoError {
        IoError { what: what.into(), source: source.into() }
    }
}

/// `e` and each of its causes, `a: b: c` (what a failure's detail carries).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
