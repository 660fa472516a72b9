//! Typed OCSF 1.3.0 Datastore Activity (class 6005) events, profiles `cloud` and `datetime`.
//! The text fields borrow from the DAS event and its record where they can; `write.rs` writes
//! an event as one JSON line, attributes in the order declared here, absent values left out.

use std::borrow::Cow;

use crate::das::time::Rfc3339;
use crate::das::RawEvent;

pub const CLASS_UID: u32 = 6005;

pub type Text<'e> = Cow<'e, str>;

#[derive(Debug, Clone)]
pub struct Event<'e> {
    pub activity_id: u8,
    pub activity_name: Text<'static>,
    pub type_uid: u32,
    pub type_name: &'static str,
    pub severity_id: u8,
    pub status_id: u8,
    pub status_code: Option<String>,
    pub status_detail: Option<String>,
    pub time: i64,
    pub time_dt: Rfc3339,
    pub start_time: Option<i64>,
    pub start_time_dt: Option<Rfc3339>,
    pub end_time: Option<i64>,
    pub end_time_dt: Option<Rfc3339>,
    pub duration: Option<i64>,
    pub timezone_offset: i32,
    pub message: String,
    /// Datastore type: 1 Database, 3 Table.
    pub type_id: u8,
    pub type_caption: &'static str,
    pub metadata: Metadata<'e>,
    pub cloud: Cloud<'e>,
    pub actor: Actor<'e>,
    pub src_endpoint: Endpoint<'e>,
    pub dst_endpoint: Option<Endpoint<'e>>,
    pub database: Database<'e>,
    pub table: Option<Table<'e>>,
    pub query_info: Option<QueryInfo<'e>>,
    pub observables: Vec<Observable<'e>>,
    pub unmapped: Unmapped<'e>,
}

#[derive(Debug, Clone)]
pub struct Metadata<'e> {
    pub product: Product<'e>,
    pub uid: Uid,
    /// `<owner>:<session>:<statement>`.
    pub correlation_uid: Option<[Text<'e>; 3]>,
    pub event_code: Option<Text<'e>>,
    pub log_name: Option<&'e str>,
    pub log_version: Option<&'e str>,
    pub original_time: Option<Text<'e>>,
    pub tenant_uid: Option<&'e str>,
}

#[derive(Debug, Clone)]
pub struct Product<'e> {
    pub name: Text<'e>,
    pub version: Option<Text<'e>>,
}

#[derive(Debug, Clone)]
pub struct Cloud<'e> {
    pub region: Option<&'e str>,
    /// The AWS account id.
    pub account: Option<&'e str>,
}

#[derive(Debug, Clone)]
pub struct Actor<'e> {
    pub user: Option<User<'e>>,
    pub session: Option<Session<'e>>,
    pub app_name: Option<Text<'e>>,
}

#[derive(Debug, Clone)]
pub struct User<'e> {
    pub name: Text<'e>,
    pub type_id: u8,
    pub type_caption: &'static str,
}

#[derive(Debug, Clone)]
pub struct Session<'e> {
    pub uid: Text<'e>,
    pub is_remote: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct Endpoint<'e> {
    pub ip: Option<Text<'e>>,
    pub hostname: Option<Text<'e>>,
    pub name: Option<Text<'e>>,
    pub port: Option<u16>,
    pub instance_uid: Option<&'e str>,
    pub svc_name: Option<Text<'e>>,
}

impl Endpoint<'_> {
    /// The schema wants at least one identifying attribute.
    pub fn is_identified(&self) -> bool {
        self.ip.is_some()
            || self.hostname.is_some()
            || self.name.is_some()
            || self.instance_uid.is_some()
            || self.svc_name.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Database<'e> {
    pub name: Option<Text<'e>>,
    /// The cluster (or resource) id: `uid` is `<owner>/<name>`, or `<owner>` alone.
    pub owner: &'e str,
}

#[derive(Debug, Clone)]
pub struct Table<'e> {
    pub name: Text<'e>,
}

#[derive(Debug, Clone)]
pub struct QueryInfo<'e> {
    /// `<session>:<statement>:<substatement>`, or (without them) the event's uid.
    pub uid: Option<[Text<'e>; 3]>,
    pub query_string: Text<'e>,
}

/// The event's uid: 32 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uid(pub [u8; 32]);

impl Uid {
    /// Written where the uid goes while its event waits to be hashed with the next one.
    pub const PENDING: Uid = Uid([b'0'; 32]);

    /// The first 16 bytes of a SHA-256 digest, in hex.
    pub fn of_digest(digest: &[u8; 32]) -> Uid {
        let mut hex = [0u8; 32];
        // Encoding into a buffer of exactly twice the input's length cannot fail.
        let _ = hex::encode_to_slice(&digest[..16], &mut hex);
        Uid(hex)
    }

    pub fn as_str(&self) -> &str {
        // Hex digits are ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct Observable<'e> {
    pub name: &'static str,
    pub type_id: u8,
    pub type_caption: &'static str,
    pub value: Text<'e>,
}

/// `unmapped`: every DAS field no attribute holds (`das`, by its DAS name, as it arrived), the
/// record's cluster id, and what redaction did.
#[derive(Debug, Clone)]
pub struct Unmapped<'e> {
    /// The event whose unplaced fields go under `das`.
    pub das: &'e RawEvent<'e>,
    pub das_cluster_id: Option<&'e str>,
    pub redaction: Option<crate::redact::Redaction>,
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
