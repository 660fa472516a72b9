//! The pure mapping: one DAS activity event and its record's context → one OCSF 1.3.0 Datastore
//! Activity event. Every DAS field is either placed in an OCSF attribute verbatim or kept under
//! `unmapped.das` by its name (the event's placed marks say which).

use std::borrow::Cow;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

use super::activity::{self, classify};
use super::model::*;
use super::sha256x2;
use super::status::{outcome, severity, ExitCodes};
use crate::das::time::{parse, Rfc3339, Timestamp};
use crate::das::RawEvent;

/// The OCSF schema caps strings at this many characters.
const MAX_STRING: usize = 65_535;

/// What the record around an event tells: ids, version, where the stream lives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordContext {
    /// `cluster-…` or `db-…`, from the stream name or `DAS_RESOURCE_ID`.
    pub resource_id: String,
    pub cluster_id: Option<String>,
    pub instance_id: Option<String>,
    /// The outer record's `version`.
    pub version: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    pub stream: Option<String>,
    /// Kinesis arrival time: the event time when the event carries none.
    pub arrival_ms: i64,
}

/// Reads fields and marks the ones placed in OCSF attributes.
struct Fields<'e> {
    event: &'e RawEvent<'e>,
}

/// The first `MAX_STRING` characters of `text`.
fn prefix(text: Cow<'_, str>) -> Cow<'_, str> {
    let end = text.char_indices().nth(MAX_STRING).map_or(text.len(), |(i, _)| i);
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(&s[..end]),
        Cow::Owned(mut s) => {
            s.truncate(end);
            Cow::Owned(s)
        }
    }
}

// Each accessor is inlined, so that a literal name finds its field's slot at compile time.
impl<'e> Fields<'e> {
    /// The field as text, marked as placed when it fits the schema whole.
    #[inline(always)]
    fn take(&self, name: &str) -> Option<Text<'e>> {
        let text = self.event.text(name)?;
        // Characters never outnumber bytes: count them only for a long text.
        if text.len() <= MAX_STRING || text.chars().count() <= MAX_STRING {
            self.event.mark(name, true);
            Some(text)
        } else {
            // Too long for the attribute: place a prefix, keep the whole under `unmapped`.
            Some(prefix(text))
        }
    }

    #[inline(always)]
    fn peek(&self, name: &str) -> Option<Text<'e>> {
        self.event.text(name)
    }

    #[inline(always)]
    fn time(&self, name: &str) -> Option<Timestamp> {
        let t = self.event.text(name).and_then(|t| parse(&t))?;
        self.event.mark(name, true);
        Some(t)
    }
}

fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// An address as `ip`, else `hostname`, else `name`.
fn endpoint(host: Option<Text<'_>>) -> Endpoint<'_> {
    match host {
        Some(h) if h.len() <= 40 && h.parse::<IpAddr>().is_ok() => Endpoint { ip: Some(h), ..Endpoint::default() },
        Some(h) if is_hostname(&h) => Endpoint { hostname: Some(h), ..Endpoint::default() },
        Some(h) => Endpoint { name: Some(h), ..Endpoint::default() },
        None => Endpoint::default(),
    }
}

/// Hashes what is written to it, a buffer at a time: many small writes cost more than a copy,
/// and a large one goes to the hash directly.
struct HashWriter {
    hash: Sha256,
    buf: Vec<u8>,
}

impl HashWriter {
    const FLUSH: usize = 16 << 10;

    fn flush(&mut self) {
        self.hash.update(&self.buf);
        self.buf.clear();
    }
}

thread_local! {
    static CANONICAL: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Most bytes of an event's uid message built whole (`uid_message`); past it, or with a value of
/// `HashWriter::FLUSH` bytes or more, the event is hashed as it is written (`long_event_uid`).
const MAX_MESSAGE: usize = 64 << 10;

/// What the uid hashes first: the record's ids, each followed by a zero byte.
fn uid_ids(ctx: &RecordContext) -> [&str; 3] {
    [ctx.cluster_id.as_deref().unwrap_or(""), ctx.instance_id.as_deref().unwrap_or(""), ctx.resource_id.as_str()]
}

/// The bytes an event's uid hashes (for `sha256x2`, which pads them), when the event is small:
/// the record's ids (`uid_ids`), then the event as `serde_json` writes a map of it (fields
/// sorted, values in canonical form). False when it holds a long value or grows past
/// `MAX_MESSAGE` (`buf` then holds nothing of use).
pub(crate) fn uid_message(ctx: &RecordContext, event: &RawEvent<'_>, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    for id in uid_ids(ctx) {
        buf.extend_from_slice(id.as_bytes());
        buf.push(0);
    }
    buf.push(b'{');
    for (i, f) in event.fields().iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        if f.canonical_text().is_some_and(|text| text.len() >= HashWriter::FLUSH) {
            return false;
        }
        event.write_member(f, buf);
        if buf.len() > MAX_MESSAGE {
            return false;
        }
    }
    buf.push(b'}');
    true
}

