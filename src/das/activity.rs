//! The decrypted DAS record (`DatabaseActivityMonitoringRecord`), read event by event from a
//! stream of its inflated bytes.
//!
//! Only one event's bytes are held at a time (a window that grows to the largest event, at most
//! `max_event_bytes`); each event is parsed borrowing from the window and handed to a [`Visit`].
//! The whole record is checked as it goes, with the precedence of a whole-document parse: a
//! record that is not UTF-8 or not JSON anywhere is refused as such even when its first events
//! were fine, and the visitor is told nothing it must keep before the read says the record is
//! good (it returns `Ok` only at the end).

use std::borrow::Cow;

use thiserror::Error;

use super::event::{EventError, RawEvent};
use super::inflate::{InflateError, Source};
use super::json::RawJson;

pub const INNER_RECORD_TYPE: &str = "DatabaseActivityMonitoringRecord";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ActivityError {
    #[error("decrypted payload is not JSON: {0}")]
    NotJson(String),
    #[error("decrypted payload is not UTF-8 (invalid byte at offset {0})")]
    NotUtf8(usize),
    #[error("decrypted payload type is {0:?}, expected DatabaseActivityMonitoringRecord")]
    WrongType(String),
    #[error("databaseActivityEventList is missing")]
    MissingEventList,
    #[error("databaseActivityEventList is not a list")]
    EventListNotArray,
    #[error("event {0} of databaseActivityEventList is not an object")]
    EventNotObject(usize),
    #[error("record holds more than {0} events")]
    TooManyEvents(usize),
    #[error("event {0} of databaseActivityEventList is larger than MAX_EVENT_BYTES ({1} bytes)")]
    EventTooLarge(usize, usize),
}

impl ActivityError {
    pub fn code(&self) -> &'static str {
        match self {
            ActivityError::NotJson(_) => "activity.not_json",
            ActivityError::NotUtf8(_) => "activity.not_utf8",
            ActivityError::WrongType(_) => "activity.wrong_type",
            ActivityError::MissingEventList => "activity.missing_event_list",
            ActivityError::EventListNotArray => "activity.event_list_not_array",
            ActivityError::EventNotObject(_) => "activity.event_not_object",
            ActivityError::TooManyEvents(_) => "activity.too_many_events",
            ActivityError::EventTooLarge(..) => "activity.event_too_large",
        }
    }
}

/// Why a record could not be read: its gzip layer, or its JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadError {
    #[error(transparent)]
    Inflate(#[from] InflateError),
    #[error(transparent)]
    Activity(#[from] ActivityError),
    /// The visitor asked to stop (the batch stopped).
    #[error("the read was stopped")]
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// `MAX_EVENTS_PER_RECORD`: elements of the list, heartbeats included.
    pub max_events: usize,
    /// `MAX_EVENT_BYTES`: the JSON text of one element (and of any other top-level value).
    pub max_event_bytes: usize,
}

/// The ids the record carries (`clusterId`, `instanceId`), as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordIds {
    pub cluster_id: Option<String>,
    pub instance_id: Option<String>,
}

/// What a whole read found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordInfo {
    pub ids: RecordIds,
    /// Elements of the list, heartbeats included.
    pub elements: usize,
    pub heartbeats: usize,
    /// An id came after the list: the visitor saw events before it knew the record's ids.
    pub ids_after_list: bool,
    /// Inflated bytes read.
    pub bytes: u64,
}

