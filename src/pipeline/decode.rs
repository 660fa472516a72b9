//! Stage 2, pure CPU: one record's ESDK message to OCSF lines. Decrypt (the message is at most a
//! Kinesis record, 1 MiB), then read the gzip stream event by event: each event is filtered,
//! redacted, mapped and written as one line straight into the record's output buffer.
//!
//! A record is read once when its lines fit one piece (`piece_bytes`): the read checks the whole
//! record as it goes and the lines are kept only if it is good. A record whose lines outgrow a
//! piece is read twice: the first read only checks it (and learns its ids), the second writes
//! its lines piece by piece, each handed on as soon as it is full. No record is ever held whole.

use std::sync::Arc;

use crate::das::activity::{read_record, ReadLimits, RecordIds, Visit};
use crate::das::inflate::Inflater;
use crate::das::resource::StreamSource;
use crate::das::RawEvent;
use crate::error::Failure;
use crate::esdk::{self, RawAesKeyring};
use crate::ocsf::{map_with_uid, write_event, Dropped, Filters, RecordContext};

use super::fates::Counts;
use super::lookup::Keyed;
use super::uids::{Prepared, Uids};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_inflated_bytes: usize,
    pub max_events_per_record: usize,
    /// Largest ESDK frame accepted (`MAX_FRAME_LENGTH`); DAS writes 4096-byte frames.
    pub max_frame_length: u32,
    /// Largest event (`MAX_EVENT_BYTES`).
    pub max_event_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_inflated_bytes: 64 << 20,
            max_events_per_record: 100_000,
            max_frame_length: 1 << 20,
            max_event_bytes: 16 << 20,
        }
    }
}

impl Limits {
    /// `MAX_INFLATED_BYTES`, `MAX_EVENTS_PER_RECORD`, `MAX_FRAME_LENGTH`, `MAX_EVENT_BYTES`.
    pub fn from_env(env: &crate::config::env::Env) -> Result<Limits, crate::config::env::ConfigError> {
        let d = Limits::default();
        Ok(Limits {
            max_inflated_bytes: env.number("MAX_INFLATED_BYTES", d.max_inflated_bytes, 1 << 10, 1 << 30)?,
            max_events_per_record: env.number("MAX_EVENTS_PER_RECORD", d.max_events_per_record, 1, 10_000_000)?,
            max_frame_length: env.number("MAX_FRAME_LENGTH", d.max_frame_length, 1 << 9, u32::MAX)?,
            max_event_bytes: env.number("MAX_EVENT_BYTES", d.max_event_bytes, 64 << 10, 1 << 30)?,
        })
    }
}

/// Lines back to back, each ending at `ends[i].1` and followed by its newline (so that runs of
/// lines go to a file or a compressor as one slice), with its event time.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Lines {
    pub buf: Vec<u8>,
    pub ends: Vec<(i64, u32)>,
}

impl Lines {
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each line's bytes, in order (without its newline).
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&(_, end)| {
            let line = &self.buf[start..end as usize];
            start = end as usize + 1;
            line
        })
    }
}

/// One record to decode.
pub struct Job {
    pub index: usize,
    pub keyed: Keyed,
    pub source: Arc<StreamSource>,
    pub arrival_ms: i64,
}

/// What decoding a record gives, besides its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub counts: Counts,
    pub instance_id: Option<String>,
}

/// Where the lines of a record go.
pub trait Output {
    /// The whole record in one piece, or why it failed for good.
    fn done(&self, index: usize, result: Result<(Decoded, Lines), Failure>);
    /// Waits until the record may stream its pieces (every earlier record is taken); false
    /// when the batch stopped.
    fn stream(&self, index: usize) -> bool;
    /// One piece; `end` with the last. False when the batch stopped.
    fn piece(&self, index: usize, lines: Lines, first_event: usize, end: Option<Decoded>) -> bool;
    /// The batch stopped: stop reading.
    fn stopped(&self) -> bool;
}

/// The ESDK message's compressed payload, after the frame-length limit.
fn decrypt(keyed: &Keyed, limits: Limits) -> Result<zeroize::Zeroizing<Vec<u8>>, Failure> {
    let header = esdk::header::parse(&keyed.message)?;
    let frame_length = header.frame_length;
    if frame_length > limits.max_frame_length {
        return Err(Failure::Permanent {
            code: "limits.frame_too_large",
            detail: format!("frame length {frame_length} is over MAX_FRAME_LENGTH ({})", limits.max_frame_length),
        });
    }
    let compressed = esdk::decrypt_with_header(&keyed.message, &header, &RawAesKeyring::das(keyed.key.bytes()))?;
    Ok(zeroize::Zeroizing::new(compressed))
}