/// Gives the thread's buffer back to the system when an odd event made it large.
fn keep_small(buf: &mut Vec<u8>) {
    if buf.capacity() > 1 << 20 {
        *buf = Vec::new();
    }
}

/// A deterministic id of the raw event: the same event yields the same uid on every retry.
/// SHA-256 over the record's ids and the event as `serde_json` writes a map of it (fields
/// sorted, values in canonical form), first 16 bytes in hex.
pub(crate) fn event_uid(ctx: &RecordContext, event: &RawEvent<'_>) -> Uid {
    let small = CANONICAL.with_borrow_mut(|buf| {
        let uid = uid_message(ctx, event, buf).then(|| Uid::of_digest(&sha256x2::digest(buf)));
        keep_small(buf);
        uid
    });
    small.unwrap_or_else(|| long_event_uid(ctx, event))
}

/// `event_uid` of an event `uid_message` refused: the same bytes, hashed a buffer at a time, a
/// long value where it lies.
pub(crate) fn long_event_uid(ctx: &RecordContext, event: &RawEvent<'_>) -> Uid {
    CANONICAL.with_borrow_mut(|buf| {
        let mut h = Sha256::new();
        for id in uid_ids(ctx) {
            h.update(id.as_bytes());
            h.update([0]);
        }
        let mut w = HashWriter { hash: h, buf: std::mem::take(buf) };
        w.buf.clear();
        w.buf.push(b'{');
        for (i, f) in event.fields().iter().enumerate() {
            if i > 0 {
                w.buf.push(b',');
            }
            match f.canonical_text() {
                // A long value (a statement) is hashed where it lies, not copied.
                Some(text) if text.len() >= HashWriter::FLUSH => {
                    f.write_name(&mut w.buf);
                    w.buf.push(b':');
                    w.flush();
                    w.hash.update(text.as_bytes());
                }
                _ => event.write_member(f, &mut w.buf),
            }
            if w.buf.len() >= HashWriter::FLUSH {
                w.flush();
            }
        }
        w.buf.push(b'}');
        w.flush();
        let uid = Uid::of_digest(&w.hash.finalize().into());
        *buf = w.buf;
        keep_small(buf);
        uid
    })
}

/// Maps one event. The event's placed marks are set to the fields the OCSF attributes hold;
/// `unmapped.das` is written from the others.
pub fn map<'e>(event: &'e RawEvent<'e>, ctx: &'e RecordContext) -> Event<'e> {
    map_with_uid(event, ctx, event_uid(ctx, event))
}

