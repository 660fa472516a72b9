//! The one Arrow schema of every Parquet object: OCSF 1.3.0 Datastore Activity (class 6005)
//! as `ocsf::model::Event` serializes it. Fixed, never inferred from a batch: a column whose
//! type drifted between objects would break the Glue table over them. Nested OCSF objects are
//! structs, `observables` a list of structs, `unmapped` a map of strings (see `rows`), the
//! `*_dt` columns the same strings as in the NDJSON.

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};

fn text(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn int(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Int32, nullable)
}

fn long(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Int64, nullable)
}

fn object(name: &str, nullable: bool, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), nullable)
}

/// An OCSF "type" pair: `type_id` and its caption `type`.
fn typed(mut fields: Vec<Field>) -> Vec<Field> {
    fields.push(int("type_id", true));
    fields.push(text("type", true));
    fields
}

fn endpoint(name: &str, nullable: bool) -> Field {
    object(
        name,
        nullable,
        vec![
            text("ip", true),
            text("hostname", true),
            text("name", true),
            int("port", true),
            text("instance_uid", true),
            text("svc_name", true),
        ],
    )
}

fn build() -> Schema {
    let product = object(
        "product",
        false,
        vec![
            text("name", false),
            text("vendor_name", false),
            text("version", true),
            object("feature", false, vec![text("name", false)]),
        ],
    );
    let metadata = object(
        "metadata",
        false,
        vec![
            text("version", false),
            Field::new("profiles", DataType::List(Arc::new(text("element", true))), false),
            product,
            text("uid", false),
            text("correlation_uid", true),
            text("event_code", true),
            text("log_name", true),
            text("log_provider", false),
            text("log_version", true),
            text("original_time", true),
            text("tenant_uid", true),
        ],
    );
    let cloud = object(
        "cloud",
        false,
        vec![text("provider", false), text("region", true), object("account", true, typed(vec![text("uid", true)]))],
    );
    let actor = object(
        "actor",
        false,
        vec![
            object("user", true, typed(vec![text("name", true)])),
            object("session", true, vec![text("uid", true), Field::new("is_remote", DataType::Boolean, true)]),
            text("app_name", true),
        ],
    );
    let observable = object("element", true, {
        let mut f = vec![text("name", true)];
        f.extend(typed(Vec::new()));
        f.push(text("value", true));
        f
    });
    let entries =
        Field::new("key_value", DataType::Struct(Fields::from(vec![text("key", false), text("value", true)])), false);
    Schema::new(vec![
        int("category_uid", false),
        text("category_name", false),
        int("class_uid", false),
        text("class_name", false),
        int("activity_id", false),
        text("activity_name", false),
        long("type_uid", false),
        text("type_name", false),
        int("severity_id", false),
        text("severity", false),
        int("status_id", false),
        text("status", false),
        text("status_code", true),
        text("status_detail", true),
        long("time", false),
        text("time_dt", false),
        long("start_time", true),
        text("start_time_dt", true),
        long("end_time", true),
        text("end_time_dt", true),
        long("duration", true),
        int("timezone_offset", false),
        text("message", false),
        int("type_id", false),
        text("type", false),
        metadata,
        cloud,
        actor,
        endpoint("src_endpoint", false),
        endpoint("dst_endpoint", true),
        object("database", false, typed(vec![text("name", true), text("uid", false)])),
        object("table", true, vec![text("name", true)]),
        object("query_info", true, vec![text("uid", true), text("query_string", true)]),
        Field::new("observables", DataType::List(Arc::new(observable)), true),
        Field::new("unmapped", DataType::Map(Arc::new(entries), false), false),
    ])
}

/// The schema, built once.
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA.get_or_init(|| Arc::new(build())).clone()
}

/// Leaf column index of `time` (the sort column): every column before it is a primitive.
pub fn time_column() -> usize {
    let schema = schema();
    let index = schema.index_of("time").unwrap_or(0);
    debug_assert!(schema.fields()[..index]
        .iter()
        .all(|f| f.data_type().is_primitive() || f.data_type() == &DataType::Utf8));
    index
}
