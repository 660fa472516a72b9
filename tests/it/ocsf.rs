//! OCSF mapping: golden events for the AWS documentation examples and our
//! own cases, schema validity, losslessness, and a property test.

use crate::common;

use std::path::{Path, PathBuf};

use common::ocsf::{assert_lossless, OcsfValidator};
use common::repo_dir;
use das_forwarder::das::activity::{events_of, ReadLimits};
use das_forwarder::das::RawEvent;
use das_forwarder::ocsf::{map, write_event, RecordContext};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const LIMITS: ReadLimits = ReadLimits { max_events: 1000, max_event_bytes: 1 << 20 };

/// One event through the engine: its OCSF line.
fn line_of(event_text: &str, ctx: &RecordContext) -> Vec<u8> {
    let raw = RawEvent::parse(event_text).unwrap();
    let mut out = Vec::new();
    write_event(&mut out, &map(&raw, ctx));
    out
}

fn mapped_event(fields: &Map<String, Value>, ctx: &RecordContext) -> Value {
    serde_json::from_slice(&line_of(&serde_json::to_string(fields).unwrap(), ctx)).unwrap()
}

fn das_fixtures() -> Vec<PathBuf> {
    let root = repo_dir().join("tests/fixtures/das");
    let mut files: Vec<PathBuf> = [root.clone(), root.join("cases")]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// The context a record from `aws-rds-das-<resource>` in us-east-1 would carry.
fn context(record: &Value, name: &str) -> RecordContext {
    let cluster = record["clusterId"].as_str().filter(|c| !c.is_empty()).map(str::to_owned);
    let instance = record["instanceId"].as_str().map(str::to_owned);
    let resource = cluster.clone().or(instance.clone()).unwrap();
    let version = name.split('-').find(|p| p.starts_with("1.")).map(str::to_owned);
    RecordContext {
        stream: Some(format!("aws-rds-das-{resource}")),
        resource_id: resource,
        cluster_id: cluster,
        instance_id: instance,
        version,
        region: Some("us-east-1".into()),
        account: Some("123456789012".into()),
        arrival_ms: 1_700_000_000_000,
    }
}

fn mapped(path: &Path) -> (Vec<Map<String, Value>>, Vec<Value>) {
    let bytes = std::fs::read(path).unwrap();
    let record: Value = serde_json::from_slice(&bytes).unwrap();
    let ctx = context(&record, &path.file_stem().unwrap().to_string_lossy());
    let (_, texts) = events_of(&bytes, LIMITS).unwrap();
    let raw = texts.iter().map(|t| serde_json::from_str(t).unwrap()).collect();
    let events = texts.iter().map(|t| serde_json::from_slice(&line_of(t, &ctx)).unwrap()).collect();
    (raw, events)
}

/// Each documented example and each own case maps to its committed OCSF
/// events (`UPDATE_GOLDEN=1` rewrites them; review the diff before committing).
#[test]
fn golden_events() {
    let validator = OcsfValidator::new();
    let golden_dir = repo_dir().join("tests/fixtures/ocsf");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut checked = 0;
    for path in das_fixtures() {
        let (das, events) = mapped(&path);
        for (raw, event) in das.iter().zip(&events) {
            validator.check(event);
            assert_lossless(raw, event);
        }
        let golden = golden_dir.join(path.file_name().unwrap());
        let got = serde_json::to_string_pretty(&events).unwrap() + "\n";
        if update {
            std::fs::create_dir_all(&golden_dir).unwrap();
            std::fs::write(&golden, &got).unwrap();
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_else(|_| panic!("missing {}", golden.display()));
        assert_eq!(got, want, "{} differs from its golden file", path.display());
        checked += 1;
    }
    assert!(checked >= 15, "{checked} fixtures");
}

/// The exact NDJSON line of every event of each fixture, byte for byte (`tests/fixtures/ocsf/*.ndjson`,
/// `UPDATE_GOLDEN=1` rewrites them): the pretty golden files above compare values, these compare the
/// bytes a sink receives, key order and number formatting included.
#[test]
fn golden_lines() {
    let golden_dir = repo_dir().join("tests/fixtures/ocsf");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut checked = 0;
    for path in das_fixtures() {
        let got = ndjson_lines(&path);
        let golden = golden_dir.join(path.file_name().unwrap()).with_extension("ndjson");
        if update {
            std::fs::write(&golden, &got).unwrap();
        }
        let want = std::fs::read(&golden).unwrap_or_else(|_| panic!("missing {}", golden.display()));
        assert!(got == want, "{} differs from {}", path.display(), golden.display());
        checked += 1;
    }
    assert!(checked >= 15, "{checked} fixtures");
}

/// Each event of the fixture as the sinks receive it: one line, `\n`-terminated.
fn ndjson_lines(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let record: Value = serde_json::from_slice(&bytes).unwrap();
    let ctx = context(&record, &path.file_stem().unwrap().to_string_lossy());
    let mut out = Vec::new();
    for text in events_of(&bytes, LIMITS).unwrap().1 {
        out.extend(line_of(&text, &ctx));
        out.push(b'\n');
    }
    out
}

#[test]
fn key_mapping_decisions() {
    let root = repo_dir().join("tests/fixtures/das");
    let one = |name: &str| mapped(&root.join(name)).1.remove(0);

    let select = one("aurora-postgresql-1.1-select.json");
    assert_eq!((select["activity_id"].as_u64(), select["type_uid"].as_u64()), (Some(4), Some(600504)));
    assert_eq!(select["time"], 1_558_658_389_940i64);
    assert_eq!(select["duration"], 20);
    assert_eq!(select["query_info"]["query_string"], "select * from my_table;");
    assert_eq!(select["actor"]["user"]["type"], "System");
    assert_eq!(select["table"]["name"], "public.my_table");

    let connect = one("aurora-postgresql-1.1-connect.json");
    assert_eq!(
        (connect["activity_id"].as_u64(), connect["unmapped"]["das"]["class"].as_str()),
        (Some(3), Some("MISC"))
    );

    let failed = one("cases/aurora-postgresql-1.1-failed-login.json");
    assert_eq!((failed["status_id"].as_u64(), failed["status_code"].as_str()), (Some(2), Some("28P01")));
    assert_eq!(failed["severity_id"], 3);

    let grant = one("cases/aurora-postgresql-1.1-grant.json");
    assert_eq!((grant["activity_id"].as_u64(), grant["severity_id"].as_u64()), (Some(2), Some(3)));

    let aux = one("cases/aurora-mysql-1.2-aux-empty-database.json");
    assert_eq!(aux["activity_id"], 7);
    assert!(aux.get("query_info").is_none(), "AUX commandText is an object name, not SQL");
    assert_eq!(aux["database"]["uid"], "cluster-5XMYSQLCLUSTER7QZ3B2L4K6J8H");
    assert_eq!(aux["status_id"], 0);

    let main = one("aurora-mysql-1.2-select-main.json");
    let aux2 = one("aurora-mysql-1.2-select-aux.json");
    assert_eq!(main["metadata"]["correlation_uid"], aux2["metadata"]["correlation_uid"]);
    assert_ne!(main["metadata"]["uid"], aux2["metadata"]["uid"]);

    let sqlserver = one("cases/rds-sqlserver-1.4-select.json");
    assert_eq!(sqlserver["time_dt"], "2022-10-06T21:24:59.9422268Z");
    assert_eq!(sqlserver["unmapped"]["das"]["engineNativeAuditFields"]["schema_name"], "dbo");

    let oracle = one("rds-oracle-1.3-connect.json");
    assert_eq!(oracle["activity_id"], 3);
    assert!(oracle["unmapped"]["das"]["engineNativeAuditFields"].is_object());
}

/// The checks themselves can fail: the pitfalls validators are known to catch.
#[test]
fn validator_rejects_known_bad_events() {
    let validator = OcsfValidator::new();
    let (_, events) = mapped(&repo_dir().join("tests/fixtures/das/aurora-postgresql-1.1-select.json"));
    let good = &events[0];
    assert!(validator.problems(good).is_empty());
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut e = good.clone();
        edit(&mut e);
        validator.problems(&e)
    };
    assert!(!broken(&|e| e["type_uid"] = json!(600501)).is_empty(), "type_uid formula");
    assert!(!broken(&|e| e["activity_name"] = json!("Select")).is_empty(), "caption");
    assert!(!broken(&|e| e["database"]["type"] = json!("PostgreSQL")).is_empty(), "database caption");
    if validator.has_schema() {
        assert!(!broken(&|e| e["rowCount"] = json!(10)).is_empty(), "unknown attribute");
        assert!(!broken(&|e| e["query_info"].as_object_mut().unwrap().retain(|k, _| k == "query_string")).is_empty());
        assert!(
            !broken(&|e| e["database"].as_object_mut().unwrap().remove("type_id").map(|_| ()).unwrap_or(())).is_empty()
        );
        assert!(!broken(&|e| e["time"] = json!("yesterday")).is_empty());
        assert!(!broken(&|e| e["src_endpoint"]["port"] = json!(70000)).is_empty());
    }
}

#[test]
fn uid_is_deterministic_and_content_bound() {
    let path = repo_dir().join("tests/fixtures/das/aurora-postgresql-1.1-select.json");
    let (raw, a) = mapped(&path);
    let (_, b) = mapped(&path);
    assert_eq!(a[0]["metadata"]["uid"], b[0]["metadata"]["uid"]);
    let mut changed = raw[0].clone();
    changed.insert("rowCount".into(), json!(11));
    let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let c = mapped_event(&changed, &context(&record, "x-1.1"));
    assert_ne!(a[0]["metadata"]["uid"], c["metadata"]["uid"]);
}

const KNOWN: [&str; 30] = [
    "class",
    "clientApplication",
    "command",
    "commandText",
    "databaseName",
    "dbProtocol",
    "dbUserName",
    "endTime",
    "errorMessage",
    "exitCode",
    "logTime",
    "netProtocol",
    "objectName",
    "objectType",
    "paramList",
    "pid",
    "remoteHost",
    "remotePort",
    "rowCount",
    "serverHost",
    "serverType",
    "serverVersion",
    "serviceName",
    "sessionId",
    "startTime",
    "statementId",
    "substatementId",
    "transactionId",
    "type",
    "engineNativeAuditFields",
];

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
        "[0-9]{1,6}".prop_map(Value::String),
        Just(json!("")),
        Just(json!("2019-05-24 00:39:49.940668+00")),
        Just(json!("SELECT 1")),
        Just(json!("localhost")),
        Just(json!("10.1.2.3")),
        Just(json!("MAIN")),
        Just(json!("AUX")),
        Just(json!("QUERY")),
        Just(json!("28P01")),
        Just(json!([1, "x"])),
        Just(json!({"k": null})),
    ]
}

