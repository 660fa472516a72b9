//! `das-forwarder generate`: a realistic synthetic DAS Kinesis event,
//! encrypted for the local key provider. Aurora PostgreSQL (1.1) and Aurora
//! MySQL (1.2, MAIN and AUX) records, heartbeats, several records sharing a
//! wrapping key, and records large enough for several 4096-byte frames.
//! Output is deterministic for a given seed.

use base64::Engine;
use chrono::DateTime;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::esdk::encrypt::{encrypt, EncryptParams};
use crate::keys::local::LocalKeys;
use crate::keys::KeyContext;

pub struct GenerateOptions {
    pub records: usize,
    pub seed: u64,
    pub resource_id: String,
    pub region: String,
    pub account: String,
    /// Distinct wrapping keys (KMS blobs) shared round-robin by the records.
    pub data_keys: usize,
    pub start_ms: i64,
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
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let arn = format!("arn:aws:kinesis:{}:{}:stream/aws-rds-das-{}", opts.region, opts.account, opts.resource_id);
    let mut stmt_id = 100;
    let mut records = Vec::new();
    for i in 0..opts.records {
        let mysql = i % 2 == 1;
        let t = opts.start_ms + i as i64 * 1_000;
        let mut events = Vec::new();
        let count = match i % 6 {
            4 => 0,       // heartbeat only
            1 | 2 => 120, // several 4096-byte frames
            _ => 1 + d.below(8),
        };
        for j in 0..count {
            stmt_id += 1;
            let time = t + j as i64 * 3;
            if mysql {
                events.extend(mysql_events(&mut d, time, stmt_id));
            } else {
                events.push(pg_event(&mut d, time, stmt_id));
            }
        }
        if count == 0 || d.below(3) == 0 {
            events.push(json!({"type": "heartbeat"}));
        }
        let inner = json!({
            "type": "DatabaseActivityMonitoringRecord",
            "clusterId": if opts.resource_id.starts_with("cluster-") { opts.resource_id.as_str() } else { "" },
            "instanceId": format!("db-DEMOINSTANCE{}", if mysql { "MYSQL" } else { "PG" }),
            "databaseActivityEventList": events,
        });
        let compressed = crate::sinks::s3::encoder::gzip(inner.to_string().as_bytes(), 6);
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
        let message = encrypt(&params, &compressed).unwrap_or_default();
        let record = json!({
            "type": "DatabaseActivityMonitoringRecords",
            "version": if mysql { "1.2" } else { "1.1" },
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
