//! `das-forwarder generate`: a realistic synthetic DAS Kinesis event,
//! encrypted for the local key provider. Aurora PostgreSQL (1.1) and Aurora
//! MySQL (1.2, MAIN and AUX) records, heartbeats, several records sharing a
//! wrapping key, and records large enough for several 4096-byte frames; the
//! record's fields in the order DAS writes them (ids before the list), and
//! optionally huge statements (`--statement-bytes`). Output is deterministic
//! for a given seed.

use base64::Engine;
use chrono::DateTime;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::esdk::encrypt::{encrypt, EncryptParams};
use crate::keys::local::LocalKeys;
use crate::keys::KeyContext;

/// Which engines' records a generated batch holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Aurora PostgreSQL and Aurora MySQL records alternating, some heartbeat-only.
    Mixed,
    /// Aurora PostgreSQL (version 1.1) records only.
    Postgres,
    /// Aurora MySQL (version 1.2, MAIN and AUX events) records only.
    Mysql,
    /// Records that hold nothing but heartbeats.
    Heartbeats,
    /// RDS for Oracle (version 1.3) with `engineNativeAuditFields`; use a `db-` resource id.
    Oracle,
    /// RDS for SQL Server (version 1.4) with `engineNativeAuditFields`; use a `db-` resource id.
    Sqlserver,
}

/// What to generate (also the `generate` subcommand's options).
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateOptions {
    /// Engines of the generated records.
    #[arg(long, value_enum, default_value_t = Profile::Mixed)]
    pub profile: Profile,
    /// Index of a record whose ESDK message gets one flipped bit (quarantined as `esdk.frame_tag`).
    #[arg(long)]
    pub poison: Option<usize>,
    /// Cap on the activity events of one record (keeps large batches small).
    #[arg(long)]
    pub max_events: Option<usize>,
    /// Exactly this many activity events in every record (no heartbeat-only records).
    #[arg(long, conflicts_with = "max_events")]
    pub events_per_record: Option<usize>,
    /// Every statement (`commandText`) padded to this many bytes, as `SELECT 'aaa…' AS pad`
    /// (hostile batches: a user running a huge statement in a loop).
    #[arg(long)]
    pub statement_bytes: Option<usize>,
    #[arg(long, default_value_t = 12)]
    pub records: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value = "cluster-DEMO4HNY5V4RRNPKKYB7ICFKE5")]
    pub resource_id: String,
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    #[arg(long, default_value = "123456789012")]
    pub account: String,
    /// Distinct wrapping keys (KMS blobs) shared round-robin by the records.
    #[arg(long, default_value_t = 3)]
    pub data_keys: usize,
    /// Event time of the first record, epoch milliseconds.
    #[arg(long, default_value_t = 1_764_201_600_000)]
    pub start_ms: i64,
}

impl Default for GenerateOptions {
    /// The `generate` subcommand's defaults: the demo batch.
    fn default() -> GenerateOptions {
        GenerateOptions {
            profile: Profile::Mixed,
            poison: None,
            max_events: None,
            events_per_record: None,
            statement_bytes: None,
            records: 12,
            seed: 1,
            resource_id: "cluster-DEMO4HNY5V4RRNPKKYB7ICFKE5".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            data_keys: 3,
            start_ms: 1_764_201_600_000,
        }
    }
}

/// Deterministic bytes: SHA-256 in counter mode over the seed.
pub struct Drbg {
    seed: [u8; 32],
    counter: u64,
}

impl Drbg {
    pub fn new(seed: u64, label: &str) -> Drbg {
        Drbg { seed: Sha256::new().chain_update(seed.to_be_bytes()).chain_update(label).finalize().into(), counter: 0 }
    }
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(32) {
            self.counter += 1;
            let block = Sha256::new().chain_update(self.seed).chain_update(self.counter.to_be_bytes()).finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        out
    }
    pub fn below(&mut self, n: usize) -> usize {
        (u64::from_be_bytes(self.bytes::<8>()) % n.max(1) as u64) as usize
    }
}

