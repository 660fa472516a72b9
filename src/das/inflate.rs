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

    /// All the bytes at once into the start of `buf` (all zeros; grown as needed, up to `cap`
    /// bytes), when the source can tell they are at most `cap`: their count, and `fill` then
    /// gives nothing more. `None` leaves `buf` all zeros and the source untouched.
    fn whole(&mut self, _buf: &mut Vec<u8>, _cap: usize) -> Option<usize> {
        None
    }
}

/// A libdeflate decompressor, one a thread.
struct Decompressor(std::ptr::NonNull<libdeflate_sys::libdeflate_decompressor>);

impl Decompressor {
    fn new() -> Option<Decompressor> {
        // SAFETY: allocates a decompressor, or returns null when out of memory.
        std::ptr::NonNull::new(unsafe { libdeflate_sys::libdeflate_alloc_decompressor() }).map(Decompressor)
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: the pointer came from libdeflate_alloc_decompressor and is freed once.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

thread_local! {
    static DECOMPRESSOR: std::cell::RefCell<Option<Decompressor>> = const { std::cell::RefCell::new(None) };
}

/// The most bytes deflate can make of one input byte (a run of 258-byte matches, 2 bits each):
/// a trailer claiming more than this for its input is a lie, not taken up.
const MAX_EXPANSION: usize = 1032;

/// `gz` inflated at once with libdeflate (a third faster than the streaming inflater on DAS
/// records) when it is one gzip member without a header checksum, all of the input, whose size
/// (the trailer's ISIZE) is at most `cap`: the count of bytes written to the start of `out`
/// (grown to the size, zeros). Else `None`, and `out` is as it was, all zeros: the caller
/// streams instead, and meets the stream's errors. libdeflate is the more lenient of the two on
/// a malformed deflate stream whose trailer matches (code counts past zlib's maximum, the
/// reserved symbols): such a member, which RDS never writes and no one without the data key can
/// put in a record, is inflated instead of refused.
fn whole_member(gz: &[u8], out: &mut Vec<u8>, cap: usize) -> Option<usize> {
    // FHCRC: a header checksum libdeflate skips without checking; the stream checks it.
    if gz.len() < 18 || gz[3] & 0x02 != 0 {
        return None;
    }
    let isize = gz.get(gz.len() - 4..).and_then(|t| <[u8; 4]>::try_from(t).ok());
    let size = usize::try_from(u32::from_le_bytes(isize?))
        .ok()
        .filter(|&n| n <= cap && n <= gz.len().saturating_mul(MAX_EXPANSION))?;
    let had = out.len();
    if out.is_empty() {
        // Zeroed by the allocator, in one call.
        *out = vec![0; size];
    } else if out.len() < size {
        out.resize(size, 0);
    }
    let dest = &mut out[..size];
    let (mut read, mut written) = (0usize, 0usize);
    let result = DECOMPRESSOR.with_borrow_mut(|d| {
        if d.is_none() {
            *d = Decompressor::new();
        }
        let d = d.as_ref()?;
        // SAFETY: libdeflate reads at most `gz.len()` bytes of `gz`, writes at most `dest.len()`
        // bytes of `dest` (both live, unaliased slices), and stores the two counts.
        Some(unsafe {
            libdeflate_sys::libdeflate_gzip_decompress_ex(
                d.0.as_ptr(),
                gz.as_ptr().cast(),
                gz.len(),
                dest.as_mut_ptr().cast(),
                dest.len(),
                &mut read,
                &mut written,
            )
        })
    });
    // One member, all of the input (a second member is left to the stream), of the size its
    // trailer gives (libdeflate checked the size and the CRC-32 against what it wrote).
    if result == Some(libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS) && read == gz.len() && written == size {
        return Some(size);
    }
    // Whatever was written is plaintext: wiped before the stream takes over, and the buffer
    // back to its length.
    zeroize::Zeroize::zeroize(dest);
    if had == 0 {
        *out = Vec::new();
    } else {
        out.truncate(had);
    }
    None
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
    input: &'a [u8],
    /// Made at the first `fill` (a record inflated whole never needs one).
    gz: Option<MultiGzDecoder<&'a [u8]>>,
    limit: usize,
    out: usize,
    /// Inflated whole by [`Source::whole`]: nothing more comes.
    done: bool,
}

impl<'a> Inflater<'a> {
    pub fn new(gz: &'a [u8], limit: usize) -> Result<Inflater<'a>, InflateError> {
        if !gz.starts_with(&[0x1f, 0x8b]) {
            return Err(InflateError::NotGzip);
        }
        Ok(Inflater { input: gz, gz: None, limit, out: 0, done: false })
    }
}

impl Source for Inflater<'_> {
    fn whole(&mut self, buf: &mut Vec<u8>, cap: usize) -> Option<usize> {
        if self.out > 0 || self.done {
            return None;
        }
        let n = whole_member(self.input, buf, cap.min(self.limit))?;
        self.out = n;
        self.done = true;
        Some(n)
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, InflateError> {
        if self.done {
            return Ok(0);
        }
        // One byte past the limit is enough to know it was passed.
        let room = (self.limit + 1).saturating_sub(self.out).min(buf.len());
        let input = self.input;
        let gz = self.gz.get_or_insert_with(|| MultiGzDecoder::new(input));
        let n = loop {
            match gz.read(&mut buf[..room]) {
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

/// The largest size `inflate` takes from a gzip trailer to inflate a member in one call: the
/// trailer is input, and an allocation of its claim stays this small.
const WHOLE_MAX: usize = 8 << 20;

/// Inflates `gz` whole (one or more gzip members), failing once more than `limit` bytes come out.
pub fn inflate(gz: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let mut src = Inflater::new(gz, limit)?;
    let mut whole = Vec::new();
    if let Some(n) = src.whole(&mut whole, WHOLE_MAX) {
        whole.truncate(n);
        return Ok(whole);
    }
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
    fn a_failed_whole_inflation_leaves_the_buffer_as_it_was() {
        let body = b"secret statement text ".repeat(50);
        let gz = gzip(&body);
        let mut out = Vec::new();
        assert_eq!(whole_member(&gz, &mut out, 1 << 20), Some(body.len()), "one member is inflated whole");
        assert_eq!(&out[..body.len()], &body[..]);
        // A trailer claiming more than the member holds: libdeflate writes the whole plaintext,
        // then refuses the size; the plaintext is wiped and the buffer keeps its length.
        let mut over = gz.clone();
        let at = over.len() - 4;
        over[at..].copy_from_slice(&(body.len() as u32 + 5).to_le_bytes());
        let mut out = vec![0u8; 4096];
        assert_eq!(whole_member(&over, &mut out, 1 << 20), None);
        assert_eq!(out.len(), 4096);
        assert!(out.iter().all(|&b| b == 0), "no plaintext left");
        let mut out = Vec::new();
        assert_eq!(whole_member(&over, &mut out, 1 << 20), None);
        assert!(out.is_empty());
        // A claim no input of this length can inflate to is not taken up.
        let mut huge = gz.clone();
        huge[at..].copy_from_slice(&((gz.len() * 1033) as u32).to_le_bytes());
        assert_eq!(whole_member(&huge, &mut Vec::new(), usize::MAX), None);
    }

    #[test]
    fn a_header_checksum_is_left_to_the_stream_which_checks_it() {
        let gz = gzip(b"hello hello");
        let mut flagged = gz[..3].to_vec();
        flagged.push(gz[3] | 0x02);
        flagged.extend_from_slice(&gz[4..10]);
        flagged.extend_from_slice(&[0xab, 0xcd]); // not the header's CRC-16
        flagged.extend_from_slice(&gz[10..]);
        assert_eq!(whole_member(&flagged, &mut Vec::new(), 1 << 20), None);
        assert_eq!(inflate(&flagged, 100).unwrap_err().code(), "inflate.corrupt");
    }

    #[test]
    fn one_member_inflates_whole_and_a_lying_trailer_streams() {
        let body = b"hello hello hello hello".repeat(100);
        let gz = gzip(&body);
        assert_eq!(inflate(&gz, body.len()).unwrap(), body);
        assert_eq!(inflate(&gz, body.len() - 1).unwrap_err(), InflateError::TooLarge(body.len() - 1));
        // A trailer claiming a size the member does not have: the stream's answer, not a guess.
        let mut lying = gz.clone();
        let at = lying.len() - 4;
        lying[at..].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(inflate(&lying, 1 << 20).unwrap_err().code(), "inflate.corrupt");
        lying[at..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(inflate(&lying, 1 << 20).unwrap_err().code(), "inflate.corrupt");
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
