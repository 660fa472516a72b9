//! Frozen copy (oracle) of the old `ocsf/map.rs`. The pure mapping: one DAS activity event and its record's context → one
//! OCSF 1.3.0 Datastore Activity event. Every DAS field is either placed in
//! an OCSF attribute verbatim or kept under `unmapped.das` by its name.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::activity::{scalar_string, ActivityEvent};
use super::model::*;
use das_forwarder::das::time::{parse, Timestamp};
use das_forwarder::ocsf::activity::{self, classify};
use das_forwarder::ocsf::status::{outcome, severity, ExitCodes};

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

/// Tracks which DAS fields were placed in OCSF attributes.
struct Fields<'a> {
    event: &'a ActivityEvent,
    placed: BTreeSet<&'static str>,
}

impl<'a> Fields<'a> {
    /// The field as text, marked as placed when it fits the schema whole.
    fn take(&mut self, name: &'static str) -> Option<String> {
        let text = self.event.text(name)?;
        // Characters never outnumber bytes: count them only for a long text.
        if text.len() <= MAX_STRING || text.chars().count() <= MAX_STRING {
            self.placed.insert(name);
            Some(text.into_owned())
        } else {
            // Too long for the attribute: place a prefix, keep the whole under `unmapped`.
            Some(text.chars().take(MAX_STRING).collect())
        }
    }

    fn peek(&self, name: &str) -> Option<String> {
        self.event.text(name).map(|t| t.into_owned())
    }

    fn time(&mut self, name: &'static str) -> Option<Timestamp> {
        let t = self.event.text(name).and_then(|t| parse(&t))?;
        self.placed.insert(name);
        Some(t)
    }
}

