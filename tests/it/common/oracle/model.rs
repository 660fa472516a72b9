//! Frozen copy (oracle) of the old `ocsf/model.rs`. Typed OCSF 1.3.0 Datastore Activity (class 6005) events, profiles
//! `cloud` and `datetime`. Absent values are not serialized.

use serde::Serialize;
use serde_json::{Map, Value};

pub const OCSF_VERSION: &str = "1.3.0";
pub const CLASS_UID: u32 = 6005;
pub const CATEGORY_UID: u32 = 6;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub category_uid: u32,
    pub category_name: &'static str,
    pub class_uid: u32,
    pub class_name: &'static str,
    pub activity_id: u8,
    pub activity_name: String,
    pub type_uid: u32,
    pub type_name: String,
    pub severity_id: u8,
    pub severity: &'static str,
    pub status_id: u8,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_detail: Option<String>,
    pub time: i64,
    pub time_dt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time_dt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time_dt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    pub timezone_offset: i32,
    pub message: String,
    /// Datastore type: 1 Database, 3 Table.
    pub type_id: u8,
    #[serde(rename = "type")]
    pub type_caption: &'static str,
    pub metadata: Metadata,
    pub cloud: Cloud,
    pub actor: Actor,
    pub src_endpoint: Endpoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_endpoint: Option<Endpoint>,
    pub database: Database,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_info: Option<QueryInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub observables: Vec<Observable>,
    /// Every DAS field not placed in an OCSF attribute, under `das`, by its original name.
    pub unmapped: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    pub version: &'static str,
    pub profiles: [&'static str; 2],
    pub product: Product,
    pub uid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_name: Option<String>,
    pub log_provider: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_uid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub name: String,
    pub vendor_name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub feature: Feature,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feature {
    pub name: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cloud {
    pub provider: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub uid: String,
    pub type_id: u8,
    #[serde(rename = "type")]
    pub type_caption: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Actor {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub name: String,
    pub type_id: u8,
    #[serde(rename = "type")]
    pub type_caption: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub uid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_remote: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Endpoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub svc_name: Option<String>,
}

impl Endpoint {
    /// The schema wants at least one identifying attribute.
    pub fn is_identified(&self) -> bool {
        self.ip.is_some()
            || self.hostname.is_some()
            || self.name.is_some()
            || self.instance_uid.is_some()
            || self.svc_name.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Database {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub uid: String,
    pub type_id: u8,
    #[serde(rename = "type")]
    pub type_caption: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryInfo {
    pub uid: String,
    pub query_string: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observable {
    pub name: &'static str,
    pub type_id: u8,
    #[serde(rename = "type")]
    pub type_caption: &'static str,
    pub value: String,
}

/// Caption of an OCSF severity id.
pub fn severity_caption(id: u8) -> &'static str {
    match id {
        1 => "Informational",
        2 => "Low",
        3 => "Medium",
        4 => "High",
        5 => "Critical",
        6 => "Fatal",
        99 => "Other",
        _ => "Unknown",
    }
}

/// Caption of an OCSF status id.
pub fn status_caption(id: u8) -> &'static str {
    match id {
        1 => "Success",
        2 => "Failure",
        99 => "Other",
        _ => "Unknown",
    }
}
