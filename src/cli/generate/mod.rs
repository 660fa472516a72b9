//! `das-forwarder generate`: a realistic synthetic DAS Kinesis event,
//! encrypted for the local key provider. Aurora PostgreSQL (1.1) and Aurora
//! MySQL (1.2, MAIN and AUX) records, heartbeats, several records sharing a
//! wrapping key, and records large enough for several 4096-byte frames; the
//! record's fields in the order DAS writes them (ids before the list), and
//! optionally huge statements (`--statement-bytes`). Output is deterministic
//! for a given seed.

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::esdk::encrypt::{encrypt, EncryptParams};
use crate::keys::local::LocalKeys;
use crate::keys::KeyContext;

mod events;

use events::{das_order, mysql_events, oracle_event, pg_event, sqlserver_event, MYSQL_ORDER, PG_ORDER};

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
        let compressed = crate::gzip::gzip(inner.as_bytes(), 6);
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
