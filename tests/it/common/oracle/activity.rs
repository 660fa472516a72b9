//! Frozen copy (oracle) of the old `das/activity.rs`: the record parsed into `serde_json::Value`s.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Map, Value};
use thiserror::Error;

pub const INNER_RECORD_TYPE: &str = "DatabaseActivityMonitoringRecord";

/// One activity event, its fields as they arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityEvent {
    pub fields: Map<String, Value>,
}

/// A decrypted record: the ids it carries and its non-heartbeat events.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRecord {
    pub cluster_id: Option<String>,
    pub instance_id: Option<String>,
    pub events: Vec<ActivityEvent>,
    pub heartbeats: usize,
}

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
        }
    }
}

#[derive(Deserialize)]
struct RawRecord {
    #[serde(rename = "type")]
    kind: Option<Value>,
    #[serde(rename = "clusterId")]
    cluster_id: Option<Value>,
    #[serde(rename = "instanceId")]
    instance_id: Option<Value>,
    #[serde(rename = "databaseActivityEventList")]
    events: Option<Value>,
}

/// Parses the inflated payload; heartbeats are counted and dropped.
pub fn parse_record(json: &[u8], max_events: usize) -> Result<ActivityRecord, ActivityError> {
    // JSON is UTF-8 (RFC 8259): say so plainly rather than as a syntax error somewhere.
    if let Err(e) = std::str::from_utf8(json) {
        return Err(ActivityError::NotUtf8(e.valid_up_to()));
    }
    let raw: RawRecord = serde_json::from_slice(json).map_err(|e| {
        // Only the position and category: the message could quote SQL text.
        ActivityError::NotJson(format!("{:?} error at line {} column {}", e.classify(), e.line(), e.column()))
    })?;
    match raw.kind.as_ref().and_then(Value::as_str) {
        Some(INNER_RECORD_TYPE) | None => {}
        Some(other) => return Err(ActivityError::WrongType(other.chars().take(64).collect())),
    }
    let list = match raw.events {
        Some(Value::Array(list)) => list,
        // The user guide's table calls the list a string: accept a JSON-encoded list too.
        Some(Value::String(s)) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Array(list)) => list,
            _ => return Err(ActivityError::EventListNotArray),
        },
        None | Some(Value::Null) => return Err(ActivityError::MissingEventList),
        Some(_) => return Err(ActivityError::EventListNotArray),
    };
    if list.len() > max_events {
        return Err(ActivityError::TooManyEvents(max_events));
    }
    let mut events = Vec::with_capacity(list.len());
    let mut heartbeats = 0;
    for (i, item) in list.into_iter().enumerate() {
        let Value::Object(fields) = item else {
            return Err(ActivityError::EventNotObject(i));
        };
        let event = ActivityEvent { fields };
        if event.is_heartbeat() {
            heartbeats += 1;
        } else {
            events.push(event);
        }
    }
    Ok(ActivityRecord {
        cluster_id: raw.cluster_id.as_ref().and_then(scalar_string).map(Cow::into_owned),
        instance_id: raw.instance_id.as_ref().and_then(scalar_string).map(Cow::into_owned),
        events,
        heartbeats,
    })
}

/// A string, number or bool rendered as text; `None` for null, `""`, arrays and objects.
pub fn scalar_string(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

impl ActivityEvent {
    pub fn is_heartbeat(&self) -> bool {
        self.fields.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("heartbeat"))
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// The field as text (numbers rendered), `None` when absent, null or empty.
    pub fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.fields.get(name).and_then(scalar_string)
    }

    /// The field as an integer whether it arrived as a number or a numeric string.
    #[allow(dead_code)] // the frozen engine is kept whole, as it was
    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.fields.get(name)? {
            Value::Number(n) => {
                n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
            }
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}
