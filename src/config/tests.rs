use super::*;
use crate::sinks::s3::{Format, Layout};
use std::collections::HashMap;

/// The sinks' names, in order.
fn names(c: &Config) -> Vec<&'static str> {
    c.sinks.iter().map(SinkConfig::name).collect()
}

fn hec(c: &Config) -> Option<&HecConfig> {
    c.sinks.iter().find_map(|s| match s {
        SinkConfig::Hec(h) => Some(h),
        _ => None,
    })
}

fn webhook(c: &Config) -> Option<&WebhookConfig> {
    c.sinks.iter().find_map(|s| match s {
        SinkConfig::Webhook(w) => Some(w),
        _ => None,
    })
}

fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(move |k| map.get(k).cloned())
}

#[test]
fn defaults() {
    let c = cfg(&[]).unwrap();
    assert_eq!(c.key_provider, KeyProviderKind::Kms);
    assert_eq!(names(&c), ["file"]);
    assert_eq!((c.cache_capacity, c.cache_ttl.as_secs()), (10_000, 3600));
    assert_eq!((c.prefixes.output.as_str(), c.prefixes.quarantine.as_str()), ("das/", "quarantine/"));
}

#[test]
fn security_lake_settings() {
    let lake = [("SINKS", "s3"), ("S3_BUCKET", "b"), ("S3_LAYOUT", "security-lake"), ("S3_FORMAT", "parquet")];
    assert_eq!(cfg(&lake).unwrap_err().var, "SECURITY_LAKE_SOURCE");
    let with = |extra: &[(&'static str, &'static str)]| cfg(&[&lake[..], extra].concat());
    let c = with(&[("SECURITY_LAKE_SOURCE", "rds-das")]).unwrap();
    let s3 = c.s3().unwrap();
    assert_eq!((s3.format, s3.layout.clone()), (Format::Parquet, Layout::SecurityLake { source: "rds-das".into() }));
    let c = with(&[("SECURITY_LAKE_SOURCE", "rds-das"), ("SECURITY_LAKE_SOURCE_VERSION", "1.0")]).unwrap();
    assert_eq!(c.security_lake_source.as_deref(), Some("rds-das/1.0"));
    assert_eq!(c.s3().unwrap().layout, Layout::SecurityLake { source: "rds-das/1.0".into() });
    for (var, value) in [("SECURITY_LAKE_SOURCE", "../x"), ("SECURITY_LAKE_SOURCE_VERSION", "..")] {
        let e = with(&[("SECURITY_LAKE_SOURCE", "rds-das"), (var, value)]).unwrap_err();
        assert_eq!(e.var, var);
    }
    let ndjson = [("SINKS", "s3"), ("S3_BUCKET", "b"), ("S3_LAYOUT", "security-lake"), ("SECURITY_LAKE_SOURCE", "x")];
    assert_eq!(cfg(&ndjson).unwrap_err().var, "S3_FORMAT");
    assert_eq!(cfg(&[("S3_FORMAT", "csv")]).unwrap_err().var, "S3_FORMAT");
    assert_eq!(cfg(&[("S3_LAYOUT", "flat")]).unwrap_err().var, "S3_LAYOUT");
    assert_eq!(cfg(&[("S3_EXTERNAL_ID", "e")]).unwrap_err().var, "S3_EXTERNAL_ID");
    assert_eq!(cfg(&[("SECURITY_LAKE_SOURCE_VERSION", "1")]).unwrap_err().var, "SECURITY_LAKE_SOURCE_VERSION");
    assert_eq!(cfg(&[("PARQUET_ZSTD_LEVEL", "23")]).unwrap_err().var, "PARQUET_ZSTD_LEVEL");
    let c = cfg(&[("S3_ROLE_ARN", "arn:aws:iam::1:role/r"), ("S3_EXTERNAL_ID", "e")]).unwrap();
    assert_eq!(c.s3_access.without_role(), S3Access::default());
}

