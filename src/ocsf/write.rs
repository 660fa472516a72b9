//! An OCSF event written as one JSON line, straight from its typed fields into the caller's
//! buffer: compact, attributes in declaration order, absent values left out, strings escaped
//! as `serde_json` escapes them, and `unmapped.das` copied from the DAS event's own bytes.
//! The runs that never change (names, fixed values) are written as one piece each. The bytes
//! are those `serde_json` wrote for the same event (the differential tests hold the two engines
//! side by side).

use super::model::*;
use crate::das::json::{write_str, write_str_contents};

/// Where a line holds its event's uid (offsets of the 32 digits in the buffer written to):
/// `metadata.uid`, and `query_info.uid` for a statement without ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UidSpots {
    pub metadata: usize,
    pub query_info: Option<usize>,
}

impl UidSpots {
    /// Writes `uid` over what the line holds in its place (`Uid::PENDING`).
    pub fn patch(&self, buf: &mut [u8], uid: &Uid) {
        for at in std::iter::once(self.metadata).chain(self.query_info) {
            buf[at..at + 32].copy_from_slice(&uid.0);
        }
    }
}

/// The line being written.
struct Line<'o>(&'o mut Vec<u8>);

impl<'o> Line<'o> {
    #[inline(always)]
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn str(&mut self, value: &str) {
        write_str(self.0, value);
    }

    /// A string of ours that needs no escape (a caption, a hex uid): copied between quotes
    /// without looking for one.
    fn clean(&mut self, value: &str) {
        debug_assert!(!crate::das::json::needs_escape(value.as_bytes()), "{value:?} needs an escape");
        self.0.reserve(value.len() + 2);
        self.0.push(b'"');
        self.0.extend_from_slice(value.as_bytes());
        self.0.push(b'"');
    }

    /// Where the uid just written (`clean`: 32 digits and a quote) starts.
    fn uid_spot(&self) -> usize {
        self.0.len() - 33
    }

    fn int(&mut self, value: impl itoa::Integer) {
        self.0.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// `key` (what comes before the value, written whole: `,"name":`) and the value.
    #[inline(always)]
    fn str_at(&mut self, key: &[u8], value: &str) {
        self.raw(key);
        self.str(value);
    }

    #[inline(always)]
    fn clean_at(&mut self, key: &[u8], value: &str) {
        self.raw(key);
        self.clean(value);
    }

    #[inline(always)]
    fn int_at(&mut self, key: &[u8], value: impl itoa::Integer) {
        self.raw(key);
        self.int(value);
    }

    /// `key` (`,"name":`, written whole) and the string, when there is one.
    #[inline(always)]
    fn opt_str(&mut self, key: &[u8], value: Option<&str>) {
        if let Some(v) = value {
            self.str_at(key, v);
        }
    }

    #[inline(always)]
    fn opt_int(&mut self, key: &[u8], value: Option<impl itoa::Integer>) {
        if let Some(v) = value {
            self.int_at(key, v);
        }
    }

    /// A string of parts joined by `sep` (escaping is per character, so parts escape alone).
    fn joined(&mut self, parts: &[&str], sep: u8) {
        self.0.push(b'"');
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                self.0.push(sep);
            }
            write_str_contents(self.0, p.as_bytes());
        }
        self.0.push(b'"');
    }

    /// The members of an object whose first member is optional: commas as they come.
    fn members<'l>(&'l mut self) -> Members<'l, 'o> {
        Members { line: self, empty: true }
    }
}

struct Members<'l, 'o> {
    line: &'l mut Line<'o>,
    empty: bool,
}

impl<'o> Members<'_, 'o> {
    /// `"name":` (given with its quotes and colon), after a comma unless it is the first.
    #[inline(always)]
    fn key(&mut self, quoted: &[u8]) -> &mut Line<'o> {
        if !self.empty {
            self.line.0.push(b',');
        }
        self.empty = false;
        self.line.raw(quoted);
        self.line
    }

    #[inline(always)]
    fn opt_str(&mut self, quoted: &[u8], value: Option<&str>) {
        if let Some(v) = value {
            self.key(quoted).str(v);
        }
    }
}

fn endpoint(line: &mut Line<'_>, e: &Endpoint<'_>) {
    line.raw(b"{");
    let mut m = line.members();
    m.opt_str(b"\"ip\":", e.ip.as_deref());
    m.opt_str(b"\"hostname\":", e.hostname.as_deref());
    m.opt_str(b"\"name\":", e.name.as_deref());
    if let Some(port) = e.port {
        m.key(b"\"port\":").int(port);
    }
    m.opt_str(b"\"instance_uid\":", e.instance_uid);
    m.opt_str(b"\"svc_name\":", e.svc_name.as_deref());
    line.raw(b"}");
}

