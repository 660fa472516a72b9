//! The synthetic activity events of each engine, with their fields in the order DAS writes
//! them: Aurora PostgreSQL and MySQL, RDS for Oracle and SQL Server.

use chrono::DateTime;
use serde_json::{json, Value};

use super::Drbg;

/// The order Aurora PostgreSQL writes an event's fields in (from the AWS documentation's examples).
pub(super) const PG_ORDER: [&str; 27] = [
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
pub(super) const MYSQL_ORDER: [&str; 29] = [
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
pub(super) fn das_order(out: &mut String, event: &Value, order: &[&str]) {
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

pub(super) fn pg_event(d: &mut Drbg, t: i64, stmt_id: usize) -> Value {
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

pub(super) fn mysql_events(d: &mut Drbg, t: i64, stmt_id: usize) -> Vec<Value> {
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

pub(super) fn oracle_event(d: &mut Drbg, t: i64, stmt_id: usize) -> Value {
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

pub(super) fn sqlserver_event(d: &mut Drbg, t: i64, stmt_id: usize) -> Value {
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
