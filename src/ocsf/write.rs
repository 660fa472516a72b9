//! An OCSF event written as one JSON line, straight from its typed fields into the caller's
//! buffer: compact, attributes in declaration order, absent values left out, strings escaped
//! as `serde_json` escapes them, and `unmapped.das` copied from the DAS event's own bytes.
//! The bytes are those `serde_json` wrote for the same event (the differential tests hold the
//! two side by side).

use super::model::*;
use crate::das::event::write_object;
use crate::das::json::write_str;

/// Appends members to one JSON object.
struct Obj<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Obj<'o> {
    fn open(out: &'o mut Vec<u8>) -> Obj<'o> {
        out.push(b'{');
        Obj { out, empty: true }
    }

    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    fn str(&mut self, key: &str, value: &str) {
        write_str(self.key(key), value);
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }

    fn int(&mut self, key: &str, value: impl itoa::Integer) {
        let mut buf = itoa::Buffer::new();
        let text = buf.format(value);
        self.key(key).extend_from_slice(text.as_bytes());
    }

    fn opt_int(&mut self, key: &str, value: Option<impl itoa::Integer>) {
        if let Some(v) = value {
            self.int(key, v);
        }
    }

    /// A nested object written by `body`.
    fn obj(&mut self, key: &str, body: impl FnOnce(&mut Obj<'_>)) {
        let out = self.key(key);
        let mut inner = Obj::open(out);
        body(&mut inner);
        inner.close();
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

fn endpoint(o: &mut Obj<'_>, e: &Endpoint<'_>) {
    o.opt_str("ip", e.ip.as_deref());
    o.opt_str("hostname", e.hostname.as_deref());
    o.opt_str("name", e.name.as_deref());
    o.opt_int("port", e.port);
    o.opt_str("instance_uid", e.instance_uid);
    o.opt_str("svc_name", e.svc_name.as_deref());
}

/// Appends `event` as one JSON object (no newline).
pub fn write_event(out: &mut Vec<u8>, event: &Event<'_>) {
    let mut o = Obj::open(out);
    o.int("category_uid", CATEGORY_UID);
    o.str("category_name", "Application Activity");
    o.int("class_uid", CLASS_UID);
    o.str("class_name", "Datastore Activity");
    o.int("activity_id", event.activity_id);
    o.str("activity_name", &event.activity_name);
    o.int("type_uid", event.type_uid);
    o.str("type_name", &event.type_name);
    o.int("severity_id", event.severity_id);
    o.str("severity", severity_caption(event.severity_id));
    o.int("status_id", event.status_id);
    o.str("status", status_caption(event.status_id));
    o.opt_str("status_code", event.status_code.as_deref());
    o.opt_str("status_detail", event.status_detail.as_deref());
    o.int("time", event.time);
    o.str("time_dt", &event.time_dt);
    o.opt_int("start_time", event.start_time);
    o.opt_str("start_time_dt", event.start_time_dt.as_deref());
    o.opt_int("end_time", event.end_time);
    o.opt_str("end_time_dt", event.end_time_dt.as_deref());
    o.opt_int("duration", event.duration);
    o.int("timezone_offset", event.timezone_offset);
    o.str("message", &event.message);
    o.int("type_id", event.type_id);
    o.str("type", event.type_caption);
    let m = &event.metadata;
    o.obj("metadata", |o| {
        o.str("version", OCSF_VERSION);
        o.key("profiles").extend_from_slice(b"[\"cloud\",\"datetime\"]");
        o.obj("product", |o| {
            o.str("name", &m.product.name);
            o.str("vendor_name", "AWS");
            o.opt_str("version", m.product.version.as_deref());
            o.obj("feature", |o| o.str("name", "Database Activity Streams"));
        });
        o.str("uid", &m.uid);
        o.opt_str("correlation_uid", m.correlation_uid.as_deref());
        o.opt_str("event_code", m.event_code.as_deref());
        o.opt_str("log_name", m.log_name);
        o.str("log_provider", "Amazon Kinesis Data Streams");
        o.opt_str("log_version", m.log_version);
        o.opt_str("original_time", m.original_time.as_deref());
        o.opt_str("tenant_uid", m.tenant_uid);
    });
    o.obj("cloud", |o| {
        o.str("provider", "AWS");
        o.opt_str("region", event.cloud.region);
        if let Some(account) = event.cloud.account {
            o.obj("account", |o| {
                o.str("uid", account);
                o.int("type_id", 10u8);
                o.str("type", "AWS Account");
            });
        }
    });
    o.obj("actor", |o| {
        if let Some(u) = &event.actor.user {
            o.obj("user", |o| {
                o.str("name", &u.name);
                o.int("type_id", u.type_id);
                o.str("type", u.type_caption);
            });
        }
        if let Some(s) = &event.actor.session {
            o.obj("session", |o| {
                o.str("uid", &s.uid);
                if let Some(remote) = s.is_remote {
                    o.key("is_remote").extend_from_slice(if remote { b"true" } else { b"false" });
                }
            });
        }
        o.opt_str("app_name", event.actor.app_name.as_deref());
    });
    o.obj("src_endpoint", |o| endpoint(o, &event.src_endpoint));
    if let Some(dst) = &event.dst_endpoint {
        o.obj("dst_endpoint", |o| endpoint(o, dst));
    }
    o.obj("database", |o| {
        o.opt_str("name", event.database.name.as_deref());
        o.str("uid", &event.database.uid);
        o.int("type_id", 1u8);
        o.str("type", "Relational");
    });
    if let Some(t) = &event.table {
        o.obj("table", |o| o.str("name", &t.name));
    }
    if let Some(q) = &event.query_info {
        o.obj("query_info", |o| {
            o.str("uid", &q.uid);
            o.str("query_string", &q.query_string);
        });
    }
    if !event.observables.is_empty() {
        let out = o.key("observables");
        out.push(b'[');
        for (i, ob) in event.observables.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let mut item = Obj::open(out);
            item.str("name", ob.name);
            item.int("type_id", ob.type_id);
            item.str("type", ob.type_caption);
            item.str("value", &ob.value);
            item.close();
        }
        out.push(b']');
    }
    let u = &event.unmapped;
    o.obj("unmapped", |o| {
        // `das` < `das_cluster_id` < `redaction`: the order of a sorted map.
        write_object(o.key("das"), u.das.unplaced());
        o.opt_str("das_cluster_id", u.das_cluster_id);
        if let Some(r) = &u.redaction {
            o.obj("redaction", |o| {
                o.opt_str("command_hmac", r.command_hmac.as_deref());
                let out = o.key("fields");
                out.push(b'[');
                for (i, f) in r.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, f);
                }
                out.push(b']');
                o.str("mode", r.mode);
            });
        }
    });
    o.close();
}