fn das_event() -> impl Strategy<Value = Map<String, Value>> {
    let known = proptest::collection::vec((proptest::sample::select(KNOWN.to_vec()), value()), 0..30);
    let unknown = proptest::collection::vec(("[a-zA-Z]{1,12}", value()), 0..4);
    (known, unknown).prop_map(|(k, u)| {
        let mut m = Map::new();
        m.extend(k.into_iter().map(|(k, v)| (k.to_owned(), v)));
        m.extend(u);
        m
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn arbitrary_events_map_to_valid_lossless_ocsf(fields in das_event(), cluster in proptest::option::of("cluster-[A-Z0-9]{4}")) {
        let validator = OcsfValidator::new();
        let ctx = RecordContext {
            resource_id: "db-PROPTEST".into(),
            cluster_id: cluster,
            instance_id: Some("db-PROPTEST".into()),
            arrival_ms: 1_700_000_000_000,
            ..RecordContext::default()
        };
        let event = mapped_event(&fields, &ctx);
        validator.check(&event);
        assert_lossless(&fields, &event);
    }
}

/// A JSON value as another writer might have written it: any escapes, any number form, any
/// whitespace, keys in any order and duplicated. Both engines must read the same text alike.
#[derive(Debug, Clone)]
enum Json {
    Null,
    Bool(bool),
    /// A number literal, as written.
    Number(String),
    /// The text, and per character whether to escape it when it could stay as it is.
    Str(String, Vec<u8>),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

fn ws(out: &mut String, n: u8) {
    out.push_str(["", " ", "\n  ", "\t", "\r\n"][(n % 5) as usize]);
}

fn write_str(out: &mut String, s: &str, style: &[u8]) {
    out.push('"');
    for (i, c) in s.chars().enumerate() {
        let st = style.get(i).copied().unwrap_or(0) % 4;
        let code = c as u32;
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if st < 2 => out.push_str("\\n"),
            '/' if st == 1 => out.push_str("\\/"),
            _ if code < 0x20 || st == 3 => {
                if code > 0xFFFF {
                    let v = code - 0x10000;
                    out.push_str(&format!("\\u{:04x}\\u{:04X}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)));
                } else if st == 2 {
                    out.push_str(&format!("\\u{code:04X}"));
                } else {
                    out.push_str(&format!("\\u{code:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(out: &mut String, j: &Json, w: u8) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(n),
        Json::Str(s, style) => write_str(out, s, style),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(out, w.wrapping_add(i as u8));
                write_json(out, item, w.wrapping_mul(3));
            }
            out.push(']');
        }
        Json::Object(fields) => {
            out.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(out, w.wrapping_add(i as u8));
                write_str(out, k, &[]);
                ws(out, w);
                out.push(':');
                write_json(out, v, w.wrapping_mul(7));
            }
            ws(out, w);
            out.push('}');
        }
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,30}",
        "[\\x00-\\x7f]{0,20}",
        "[a-z/\"\\\\\u{e9}\u{1F600}\n\t]{0,20}",
        Just("2019-05-24 00:39:49.940668+00".to_string()),
        Just(" 2019-05-24T00:39:49Z ".to_string()),
        Just("SELECT * FROM t WHERE a = 'x' AND b = 42".to_string()),
        Just("localhost".to_string()),
        Just("10.1.2.3".to_string()),
        Just("db.example.com".to_string()),
        Just("AUX".to_string()),
        Just("heartbeat".to_string()),
        Just("rdsadmin".to_string()),
        Just("TABLE".to_string()),
        Just("SQLSERVER".to_string()),
        Just("mysql".to_string()),
        Just(" 0 ".to_string()),
        Just("28P01".to_string()),
        Just("5432".to_string()),
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "-?(0|[1-9][0-9]{0,20})",
        4 => "-?(0|[1-9][0-9]{0,3})\\.[0-9]{1,4}",
        4 => "-?[1-9][0-9]{0,2}[eE][+-]?[0-9]{1,2}",
        1 => Just("-0".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        number().prop_map(Json::Number),
        (text(), proptest::collection::vec(any::<u8>(), 0..30)).prop_map(|(s, st)| Json::Str(s, st)),
    ]
}

fn json_value() -> impl Strategy<Value = Json> {
    leaf().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            proptest::collection::vec(("[a-zA-Z_]{1,6}", inner), 0..4).prop_map(Json::Object),
        ]
    })
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![proptest::sample::select(KNOWN.to_vec()).prop_map(str::to_owned), "[a-zA-Z]{1,10}"]
}

fn field_value() -> impl Strategy<Value = Json> {
    prop_oneof![
        300 => leaf(),
        100 => json_value(),
        // Out of range for an f64, a lone surrogate: not JSON to a `Value` parse.
        1 => Just(Json::Number("1e400".into())),
        1 => Just(Json::Number("\"\\ud800x\"".into())),
    ]
}

fn event_json() -> impl Strategy<Value = Json> {
    prop_oneof![
        30 => proptest::collection::vec((field_name(), field_value()), 0..24).prop_map(Json::Object),
        3 => Just(Json::Object(vec![("type".into(), Json::Str("heartbeat".into(), vec![]))])),
        1 => leaf(),
    ]
}

/// A whole record: ids before or after the list, or missing, and odd top-level members.
fn record_text() -> impl Strategy<Value = String> {
    (
        (proptest::collection::vec(event_json(), 0..6), any::<bool>()).prop_map(|(events, echo)| {
            if !echo {
                return events;
            }
            // Each event followed by one with the same names in the same order and other values
            // (the parser remembers the last event's names and their order).
            let mut out = Vec::new();
            for e in events {
                if let Json::Object(fields) = &e {
                    let mut values: Vec<Json> = fields.iter().map(|(_, v)| v.clone()).collect();
                    let by = 1.min(values.len());
                    values.rotate_left(by);
                    let twin = fields.iter().map(|(n, _)| n.clone()).zip(values).collect();
                    out.push(e);
                    out.push(Json::Object(twin));
                } else {
                    out.push(e);
                }
            }
            out
        }),
        proptest::option::of("cluster-[A-Z0-9]{4}"),
        proptest::option::of("db-[A-Z0-9]{4}"),
        any::<bool>(),
        any::<u8>(),
        prop_oneof![
            16 => Just(None),
            2 => leaf().prop_map(Some),
            // Out of range for an f64, a lone surrogate: not JSON to a `Value` parse.
            1 => Just(Some(Json::Number("1e400".into()))),
            1 => Just(Some(Json::Array(vec![Json::Number("-1E+999".into())]))),
        ],
    )
        .prop_map(|(events, cluster, instance, ids_last, w, odd)| {
            let list = ("databaseActivityEventList".to_string(), Json::Array(events));
            let mut fields = vec![("type".to_string(), Json::Str("DatabaseActivityMonitoringRecord".into(), vec![]))];
            let mut ids = Vec::new();
            if let Some(c) = cluster {
                ids.push(("clusterId".to_string(), Json::Str(c, vec![])));
            }
            if let Some(i) = instance {
                ids.push(("instanceId".to_string(), Json::Str(i, vec![])));
            }
            if ids_last {
                fields.push(list);
                fields.extend(ids);
            } else {
                fields.extend(ids);
                fields.push(list);
            }
            if let Some(odd) = odd {
                fields.push(("somethingNew".into(), odd));
            }
            let mut out = String::new();
            write_json(&mut out, &Json::Object(fields), w);
            out
        })
}

/// The same filters for both engines.
fn filters(users: &[String], commands: &[String], mode: u8) -> (das_forwarder::ocsf::Filters, common::oracle::Filters) {
    use das_forwarder::redact::{Mode, Redactor};
    let mode = [Mode::Off, Mode::Literals, Mode::Full][(mode % 3) as usize];
    let key = b"differential-test-key".to_vec();
    let mut new = das_forwarder::ocsf::Filters {
        users: users.to_vec(),
        commands: commands.to_vec(),
        since_ms: Some(1_500_000_000_000),
        ..Default::default()
    };
    new.redaction = Redactor::new(mode, key.clone());
    let old = common::oracle::Filters {
        users: users.to_vec(),
        commands: commands.to_vec(),
        since_ms: Some(1_500_000_000_000),
        redaction: Some((mode, key)),
        ..Default::default()
    };
    (new, old)
}

/// The record through the engine of record (`serde_json::Value`, frozen in tests/it/common/oracle):
/// its lines, or its reason code.
fn old_engine(text: &str, ctx: &RecordContext, filters: &common::oracle::Filters) -> Result<Vec<u8>, String> {
    let record = common::oracle::parse_record(text.as_bytes(), 1000).map_err(|e| e.code().to_string())?;
    let ctx = common::oracle::RecordContext {
        resource_id: ctx.resource_id.clone(),
        cluster_id: record.cluster_id.clone(),
        instance_id: record.instance_id.clone(),
        version: ctx.version.clone(),
        region: ctx.region.clone(),
        account: ctx.account.clone(),
        stream: ctx.stream.clone(),
        arrival_ms: ctx.arrival_ms,
    };
    Ok(common::oracle::encode_lines(record, &ctx, filters))
}

fn new_engine(text: &str, ctx: &RecordContext, filters: &das_forwarder::ocsf::Filters) -> Result<Vec<u8>, String> {
    use das_forwarder::pipeline::decode::{encode_json, Limits};
    let limits = Limits { max_events_per_record: 1000, ..Limits::default() };
    let (_, lines) = encode_json(text.as_bytes(), ctx.clone(), filters, limits).map_err(|f| f.code().to_string())?;
    let mut out = Vec::new();
    for line in lines.iter() {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    Ok(out)
}

fn differential_context() -> RecordContext {
    RecordContext {
        resource_id: "cluster-DIFF".into(),
        version: Some("1.2".into()),
        region: Some("eu-west-1".into()),
        account: Some("111122223333".into()),
        stream: Some("aws-rds-das-cluster-DIFF".into()),
        arrival_ms: 1_700_000_000_000,
        ..RecordContext::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// The borrowed engine and the engine of record give the same bytes (uids included) or
    /// the same reason code, for records written any way JSON allows.
    #[test]
    fn both_engines_write_the_same_bytes(
        text in record_text(),
        users in proptest::collection::vec(prop_oneof![Just("RDSADMIN".to_string()), "[a-z]{1,3}"], 0..2),
        commands in proptest::collection::vec(prop_oneof![Just("select".to_string()), Just("CONNECT".to_string())], 0..2),
        mode in any::<u8>(),
    ) {
        let (new_filters, old_filters) = filters(&users, &commands, mode);
        let ctx = differential_context();
        let old = old_engine(&text, &ctx, &old_filters);
        let new = new_engine(&text, &ctx, &new_filters);
        prop_assert_eq!(
            old.as_ref().map(|l| String::from_utf8_lossy(l).into_owned()),
            new.as_ref().map(|l| String::from_utf8_lossy(l).into_owned()),
            "record: {}", text
        );
    }

    /// Broken records: both engines refuse them under the same reason code.
    #[test]
    fn both_engines_refuse_alike(text in record_text(), cut in any::<prop::sample::Index>(), junk in "[\\[\\]{}\",:x0\\\\ \t\u{1}\u{7f}]{1,3}") {
        let at = cut.index(text.len() + 1);
        let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let broken = format!("{}{}{}", &text[..at], junk, &text[at..]);
        let (new_filters, old_filters) = filters(&[], &[], 0);
        let ctx = differential_context();
        let old = old_engine(&broken, &ctx, &old_filters).map(|l| String::from_utf8_lossy(&l).into_owned());
        let new = new_engine(&broken, &ctx, &new_filters).map(|l| String::from_utf8_lossy(&l).into_owned());
        prop_assert_eq!(old, new, "record: {}", broken);
    }
}

/// Nesting: `serde_json` refuses a 128th level in the record (record, list, event, then the
/// value's own levels); both engines draw the line at the same depth.
#[test]
fn both_engines_stop_nesting_at_the_same_depth() {
    let (new_filters, old_filters) = filters(&[], &[], 0);
    let ctx = differential_context();
    for levels in [1, 60, 123, 124, 125, 126, 200] {
        let value = format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
        let text = format!(r#"{{"databaseActivityEventList":[{{"paramList":{value},"x":{{"y":{value}}}}}]}}"#);
        let old = old_engine(&text, &ctx, &old_filters);
        let new = new_engine(&text, &ctx, &new_filters);
        assert_eq!(old, new, "{levels} levels");
    }
}

/// Uids are hashed two events at a time, and an event with a long value on its own: records
/// of every count of events up to 7, long and short ones in every order, give the engine of
/// record's uids.
#[test]
fn uids_match_for_every_mix_of_short_and_long_events() {
    let (new_filters, old_filters) = filters(&[], &[], 0);
    let ctx = differential_context();
    let long = "x".repeat(20 << 10);
    for n in 0..=7usize {
        for mask in 0..(1u32 << n) {
            let events: Vec<String> = (0..n)
                .map(|i| {
                    let text = if mask & (1 << i) != 0 { long.as_str() } else { "select 1" };
                    format!(r#"{{"class":"READ","command":"QUERY","commandText":"{text} -- {i}","dbUserName":"u{i}","logTime":"2025-11-27 00:00:0{i}.000000+00"}}"#)
                })
                .collect();
            let text = format!(r#"{{"databaseActivityEventList":[{}]}}"#, events.join(","));
            let old = old_engine(&text, &ctx, &old_filters);
            let new = new_engine(&text, &ctx, &new_filters);
            assert_eq!(old, new, "{n} events, long ones {mask:b}");
        }
    }
}