/// The order Aurora PostgreSQL writes an event's fields in (from the AWS documentation's examples).
const PG_ORDER: [&str; 27] = [
    "startTime",
    "logTime",
    "statementId",
    "substatementId",
    "objectType",
    "command",
    "objectName",
    "databaseName",
    "dbUserName",
    "remoteHost",
    "remotePort",
    "sessionId",
    "rowCount",
    "commandText",
    "paramList",
    "pid",
    "clientApplication",
    "exitCode",
    "class",
    "serverVersion",
    "serverType",
    "serviceName",
    "serverHost",
    "netProtocol",
    "dbProtocol",
    "type",
    "errorMessage",
];
/// The order Aurora MySQL writes them in.
const MYSQL_ORDER: [&str; 29] = [
    "logTime",
    "type",
    "clientApplication",
    "pid",
    "dbUserName",
    "databaseName",
    "remoteHost",
    "remotePort",
    "command",
    "commandText",
    "paramList",
    "objectType",
    "objectName",
    "statementId",
    "substatementId",
    "exitCode",
    "sessionId",
    "rowCount",
    "serverHost",
    "serverType",
    "serviceName",
    "serverVersion",
    "startTime",
    "endTime",
    "transactionId",
    "dbProtocol",
    "netProtocol",
    "errorMessage",
    "class",
];

/// An event object as the engine writes it: the fields of `order` first, in that order, then
/// the rest by name (RDS for Oracle and SQL Server write theirs sorted).
fn das_order(out: &mut String, event: &Value, order: &[&str]) {
    let Value::Object(map) = event else { return out.push_str(&event.to_string()) };
    out.push('{');
    let rest = map.keys().filter(|k| !order.contains(&k.as_str())).map(String::as_str);
    let keys = order.iter().copied().filter(|k| map.contains_key(*k)).chain(rest);
    for (n, k) in keys.enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(k).to_string());
        out.push(':');
        out.push_str(&map[k].to_string());
    }
    out.push('}');
}

fn das_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).unwrap_or_default().format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

const USERS: [&str; 4] = ["app_rw", "alice", "reporting", "rdsadmin"];
const PG_STATEMENTS: [(&str, &str, &str, &str); 8] = [
    ("SELECT", "READ", "public.orders", "SELECT id, total FROM orders WHERE customer_id = 4711;"),
    ("INSERT", "WRITE", "public.orders", "INSERT INTO orders (customer_id, total) VALUES (4711, 99.95);"),
    ("UPDATE", "WRITE", "public.accounts", "UPDATE accounts SET balance = balance - 10 WHERE id = 17;"),
    ("CREATE TABLE", "DDL", "public.audit_tmp", "CREATE TABLE audit_tmp (id serial primary key, note text);"),
    ("GRANT", "ROLE", "public.payroll", "GRANT SELECT ON payroll TO reporting;"),
    ("DROP TABLE", "DDL", "public.audit_tmp", "DROP TABLE audit_tmp;"),
    ("DELETE", "WRITE", "public.sessions", "DELETE FROM sessions WHERE expires_at < now();"),
    ("SELECT", "READ", "public.payroll", "SELECT name, salary FROM payroll ORDER BY salary DESC LIMIT 10;"),
];
const MY_STATEMENTS: [(&str, &str, &str); 4] = [
    ("READ", "orders", "SELECT * FROM orders WHERE id < 28"),
    ("WRITE", "orders", "UPDATE orders SET status = 'shipped' WHERE id = 12"),
    ("CREATE", "audit_tmp", "CREATE TABLE audit_tmp (id INT PRIMARY KEY)"),
    ("READ", "customers", "SELECT email FROM customers WHERE country = 'DE'"),
];