#[test]
fn errors_name_the_variable() {
    assert_eq!(cfg(&[("KEY_PROVIDER", "vault")]).unwrap_err().var, "KEY_PROVIDER");
    assert_eq!(cfg(&[("KEY_PROVIDER", "local")]).unwrap_err().var, "LOCAL_MASTER_KEY_FILE");
    assert_eq!(cfg(&[("SINKS", "file,kafka")]).unwrap_err().var, "SINKS");
    assert_eq!(cfg(&[("DATA_KEY_CACHE_TTL_SECS", "soon")]).unwrap_err().var, "DATA_KEY_CACHE_TTL_SECS");
    assert_eq!(cfg(&[("DATA_KEY_CACHE_CAPACITY", "0")]).unwrap_err().var, "DATA_KEY_CACHE_CAPACITY");
    assert_eq!(cfg(&[("DAS_RESOURCE_ID", "mydb")]).unwrap_err().var, "DAS_RESOURCE_ID");
    assert_eq!(cfg(&[("S3_PREFIX", "../x")]).unwrap_err().var, "S3_PREFIX");
    assert_eq!(cfg(&[("SINKS", "s3")]).unwrap_err().var, "S3_BUCKET");
    assert_eq!(cfg(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"), ("SINKS", "hec")]).unwrap_err().var, "SINKS");
    // The local loop (`cargo lambda watch` with the demo key) may use the file sink alone.
    let local_loop = [
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
        ("KEY_PROVIDER", "local"),
        ("LOCAL_MASTER_KEY_FILE", "k.hex"),
        ("SINKS", "file"),
    ];
    assert!(cfg(&local_loop).is_ok());
    assert_eq!(cfg(&[("SINKS", "hec"), ("HEC_TOKEN", "t")]).unwrap_err().var, "HEC_URL");
    assert_eq!(cfg(&[("SINKS", "hec"), ("HEC_URL", "http://h")]).unwrap_err().var, "HEC_TOKEN");
    assert_eq!(cfg(&[("SINKS", "hec"), ("HEC_URL", "h:8088"), ("HEC_TOKEN", "t")]).unwrap_err().var, "HEC_URL");
    assert_eq!(cfg(&[("SINKS", "webhook"), ("WEBHOOK_URL", "http://w")]).unwrap_err().var, "WEBHOOK_SECRET");
    let both =
        [("SINKS", "webhook"), ("WEBHOOK_URL", "http://w"), ("WEBHOOK_SECRET", "s"), ("WEBHOOK_SECRET_ARN", "a")];
    assert_eq!(cfg(&both).unwrap_err().var, "WEBHOOK_SECRET");
    let arn = [("SINKS", "webhook"), ("WEBHOOK_URL", "http://w"), ("WEBHOOK_SECRET_ARN", "arn:aws:secretsmanager:x")];
    assert_eq!(webhook(&cfg(&arn).unwrap()).unwrap().secret_arn.as_deref(), Some("arn:aws:secretsmanager:x"));
    let bad_whsec = [("SINKS", "webhook"), ("WEBHOOK_URL", "http://w"), ("WEBHOOK_SECRET", "whsec_!!")];
    assert_eq!(cfg(&bad_whsec).unwrap_err().var, "WEBHOOK_SECRET");
    assert_eq!(
        cfg(&[("SINKS", "s3"), ("S3_BUCKET", "b"), ("S3_FORCE_PATH_STYLE", "maybe")]).unwrap_err().var,
        "S3_FORCE_PATH_STYLE"
    );
    let msg = cfg(&[("SINKS", "nope")]).unwrap_err().to_string();
    assert!(msg.contains("SINKS"), "{msg}");
}

#[test]
fn sinks_list_and_prefix_normalisation() {
    let c =
        cfg(&[("SINKS", "stdout, file,stdout"), ("S3_PREFIX", "audit"), ("EXCLUDE_USERS", "rdsadmin, rdsproxyadmin")])
            .unwrap();
    assert_eq!(c.filters.users, vec!["rdsadmin", "rdsproxyadmin"]);
    assert!(c.filters.commands.is_empty());
    assert_eq!(names(&c), ["stdout", "file"]);
    assert_eq!(c.prefixes.output, "audit/");
    let config =
        cfg(&[("SINKS", "hec,s3"), ("HEC_URL", "https://splunk:8088"), ("HEC_TOKEN", "t"), ("S3_BUCKET", "b")])
            .unwrap();
    let h = hec(&config).unwrap();
    assert_eq!((h.sourcetype.as_str(), h.max_batch_bytes, h.gzip, h.ack), ("ocsf:aws:rds:das", 1 << 20, false, false));
    assert_eq!(config.s3().unwrap().prefix, "das/");
}

/// Every variable the configuration reads has a row in docs/configuration.md, and every
/// variable a row names is read: here, or by the runtime, tracing or the AWS SDK.
#[test]
fn every_variable_read_is_documented_and_every_documented_one_is_read() {
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    let read = RefCell::new(BTreeSet::new());
    let secret = "whsec_c2VjcmV0LWtleS1ieXRlcw==";
    // Between them these reach every branch that reads a variable.
    let envs: [&[(&str, &str)]; 3] = [
        &[
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("KEY_PROVIDER", "local"),
            ("LOCAL_MASTER_KEY_FILE", "/k"),
            ("SINKS", "file,stdout,s3,hec,webhook"),
            ("S3_BUCKET", "b"),
            ("S3_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("S3_FORMAT", "parquet"),
            ("S3_LAYOUT", "security-lake"),
            ("SECURITY_LAKE_SOURCE", "rds-das"),
            ("SECURITY_LAKE_SOURCE_VERSION", "1.0"),
            ("HEC_URL", "http://h"),
            ("HEC_TOKEN", "t"),
            ("WEBHOOK_URL", "http://w"),
            ("WEBHOOK_SECRET", secret),
            ("REDACT_SQL", "full"),
            ("REDACT_HMAC_KEY", "0123456789abcdef0123"),
        ],
        &[
            ("SINKS", "hec,webhook"),
            ("HEC_URL", "http://h"),
            ("HEC_TOKEN_SECRET_ARN", "arn:s"),
            ("WEBHOOK_URL", "http://w"),
            ("WEBHOOK_SECRET_ARN", "arn:w"),
        ],
        &[],
    ];
    for pairs in envs {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        let result = Config::from_lookup(|k| {
            read.borrow_mut().insert(k.to_owned());
            map.get(k).map(|v| v.to_string())
        });
        assert!(result.is_ok(), "{pairs:?}: {:?}", result.err());
    }
    let read = read.into_inner();
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md")).unwrap();
    // The names in the first cell of each row: `NAME`, or several of them.
    let documented: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .flat_map(|l| l.split('|').next().unwrap_or("").split('`').map(str::trim).collect::<Vec<_>>())
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
        .map(str::to_owned)
        .collect();
    // Read by tracing and by the AWS SDK.
    let read_elsewhere = ["RUST_LOG", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_MAX_ATTEMPTS"];
    let undocumented: Vec<_> = read.iter().filter(|v| !documented.contains(*v)).collect();
    assert!(undocumented.is_empty(), "read but not in docs/configuration.md: {undocumented:?}");
    let unread: Vec<_> =
        documented.iter().filter(|v| !read.contains(*v) && !read_elsewhere.contains(&v.as_str())).collect();
    assert!(unread.is_empty(), "in docs/configuration.md but never read: {unread:?}");
}