/// Receives the events of a record as they are read.
pub trait Visit {
    /// The list begins; `ids` are those read so far (DAS writes them before the list).
    fn begin(&mut self, _ids: &RecordIds) {}
    /// One event that is not a heartbeat. False: send no more (the read still checks the rest).
    fn event(&mut self, event: RawEvent<'_>) -> bool;
    /// True: stop reading now (`ReadError::Stopped`).
    fn aborted(&self) -> bool {
        false
    }
}

/// A visitor that keeps nothing (a check of the whole record).
pub struct CheckOnly;

impl Visit for CheckOnly {
    fn event(&mut self, _: RawEvent<'_>) -> bool {
        false
    }
}

/// A string, number or bool rendered as text; `None` for null, `""`, arrays and objects.
fn id_text(raw: &str) -> Option<String> {
    RawJson::borrowed(raw).text().map(Cow::into_owned)
}

/// The first error of each kind met, for the precedence of a whole-document parse.
#[derive(Default)]
struct Found {
    syntax: Option<String>,
    wrong_type: Option<String>,
    list: Option<ActivityError>,
    not_object: Option<usize>,
}

const READ_SIZE: usize = 64 << 10;

/// The largest window a thread keeps for its next record; a larger one (grown for an event of
/// megabytes) is freed.
const KEEP_WINDOW: usize = 1 << 20;

thread_local! {
    /// The window of the thread's last record, wiped: all zeros. The next record reads into it
    /// instead of allocating, zeroing and faulting in a fresh one.
    static SPARE_WINDOW: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The window over the source: `buf[..end]` holds bytes read, `pos` is the next to look at and
/// `mark` the start of the value being scanned (kept when the window moves on).
struct Reader<S> {
    src: S,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    mark: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// `buf[..checked]` is valid UTF-8.
    checked: usize,
    /// The most of `buf` ever filled: what may hold plaintext.
    used: usize,
    eof: bool,
    max_window: usize,
    /// The largest value accepted (`max_event_bytes`).
    max_value: usize,
    /// Set once a byte sequence is not UTF-8 (absolute offset).
    not_utf8: Option<usize>,
}

/// A scan hit the end of the window's allowance.
enum Stop {
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
    fn more(&mut self) -> Result<bool, Stop> {
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
        self.end += n;
        self.used = self.used.max(self.end);
        if self.not_utf8.is_none() {
            match std::str::from_utf8(&self.buf[self.checked..self.end]) {
                Ok(_) => self.checked = self.end,
                Err(e) if e.error_len().is_none() => self.checked += e.valid_up_to(),
                Err(e) => self.not_utf8 = Some(self.base as usize + self.checked + e.valid_up_to()),
            }
        }
        Ok(true)
    }

    fn peek(&mut self) -> Result<Option<u8>, Stop> {
        while self.pos == self.end {
            if !self.more()? {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos]))
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, Stop> {
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
    fn byte_at(&mut self, rel: usize) -> Result<u8, Stop> {
        while self.mark + rel >= self.end {
            if !self.more()? {
                return Err(Stop::Eof);
            }
        }
        Ok(self.buf[self.mark + rel])
    }

    /// Scans the value starting at `pos`; returns its length, at most `max_event_bytes`. The
    /// value stays in the window (from `mark`) until the next scan.
    fn scan_value(&mut self) -> Result<usize, Stop> {
        let len = self.scan_extent()?;
        if len > self.max_value {
            return Err(Stop::TooLarge);
        }
        Ok(len)
    }

    fn scan_extent(&mut self) -> Result<usize, Stop> {
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
    fn event_in_window(&mut self) -> Option<(RawEvent<'_>, usize)> {
        self.mark = self.pos;
        let window = &self.buf[self.pos..self.end];
        RawEvent::parse_at_start(window).filter(|&(_, len)| len <= self.max_value)
    }

    /// The scanned value as text (it ends before any cut-off sequence, so it is whole UTF-8
    /// unless the source is not).
    fn text(&self, len: usize) -> Option<&str> {
        std::str::from_utf8(&self.buf[self.mark..self.mark + len]).ok()
    }

    /// Moves past the scanned value; the window may let it go.
    fn consume(&mut self, len: usize) {
        self.pos = self.mark + len;
        self.mark = self.pos;
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Reads to the end, keeping nothing (after a syntax error: the gzip layer and UTF-8 are
    /// still checked to the end, as a whole-document read would).
    fn drain(&mut self) -> Result<(), Stop> {
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

/// Reads a whole record from `src`, handing every event that is not a heartbeat to `visit`.
pub fn read_record<S: Source, V: Visit + ?Sized>(
    src: S,
    limits: ReadLimits,
    visit: &mut V,
) -> Result<RecordInfo, ReadError> {
    let mut r = Reader {
        src,
        // All zeros: no plaintext below `used` (0) to wipe.
        buf: SPARE_WINDOW.take(),
        pos: 0,
        end: 0,
        mark: 0,
        base: 0,
        checked: 0,
        used: 0,
        eof: false,
        max_window: limits.max_event_bytes.saturating_add(READ_SIZE),
        max_value: limits.max_event_bytes,
        not_utf8: None,
    };
    let mut info = RecordInfo::default();
    let mut found = Found::default();
    let result = read_top(&mut r, limits, visit, &mut info, &mut found);
    // The plaintext is wiped before the window is freed: all of it lies below `used` (beyond
    // it are the zeros the window grew with), so the volatile writes stop there.
    zeroize::Zeroize::zeroize(&mut r.buf[..r.used]);
    info.bytes = r.base + r.end as u64;
    if r.buf.len() <= KEEP_WINDOW {
        SPARE_WINDOW.set(std::mem::take(&mut r.buf));
    }
    match result {
        Err(Stop::Read(e)) => return Err(e),
        Err(Stop::TooLarge) => {
            return Err(ActivityError::EventTooLarge(info.elements, limits.max_event_bytes).into());
        }
        Err(Stop::Eof) => {
            found.syntax.get_or_insert_with(|| format!("Eof error at byte {}", info.bytes));
        }
        Ok(()) => {}
    }
    if let Some(at) = r.not_utf8 {
        return Err(ActivityError::NotUtf8(at).into());
    }
    let error = if let Some(s) = found.syntax {
        ActivityError::NotJson(s)
    } else if let Some(t) = found.wrong_type {
        ActivityError::WrongType(t)
    } else if let Some(e) = found.list {
        e
    } else if info.elements > limits.max_events {
        ActivityError::TooManyEvents(limits.max_events)
    } else if let Some(i) = found.not_object {
        ActivityError::EventNotObject(i)
    } else {
        return Ok(info);
    };
    Err(error.into())
}

/// Records a syntax error at the reader's position and reads on to the end.
fn syntax<S: Source>(r: &mut Reader<S>, found: &mut Found, what: &str) -> Result<(), Stop> {
    found.syntax.get_or_insert_with(|| format!("Syntax error at byte {}: {what}", r.offset()));
    r.drain()
}

fn read_top<S: Source, V: Visit + ?Sized>(
    r: &mut Reader<S>,
    limits: ReadLimits,
    visit: &mut V,
    info: &mut RecordInfo,
    found: &mut Found,
) -> Result<(), Stop> {
    if r.skip_ws()? != Some(b'{') {
        return syntax(r, found, "expected an object");
    }
    r.pos += 1;
    let (mut seen_type, mut seen_cluster, mut seen_instance, mut seen_list) = (false, false, false, false);
    let mut first = true;
    loop {
        match r.skip_ws()? {
            Some(b'}') if first => {
                r.pos += 1;
                break;
            }
            Some(b'"') => {}
            _ => return syntax(r, found, "expected a field name"),
        }
        let len = r.scan_value()?;
        let Some(name) = r.text(len).and_then(|t| serde_json::from_str::<String>(t).ok()) else {
            return syntax(r, found, "bad field name");
        };
        r.consume(len);
        if r.skip_ws()? != Some(b':') {
            return syntax(r, found, "expected ':'");
        }
        r.pos += 1;
        r.skip_ws()?;
        let seen = match name.as_str() {
            "type" => &mut seen_type,
            "clusterId" => &mut seen_cluster,
            "instanceId" => &mut seen_instance,
            "databaseActivityEventList" => &mut seen_list,
            _ => {
                // Any other field: only its syntax matters.
                let len = r.scan_value()?;
                let ok = r.text(len).is_some_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok());
                if !ok {
                    return syntax(r, found, "bad value");
                }
                r.consume(len);
                first = false;
                if !next_member(r, found)? {
                    break;
                }
                continue;
            }
        };
        if std::mem::replace(seen, true) {
            return syntax(r, found, "duplicate field");
        }
        if name == "databaseActivityEventList" {
            visit.begin(&info.ids);
            if !read_list(r, limits, visit, info, found)? {
                return Ok(());
            }
        } else {
            let len = r.scan_value()?;
            let Some(text) = r.text(len).filter(|t| serde_json::from_str::<serde_json::Value>(t).is_ok()) else {
                return syntax(r, found, "bad value");
            };
            let text = text.to_owned();
            r.consume(len);
            match name.as_str() {
                "type" => {
                    let t = RawJson::borrowed(&text).str_value().map(Cow::into_owned);
                    if let Some(t) = t.filter(|t| t != INNER_RECORD_TYPE) {
                        found.wrong_type = Some(t.chars().take(64).collect());
                    }
                }
                "clusterId" => info.ids.cluster_id = id_text(&text),
                _ => info.ids.instance_id = id_text(&text),
            }
            if name != "type" && seen_list {
                info.ids_after_list = true;
            }
        }
        first = false;
        if !next_member(r, found)? {
            break;
        }
    }
    if !seen_list {
        found.list.get_or_insert(ActivityError::MissingEventList);
    }
    if r.skip_ws()?.is_some() {
        return syntax(r, found, "trailing characters");
    }
    Ok(())
}

/// After a member: true at `,`, false at `}` (syntax errors recorded, the rest drained).
fn next_member<S: Source>(r: &mut Reader<S>, found: &mut Found) -> Result<bool, Stop> {
    match r.skip_ws()? {
        Some(b',') => {
            r.pos += 1;
            Ok(true)
        }
        Some(b'}') => {
            r.pos += 1;
            Ok(false)
        }
        _ => {
            syntax(r, found, "expected ',' or '}'")?;
            Ok(false)
        }
    }
}

/// Reads the list's value; false when a syntax error ended the read.
fn read_list<S: Source, V: Visit + ?Sized>(
    r: &mut Reader<S>,
    limits: ReadLimits,
    visit: &mut V,
    info: &mut RecordInfo,
    found: &mut Found,
) -> Result<bool, Stop> {
    match r.peek()? {
        Some(b'[') => {}
        Some(b'"') => return read_list_in_string(r, limits, visit, info, found),
        _ => {
            let len = r.scan_value()?;
            let Some(text) = r.text(len).filter(|t| serde_json::from_str::<serde_json::Value>(t).is_ok()) else {
                syntax(r, found, "bad value")?;
                return Ok(false);
            };
            let error = if text == "null" { ActivityError::MissingEventList } else { ActivityError::EventListNotArray };
            found.list.get_or_insert(error);
            r.consume(len);
            return Ok(true);
        }
    }
    r.pos += 1;
    let mut sending = true;
    if r.skip_ws()? == Some(b']') {
        r.pos += 1;
        return Ok(true);
    }
    loop {
        if visit.aborted() {
            return Err(Stop::Read(ReadError::Stopped));
        }
        r.skip_ws()?;
        // Most events lie whole in the window: read in one pass, straight from it.
        if let Some((event, len)) = r.event_in_window() {
            info.elements += 1;
            offer(event, limits, visit, info, found, &mut sending);
            r.consume(len);
        } else if !read_element(r, limits, visit, info, found, &mut sending)? {
            return Ok(false);
        }
        match r.skip_ws()? {
            Some(b',') => r.pos += 1,
            Some(b']') => {
                r.pos += 1;
                return Ok(true);
            }
            _ => {
                syntax(r, found, "expected ',' or ']'")?;
                return Ok(false);
            }
        }
    }
}

/// One element of the list, not read whole from the window: its extent found first (reading
/// more as needed, within `max_event_bytes`), then parsed. False once the record is known
/// unreadable.
fn read_element<S: Source, V: Visit + ?Sized>(
    r: &mut Reader<S>,
    limits: ReadLimits,
    visit: &mut V,
    info: &mut RecordInfo,
    found: &mut Found,
    sending: &mut bool,
) -> Result<bool, Stop> {
    let len = r.scan_value()?;
    let index = info.elements;
    info.elements += 1;
    let Some(text) = r.text(len) else {
        // Not UTF-8: already recorded by the reader; nothing more to learn.
        r.drain()?;
        return Ok(false);
    };
    match RawEvent::parse(text) {
        Ok(event) => offer(event, limits, visit, info, found, sending),
        Err(EventError::NotObject) => {
            if serde_json::from_str::<serde_json::Value>(text).is_err() {
                syntax(r, found, "bad value")?;
                return Ok(false);
            }
            found.not_object.get_or_insert(index);
        }
        Err(EventError::NotJson(why)) => {
            syntax(r, found, &why)?;
            return Ok(false);
        }
    }
    r.consume(len);
    Ok(true)
}

/// A parsed element: a heartbeat is counted, an event is handed to `visit` while the record may
/// still be sent (within `max_events`, every element so far an object, the record's type right).
fn offer<V: Visit + ?Sized>(
    event: RawEvent<'_>,
    limits: ReadLimits,
    visit: &mut V,
    info: &mut RecordInfo,
    found: &Found,
    sending: &mut bool,
) {
    if event.is_heartbeat() {
        info.heartbeats += 1;
    } else {
        *sending = *sending
            && info.elements <= limits.max_events
            && found.not_object.is_none()
            && found.wrong_type.is_none()
            && visit.event(event);
    }
}

/// The user guide's table calls the list a string: a JSON-encoded list is read too. Its text
/// must be one JSON list (anything else is "not a list", as before).
fn read_list_in_string<S: Source, V: Visit + ?Sized>(
    r: &mut Reader<S>,
    limits: ReadLimits,
    visit: &mut V,
    info: &mut RecordInfo,
    found: &mut Found,
) -> Result<bool, Stop> {
    let len = r.scan_value()?;
    let Some(inner) = r.text(len).and_then(|t| serde_json::from_str::<String>(t).ok()) else {
        syntax(r, found, "bad string")?;
        return Ok(false);
    };
    r.consume(len);
    let Ok(serde_json::Value::Array(list)) = serde_json::from_str::<serde_json::Value>(&inner) else {
        found.list.get_or_insert(ActivityError::EventListNotArray);
        return Ok(true);
    };
    let mut sending = true;
    for item in list {
        let index = info.elements;
        info.elements += 1;
        if !item.is_object() {
            found.not_object.get_or_insert(index);
            continue;
        }
        // The item's canonical text reads back to the same fields.
        let text = item.to_string();
        let Ok(event) = RawEvent::parse(&text) else { continue };
        if event.is_heartbeat() {
            info.heartbeats += 1;
        } else {
            sending = sending && info.elements <= limits.max_events && found.not_object.is_none() && visit.event(event);
        }
    }
    Ok(true)
}

/// Every event of a whole inflated record, for tests and tools: the record's ids, and the
/// events that are not heartbeats as owned canonical JSON texts.
pub fn events_of(json: &[u8], limits: ReadLimits) -> Result<(RecordInfo, Vec<String>), ReadError> {
    events_from(json, limits)
}

/// `events_of`, from any source.
fn events_from<S: Source>(src: S, limits: ReadLimits) -> Result<(RecordInfo, Vec<String>), ReadError> {
    struct Collect(Vec<String>);
    impl Visit for Collect {
        fn event(&mut self, event: RawEvent<'_>) -> bool {
            let mut out = Vec::new();
            event.write_canonical(&mut out);
            self.0.push(String::from_utf8(out).unwrap_or_default());
            true
        }
    }
    let mut c = Collect(Vec::new());
    let info = read_record(src, limits, &mut c)?;
    Ok((info, c.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ReadLimits = ReadLimits { max_events: 2, max_event_bytes: 1 << 20 };

    fn code(json: &[u8]) -> &'static str {
        crate::error::Failure::from(events_of(json, LIMITS).unwrap_err()).code()
    }

    #[test]
    fn tolerant_fields_and_heartbeats() {
        let json = br#"{"type":"DatabaseActivityMonitoringRecord","clusterId":"cluster-1","instanceId":"db-1",
            "databaseActivityEventList":[
              {"type":"heartbeat"},
              {"type":"record","pid":"123","sessionId":42,"exitCode":"","rowCount":null,"newField":[1]}]}"#;
        let (info, events) = events_of(json, LIMITS).unwrap();
        assert_eq!((info.heartbeats, info.elements, events.len()), (1, 2, 1));
        assert_eq!(info.ids.cluster_id.as_deref(), Some("cluster-1"));
        assert_eq!(info.ids.instance_id.as_deref(), Some("db-1"));
        assert!(!info.ids_after_list);
        let e = RawEvent::parse(&events[0]).unwrap();
        assert_eq!(e.integer("pid"), Some(123));
        assert_eq!(e.get("newField").unwrap().as_str(), "[1]");
    }

    #[test]
    fn the_window_kept_for_the_next_record_is_wiped_and_reused() {
        let json = br#"{"databaseActivityEventList":[{"type":"record","commandText":"SELECT 'secret'"}]}"#;
        let (_, first) = events_of(json, LIMITS).unwrap();
        let spare = SPARE_WINDOW.take();
        assert!(!spare.is_empty(), "the thread keeps its window");
        assert!(spare.iter().all(|&b| b == 0), "the kept window holds no plaintext");
        let at = spare.as_ptr();
        SPARE_WINDOW.set(spare);
        // The next record reads into the same window, and reads the same.
        let (_, again) = events_of(json, LIMITS).unwrap();
        assert_eq!(first, again);
        let spare = SPARE_WINDOW.take();
        assert_eq!(spare.as_ptr(), at);
        assert!(spare.iter().all(|&b| b == 0));
        // A window grown past KEEP_WINDOW is not kept.
        let big = format!(
            r#"{{"databaseActivityEventList":[{{"type":"record","commandText":"{}"}}]}}"#,
            "a".repeat(KEEP_WINDOW * 2)
        );
        events_of(big.as_bytes(), LIMITS).unwrap_err();
        let limits = ReadLimits { max_events: 2, max_event_bytes: KEEP_WINDOW * 4 };
        events_of(big.as_bytes(), limits).unwrap();
        assert!(SPARE_WINDOW.take().is_empty());
    }

    #[test]
    fn malformed_records() {
        assert_eq!(code(b"nope"), "activity.not_json");
        assert_eq!(code(b""), "activity.not_json");
        assert_eq!(code(br#"{"databaseActivityEventList":[]} x"#), "activity.not_json");
        assert_eq!(code(br#"{"type":"X","databaseActivityEventList":[]}"#), "activity.wrong_type");
        assert_eq!(code(br#"{"databaseActivityEventList":{}}"#), "activity.event_list_not_array");
        assert_eq!(code(br#"{"databaseActivityEventList":[1]}"#), "activity.event_not_object");
        assert_eq!(code(br#"{"instanceId":"db-1"}"#), "activity.missing_event_list");
        assert_eq!(code(br#"{"databaseActivityEventList":null}"#), "activity.missing_event_list");
        assert_eq!(code(br#"{"databaseActivityEventList":[{},{},{}]}"#), "activity.too_many_events");
        assert_eq!(
            code(br#"{"databaseActivityEventList":[{},{}],"databaseActivityEventList":[]}"#),
            "activity.not_json"
        );
        // Precedence of a whole-document parse: not UTF-8, then not JSON, then the rest.
        assert_eq!(code(b"{\"databaseActivityEventList\":[1,{\"a\":\"\xff\"}]}"), "activity.not_utf8");
        assert_eq!(code(br#"{"type":"X","databaseActivityEventList":[1],"z":}"#), "activity.not_json");
        assert_eq!(code(br#"{"databaseActivityEventList":[1,{},{},{}]}"#), "activity.too_many_events");
        assert_eq!(code(br#"{"databaseActivityEventList":[{"a":"\ud800"}]}"#), "activity.not_json");
        let tiny = ReadLimits { max_events: 10, max_event_bytes: 16 };
        let big = format!(r#"{{"databaseActivityEventList":[{{"a":"{}"}}]}}"#, "x".repeat(200_000));
        let too_large = crate::error::Failure::from(events_of(big.as_bytes(), tiny).unwrap_err());
        assert_eq!(too_large.code(), "activity.event_too_large");
    }

    #[test]
    fn list_in_a_string_and_ids_after_the_list() {
        let json = br#"{"databaseActivityEventList":"[{\"type\":\"record\",\"a\":1},{\"type\":\"heartbeat\"}]","clusterId":"c"}"#;
        let (info, events) = events_of(json, LIMITS).unwrap();
        assert_eq!((events.len(), info.heartbeats), (1, 1));
        assert!(info.ids_after_list);
        assert_eq!(code(br#"{"databaseActivityEventList":"[1"}"#), "activity.event_list_not_array");
    }

    #[test]
    fn documented_examples_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/das");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let limits = ReadLimits { max_events: 1000, max_event_bytes: 1 << 20 };
                let (info, events) = events_of(&std::fs::read(&path).unwrap(), limits).unwrap();
                assert!(!events.is_empty(), "{}", path.display());
                assert!(info.ids.instance_id.is_some(), "{}", path.display());
                n += 1;
            }
        }
        assert!(n >= 8);
    }

    /// Hands out `n` bytes at a time, so values end up cut at every place by the window.
    struct Trickle<'a>(&'a [u8], usize);

    impl Source for Trickle<'_> {
        fn fill(&mut self, buf: &mut [u8]) -> Result<usize, InflateError> {
            let n = buf.len().min(self.0.len()).min(self.1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_stream_in_small_pieces_reads_as_the_whole() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/das");
        let mut records: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        for odd in [
            &br#"{"databaseActivityEventList":[{"a":"x\"}\\","b":[{"c":"]"}]},"s",7,true]}"#[..],
            br#"{"databaseActivityEventList":[{"a":1]},{"a":[}]}]}"#,
            br#"{"databaseActivityEventList":[{"a":"open"#,
            br#"{"databaseActivityEventList":[{"a":"\"#,
            br#"{"databaseActivityEventList":"[{\"a\":1}]","clusterId":"c"}"#,
        ] {
            records.push(odd.to_vec());
        }
        let limits = ReadLimits { max_events: 1000, max_event_bytes: 1 << 20 };
        for record in &records {
            let whole = events_of(record, limits);
            for n in [1, 2, 3, 7, 64] {
                assert_eq!(events_from(Trickle(record, n), limits), whole, "{n} bytes at a time");
            }
        }
    }

    #[test]
    fn a_bomb_of_whitespace_is_too_large() {
        let gz = crate::sinks::s3::encoder::gzip(&vec![b' '; 16 << 20], 6);
        let src = crate::das::inflate::Inflater::new(&gz, 1 << 20).unwrap();
        let limits = ReadLimits { max_events: 10, max_event_bytes: 256 << 10 };
        let r = read_record(src, limits, &mut CheckOnly);
        assert!(matches!(r, Err(ReadError::Inflate(InflateError::TooLarge(_)))), "{r:?}");
    }
}
