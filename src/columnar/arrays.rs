//! Rows (JSON values of the fixed schema) to Arrow arrays and back, walking the schema: no
//! type is ever inferred, a value of the wrong type or a field the schema lacks is an error
//! that names the column, and nothing is dropped silently.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Int32Array, Int64Array, ListArray, MapArray, RecordBatch, StringArray, StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Fields};
use serde_json::{Map, Value};

use super::{schema, ColumnarError};

fn wrong(path: &str, what: &str) -> ColumnarError {
    ColumnarError::Line(format!("{path}: {what}"))
}

/// What kind of JSON value `v` is (errors name it, never the value: it may be SQL text).
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The rows as one record batch of the fixed schema.
pub fn to_batch(rows: &[Value]) -> Result<RecordBatch, ColumnarError> {
    let schema = schema::schema();
    let present: Vec<Option<&Value>> = rows.iter().map(Some).collect();
    let columns = fields(schema.fields(), &present, "")?;
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// The columns of `fields` from `objects` (None: the parent is null in that row).
fn fields(fields: &Fields, objects: &[Option<&Value>], path: &str) -> Result<Vec<ArrayRef>, ColumnarError> {
    for object in objects.iter().flatten() {
        let map = object.as_object().ok_or_else(|| wrong(path, "not an object"))?;
        if let Some(extra) = map.keys().find(|k| fields.find(k).is_none()) {
            return Err(wrong(&format!("{path}{extra}"), "not in the fixed schema"));
        }
    }
    fields
        .iter()
        .map(|f| {
            let values: Vec<Option<&Value>> =
                objects.iter().map(|o| o.and_then(|o| o.get(f.name())).filter(|v| !v.is_null())).collect();
            let parent: Vec<bool> = objects.iter().map(Option::is_some).collect();
            column(f, &values, &parent, &format!("{path}{}", f.name()))
        })
        .collect()
}

/// One column. `parent[i]`: the enclosing object exists in row i (a missing value of a
/// non-nullable field is an error only there).
fn column(field: &Field, values: &[Option<&Value>], parent: &[bool], path: &str) -> Result<ArrayRef, ColumnarError> {
    if !field.is_nullable() && values.iter().zip(parent).any(|(v, p)| *p && v.is_none()) {
        return Err(wrong(path, "missing"));
    }
    let nulls = || NullBuffer::from(values.iter().map(Option::is_some).collect::<Vec<bool>>());
    let each = |f: &dyn Fn(&Value) -> Option<()>| -> Result<(), ColumnarError> {
        match values.iter().flatten().find(|v| f(v).is_none()) {
            Some(bad) => Err(wrong(path, &format!("a JSON {} is not a {}", json_type(bad), field.data_type()))),
            None => Ok(()),
        }
    };
    Ok(match field.data_type() {
        DataType::Int32 => {
            each(&|v| v.as_i64().and_then(|n| i32::try_from(n).ok()).map(|_| ()))?;
            let narrow = |v: &Value| v.as_i64().and_then(|n| i32::try_from(n).ok());
            Arc::new(values.iter().map(|v| v.and_then(narrow)).collect::<Int32Array>())
        }
        DataType::Int64 => {
            each(&|v| v.as_i64().map(|_| ()))?;
            Arc::new(values.iter().map(|v| v.and_then(Value::as_i64)).collect::<Int64Array>())
        }
        DataType::Utf8 => {
            each(&|v| v.as_str().map(|_| ()))?;
            Arc::new(values.iter().map(|v| v.and_then(Value::as_str)).collect::<StringArray>())
        }
        DataType::Boolean => {
            each(&|v| v.as_bool().map(|_| ()))?;
            Arc::new(values.iter().map(|v| v.and_then(Value::as_bool)).collect::<BooleanArray>())
        }
        DataType::Struct(children) => {
            let columns = fields(children, values, &format!("{path}."))?;
            Arc::new(StructArray::try_new(children.clone(), columns, Some(nulls()))?)
        }
        DataType::List(item) => {
            each(&|v| v.as_array().map(|_| ()))?;
            let lists: Vec<&[Value]> =
                values.iter().map(|v| v.and_then(Value::as_array).map_or(&[][..], Vec::as_slice)).collect();
            let items: Vec<Option<&Value>> =
                lists.iter().flat_map(|l| l.iter()).map(|v| Some(v).filter(|v| !v.is_null())).collect();
            let child = column(item, &items, &vec![true; items.len()], &format!("{path}[]"))?;
            let offsets = OffsetBuffer::from_lengths(lists.iter().map(|l| l.len()));
            Arc::new(ListArray::try_new(item.clone(), offsets, child, Some(nulls()))?)
        }
        DataType::Map(entries, sorted) => {
            each(&|v| v.as_object().map(|_| ()))?;
            let empty = Map::new();
            let maps: Vec<&Map<String, Value>> =
                values.iter().map(|v| v.and_then(Value::as_object).unwrap_or(&empty)).collect();
            let keys: StringArray = maps.iter().flat_map(|m| m.keys()).map(Some).collect();
            let mut texts = Vec::with_capacity(keys.len());
            for (k, v) in maps.iter().flat_map(|m| m.iter()) {
                match v {
                    Value::String(s) => texts.push(Some(s.as_str())),
                    Value::Null => texts.push(None),
                    other => {
                        return Err(wrong(
                            &format!("{path}.{k}"),
                            &format!("a JSON {} is not a string", json_type(other)),
                        ))
                    }
                }
            }
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(wrong(path, "map entries are not a struct"));
            };
            let pairs: Vec<ArrayRef> = vec![Arc::new(keys), Arc::new(StringArray::from(texts))];
            let entries_array = StructArray::try_new(kv.clone(), pairs, None)?;
            let offsets = OffsetBuffer::from_lengths(maps.iter().map(|m| m.len()));
            Arc::new(MapArray::try_new(entries.clone(), offsets, entries_array, Some(nulls()), *sorted)?)
        }
        other => return Err(wrong(path, &format!("type {other} is not in the fixed schema"))),
    })
}

/// Row `i` of a record batch as a JSON object; nulls are left out (as the NDJSON does) except
/// as map values.
pub fn row(batch: &RecordBatch, i: usize) -> Value {
    let mut object = Map::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let v = value(column.as_ref(), i);
        if !v.is_null() {
            object.insert(field.name().clone(), v);
        }
    }
    Value::Object(object)
}

fn value(array: &dyn Array, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Int32 => Value::from(array.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => Value::from(array.as_primitive::<Int64Type>().value(i)),
        DataType::Utf8 => Value::from(array.as_string::<i32>().value(i)),
        DataType::Boolean => Value::from(array.as_boolean().value(i)),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut object = Map::new();
            for (field, column) in fields.iter().zip(s.columns()) {
                let v = value(column.as_ref(), i);
                if !v.is_null() {
                    object.insert(field.name().clone(), v);
                }
            }
            Value::Object(object)
        }
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(i);
            Value::Array((0..items.len()).map(|j| value(items.as_ref(), j)).collect())
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(i);
            let (keys, texts) = (entries.column(0), entries.column(1));
            let keys = keys.as_string::<i32>();
            Value::Object((0..entries.len()).map(|j| (keys.value(j).to_owned(), value(texts.as_ref(), j))).collect())
        }
        // The fixed schema has no other type: `read_lines` refuses files of another schema.
        _ => Value::Null,
    }
}