fn pg_event(d: &mut Drbg, t: i64, stmt_id: usize) -> Value {
    let user = USERS[d.below(USERS.len())];
    let (session, pid) =
        (format!("{:x}.{:x}", 0x5ce7_0000 + d.below(0xffff), d.below(0xffff)), 20_000 + d.below(10_000));
    let base = json!({
        "startTime": das_time(t - 5), "logTime": das_time(t), "statementId": stmt_id, "substatementId": 1,
        "databaseName": "appdb", "dbUserName": user, "remoteHost": format!("10.0.{}.{}", d.below(4), 10 + d.below(200)),
        "remotePort": (30_000 + d.below(30_000)).to_string(), "sessionId": session, "pid": pid,
        "clientApplication": "psql", "serverVersion": "16.4.2", "serverType": "PostgreSQL",
        "serviceName": "Amazon Aurora PostgreSQL-Compatible edition", "serverHost": "10.0.0.5",
        "netProtocol": "TCP", "dbProtocol": "Postgres 3.0", "type": "record",
    });
    let mut e = base.as_object().cloned().unwrap_or_default();
    let roll = d.below(20);
    let extra = if roll == 0 {
        json!({"class": "MISC", "command": "CONNECT", "objectType": null, "objectName": null, "commandText": null,
               "paramList": [], "rowCount": null, "exitCode": "28P01",
               "errorMessage": "password authentication failed for user \"alice\""})
    } else if roll < 3 {
        json!({"class": "MISC", "command": if roll == 1 { "CONNECT" } else { "DISCONNECT" }, "objectType": null, "objectName": null,
               "commandText": null, "paramList": [], "rowCount": null, "exitCode": if roll == 2 { json!(0) } else { Value::Null }, "errorMessage": null})
    } else {
        let (command, class, object, text) = PG_STATEMENTS[d.below(PG_STATEMENTS.len())];
        json!({"class": class, "command": command, "objectType": "TABLE", "objectName": object,
               "commandText": format!("{text} -- req {stmt_id}"), "paramList": [],
               "rowCount": if class == "READ" { json!(d.below(500)) } else { Value::Null }, "exitCode": null, "errorMessage": null})
    };
    e.extend(extra.as_object().cloned().unwrap_or_default());
    Value::Object(e)
}

fn mysql_events(d: &mut Drbg, t: i64, stmt_id: usize) -> Vec<Value> {
    let user = USERS[d.below(3)];
    let session = (700_000 + d.below(100_000)).to_string();
    let (aux_command, object, text) = MY_STATEMENTS[d.below(MY_STATEMENTS.len())];
    let common = |class: &str, command: &str, sub: usize, text: String, object: &str, time: i64| {
        json!({
            "logTime": das_time(time), "type": "record", "clientApplication": null, "pid": 2830, "dbUserName": user,
            "databaseName": if class == "AUX" { "" } else { "appdb" }, "remoteHost": "10.0.1.20", "remotePort": "11054",
            "command": command, "commandText": text, "paramList": null, "objectType": "TABLE", "objectName": object,
            "statementId": stmt_id, "substatementId": sub, "exitCode": "0", "sessionId": session,
            "rowCount": if class == "MAIN" { 2 } else { 0 }, "serverHost": "master", "serverType": "MySQL",
            "serviceName": "Amazon Aurora MySQL", "serverVersion": "MySQL 8.0.39", "startTime": das_time(time - 1),
            "endTime": das_time(time), "transactionId": "0", "dbProtocol": "MySQL", "netProtocol": "TCP",
            "errorMessage": "", "class": class
        })
    };
    vec![
        common("MAIN", "QUERY", 1, format!("{text} /* req {stmt_id} */"), object, t),
        common("AUX", aux_command, 2, object.to_owned(), object, t - 1),
    ]
}

