//! Checks every OCSF event must pass: the OCSF 1.3.0 class-6005 JSON Schema
//! (profiles cloud + datetime) and the two rules the schema cannot express:
//! `type_uid = class_uid * 100 + activity_id` and enum captions that equal
//! the captions of their ids (tables below, from the OCSF 1.3.0 dictionary).

use serde_json::Value;

use super::shared_dir;

pub struct OcsfValidator {
    schema: Option<jsonschema::Validator>,
}

fn caption<'a>(table: &[(u64, &'a str)], id: u64) -> Option<&'a str> {
    table.iter().find(|(i, _)| *i == id).map(|(_, c)| *c)
}

const ACTIVITY: &[(u64, &str)] = &[
    (0, "Unknown"),
    (1, "Read"),
    (2, "Update"),
    (3, "Connect"),
    (4, "Query"),
    (5, "Write"),
    (6, "Create"),
    (7, "Delete"),
    (8, "List"),
    (9, "Encrypt"),
    (10, "Decrypt"),
    (99, "Other"),
];
const SEVERITY: &[(u64, &str)] = &[
    (0, "Unknown"),
    (1, "Informational"),
    (2, "Low"),
    (3, "Medium"),
    (4, "High"),
    (5, "Critical"),
    (6, "Fatal"),
    (99, "Other"),
];
const STATUS: &[(u64, &str)] = &[(0, "Unknown"), (1, "Success"), (2, "Failure"), (99, "Other")];
const DATASTORE_TYPE: &[(u64, &str)] =
    &[(0, "Unknown"), (1, "Database"), (2, "Databucket"), (3, "Table"), (99, "Other")];
const DATABASE_TYPE: &[(u64, &str)] = &[
    (0, "Unknown"),
    (1, "Relational"),
    (2, "Network"),
    (3, "Object Oriented"),
    (4, "Centralized"),
    (5, "Operational"),
    (6, "NoSQL"),
    (99, "Other"),
];
const USER_TYPE: &[(u64, &str)] = &[(0, "Unknown"), (1, "User"), (2, "Admin"), (3, "System"), (99, "Other")];
const OBSERVABLE_TYPE: &[(u64, &str)] = &[(2, "IP Address"), (4, "User Name")];
const ACCOUNT_TYPE: &[(u64, &str)] = &[(10, "AWS Account")];

impl OcsfValidator {
    /// Loads the schema from `../shared/reference/ocsf/`; without it only the rules are checked.
    pub fn new() -> OcsfValidator {
        let path = shared_dir().join("reference/ocsf/datastore_activity-1.3.0-cloud-datetime.schema.json");
        let schema = match std::fs::read(&path) {
            Ok(bytes) => {
                let json: Value = serde_json::from_slice(&bytes).unwrap();
                Some(jsonschema::draft202012::new(&json).expect("schema compiles"))
            }
            Err(_) => {
                eprintln!("SKIPPED schema check: {} not found (set DAS_SHARED_DIR)", path.display());
                None
            }
        };
        OcsfValidator { schema }
    }

    pub fn has_schema(&self) -> bool {
        self.schema.is_some()
    }

    /// Panics with every problem found.
    pub fn check(&self, event: &Value) {
        let problems = self.problems(event);
        assert!(problems.is_empty(), "invalid OCSF event:\n  {}\n{event:#}", problems.join("\n  "));
    }

    /// Everything wrong with `event` (empty when it is valid).
    pub fn problems(&self, event: &Value) -> Vec<String> {
        let mut problems: Vec<String> = Vec::new();
        if let Some(schema) = &self.schema {
            problems.extend(schema.iter_errors(event).map(|e| format!("{} at {}", e, e.instance_path())));
        }
        let n = |p: &str| event.pointer(p).and_then(Value::as_u64);
        let s = |p: &str| event.pointer(p).and_then(Value::as_str);
        if n("/type_uid") != Some(n("/class_uid").unwrap_or(0) * 100 + n("/activity_id").unwrap_or(0)) {
            problems.push("type_uid != class_uid * 100 + activity_id".into());
        }
        let mut sibling = |id: &str, name: &str, table: &[(u64, &str)], required: bool| match (n(id), s(name)) {
            (Some(99), Some(_)) => {}
            (Some(i), Some(c)) if caption(table, i) == Some(c) => {}
            (None, None) if !required => {}
            (i, c) => problems.push(format!("{name} {c:?} is not the caption of {id} {i:?}")),
        };
        sibling("/activity_id", "/activity_name", ACTIVITY, true);
        sibling("/severity_id", "/severity", SEVERITY, true);
        sibling("/status_id", "/status", STATUS, false);
        sibling("/type_id", "/type", DATASTORE_TYPE, false);
        sibling("/database/type_id", "/database/type", DATABASE_TYPE, false);
        sibling("/actor/user/type_id", "/actor/user/type", USER_TYPE, false);
        sibling("/cloud/account/type_id", "/cloud/account/type", ACCOUNT_TYPE, false);
        let activity = caption(ACTIVITY, n("/activity_id").unwrap_or(0)).unwrap_or("?");
        if s("/type_name") != Some(&format!("Datastore Activity: {activity}")) {
            problems.push(format!("type_name {:?} for activity {activity}", s("/type_name")));
        }
        if (s("/class_name"), s("/category_name")) != (Some("Datastore Activity"), Some("Application Activity")) {
            problems.push("class_name or category_name".into());
        }
        for (i, o) in event["observables"].as_array().into_iter().flatten().enumerate() {
            let (id, c) = (o["type_id"].as_u64().unwrap_or(0), o["type"].as_str());
            if caption(OBSERVABLE_TYPE, id) != c {
                problems.push(format!("observable {i}: type {c:?} for type_id {id}"));
            }
        }
        problems
    }
}

/// Every field of the DAS event is somewhere in the OCSF event: under
/// `unmapped.das` by its name and value, or its text as a value of an attribute.
pub fn assert_lossless(das: &serde_json::Map<String, Value>, event: &Value) {
    let mut leaves = std::collections::HashSet::new();
    collect(event, &mut leaves);
    let unmapped = &event["unmapped"]["das"];
    for (k, v) in das {
        if let Some(kept) = unmapped.get(k) {
            assert_eq!(kept, v, "unmapped.das.{k} changed");
            continue;
        }
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => panic!("field {k} = {other} is neither placed nor under unmapped.das"),
        };
        let as_time = das_forwarder::das::time::parse(&text).map(|t| t.rfc3339.to_string());
        assert!(
            leaves.contains(&text) || as_time.is_some_and(|t| leaves.contains(&t)),
            "field {k} = {v} is nowhere in the OCSF event"
        );
    }
}

fn collect(v: &Value, out: &mut std::collections::HashSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Number(n) => {
            out.insert(n.to_string());
        }
        Value::Bool(b) => {
            out.insert(b.to_string());
        }
        Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect(x, out)),
        Value::Null => {}
    }
}
