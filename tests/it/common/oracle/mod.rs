//! The engine of record, frozen: the `serde_json::Value` path that das-forwarder used before the
//! borrowed parse and the direct line writer (commit 580f96b). Test-only. The differential tests
//! run both engines on the same records and require the same bytes, `metadata.uid` included, so
//! that a change of engine cannot change the output format unnoticed.
//!
//! Only the parse, the mapping, the serialization and the redaction/filter steps are here; the
//! decisions they call (`classify`, `outcome`, `severity`, time parsing, the SQL tokenizer) are the
//! crate's own, unchanged by the engine change.

#![allow(unused_imports)]

pub mod activity;
pub mod map;
pub mod model;

use das_forwarder::redact::{literals, Dialect, Mode};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

pub use activity::{parse_record, ActivityEvent, ActivityRecord};
pub use map::{map, RecordContext};

/// Filters as the old engine applied them (case-insensitive lists, event-time window).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub users: Vec<String>,
    pub commands: Vec<String>,
    pub databases: Vec<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub redaction: Option<(Mode, Vec<u8>)>,
}

fn listed(list: &[String], value: Option<std::borrow::Cow<'_, str>>) -> bool {
    value.is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v.trim())))
}

impl Filters {
    /// True when a filter drops the event.
    pub fn drops(&self, event: &ActivityEvent) -> bool {
        if listed(&self.users, event.text("dbUserName"))
            || listed(&self.commands, event.text("command"))
            || listed(&self.databases, event.text("databaseName"))
        {
            return true;
        }
        if self.since_ms.is_none() && self.until_ms.is_none() {
            return false;
        }
        let time = ["logTime", "startTime"]
            .iter()
            .find_map(|f| event.text(f).and_then(|t| das_forwarder::das::time::parse(&t)))
            .map(|t| t.millis);
        match time {
            Some(t) => self.since_ms.is_some_and(|s| t < s) || self.until_ms.is_some_and(|u| t >= u),
            None => false,
        }
    }
}

/// The old `Redactor::apply` on a Value event.
pub fn redact(mode: Mode, key: &[u8], event: &mut ActivityEvent) -> Option<Value> {
    if mode == Mode::Off {
        return None;
    }
    let dialect = match event.text("serverType") {
        Some(t) if t.eq_ignore_ascii_case("mysql") => Dialect::MySql,
        _ => Dialect::Postgres,
    };
    let mut fields = Vec::new();
    let mut record = json!({"mode": if mode == Mode::Full { "full" } else { "literals" }});
    if let Some(Value::String(text)) = event.fields.get_mut("commandText") {
        match mode {
            Mode::Literals => *text = literals(text, dialect),
            Mode::Full => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
                mac.update(text.as_bytes());
                record["command_hmac"] = json!(hex::encode(mac.finalize().into_bytes()));
                text.clear();
            }
            Mode::Off => {}
        }
        fields.push("commandText");
    }
    if let Some(Value::Array(params)) = event.fields.get_mut("paramList") {
        if !params.is_empty() {
            for p in params.iter_mut() {
                *p = json!("?");
            }
            fields.push("paramList");
        }
    }
    if fields.is_empty() {
        return None;
    }
    record["fields"] = json!(fields);
    Some(record)
}

/// The old per-record encode loop: one NDJSON line (with its `\n`) per kept event.
pub fn encode_lines(record: ActivityRecord, ctx: &RecordContext, filters: &Filters) -> Vec<u8> {
    let mut out = Vec::new();
    for mut event in record.events {
        if filters.drops(&event) {
            continue;
        }
        let redacted = filters.redaction.as_ref().and_then(|(mode, key)| redact(*mode, key, &mut event));
        let mut ocsf = map(event, ctx);
        if let Some(r) = redacted {
            ocsf.unmapped.insert("redaction".into(), r);
        }
        serde_json::to_writer(&mut out, &ocsf).unwrap();
        out.push(b'\n');
    }
    out
}