/// Appends `event` as one JSON object (no newline), and says where its uid lies.
pub fn write_event(out: &mut Vec<u8>, event: &Event<'_>) -> UidSpots {
    out.reserve(2048);
    let mut l = Line(out);
    l.int_at(b"{\"category_uid\":6,\"category_name\":\"Application Activity\",\"class_uid\":6005,\"class_name\":\"Datastore Activity\",\"activity_id\":", event.activity_id);
    l.str_at(b",\"activity_name\":", &event.activity_name);
    l.int_at(b",\"type_uid\":", event.type_uid);
    l.clean_at(b",\"type_name\":", event.type_name);
    l.int_at(b",\"severity_id\":", event.severity_id);
    l.clean_at(b",\"severity\":", severity_caption(event.severity_id));
    l.int_at(b",\"status_id\":", event.status_id);
    l.clean_at(b",\"status\":", status_caption(event.status_id));
    l.opt_str(b",\"status_code\":", event.status_code.as_deref());
    l.opt_str(b",\"status_detail\":", event.status_detail.as_deref());
    l.int_at(b",\"time\":", event.time);
    l.str_at(b",\"time_dt\":", &event.time_dt);
    l.opt_int(b",\"start_time\":", event.start_time);
    l.opt_str(b",\"start_time_dt\":", event.start_time_dt.as_deref());
    l.opt_int(b",\"end_time\":", event.end_time);
    l.opt_str(b",\"end_time_dt\":", event.end_time_dt.as_deref());
    l.opt_int(b",\"duration\":", event.duration);
    l.int_at(b",\"timezone_offset\":", event.timezone_offset);
    l.str_at(b",\"message\":", &event.message);
    l.int_at(b",\"type_id\":", event.type_id);
    l.clean_at(b",\"type\":", event.type_caption);

    let m = &event.metadata;
    l.str_at(
        b",\"metadata\":{\"version\":\"1.3.0\",\"profiles\":[\"cloud\",\"datetime\"],\"product\":{\"name\":",
        &m.product.name,
    );
    l.raw(b",\"vendor_name\":\"AWS\"");
    l.opt_str(b",\"version\":", m.product.version.as_deref());
    l.clean_at(b",\"feature\":{\"name\":\"Database Activity Streams\"}},\"uid\":", m.uid.as_str());
    let mut spots = UidSpots { metadata: l.uid_spot(), query_info: None };
    if let Some([a, b, c]) = &m.correlation_uid {
        l.raw(b",\"correlation_uid\":");
        l.joined(&[a, b, c], b':');
    }
    l.opt_str(b",\"event_code\":", m.event_code.as_deref());
    l.opt_str(b",\"log_name\":", m.log_name);
    l.raw(b",\"log_provider\":\"Amazon Kinesis Data Streams\"");
    l.opt_str(b",\"log_version\":", m.log_version);
    l.opt_str(b",\"original_time\":", m.original_time.as_deref());
    l.opt_str(b",\"tenant_uid\":", m.tenant_uid);

    l.raw(b"},\"cloud\":{\"provider\":\"AWS\"");
    l.opt_str(b",\"region\":", event.cloud.region);
    if let Some(account) = event.cloud.account {
        l.str_at(b",\"account\":{\"uid\":", account);
        l.raw(b",\"type_id\":10,\"type\":\"AWS Account\"}");
    }

    l.raw(b"},\"actor\":{");
    let a = &event.actor;
    let mut members = l.members();
    if let Some(u) = &a.user {
        let line = members.key(b"\"user\":{\"name\":");
        line.str(&u.name);
        line.int_at(b",\"type_id\":", u.type_id);
        line.clean_at(b",\"type\":", u.type_caption);
        line.raw(b"}");
    }
    if let Some(s) = &a.session {
        let line = members.key(b"\"session\":{\"uid\":");
        line.str(&s.uid);
        match s.is_remote {
            Some(true) => line.raw(b",\"is_remote\":true}"),
            Some(false) => line.raw(b",\"is_remote\":false}"),
            None => line.raw(b"}"),
        }
    }
    members.opt_str(b"\"app_name\":", a.app_name.as_deref());

    l.raw(b"},\"src_endpoint\":");
    endpoint(&mut l, &event.src_endpoint);
    if let Some(dst) = &event.dst_endpoint {
        l.raw(b",\"dst_endpoint\":");
        endpoint(&mut l, dst);
    }

    let db = &event.database;
    match &db.name {
        Some(name) => {
            l.str_at(b",\"database\":{\"name\":", name);
            l.raw(b",\"uid\":");
            l.joined(&[db.owner, name], b'/');
        }
        None => {
            l.str_at(b",\"database\":{\"uid\":", db.owner);
        }
    }
    l.raw(b",\"type_id\":1,\"type\":\"Relational\"}");
    if let Some(t) = &event.table {
        l.str_at(b",\"table\":{\"name\":", &t.name);
        l.raw(b"}");
    }
    if let Some(q) = &event.query_info {
        l.raw(b",\"query_info\":{\"uid\":");
        match &q.uid {
            Some([s, st, sub]) => l.joined(&[s, st, sub], b':'),
            None => {
                l.clean(m.uid.as_str());
                spots.query_info = Some(l.uid_spot());
            }
        }
        l.str_at(b",\"query_string\":", &q.query_string);
        l.raw(b"}");
    }
    if !event.observables.is_empty() {
        l.raw(b",\"observables\":[");
        for (i, ob) in event.observables.iter().enumerate() {
            l.raw(if i > 0 { b",{\"name\":" } else { b"{\"name\":" });
            l.clean(ob.name);
            l.int_at(b",\"type_id\":", ob.type_id);
            l.clean_at(b",\"type\":", ob.type_caption);
            l.str_at(b",\"value\":", &ob.value);
            l.raw(b"}");
        }
        l.raw(b"]");
    }

    // `das` < `das_cluster_id` < `redaction`: the order of a sorted map.
    let u = &event.unmapped;
    l.raw(b",\"unmapped\":{\"das\":");
    u.das.write_unplaced(l.0);
    l.opt_str(b",\"das_cluster_id\":", u.das_cluster_id);
    if let Some(r) = &u.redaction {
        l.raw(b",\"redaction\":{");
        if let Some(hmac) = &r.command_hmac {
            l.str_at(b"\"command_hmac\":", hmac);
            l.raw(b",");
        }
        l.raw(b"\"fields\":[");
        for (i, f) in r.fields.iter().enumerate() {
            if i > 0 {
                l.raw(b",");
            }
            l.str(f);
        }
        l.clean_at(b"],\"mode\":", r.mode);
        l.raw(b"}");
    }
    l.raw(b"}}");
    spots
}