const ORACLE_STATEMENTS: [(&str, &str, &str); 5] = [
    ("SELECT", "PERSONS", "select count(*) from persons"),
    ("INSERT", "ORDERS", "insert into orders (id, total) values (:1, :2)"),
    ("UPDATE", "ACCOUNTS", "update accounts set balance = balance - :1 where id = :2"),
    ("GRANT", "PAYROLL", "grant select on payroll to reporting"),
    ("LOGON", "", ""),
];

fn oracle_event(d: &mut Drbg, t: i64, stmt_id: usize) -> Value {
    let (command, object, text) = ORACLE_STATEMENTS[d.below(ORACLE_STATEMENTS.len())];
    let failed = command == "LOGON" && d.below(2) == 0;
    let event = json!({
        "class": "Standard", "clientApplication": "sqlplus@ip-10-0-2-17 (TNS V1-V3)", "command": command,
        "commandText": if text.is_empty() { Value::Null } else { json!(text) }, "databaseName": "ORCL",
        "dbProtocol": "oracle", "dbUserName": (["APP_RW", "ALICE", "RDSADMIN"][d.below(3)]), "endTime": null,
        "errorMessage": null, "exitCode": if failed { 1017 } else { 0 }, "logTime": das_time(t).trim_end_matches("+00"),
        "netProtocol": "tcp", "objectName": if object.is_empty() { Value::Null } else { json!(object) },
        "objectType": if object.is_empty() { Value::Null } else { json!("TABLE") }, "paramList": [],
        "pid": 17_000 + d.below(1000), "remoteHost": format!("10.0.2.{}", 10 + d.below(200)), "remotePort": null,
        "rowCount": null, "serverHost": "10.0.0.9", "serverType": "oracle",
        "serverVersion": "19.0.0.0.ru-2024-10.rur-2024-10.r1.EE.1", "serviceName": "oracle-ee",
        "sessionId": 1_080_000_000 + d.below(1_000_000), "startTime": null, "statementId": stmt_id,
        "substatementId": null, "transactionId": null,
    });
    let native = json!({
            "UNIFIED_AUDIT_POLICIES": "DAS_ALL_ACTIONS", "AUTHENTICATION_TYPE": "(TYPE=(DATABASE));",
            "OS_USERNAME": "ec2-user", "USERHOST": "ip-10-0-2-17", "TERMINAL": "pts/1", "INSTANCE_ID": 1,
            "ENTRY_ID": stmt_id, "SCN": 5_136_972 + stmt_id, "PROXY_SESSIONID": 0, "SYSTEM_PRIVILEGE_USED": null,
            "OBJECT_PRIVILEGES": null, "CLIENT_IDENTIFIER": null
    });
    with_native_fields(event, native)
}

const SQLSERVER_STATEMENTS: [(&str, &str, &str, &str); 4] = [
    ("TABLE", "SELECT", "Orders", "select * from [appdb].[dbo].[Orders] where CustomerId = 4711"),
    ("TABLE", "UPDATE", "Accounts", "update [dbo].[Accounts] set Balance = Balance - 10 where Id = 17"),
    ("SCHEMA", "ALTER", "dbo", "alter schema dbo transfer [staging].[Orders]"),
    ("LOGIN", "LOGIN SUCCEEDED", "", ""),
];

