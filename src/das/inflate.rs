//! gunzip with a hard cap on the inflated size: a gzip bomb is an error, not an OOM.

use std::io::Read;

use flate2::read::MultiGzDecoder;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InflateError {
    #[error("payload is not gzip (bad magic bytes)")]
    NotGzip,
    #[error("gzip stream is corrupt: {0}")]
    Corrupt(String),
    #[error("inflated payload exceeds the limit of {0} bytes")]
    TooLarge(usize),
}

impl InflateError {
    pub fn code(&self) -> &'static str {
        match self {
            InflateError::NotGzip => "inflate.not_gzip",
            InflateError::Corrupt(_) => "inflate.corrupt",
            InflateError::TooLarge(_) => "inflate.too_large",
        }
    }
}

/// Inflates `gz` (one or more gzip members), failing once more than `limit` bytes come out.
pub fn inflate(gz: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    if !gz.starts_with(&[0x1f, 0x8b]) {
        return Err(InflateError::NotGzip);
    }
    // Typical DAS payloads inflate 5-20x; the guess is capped by the limit.
    let mut out = Vec::with_capacity(gz.len().saturating_mul(8).min(limit));
    let mut reader = MultiGzDecoder::new(gz).take(limit as u64 + 1);
    reader.read_to_end(&mut out).map_err(|e| InflateError::Corrupt(e.to_string()))?;
    if out.len() > limit {
        return Err(InflateError::TooLarge(limit));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        crate::sinks::s3::encoder::gzip(data, 6)
    }

    #[test]
    fn inflates_within_the_limit() {
        assert_eq!(inflate(&gzip(b"hello"), 5).unwrap(), b"hello");
        let mut two = gzip(b"a");
        two.extend(gzip(b"b"));
        assert_eq!(inflate(&two, 10).unwrap(), b"ab");
    }

    #[test]
    fn bombs_and_garbage_are_errors() {
        let bomb = gzip(&vec![0u8; 10 << 20]);
        assert!(bomb.len() < 20_000);
        assert_eq!(inflate(&bomb, 1 << 20).unwrap_err(), InflateError::TooLarge(1 << 20));
        assert_eq!(inflate(b"plain", 100).unwrap_err(), InflateError::NotGzip);
        let mut cut = gzip(b"hello world hello world");
        cut.truncate(cut.len() - 6);
        assert_eq!(inflate(&cut, 100).unwrap_err().code(), "inflate.corrupt");
    }
}
