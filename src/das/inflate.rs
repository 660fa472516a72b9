//! gunzip with a hard cap on the inflated size: a gzip bomb is an error, not an OOM.

use std::io::Read;

use flate2::bufread::MultiGzDecoder;
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

/// Bytes read in pieces: the inflated record as it comes out of the gzip layer.
pub trait Source {
    /// Fills the start of `buf`; 0 at the end.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, InflateError>;
}

/// A whole record already in memory.
impl Source for &[u8] {
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, InflateError> {
        let n = buf.len().min(self.len());
        buf[..n].copy_from_slice(&self[..n]);
        *self = &self[n..];
        Ok(n)
    }
}

/// gunzip as a stream (one or more gzip members), failing once more than `limit` bytes came out.
pub struct Inflater<'a> {
    gz: MultiGzDecoder<&'a [u8]>,
    limit: usize,
    out: usize,
}

impl<'a> Inflater<'a> {
    pub fn new(gz: &'a [u8], limit: usize) -> Result<Inflater<'a>, InflateError> {
        if !gz.starts_with(&[0x1f, 0x8b]) {
            return Err(InflateError::NotGzip);
        }
        Ok(Inflater { gz: MultiGzDecoder::new(gz), limit, out: 0 })
    }
}

impl Source for Inflater<'_> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, InflateError> {
        // One byte past the limit is enough to know it was passed.
        let room = (self.limit + 1).saturating_sub(self.out).min(buf.len());
        let n = loop {
            match self.gz.read(&mut buf[..room]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(InflateError::Corrupt(e.to_string())),
            }
        };
        self.out += n;
        if self.out > self.limit {
            return Err(InflateError::TooLarge(self.limit));
        }
        Ok(n)
    }
}

/// Inflates `gz` whole (one or more gzip members), failing once more than `limit` bytes come out.
pub fn inflate(gz: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let mut src = Inflater::new(gz, limit)?;
    // Typical DAS payloads inflate 5-20x; the guess is capped by the limit.
    let mut out = vec![0; gz.len().saturating_mul(8).clamp(64, limit.max(64))];
    let mut len = 0;
    loop {
        if len == out.len() {
            out.resize((out.len() * 2).min(limit.saturating_add(1)).max(len + 1), 0);
        }
        let n = src.fill(&mut out[len..])?;
        if n == 0 {
            out.truncate(len);
            return Ok(out);
        }
        len += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        crate::gzip::gzip(data, 6)
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
