//! NDJSON event lines as Parquet rows. A row is the event's JSON with `unmapped` flattened
//! to one level of strings: nested keys joined with `.` (`das.errorMessage`), strings kept,
//! `null` kept as a null value, numbers, booleans and arrays as their JSON text.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::ColumnarError;

/// What sorting, de-duplication and partitioning need from a line, read without building the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    pub time: i64,
    pub uid: String,
    pub region: Option<String>,
    pub account: Option<String>,
}

#[derive(Deserialize)]
struct KeyFields {
    time: i64,
    metadata: MetadataUid,
    #[serde(default)]
    cloud: Option<CloudFields>,
}

#[derive(Deserialize)]
struct MetadataUid {
    uid: String,
}

#[derive(Deserialize)]
struct CloudFields {
    region: Option<String>,
    account: Option<AccountUid>,
}

#[derive(Deserialize)]
struct AccountUid {
    uid: String,
}

/// A line that did not read, by position only: serde's message may quote a value (SQL text).
fn syntax(what: &str, e: &serde_json::Error) -> ColumnarError {
    ColumnarError::Line(format!("{what} (line {} column {}, {:?})", e.line(), e.column(), e.classify()))
}

/// The sort key and partition of one event line.
pub fn key(line: &[u8]) -> Result<RowKey, ColumnarError> {
    let k: KeyFields = serde_json::from_slice(line).map_err(|e| syntax("no time and metadata.uid", &e))?;
    let cloud = k.cloud.unwrap_or(CloudFields { region: None, account: None });
    Ok(RowKey { time: k.time, uid: k.metadata.uid, region: cloud.region, account: cloud.account.map(|a| a.uid) })
}

/// One line as a row of the fixed schema.
pub fn row(line: &[u8]) -> Result<Value, ColumnarError> {
    let mut event: Value = serde_json::from_slice(line).map_err(|e| syntax("not JSON", &e))?;
    let object = event.as_object_mut().ok_or_else(|| ColumnarError::Line("not a JSON object".into()))?;
    let unmapped = match object.remove("unmapped") {
        Some(Value::Object(map)) => map,
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(ColumnarError::Line("unmapped: not an object".into())),
    };
    let mut flat = Map::new();
    flatten("", unmapped, &mut flat);
    object.insert("unmapped".into(), Value::Object(flat));
    Ok(event)
}

/// `unmapped` flattened as described in the module documentation.
pub fn flatten(prefix: &str, map: Map<String, Value>, out: &mut Map<String, Value>) {
    for (k, v) in map {
        let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
        match v {
            Value::Object(inner) if !inner.is_empty() => flatten(&key, inner, out),
            Value::String(s) => {
                out.insert(key, Value::String(s));
            }
            Value::Null => {
                out.insert(key, Value::Null);
            }
            other => {
                out.insert(key, Value::String(other.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn flattens_unmapped_to_strings() {
        let line = json!({"time": 5, "metadata": {"uid": "u"}, "unmapped": {
            "das": {"pid": 7, "paramList": ["a", 1], "errorMessage": null, "class": "READ", "deep": {"x": true}, "e": {}},
            "das_cluster_id": "cluster-1"
        }})
        .to_string();
        let row = super::row(line.as_bytes()).unwrap();
        assert_eq!(
            row["unmapped"],
            json!({"das.pid": "7", "das.paramList": "[\"a\",1]", "das.errorMessage": null, "das.class": "READ",
                   "das.deep.x": "true", "das.e": "{}", "das_cluster_id": "cluster-1"})
        );
        // Flattening a flat map changes nothing: rows read back from Parquet flatten to themselves.
        let again = super::row(row.to_string().as_bytes()).unwrap();
        assert_eq!(again, row);
        let key = super::key(line.as_bytes()).unwrap();
        assert_eq!((key.time, key.uid.as_str(), key.region, key.account), (5, "u", None, None));
        assert!(super::row(b"[1]").is_err() && super::key(b"{\"time\":\"x\"}").is_err());
    }
}
