//! The decrypted DAS record (`DatabaseActivityMonitoringRecord`), read event by event from a
//! stream of its inflated bytes.
//!
//! Only one event's bytes are held at a time (a window that grows to the largest event, at most
//! `max_event_bytes`); each event is parsed borrowing from the window and handed to a [`Visit`].
//! The whole record is checked as it goes, with the precedence of a whole-document parse: a
//! record that is not UTF-8 or not JSON anywhere is refused as such even when its first events
//! were fine, and the visitor is told nothing it must keep before the read says the record is
//! good (it returns `Ok` only at the end).

use thiserror::Error;

use super::event::RawEvent;
use super::inflate::{InflateError, Source};

mod reader;
mod record;
#[cfg(test)]
mod tests;

pub use record::read_record;

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
