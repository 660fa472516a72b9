//! Object bodies: gzip-compressed NDJSON, one OCSF event a line.
//!
//! Compression is libdeflate's: whole-buffer only, which is how bodies are built here
//! (members of about 1 MiB), and at level 6 it ran 1.36x faster than zlib-rs with 3% fewer
//! bytes on the bench corpus (see the README's Performance section).

use libdeflater::{CompressionLvl, Compressor};

/// Gzips `ndjson` as one gzip member at `level` (0-9; above 9 is taken as 9).
pub fn gzip(ndjson: &[u8], level: u32) -> Vec<u8> {
    // Levels 0-9 always exist in libdeflate (it goes to 12); the fallback is unreachable.
    let level = CompressionLvl::new(level.min(9) as i32).unwrap_or_default();
    let mut compressor = Compressor::new(level);
    let mut out = vec![0; compressor.gzip_compress_bound(ndjson.len())];
    // The bound is libdeflate's own worst case for this input length, and running out of space
    // is its only error: this cannot fail. Were it to, a panic fails the invocation and Kinesis
    // retries the batch, where an empty body would have lost its events.
    let n = compressor.gzip_compress(ndjson, &mut out).expect("libdeflate's gzip bound always fits its output");
    out.truncate(n);
    // The bound is the input's size: a body kept until its PUT must not hold it.
    out.shrink_to_fit();
    out
}

/// An object's lines are compressed in members of about this many bytes, one per thread.
pub const PARALLEL_CHUNK: usize = 1 << 20;

/// Gzips NDJSON (each line followed by `\n`) straight from the lines, on `threads` threads:
/// groups of lines of about `PARALLEL_CHUNK` bytes, each compressed as its own gzip member,
/// the members concatenated in order. A multi-member file is one valid gzip stream (RFC 1952,
/// section 2.2): gunzip, zcat, Python's gzip, Athena and Spark read it whole. No copy of the
/// whole body is made (one member's lines at a time), and a body under one chunk gives exactly
/// `gzip`'s output.
pub fn gzip_lines(lines: &[&[u8]], level: u32, threads: usize) -> Vec<u8> {
    let mut groups: Vec<&[&[u8]]> = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, line) in lines.iter().enumerate() {
        size += line.len() + 1;
        if size >= PARALLEL_CHUNK {
            groups.push(&lines[start..=i]);
            (start, size) = (i + 1, 0);
        }
    }
    if start < lines.len() || groups.is_empty() {
        groups.push(&lines[start..]);
    }
    let member = |group: &&[&[u8]]| {
        // The member's lines side by side (about 1 MiB), then compressed in one call.
        let size: usize = group.iter().map(|l| l.len() + 1).sum();
        let mut text = Vec::with_capacity(size);
        for line in group.iter() {
            text.extend_from_slice(line);
            text.push(b'\n');
        }
        gzip(&text, level)
    };
    if groups.len() == 1 {
        return member(&groups[0]);
    }
    crate::parallel::map_ordered(&groups, threads, member).concat()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parallel_members_decode_to_the_input() {
        let line = b"{\"class_uid\":6005,\"message\":\"SELECT by app_rw on orders\"}\n";
        let lines: Vec<&[u8]> = std::iter::repeat_n(&line[..line.len() - 1], 70_000).collect();
        let body: Vec<u8> = line.iter().copied().cycle().take(line.len() * 70_000).collect();
        assert!(body.len() > 3 * super::PARALLEL_CHUNK);
        for threads in [1, 2, 4] {
            let gz = super::gzip_lines(&lines, 1, threads);
            assert_eq!(crate::das::inflate::inflate(&gz, 1 << 30).unwrap(), body);
            // Every member ends on a line boundary: each decodes alone to whole lines.
            let mut first = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut first).unwrap();
            assert!(first.len() < body.len() && first.ends_with(b"\n"));
        }
        assert_eq!(super::gzip_lines(&[b"{\"a\":1}", b"{}"], 6, 4), super::gzip(b"{\"a\":1}\n{}\n", 6));
        assert_eq!(super::gzip_lines(&[], 6, 4), super::gzip(b"", 6));
    }

    #[test]
    fn round_trips() {
        let body = b"{\"a\":1}\n{\"a\":2}\n";
        let gz = super::gzip(body, 6);
        assert_eq!(crate::das::inflate::inflate(&gz, 1000).unwrap(), body);
    }
}