/// Writes the events it is given as lines.
struct Encoder<'a, O: Output> {
    ctx: RecordContext,
    filters: &'a Filters,
    counts: Counts,
    lines: Lines,
    /// Uids of `lines` not yet hashed.
    uids: Uids,
    piece_bytes: usize,
    /// The first read: ids come from the record as read; past a piece the lines are dropped.
    first_read: bool,
    overflow: bool,
    /// The second read: full pieces go here.
    out: Option<(&'a O, usize)>,
    /// Lines handed on before the current ones.
    emitted: usize,
    stopped: bool,
}

impl<O: Output> Encoder<'_, O> {
    fn encode(&mut self, mut event: RawEvent<'_>) {
        match self.filters.check(&event) {
            Some(Dropped::User) => self.counts.filtered.users += 1,
            Some(Dropped::Command) => self.counts.filtered.commands += 1,
            Some(Dropped::Database) => self.counts.filtered.databases += 1,
            Some(Dropped::Time) => self.counts.filtered.time += 1,
            None => {
                let redaction = self.filters.redaction.apply(&mut event);
                let prepared = self.uids.prepare(&self.ctx, &event);
                let mut ocsf = map_with_uid(&event, &self.ctx, prepared.uid());
                ocsf.unmapped.redaction = redaction;
                let spots = write_event(&mut self.lines.buf, &ocsf);
                if let Prepared::Later(slot) = prepared {
                    self.uids.wait(slot, spots, &mut self.lines.buf);
                }
                self.lines.ends.push((ocsf.time, self.lines.buf.len() as u32));
                self.lines.buf.push(b'\n');
                self.counts.events += 1;
            }
        }
    }

    /// The lines written so far, every uid in place.
    fn settle(&mut self) {
        self.uids.settle(&mut self.lines.buf);
    }

    /// Starts the lines over.
    fn clear(&mut self) {
        self.uids.forget();
        self.lines = Lines::default();
    }
}

impl<O: Output> Visit for Encoder<'_, O> {
    fn begin(&mut self, ids: &RecordIds) {
        if self.first_read {
            self.ctx.cluster_id = ids.cluster_id.clone();
            self.ctx.instance_id = ids.instance_id.clone();
        }
    }

    fn event(&mut self, event: RawEvent<'_>) -> bool {
        self.encode(event);
        if self.lines.buf.len() < self.piece_bytes {
            return true;
        }
        match self.out {
            None => {
                // Too large for one piece: the second read will stream it.
                self.overflow = true;
                self.clear();
                false
            }
            Some((out, index)) => {
                self.settle();
                let lines = std::mem::take(&mut self.lines);
                let n = lines.ends.len();
                if !out.piece(index, lines, self.emitted, None) {
                    self.stopped = true;
                    return false;
                }
                self.emitted += n;
                true
            }
        }
    }

    fn aborted(&self) -> bool {
        self.stopped || self.out.is_some_and(|(o, _)| o.stopped())
    }
}

thread_local! {
    /// Bytes of lines per inflated byte in the last record this thread decoded: about 4 for
    /// records of short statements (an OCSF line holds more than its event), about 1 for huge
    /// ones.
    static LINES_PER_INFLATED_BYTE: std::cell::Cell<f64> = const { std::cell::Cell::new(4.0) };
}

/// The inflated size that the gzip trailer states (ISIZE: the last member's size modulo
/// 2^32); zero when there is no trailer.
fn inflated_size_hint(gz: &[u8]) -> usize {
    gz.len()
        .checked_sub(4)
        .and_then(|at| gz.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize)
}

