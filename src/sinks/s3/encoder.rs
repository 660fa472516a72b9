//! Object bodies: gzip-compressed NDJSON, one OCSF event a line.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

/// Gzips `ndjson`. Writing into memory cannot fail, so neither can this.
pub fn gzip(ndjson: &[u8], level: u32) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(ndjson.len() / 6 + 64), Compression::new(level.min(9)));
    let _ = enc.write_all(ndjson);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips() {
        let body = b"{\"a\":1}\n{\"a\":2}\n";
        let gz = super::gzip(body, 6);
        assert_eq!(crate::das::inflate::inflate(&gz, 1000).unwrap(), body);
    }
}