fn sqlserver_event(d: &mut Drbg, t: i64, stmt_id: usize) -> Value {
    let (class, command, object, text) = SQLSERVER_STATEMENTS[d.below(SQLSERVER_STATEMENTS.len())];
    let event = json!({
        "class": class, "clientApplication": "Microsoft SQL Server Management Studio - Query", "command": command,
        "commandText": text, "databaseName": "appdb", "dbProtocol": "SQLSERVER", "dbUserName": (["app_rw", "alice"][d.below(2)]),
        "endTime": null, "errorMessage": null, "exitCode": 1, "logTime": das_time(t).replace(".", ".0"),
        "netProtocol": null, "objectName": object, "objectType": if class == "TABLE" { "TABLE" } else { class },
        "paramList": null, "pid": null, "remoteHost": format!("10.0.3.{}", 10 + d.below(200)), "remotePort": null,
        "rowCount": d.below(100), "serverHost": "172.31.30.159", "serverType": "SQLSERVER",
        "serverVersion": "15.00.4073.23.v1.R1", "serviceName": "sqlserver-ee", "sessionId": 50 + d.below(100),
        "startTime": null, "statementId": format!("0x{}", hex::encode(d.bytes::<16>())), "substatementId": 1,
        "transactionId": (4_532_935 + stmt_id).to_string(), "type": "record",
    });
    let native = json!({
            "server_principal_id": 2, "database_principal_name": "dbo", "schema_name": "dbo",
            "object_id": 581_577_110 + d.below(1000), "server_instance_name": "EC2AMAZ-NFUJJNO",
            "session_server_principal_name": "app_rw", "connection_id": "AD3A5084-FB83-45C1-8334-E923459A8109",
            "permission_bitmask": "0x00000000000000000000000000000001", "response_rows": 0,
            "duration_milliseconds": d.below(50), "audit_schema_version": 1, "host_name": "EC2AMAZ-NFUJJNO"
    });
    with_native_fields(event, native)
}

fn with_native_fields(event: Value, native: Value) -> Value {
    let mut e = event.as_object().cloned().unwrap_or_default();
    e.insert("engineNativeAuditFields".into(), native);
    Value::Object(e)
}

/// Builds the Kinesis event (the JSON Lambda hands the function).
pub fn generate(opts: &GenerateOptions, keys: &LocalKeys) -> Value {
    let mut d = Drbg::new(opts.seed, "das-forwarder generate");
    let ctx = KeyContext {
        key: if opts.resource_id.starts_with("cluster-") { "aws:rds:dbc-id" } else { "aws:rds:db-id" },
        value: &opts.resource_id,
    };
    let wrapping: Vec<([u8; 32], String)> = (0..opts.data_keys.max(1))
        .map(|_| {
            let key = d.bytes::<32>();
            let blob = keys.seal(&key, ctx, d.bytes::<12>());
            (key, base64::engine::general_purpose::STANDARD.encode(blob))
        })
        .collect();
    build(opts, &mut d, &wrapping)
}

/// The same with wrapping keys made elsewhere, e.g. KMS `GenerateDataKey` under the RDS
/// encryption context: `(plaintext key, base64 ciphertext blob)`, shared round-robin.
pub fn generate_with_keys(opts: &GenerateOptions, wrapping: &[([u8; 32], String)]) -> Value {
    let mut d = Drbg::new(opts.seed, "das-forwarder generate");
    build(opts, &mut d, wrapping)
}