/// Decodes one record and hands its lines to `out`.
pub fn decode<O: Output>(job: Job, limits: Limits, filters: &Filters, piece_bytes: usize, out: &O) {
    let Job { index, keyed, source, arrival_ms } = job;
    let compressed = match decrypt(&keyed, limits) {
        Ok(c) => c,
        Err(f) => return out.done(index, Err(f)),
    };
    let read_limits = ReadLimits { max_events: limits.max_events_per_record, max_event_bytes: limits.max_event_bytes };
    let ctx = RecordContext {
        resource_id: keyed.resource.as_str().to_owned(),
        cluster_id: None,
        instance_id: None,
        version: Some(keyed.version.clone()),
        region: source.region.clone(),
        account: source.account.clone(),
        stream: source.stream.clone(),
        arrival_ms,
    };
    let read = |enc: &mut dyn Visit| {
        let src = Inflater::new(&compressed, limits.max_inflated_bytes).map_err(Failure::from)?;
        read_record(src, read_limits, enc).map_err(Failure::from)
    };
    // The lines of a record: its inflated size, which the gzip trailer states (an untrusted
    // hint, bounded like the rest), times what the thread's last record wrote per inflated
    // byte, with an eighth to spare: one allocation for most records.
    let hint = inflated_size_hint(&compressed);
    let ratio = LINES_PER_INFLATED_BYTE.get();
    let guess = ((hint as f64 * ratio * 1.125) as usize).clamp(4 << 10, piece_bytes.min(4 << 20));
    let mut first: Encoder<'_, O> = Encoder {
        ctx,
        filters,
        counts: Counts::default(),
        lines: Lines { buf: Vec::with_capacity(guess), ends: Vec::new() },
        uids: Uids::default(),
        piece_bytes,
        first_read: true,
        overflow: false,
        out: None,
        emitted: 0,
        stopped: false,
    };
    let info = match read(&mut first) {
        Ok(info) => info,
        Err(f) => return out.done(index, Err(f)),
    };
    first.settle();
    first.counts.heartbeats = info.heartbeats;
    if !first.overflow && hint > 0 && !first.lines.buf.is_empty() {
        LINES_PER_INFLATED_BYTE.set((first.lines.buf.len() as f64 / hint as f64).clamp(0.5, 16.0));
    }
    let decoded = Decoded { counts: first.counts, instance_id: info.ids.instance_id.clone() };
    if !first.overflow && !info.ids_after_list {
        return out.done(index, Ok((decoded, first.lines)));
    }
    if !first.overflow {
        // An id came after the list (DAS writes them first): the lines fit one piece, so they
        // are written again in memory with the record's ids.
        let mut again = Encoder { first_read: false, counts: Counts::default(), ..first };
        again.clear();
        again.ctx.cluster_id = info.ids.cluster_id.clone();
        again.ctx.instance_id = info.ids.instance_id.clone();
        again.piece_bytes = usize::MAX;
        return match read(&mut again) {
            Ok(info) => {
                again.settle();
                again.counts.heartbeats = info.heartbeats;
                let decoded = Decoded { counts: again.counts, instance_id: info.ids.instance_id };
                out.done(index, Ok((decoded, again.lines)))
            }
            Err(f) => out.done(index, Err(f)),
        };
    }
    // Read again, streaming the pieces, with the ids the whole record holds.
    if !out.stream(index) {
        return;
    }
    let mut ctx = first.ctx;
    ctx.cluster_id = info.ids.cluster_id.clone();
    ctx.instance_id = info.ids.instance_id.clone();
    let mut second = Encoder {
        ctx,
        filters,
        counts: Counts::default(),
        lines: Lines::default(),
        uids: Uids::default(),
        piece_bytes,
        first_read: false,
        overflow: false,
        out: Some((out, index)),
        emitted: 0,
        stopped: false,
    };
    match read(&mut second) {
        Ok(info) => {
            second.settle();
            second.counts.heartbeats = info.heartbeats;
            let decoded = Decoded { counts: second.counts, instance_id: info.ids.instance_id };
            out.piece(index, second.lines, second.emitted, Some(decoded));
        }
        Err(_) if out.stopped() => {}
        // Impossible (the same bytes read fine once); the consumer reports the record.
        Err(f) => out.done(index, Err(f)),
    }
}

/// An `Output` for a record read whole in memory: no pieces.
struct Whole;

impl Output for Whole {
    fn done(&self, _: usize, _: Result<(Decoded, Lines), Failure>) {}
    fn stream(&self, _: usize) -> bool {
        false
    }
    fn piece(&self, _: usize, _: Lines, _: usize, _: Option<Decoded>) -> bool {
        false
    }
    fn stopped(&self) -> bool {
        false
    }
}

/// The lines of a whole inflated record, for tests, tools and benches: what `decode` writes for
/// it, in one piece. `ctx` gives everything but the ids, which come from the record.
pub fn encode_json(
    json: &[u8],
    ctx: RecordContext,
    filters: &Filters,
    limits: Limits,
) -> Result<(Decoded, Lines), Failure> {
    let read_limits = ReadLimits { max_events: limits.max_events_per_record, max_event_bytes: limits.max_event_bytes };
    let mut enc: Encoder<'_, Whole> = Encoder {
        ctx,
        filters,
        counts: Counts::default(),
        lines: Lines::default(),
        uids: Uids::default(),
        piece_bytes: usize::MAX,
        first_read: true,
        overflow: false,
        out: None,
        emitted: 0,
        stopped: false,
    };
    let info = read_record(json, read_limits, &mut enc)?;
    if info.ids_after_list {
        // Read again with the ids the whole record holds.
        enc.ctx.cluster_id = info.ids.cluster_id.clone();
        enc.ctx.instance_id = info.ids.instance_id.clone();
        enc.first_read = false;
        enc.counts = Counts::default();
        enc.clear();
        read_record(json, read_limits, &mut enc)?;
    }
    enc.settle();
    enc.counts.heartbeats = info.heartbeats;
    Ok((Decoded { counts: enc.counts, instance_id: info.ids.instance_id }, enc.lines))
}