/// `map`, with the event's uid given (`event_uid`, or `Uid::PENDING` for the caller to patch).
pub(crate) fn map_with_uid<'e>(event: &'e RawEvent<'e>, ctx: &'e RecordContext, uid: Uid) -> Event<'e> {
    event.reset_marks();
    let f = Fields { event };
    let owner = ctx.cluster_id.as_deref().filter(|c| !c.is_empty()).unwrap_or(&ctx.resource_id);

    let class = f.peek("class");
    let is_aux = class.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("AUX"));
    let command = f.take("command");
    let command_text = f.peek("commandText");
    let act = classify(command.as_deref(), class.as_deref(), command_text.as_deref());

    // Times: `time` is logTime (the end of execution), else startTime, else arrival.
    let log_time = f.time("logTime");
    let start = f.time("startTime");
    let end = f.time("endTime").or_else(|| log_time.clone());
    let time = log_time.clone().or_else(|| start.clone());
    let (time_ms, time_dt) = match &time {
        Some(t) => (t.millis, t.rfc3339.clone()),
        None => {
            let t = chrono::DateTime::from_timestamp_millis(ctx.arrival_ms).unwrap_or_default();
            (ctx.arrival_ms, Rfc3339::from(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
        }
    };
    let duration = match (&start, &end) {
        (Some(s), Some(e)) if e.millis >= s.millis => Some(e.millis - s.millis),
        _ => None,
    };

    // Status and severity.
    let exit_blank = event.get("exitCode").is_some_and(|v| v.as_str() == "\"\"");
    let exit_code = f.take("exitCode");
    // `status_code` is the trimmed code: text it does not hold verbatim stays under `unmapped.das`.
    if exit_code.as_deref().is_some_and(|c| c.trim() != c) {
        event.mark("exitCode", false);
    }
    let error = f.take("errorMessage");
    let codes = if f.peek("serverType").is_some_and(|t| t.eq_ignore_ascii_case("SQLSERVER")) {
        ExitCodes::SucceededFlag
    } else {
        ExitCodes::ZeroIsSuccess
    };
    let has_error_field = event.get("errorMessage").is_some();
    let result = outcome(exit_code.as_deref(), exit_blank, error.as_deref(), has_error_field, &act, codes);
    let severity_id = severity(&act, &result);

    // Who.
    let user_name = f.take("dbUserName");
    let session_id = f.take("sessionId");
    let remote_host = f.take("remoteHost");
    let is_remote = remote_host.as_deref().map(|h| !matches!(h, "localhost" | "127.0.0.1" | "::1" | "[local]"));
    let user = user_name.clone().map(|name| {
        let system = matches!(name.as_ref(), "rdsadmin" | "rdsproxyadmin" | "rdsrepladmin" | "rdstopmgr");
        User { name, type_id: if system { 3 } else { 1 }, type_caption: if system { "System" } else { "User" } }
    });
    let session = session_id.clone().map(|uid| Session { uid, is_remote });
    let app_name = f.take("clientApplication");
    let actor = if user.is_none() && session.is_none() && app_name.is_none() {
        // The schema needs one of them; say plainly that DAS gave none.
        Actor {
            user: Some(User { name: Cow::Borrowed("unknown"), type_id: 0, type_caption: "Unknown" }),
            session: None,
            app_name,
        }
    } else {
        Actor { user, session, app_name }
    };

    // Where from, where to.
    let mut src = endpoint(remote_host);
    if let Some((text, port)) = f.peek("remotePort").and_then(|p| p.parse::<u16>().ok().map(|n| (p, n))) {
        if text == itoa::Buffer::new().format(port) {
            event.mark("remotePort", true);
        }
        src.port = Some(port);
    }
    if !src.is_identified() {
        src.name = Some(Cow::Borrowed("unknown"));
    }
    let service = f.take("serviceName");
    let mut dst = endpoint(f.take("serverHost"));
    dst.instance_uid = ctx.instance_id.as_deref().filter(|i| !i.is_empty());
    dst.svc_name = service.clone();

    // What on.
    let db_name = f.take("databaseName");
    let database = Database { owner, name: db_name };
    let object_is_table =
        f.peek("objectType").is_some_and(|t| matches!(t.to_ascii_uppercase().as_str(), "TABLE" | "VIEW"));
    let table = if object_is_table { f.take("objectName").map(|name| Table { name }) } else { None };
    let statement = f.peek("statementId");
    let substatement = f.peek("substatementId");
    let query_info = if is_aux {
        None
    } else {
        f.take("commandText").map(|query_string| QueryInfo {
            uid: match (&session_id, &statement) {
                (Some(s), Some(st)) => {
                    Some([s.clone(), st.clone(), substatement.clone().unwrap_or(Cow::Borrowed("1"))])
                }
                _ => None,
            },
            query_string,
        })
    };
    let correlation_uid = match (&session_id, &statement) {
        (Some(s), Some(st)) => Some([Cow::Borrowed(owner), s.clone(), st.clone()]),
        _ => None,
    };

    let mut observables = Vec::new();
    if let Some(ip) = &src.ip {
        observables.push(Observable {
            name: "src_endpoint.ip",
            type_id: 2,
            type_caption: "IP Address",
            value: ip.clone(),
        });
    }
    if let Some(name) = &user_name {
        observables.push(Observable {
            name: "actor.user.name",
            type_id: 4,
            type_caption: "User Name",
            value: name.clone(),
        });
    }

    let server_version = f.take("serverVersion");
    let message =
        activity::message(&act, command.as_deref(), table.as_ref().map(|t| t.name.as_ref()), user_name.as_deref());

    Event {
        activity_id: act.id,
        activity_name: match act.label {
            Some(label) if act.id == activity::OTHER => Cow::Owned(label),
            _ => Cow::Borrowed(activity::caption(act.id)),
        },
        type_uid: CLASS_UID * 100 + u32::from(act.id),
        type_name: activity::type_name(act.id),
        severity_id,
        status_id: result.status_id,
        status_code: result.status_code,
        status_detail: result.status_detail,
        time: time_ms,
        time_dt,
        start_time: start.as_ref().map(|t| t.millis),
        start_time_dt: start.map(|t| t.rfc3339),
        end_time: end.as_ref().map(|t| t.millis),
        end_time_dt: end.map(|t| t.rfc3339),
        duration,
        timezone_offset: 0,
        message,
        type_id: if table.is_some() { 3 } else { 1 },
        type_caption: if table.is_some() { "Table" } else { "Database" },
        metadata: Metadata {
            product: Product { name: service.unwrap_or(Cow::Borrowed("Amazon RDS")), version: server_version },
            correlation_uid,
            uid,
            event_code: command,
            log_name: ctx.stream.as_deref(),
            log_version: ctx.version.as_deref(),
            original_time: log_time.and_then(|_| event.text("logTime")),
            tenant_uid: ctx.account.as_deref(),
        },
        cloud: Cloud { region: ctx.region.as_deref(), account: ctx.account.as_deref() },
        actor,
        src_endpoint: src,
        dst_endpoint: if dst.is_identified() { Some(dst) } else { None },
        database,
        table,
        query_info,
        observables,
        unmapped: Unmapped {
            das: event,
            das_cluster_id: ctx.cluster_id.as_deref().filter(|c| !c.is_empty()),
            redaction: None,
        },
    }
}