fn build(opts: &GenerateOptions, d: &mut Drbg, wrapping: &[([u8; 32], String)]) -> Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let arn = format!("arn:aws:kinesis:{}:{}:stream/aws-rds-das-{}", opts.region, opts.account, opts.resource_id);
    let mut stmt_id = 100;
    let mut records = Vec::new();
    for i in 0..opts.records {
        let mysql = match opts.profile {
            Profile::Mixed => i % 2 == 1,
            p => p == Profile::Mysql,
        };
        let t = opts.start_ms + i as i64 * 1_000;
        let mut events = Vec::new();
        let count = match (opts.events_per_record, opts.profile, i % 6) {
            (Some(n), _, _) => n,
            (None, p, k) => match (p, k) {
                (Profile::Heartbeats, _) | (Profile::Mixed, 4) => 0, // heartbeat only
                (_, 1 | 2) => 120,                                   // several 4096-byte frames
                _ => 1 + d.below(8),
            },
        };
        for j in 0..opts.max_events.map_or(count, |m| count.min(m)) {
            stmt_id += 1;
            let time = t + j as i64 * 3;
            match opts.profile {
                Profile::Oracle => events.push(oracle_event(d, time, stmt_id)),
                Profile::Sqlserver => events.push(sqlserver_event(d, time, stmt_id)),
                _ if mysql => events.extend(mysql_events(d, time, stmt_id)),
                _ => events.push(pg_event(d, time, stmt_id)),
            }
        }
        if count == 0 || d.below(3) == 0 {
            events.push(json!({"type": "heartbeat"}));
        }
        if let Some(n) = opts.statement_bytes {
            let pad = format!("SELECT '{}' AS pad", "a".repeat(n.saturating_sub(16)));
            for e in &mut events {
                if let Some(text) = e.get_mut("commandText").filter(|t| t.is_string()) {
                    *text = Value::String(pad.clone());
                }
            }
        }
        let cluster_id = if opts.resource_id.starts_with("cluster-") { opts.resource_id.as_str() } else { "" };
        let instance_id = match opts.profile {
            Profile::Oracle | Profile::Sqlserver if opts.resource_id.starts_with("db-") => opts.resource_id.clone(),
            Profile::Oracle => "db-DEMOINSTANCEORACLE".to_owned(),
            Profile::Sqlserver => "db-DEMOINSTANCESQLSERVER".to_owned(),
            _ => format!("db-DEMOINSTANCE{}", if mysql { "MYSQL" } else { "PG" }),
        };
        // In the order DAS writes the record: type, ids, then the list.
        let mut inner = format!(
            r#"{{"type":"DatabaseActivityMonitoringRecord","clusterId":{},"instanceId":{},"databaseActivityEventList":["#,
            Value::from(cluster_id),
            Value::from(instance_id)
        );
        let order: &[&str] = match opts.profile {
            _ if mysql => &MYSQL_ORDER,
            Profile::Mixed | Profile::Postgres | Profile::Heartbeats => &PG_ORDER,
            _ => &[],
        };
        for (n, e) in events.iter().enumerate() {
            if n > 0 {
                inner.push(',');
            }
            das_order(&mut inner, e, order);
        }
        inner.push_str("]}");
        let compressed = crate::sinks::s3::encoder::gzip(inner.as_bytes(), 6);
        let (wrapping_key, blob) = &wrapping[i % wrapping.len()];
        let params = EncryptParams {
            suite_id: 0x0178,
            frame_length: 4096,
            data_key: &d.bytes::<32>(),
            wrapping_key,
            message_id: &d.bytes::<16>(),
            wrap_iv: d.bytes::<12>(),
            context: &[],
        };
        let mut message = encrypt(&params, &compressed).unwrap_or_default();
        if opts.poison == Some(i) && !message.is_empty() {
            // One flipped bit in the last frame's ciphertext (before the 0178 footer's ~105 bytes):
            // its GCM tag no longer verifies.
            let at = message.len().saturating_sub(140);
            message[at] ^= 0x10;
        }
        let version = match opts.profile {
            Profile::Oracle => "1.3",
            Profile::Sqlserver => "1.4",
            _ if mysql => "1.2",
            _ => "1.1",
        };
        let record = json!({
            "type": "DatabaseActivityMonitoringRecords",
            "version": version,
            "databaseActivityEvents": b64(&message),
            "key": blob,
        });
        let seq = format!("4959{:052}", 1_000_000 + i as u64 * 17);
        records.push(json!({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": format!("{}", d.below(1 << 30)),
                "sequenceNumber": seq,
                "data": b64(record.to_string().as_bytes()),
                "approximateArrivalTimestamp": (t + 800) as f64 / 1000.0,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": format!("shardId-000000000000:{seq}"),
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": format!("arn:aws:iam::{}:role/das-forwarder", opts.account),
            "awsRegion": opts.region,
            "eventSourceARN": arn,
        }));
    }
    json!({ "Records": records })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        options: GenerateOptions,
    }

    #[test]
    fn defaults_are_the_cli_defaults() {
        let parsed = <Cli as clap::Parser>::parse_from(["generate"]).options;
        assert_eq!(format!("{parsed:?}"), format!("{:?}", GenerateOptions::default()));
    }
}