/// Every field not placed, by its DAS name, value as it arrived (moved, not copied).
fn unplaced(fields: Map<String, Value>, placed: &BTreeSet<&'static str>) -> Map<String, Value> {
    fields.into_iter().filter(|(k, _)| !placed.contains(k.as_str())).collect()
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
fn endpoint(host: Option<String>) -> Endpoint {
    match host {
        Some(h) if h.len() <= 40 && h.parse::<IpAddr>().is_ok() => Endpoint { ip: Some(h), ..Endpoint::default() },
        Some(h) if is_hostname(&h) => Endpoint { hostname: Some(h), ..Endpoint::default() },
        Some(h) => Endpoint { name: Some(h), ..Endpoint::default() },
        None => Endpoint::default(),
    }
}

/// A deterministic id of the raw event: the same event yields the same uid on every retry.
pub fn event_uid(ctx: &RecordContext, event: &ActivityEvent) -> String {
    let mut h = Sha256::new();
    for part in [ctx.cluster_id.as_deref(), ctx.instance_id.as_deref(), Some(ctx.resource_id.as_str())] {
        h.update(part.unwrap_or("").as_bytes());
        h.update([0]);
    }
    // `Map` keeps keys sorted, so the serialization is canonical. It is written into a buffer
    // reused by the thread and hashed in one call: hashing each of serde's small writes cost
    // more than the copy.
    CANONICAL.with_borrow_mut(|buf| {
        buf.clear();
        let _ = serde_json::to_writer(&mut *buf, &event.fields);
        h.update(buf.as_slice());
        if buf.capacity() > 1 << 20 {
            *buf = Vec::new();
        }
    });
    hex::encode(&h.finalize()[..16])
}

thread_local! {
    static CANONICAL: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Consumes the event: the fields left under `unmapped.das` move there instead of being copied.
pub fn map(event: ActivityEvent, ctx: &RecordContext) -> Event {
    let (mut ocsf, placed) = map_placed(&event, ctx);
    ocsf.unmapped.insert("das".into(), Value::Object(unplaced(event.fields, &placed)));
    ocsf
}

/// The OCSF event without `unmapped.das`, and the names of the fields it placed.
fn map_placed(event: &ActivityEvent, ctx: &RecordContext) -> (Event, BTreeSet<&'static str>) {
    let mut f = Fields { event, placed: BTreeSet::new() };
    let uid = event_uid(ctx, event);
    let owner = ctx.cluster_id.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| ctx.resource_id.clone());

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
        Some(t) => (t.millis, t.rfc3339.to_string()),
        None => {
            let t = chrono::DateTime::from_timestamp_millis(ctx.arrival_ms).unwrap_or_default();
            (ctx.arrival_ms, t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        }
    };
    let duration = match (&start, &end) {
        (Some(s), Some(e)) if e.millis >= s.millis => Some(e.millis - s.millis),
        _ => None,
    };

    // Status and severity.
    let exit_blank = matches!(event.get("exitCode"), Some(Value::String(s)) if s.is_empty());
    let exit_code = f.take("exitCode");
    // `status_code` is the trimmed code: text it does not hold verbatim stays under `unmapped.das`.
    if exit_code.as_deref().is_some_and(|c| c.trim() != c) {
        f.placed.remove("exitCode");
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
        let system = matches!(name.as_str(), "rdsadmin" | "rdsproxyadmin" | "rdsrepladmin" | "rdstopmgr");
        User { name, type_id: if system { 3 } else { 1 }, type_caption: if system { "System" } else { "User" } }
    });
    let session = session_id.clone().map(|uid| Session { uid, is_remote });
    let app_name = f.take("clientApplication");
    let actor = if user.is_none() && session.is_none() && app_name.is_none() {
        // The schema needs one of them; say plainly that DAS gave none.
        Actor {
            user: Some(User { name: "unknown".into(), type_id: 0, type_caption: "Unknown" }),
            session: None,
            app_name,
        }
    } else {
        Actor { user, session, app_name }
    };

    // Where from, where to.
    let mut src = endpoint(remote_host.clone());
    if let Some(port) = f.peek("remotePort").and_then(|p| p.parse::<u16>().ok()) {
        if f.peek("remotePort") == Some(port.to_string()) {
            f.placed.insert("remotePort");
        }
        src.port = Some(port);
    }
    if !src.is_identified() {
        src.name = Some("unknown".into());
    }
    let service = f.take("serviceName");
    let mut dst = endpoint(f.take("serverHost"));
    dst.instance_uid = ctx.instance_id.clone().filter(|i| !i.is_empty());
    dst.svc_name = service.clone();

    // What on.
    let db_name = f.take("databaseName");
    let database = Database {
        uid: match &db_name {
            Some(n) => format!("{owner}/{n}"),
            None => owner.clone(),
        },
        name: db_name,
        type_id: 1,
        type_caption: "Relational",
    };
    let object_is_table =
        f.peek("objectType").is_some_and(|t| matches!(t.to_ascii_uppercase().as_str(), "TABLE" | "VIEW"));
    let table = if object_is_table { f.take("objectName").map(|name| Table { name }) } else { None };
    let statement = f.peek("statementId");
    let query_info = if is_aux {
        None
    } else {
        f.take("commandText").map(|query_string| QueryInfo {
            uid: match (&session_id, &statement) {
                (Some(s), Some(st)) => format!("{s}:{st}:{}", f.peek("substatementId").unwrap_or_else(|| "1".into())),
                _ => uid.clone(),
            },
            query_string,
        })
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
        activity::message(&act, command.as_deref(), table.as_ref().map(|t| t.name.as_str()), user_name.as_deref());
    let activity_name = act.name();
    let mut unmapped = Map::new();
    if let Some(c) = ctx.cluster_id.as_ref().filter(|c| !c.is_empty()) {
        unmapped.insert("das_cluster_id".into(), Value::String(c.clone()));
    }

    let ocsf = Event {
        category_uid: CATEGORY_UID,
        category_name: "Application Activity",
        class_uid: CLASS_UID,
        class_name: "Datastore Activity",
        activity_id: act.id,
        activity_name,
        type_uid: CLASS_UID * 100 + u32::from(act.id),
        type_name: format!("Datastore Activity: {}", activity::caption(act.id)),
        severity_id,
        severity: severity_caption(severity_id),
        status_id: result.status_id,
        status: status_caption(result.status_id),
        status_code: result.status_code,
        status_detail: result.status_detail,
        time: time_ms,
        time_dt,
        start_time: start.as_ref().map(|t| t.millis),
        start_time_dt: start.map(|t| t.rfc3339.to_string()),
        end_time: end.as_ref().map(|t| t.millis),
        end_time_dt: end.map(|t| t.rfc3339.to_string()),
        duration,
        timezone_offset: 0,
        message,
        type_id: if table.is_some() { 3 } else { 1 },
        type_caption: if table.is_some() { "Table" } else { "Database" },
        metadata: Metadata {
            version: OCSF_VERSION,
            profiles: ["cloud", "datetime"],
            product: Product {
                name: service.unwrap_or_else(|| "Amazon RDS".into()),
                vendor_name: "AWS",
                version: server_version,
                feature: Feature { name: "Database Activity Streams" },
            },
            correlation_uid: match (&session_id, &statement) {
                (Some(s), Some(st)) => Some(format!("{owner}:{s}:{st}")),
                _ => None,
            },
            uid,
            event_code: command,
            log_name: ctx.stream.clone(),
            log_provider: "Amazon Kinesis Data Streams",
            log_version: ctx.version.clone(),
            original_time: log_time.and_then(|_| event.get("logTime").and_then(scalar_string)).map(|t| t.into_owned()),
            tenant_uid: ctx.account.clone(),
        },
        cloud: Cloud {
            provider: "AWS",
            region: ctx.region.clone(),
            account: ctx.account.clone().map(|uid| Account { uid, type_id: 10, type_caption: "AWS Account" }),
        },
        actor,
        src_endpoint: src,
        dst_endpoint: if dst.is_identified() { Some(dst) } else { None },
        database,
        table,
        query_info,
        observables,
        unmapped,
    };
    (ocsf, f.placed)
}
