//! The window a record is read through: bytes come from the inflating source as the scan
//! needs them, and only the value being scanned is kept when the window moves on.

use super::ReadError;
use crate::das::event::RawEvent;
use crate::das::inflate::{InflateError, Source};

pub(super) const READ_SIZE: usize = 64 << 10;

/// The largest window a thread keeps for its next record; a larger one (grown for an event of
/// megabytes) is freed.
pub(super) const KEEP_WINDOW: usize = 1 << 20;

thread_local! {
    /// The window of the thread's last record, wiped: all zeros. The next record reads into it
    /// instead of allocating, zeroing and faulting in a fresh one.
    pub(super) static SPARE_WINDOW: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The window over the source: `buf[..end]` holds bytes read, `pos` is the next to look at and
/// `mark` the start of the value being scanned (kept when the window moves on).
pub(super) struct Reader<S> {
    pub(super) src: S,
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
    pub(super) end: usize,
    pub(super) mark: usize,
    /// Absolute offset of `buf[0]`.
    pub(super) base: u64,
    /// `buf[..checked]` is valid UTF-8.
    pub(super) checked: usize,
    /// The most of `buf` ever filled: what may hold plaintext.
    pub(super) used: usize,
    pub(super) eof: bool,
    pub(super) max_window: usize,
    /// The largest value accepted (`max_event_bytes`).
    pub(super) max_value: usize,
    /// Set once a byte sequence is not UTF-8 (absolute offset).
    pub(super) not_utf8: Option<usize>,
}

/// A scan hit the end of the window's allowance.
pub(super) enum Stop {
    Read(ReadError),
    /// The value being scanned is larger than the window may grow.
    TooLarge,
    /// The bytes ended inside a value.
    Eof,
}

impl From<InflateError> for Stop {
    fn from(e: InflateError) -> Stop {
        Stop::Read(ReadError::Inflate(e))
    }
}

impl<S: Source> Reader<S> {
    /// Reads more bytes; false at the end of the source. Moves the kept bytes (from `mark`)
    /// to the front, or grows the window when they fill it.
    pub(super) fn more(&mut self) -> Result<bool, Stop> {
        if self.eof {
            return Ok(false);
        }
        if self.end == self.buf.len() {
            let keep = self.mark.min(self.pos);
            if keep > 0 {
                self.buf.copy_within(keep..self.end, 0);
                self.end -= keep;
                self.pos -= keep;
                self.mark -= keep;
                self.checked -= keep;
                self.base += keep as u64;
            } else {
                if self.buf.len() >= self.max_window {
                    return Err(Stop::TooLarge);
                }
                let grown = (self.buf.len() * 2).clamp(READ_SIZE, self.max_window);
                // A new window, the old one wiped before it is freed (a reallocation would free
                // it as it is).
                let mut bigger = vec![0u8; grown];
                bigger[..self.end].copy_from_slice(&self.buf[..self.end]);
                zeroize::Zeroize::zeroize(&mut self.buf[..self.used]);
                self.buf = bigger;
                self.used = self.end;
            }
        }
        let filled = self.src.fill(&mut self.buf[self.end..]);
        if filled.is_err() {
            // The source may have written into the window before it failed.
            self.used = self.buf.len();
        }
        let n = filled?;
        if n == 0 {
            self.eof = true;
            if self.checked < self.end && self.not_utf8.is_none() {
                // A sequence cut off by the end.
                self.not_utf8 = Some(self.base as usize + self.checked);
            }
            return Ok(false);
        }
        self.took(n);
        Ok(true)
    }

    /// Reads the whole source into the window at once when it can tell its size is at most
    /// `cap` (a record inflated in one call); else nothing happens and `more` reads it in pieces.
    pub(super) fn whole(&mut self, cap: usize) {
        debug_assert_eq!(self.end, 0, "only before the first read");
        if let Some(n) = self.src.whole(&mut self.buf, cap) {
            self.took(n);
        }
    }

    /// Takes the `n` bytes just written at `end` into the window (their UTF-8 checked).
    fn took(&mut self, n: usize) {
        self.end += n;
        self.used = self.used.max(self.end);
        if self.not_utf8.is_none() {
            match std::str::from_utf8(&self.buf[self.checked..self.end]) {
                Ok(_) => self.checked = self.end,
                Err(e) if e.error_len().is_none() => self.checked += e.valid_up_to(),
                Err(e) => self.not_utf8 = Some(self.base as usize + self.checked + e.valid_up_to()),
            }
        }
    }

    pub(super) fn peek(&mut self) -> Result<Option<u8>, Stop> {
        while self.pos == self.end {
            if !self.more()? {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos]))
    }

    pub(super) fn skip_ws(&mut self) -> Result<Option<u8>, Stop> {
        loop {
            // Whitespace between values is not kept.
            self.mark = self.pos;
            match self.peek()? {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                other => return Ok(other),
            }
        }
    }

    /// The byte at `i` (an index into `buf`, which may move: it is kept relative to `mark`).
    pub(super) fn byte_at(&mut self, rel: usize) -> Result<u8, Stop> {
        while self.mark + rel >= self.end {
            if !self.more()? {
                return Err(Stop::Eof);
            }
        }
        Ok(self.buf[self.mark + rel])
    }

    /// Scans the value starting at `pos`; returns its length, at most `max_event_bytes`. The
    /// value stays in the window (from `mark`) until the next scan.
    pub(super) fn scan_value(&mut self) -> Result<usize, Stop> {
        let len = self.scan_extent()?;
        if len > self.max_value {
            return Err(Stop::TooLarge);
        }
        Ok(len)
    }

    pub(super) fn scan_extent(&mut self) -> Result<usize, Stop> {
        self.mark = self.pos;
        let first = self.byte_at(0)?;
        let mut rel = 0;
        if !matches!(first, b'{' | b'[' | b'"') {
            // A number or literal: up to the next delimiter.
            loop {
                match self.byte_at(rel) {
                    Ok(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') | Err(Stop::Eof) => return Ok(rel),
                    Ok(_) => rel += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        // An object, array or string: walked over the window as it lies, resumed where it
        // stopped each time the window grows.
        let mut walk = Walk::default();
        loop {
            if let Some(len) = walk.over(&self.buf[self.mark..self.end]) {
                return Ok(len);
            }
            if !self.more()? {
                return Err(Stop::Eof);
            }
        }
    }

    /// The event object at `pos`, when the window holds all of it (within `max_event_bytes`)
    /// and it reads as an event; it stays in the window (from `mark`) until consumed.
    pub(super) fn event_in_window(&mut self) -> Option<(RawEvent<'_>, usize)> {
        self.mark = self.pos;
        let window = &self.buf[self.pos..self.end];
        RawEvent::parse_at_start(window).filter(|&(_, len)| len <= self.max_value)
    }

    /// The scanned value as text (it ends before any cut-off sequence, so it is whole UTF-8
    /// unless the source is not).
    pub(super) fn text(&self, len: usize) -> Option<&str> {
        std::str::from_utf8(&self.buf[self.mark..self.mark + len]).ok()
    }

    /// Moves past the scanned value; the window may let it go.
    pub(super) fn consume(&mut self, len: usize) {
        self.pos = self.mark + len;
        self.mark = self.pos;
    }

    pub(super) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Reads to the end, keeping nothing (after a syntax error: the gzip layer and UTF-8 are
    /// still checked to the end, as a whole-document read would).
    pub(super) fn drain(&mut self) -> Result<(), Stop> {
        loop {
            self.pos = self.end;
            self.mark = self.end;
            if !self.more()? {
                return Ok(());
            }
        }
    }
}

/// Where the walk to the end of an object, array or string stands (`rel` is relative to the
/// value's first byte).
#[derive(Default)]
struct Walk {
    rel: usize,
    depth: usize,
    in_string: bool,
}

impl Walk {
    /// Walks on over `b` (the value's bytes so far; each call sees at least those of the last):
    /// the value's length once `b` holds its end, `None` to be called again with more. Brackets
    /// are counted, strings skipped; whatever follows a backslash is escaped.
    fn over(&mut self, b: &[u8]) -> Option<usize> {
        while self.rel < b.len() {
            if self.in_string {
                let Some(at) = memchr::memchr2(b'"', b'\\', &b[self.rel..]) else {
                    self.rel = b.len();
                    return None;
                };
                self.rel += at;
                if b[self.rel] == b'\\' {
                    // Past the escaped byte, which may not be here yet: the walk resumes after it.
                    self.rel += 2;
                    continue;
                }
                self.in_string = false;
                self.rel += 1;
                if self.depth == 0 {
                    return Some(self.rel);
                }
                continue;
            }
            match b[self.rel] {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(self.rel + 1);
                    }
                }
                _ => {}
            }
            self.rel += 1;
        }
        None
    }
}
