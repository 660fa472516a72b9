//! OCSF mapping: golden events for the AWS documentation examples and our
//! own cases, schema validity, losslessness, and a property test.

mod common;

use std::path::{Path, PathBuf};

use common::ocsf::{assert_lossless, OcsfValidator};
use common::repo_dir;
use das_forwarder::das::activity::{parse_record, ActivityEvent};
use das_forwarder::ocsf::{map, RecordContext};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

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
    let parsed = parse_record(&bytes, 1000).unwrap();
    let events = parsed.events.iter().map(|e| serde_json::to_value(map(e.clone(), &ctx)).unwrap()).collect();
    (parsed.events.into_iter().map(|e| e.fields).collect(), events)
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
    for e in parse_record(&bytes, 1000).unwrap().events {
        serde_json::to_writer(&mut out, &map(e, &ctx)).unwrap();
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
    let c = serde_json::to_value(map(ActivityEvent { fields: changed }, &context(&record, "x-1.1"))).unwrap();
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
        let event = serde_json::to_value(map(ActivityEvent { fields: fields.clone() }, &ctx)).unwrap();
        validator.check(&event);
        assert_lossless(&fields, &event);
    }
}
