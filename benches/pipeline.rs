//! `make bench`: the whole CPU path of das-forwarder beside the AWS documentation's Python
//! consumer, on one corpus, in one run. Everything is local: KMS is a moto server on a loopback
//! port (started here, stopped by its PID), and the same KMS serves both sides.
//!
//! Prints: events/s per core and MB/s of input end to end (envelope → cached key → ESDK decrypt →
//! inflate → parse → OCSF → NDJSON → gzip), with 1 and 2 decode threads; the time per stage; KMS
//! calls; gzip levels; the Python baseline with one KMS call per record and with its KMS calls
//! cached, and the ratios; the peak resident memory of `das-forwarder invoke` on a 10,000-record
//! batch of about 6 MB; process start to ready; the size of the arm64 `bootstrap`.
//!
//! Flags (after `--`): `--records N` (corpus records, default 2000), `--runs N` (default 5),
//! `--binary PATH` (default target/release/das-forwarder), `--skip-python`. Without `--bench`
//! (as `cargo test --all-targets` runs it) it makes a small smoke run instead.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::kinesis::KinesisEvent;
use common::moto::{venv, Moto};
use common::repo_dir;
use das_forwarder::cli::generate::{generate_with_keys, GenerateOptions};
use das_forwarder::config::Config;
use das_forwarder::das::activity::parse_record;
use das_forwarder::das::envelope;
use das_forwarder::das::inflate::inflate;
use das_forwarder::das::resource::resource_id;
use das_forwarder::decode::{lookup, Decoded};
use das_forwarder::esdk::{self, RawAesKeyring};
use das_forwarder::handler::Forwarder;
use das_forwarder::keys::kms::KmsKeys;
use das_forwarder::keys::{DataKeyCache, KeyContext, KeyProvider};
use das_forwarder::ocsf::Filters;
use das_forwarder::ocsf::{map, RecordContext};
use das_forwarder::output::encode_record;
use das_forwarder::sinks::partition::partition;
use das_forwarder::sinks::quarantine::FileQuarantine;
use das_forwarder::sinks::s3::encoder::{gzip, gzip_lines};
use das_forwarder::sinks::{OutputBatch, RejectedEvent, Sink, SinkError};
use futures::future::BoxFuture;

const RESOURCE: &str = "cluster-BENCH7Q2LKXH3ZC5RTUVWX4Y";
const DATA_KEYS: usize = 4;
const EVENTS_PER_RECORD: usize = 25;

struct Args {
    records: usize,
    runs: usize,
    binary: PathBuf,
    python: bool,
}

fn args() -> Args {
    let mut a = Args { records: 2000, runs: 5, binary: repo_dir().join("target/release/das-forwarder"), python: true };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if !argv.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs this binary without `--bench`: a small smoke run
        // of every section, so the bench cannot rot unnoticed (no numbers worth reading).
        a.records = 24;
        a.runs = 1;
        a.binary = PathBuf::from("/nonexistent/smoke-run");
    }
    let mut i = 0;
    while i < argv.len() {
        let value = || argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--records" => a.records = value().parse().expect("--records N"),
            "--runs" => a.runs = value().parse().expect("--runs N"),
            "--binary" => a.binary = PathBuf::from(value()),
            "--skip-python" => {
                a.python = false;
                i -= 1;
            }
            _ => {
                i -= 1; // `--bench` and anything else cargo passes
            }
        }
        i += 2;
    }
    a
}

/// The S3 sink without the PUT: partition by hour, gzip each object, count the bytes.
struct GzipOnly {
    level: u32,
    bytes: AtomicU64,
}

impl Sink for GzipOnly {
    fn name(&self) -> &'static str {
        "gzip"
    }
    fn deliver<'a>(&'a self, batch: &'a OutputBatch) -> BoxFuture<'a, Result<Vec<RejectedEvent>, SinkError>> {
        Box::pin(async move {
            for part in partition(batch, "das/", "ndjson.gz") {
                let body = gzip_lines(&part.lines, self.level, das_forwarder::parallel::default_threads());
                self.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
            }
            Ok(Vec::new())
        })
    }
}

fn corpus(records: usize, events_per_record: usize, seed: u64, keys: &[([u8; 32], String)]) -> serde_json::Value {
    let opts = GenerateOptions {
        events_per_record: Some(events_per_record),
        records,
        seed,
        resource_id: RESOURCE.into(),
        data_keys: keys.len(),
        ..GenerateOptions::default()
    };
    generate_with_keys(&opts, keys)
}

fn config(threads: usize, gzip_level: u32) -> Config {
    Config::from_lookup(|k| match k {
        "DECODE_THREADS" => Some(threads.to_string()),
        "OUTPUT_GZIP_LEVEL" => Some(gzip_level.to_string()),
        "DELIVERY_TIMEOUT_SECS" => Some("600".into()),
        _ => None,
    })
    .expect("bench configuration")
}

struct E2e {
    seconds: f64,
    events: usize,
    kms_calls: u64,
    output_bytes: u64,
}

/// The handler end to end with a fresh forwarder (cold key cache: its KMS calls are in the time).
async fn run_e2e(event: &KinesisEvent, sdk: &aws_config::SdkConfig, threads: usize, level: u32) -> E2e {
    let provider: Arc<dyn KeyProvider> = Arc::new(KmsKeys::new(aws_sdk_kms::Client::new(sdk)));
    let sink = Arc::new(GzipOnly { level, bytes: AtomicU64::new(0) });
    struct Shared(Arc<GzipOnly>);
    impl Sink for Shared {
        fn name(&self) -> &'static str {
            self.0.name()
        }
        fn deliver<'a>(&'a self, batch: &'a OutputBatch) -> BoxFuture<'a, Result<Vec<RejectedEvent>, SinkError>> {
            self.0.deliver(batch)
        }
    }
    let scratch = std::env::temp_dir().join("das-forwarder-bench-quarantine");
    let forwarder = Forwarder::new(
        config(threads, level),
        provider,
        vec![Box::new(Shared(sink.clone()))],
        Box::new(FileQuarantine::new(scratch, "quarantine/".into())),
    );
    let start = Instant::now();
    let (response, summary) = forwarder.handle(event).await;
    let seconds = start.elapsed().as_secs_f64();
    assert!(response.batch_item_failures.is_empty() && summary.quarantined == 0, "bench batch failed: {summary:?}");
    E2e {
        seconds,
        events: summary.events,
        kms_calls: summary.key_provider_calls,
        output_bytes: sink.bytes.load(Ordering::Relaxed),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Time per stage over the whole corpus on one thread, keys already cached.
async fn stages(event: &KinesisEvent, cache: &DataKeyCache, level: u32) -> Vec<(&'static str, Duration)> {
    let mut t: BTreeMap<usize, (&'static str, Duration)> = BTreeMap::new();
    let mut add = |i: usize, name: &'static str, d: Duration| t.entry(i).or_insert((name, Duration::ZERO)).1 += d;
    let mut outputs = Vec::new();
    for r in &event.records {
        let s = Instant::now();
        let env = envelope::parse(&r.kinesis.data.0).expect("envelope");
        add(0, "envelope (JSON, base64)", s.elapsed());
        let s = Instant::now();
        let resource = resource_id(r.event_source_arn.as_deref(), None).expect("resource");
        let ctx = KeyContext { key: resource.encryption_context_key(), value: resource.as_str() };
        let key = cache.get(&env.key_blob, ctx).await.expect("key");
        add(1, "wrapping key (cache hit)", s.elapsed());
        let s = Instant::now();
        let compressed = esdk::decrypt(&env.message, &RawAesKeyring::das(key.bytes())).expect("decrypt");
        add(2, "ESDK decrypt (AES-GCM frames)", s.elapsed());
        let s = Instant::now();
        let json = inflate(&compressed, 64 << 20).expect("inflate");
        add(3, "inflate (gunzip)", s.elapsed());
        let s = Instant::now();
        let record = parse_record(&json, 100_000).expect("parse");
        add(4, "parse activity JSON", s.elapsed());
        let s = Instant::now();
        let decoded = Decoded { resource, version: env.version, record };
        let encoded = encode_record(decoded, r.event_source_arn.as_deref(), 0, &Filters::default());
        add(5, "OCSF map + NDJSON", s.elapsed());
        outputs.push(encoded);
    }
    let s = Instant::now();
    let lines: Vec<&[u8]> = outputs.iter().flat_map(|o| o.events.iter().map(|e| &e.line[..])).collect();
    let gz = gzip_lines(&lines, level, 1);
    add(6, "gzip output", s.elapsed());
    std::hint::black_box(gz);
    t.into_values().collect()
}

fn python_baseline(corpus: &Path, endpoint: &str, cache: bool) -> serde_json::Value {
    let mut cmd = Command::new(venv().join("bin/python"));
    cmd.arg(repo_dir().join("tests/support/bench_baseline.py"))
        .args(["--corpus", &corpus.display().to_string(), "--endpoint", endpoint, "--resource-id", RESOURCE])
        .current_dir(repo_dir().join("tests/support"));
    if cache {
        cmd.arg("--cache");
    }
    let out = cmd.output().expect("run the Python baseline");
    assert!(out.status.success(), "baseline failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("baseline JSON")
}

/// `das-forwarder invoke` on `event` against moto (KMS and S3): its peak RSS in KiB.
fn invoke_peak_rss(binary: &Path, event: &Path, moto: &Moto, bucket: &str) -> (u64, f64) {
    let start = Instant::now();
    let out = Command::new(binary)
        .args(["invoke", "--event", &event.display().to_string()])
        .envs(moto.aws_env())
        .envs([("KEY_PROVIDER", "kms"), ("SINKS", "s3"), ("S3_BUCKET", bucket), ("S3_FORCE_PATH_STYLE", "true")])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run das-forwarder");
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "invoke failed: {stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"batchItemFailures\":[]"), "records reported: {stderr}");
    let kib = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("peak_rss_kib in the invoke output");
    (kib, seconds)
}

/// Process start to ready: `invoke` of an empty batch with the Lambda configuration
/// (KMS and S3 clients built, nothing sent): wall time of the whole process, median of 21.
fn start_to_ready(binary: &Path, empty: &Path) -> f64 {
    let times: Vec<f64> = (0..21)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(binary)
                .args(["invoke", "--event", &empty.display().to_string()])
                .envs([
                    ("KEY_PROVIDER", "kms"),
                    ("SINKS", "s3"),
                    ("S3_BUCKET", "bench"),
                    ("AWS_REGION", "us-east-1"),
                    ("AWS_ACCESS_KEY_ID", "testing"),
                    ("AWS_SECRET_ACCESS_KEY", "testing"),
                    ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
                    ("AWS_EC2_METADATA_DISABLED", "true"),
                    ("RUST_LOG", "error"),
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .expect("run das-forwarder");
            assert!(status.success());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    median(times)
}

fn main() {
    let args = args();
    let out_dir = repo_dir().join("target/bench");
    std::fs::create_dir_all(&out_dir).unwrap();
    let moto = Moto::start();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let sdk = moto.sdk_config().await;
        let kms = aws_sdk_kms::Client::new(&sdk);
        // KMS `GenerateDataKey` under the RDS encryption context, as RDS does it.
        let keys = moto.rds_data_keys(RESOURCE, DATA_KEYS).await;

        let corpus_json = corpus(args.records, EVENTS_PER_RECORD, 42, &keys);
        let corpus_path = out_dir.join("corpus.json");
        std::fs::write(&corpus_path, serde_json::to_vec(&corpus_json).unwrap()).unwrap();
        let event: KinesisEvent = serde_json::from_value(corpus_json).unwrap();
        let input_bytes: usize = event.records.iter().map(|r| r.kinesis.data.0.len()).sum();
        let mb = input_bytes as f64 / 1e6;
        println!("das-forwarder bench: {} records x {EVENTS_PER_RECORD} events (suite 0178, frames of 4096, {DATA_KEYS} data keys), {mb:.2} MB of record data; {} runs each",
            args.records, args.runs);
        println!("machine: {} logical CPUs, {}", das_forwarder::parallel::default_threads(), cpu_model());

        // End to end, 1 and 2 decode threads.
        let mut rows = Vec::new();
        let mut best_e2e = f64::MAX;
        let mut events = 0;
        let mut kms_calls = 0;
        for threads in [1, 2] {
            let mut secs = Vec::new();
            let mut last = None;
            for _ in 0..args.runs {
                let r = run_e2e(&event, &sdk, threads, 6).await;
                secs.push(r.seconds);
                last = Some(r);
            }
            let r = last.unwrap();
            let s = median(secs);
            best_e2e = best_e2e.min(s);
            events = r.events;
            kms_calls = r.kms_calls;
            rows.push((threads, s, r.output_bytes));
        }
        println!();
        println!("end to end (handler, cold key cache, KMS on moto, gzip level 6 output):");
        println!("  {:>7}  {:>10}  {:>14}  {:>16}  {:>10}  {:>9}", "threads", "ms", "events/s", "events/s/core", "MB/s in", "KMS calls");
        for (threads, s, _) in &rows {
            println!(
                "  {:>7}  {:>10.1}  {:>14.0}  {:>16.0}  {:>10.1}  {:>9}",
                threads, s * 1000.0, events as f64 / s, events as f64 / s / *threads as f64, mb / s, kms_calls
            );
        }
        println!("  2 threads vs 1: {:.2}x", rows[0].1 / rows[1].1);
        println!("  output: {} events, {} gzip bytes ({:.1} bytes/event)", events, rows[0].2, rows[0].2 as f64 / events as f64);

        // The baseline's own work only (envelope, key, decrypt, gunzip, parse; no OCSF, no gzip),
        // on 2 threads with a warm cache: the like-for-like comparison.
        let warm = DataKeyCache::new(Arc::new(KmsKeys::new(kms.clone())), 100, Duration::from_secs(3600));
        let limits = das_forwarder::decode::Limits::default();
        // Envelopes and keys with a cold cache: its KMS calls are part of the work.
        let s = Instant::now();
        let mut keyed = Vec::new();
        for r in &event.records {
            keyed.push(lookup(&r.kinesis.data.0, r.event_source_arn.as_deref(), None, &warm).await.expect("lookup"));
        }
        let lookups = s.elapsed().as_secs_f64();
        let mut same_work = Vec::new();
        for _ in 0..args.runs {
            let s = Instant::now();
            let opened = das_forwarder::parallel::map_ordered(&keyed, 2, |k| k.open(limits).expect("open").record.events.len());
            same_work.push(s.elapsed().as_secs_f64());
            assert_eq!(opened.iter().sum::<usize>(), events);
        }
        let same_work = lookups + median(same_work);
        println!(
            "  the baseline's work only (envelopes and {} KMS calls, then decrypt, gunzip, parse on 2 threads): {:.1} ms, {:.0} events/s",
            warm.stats().provider_calls, same_work * 1000.0, events as f64 / same_work
        );

        // Per stage, one thread, warm cache.
        let cache = DataKeyCache::new(Arc::new(KmsKeys::new(kms.clone())), 100, Duration::from_secs(3600));
        let _ = stages(&event, &cache, 6).await; // warm the cache and the allocator
        let st = stages(&event, &cache, 6).await;
        let total: f64 = st.iter().map(|(_, d)| d.as_secs_f64()).sum();
        println!();
        println!("per stage (one thread, warm key cache), µs per record and share:");
        for (name, d) in &st {
            println!("  {:<30} {:>9.1} µs  {:>5.1}%", name, d.as_secs_f64() * 1e6 / args.records as f64, 100.0 * d.as_secs_f64() / total);
        }

        // Output gzip levels on the same NDJSON.
        println!();
        println!("output gzip level (NDJSON of the corpus, one thread):");
        let mut nd = Vec::new();
        for r in &event.records {
            let env = envelope::parse(&r.kinesis.data.0).unwrap();
            let resource = resource_id(r.event_source_arn.as_deref(), None).unwrap();
            let key = cache.get(&env.key_blob, KeyContext { key: resource.encryption_context_key(), value: resource.as_str() }).await.unwrap();
            let rec = parse_record(&inflate(&esdk::decrypt(&env.message, &RawAesKeyring::das(key.bytes())).unwrap(), 64 << 20).unwrap(), 100_000).unwrap();
            let rc = RecordContext { resource_id: RESOURCE.into(), cluster_id: None, instance_id: rec.instance_id.clone(), version: Some(env.version), region: None, account: None, stream: None, arrival_ms: 0 };
            for e in rec.events {
                nd.extend_from_slice(&serde_json::to_vec(&map(e, &rc)).unwrap());
                nd.push(b'\n');
            }
        }
        for level in [1u32, 3, 6, 9] {
            let s = Instant::now();
            let gz = gzip(&nd, level);
            let secs = s.elapsed().as_secs_f64();
            println!("  level {level}: {:>7.1} MB/s, ratio {:>5.1}x ({} -> {} bytes)", nd.len() as f64 / 1e6 / secs, nd.len() as f64 / gz.len() as f64, nd.len(), gz.len());
        }

        // The documented Python consumer on the same corpus and the same KMS.
        if args.python {
            let uncached = python_baseline(&corpus_path, &moto.endpoint, false);
            let cached = python_baseline(&corpus_path, &moto.endpoint, true);
            let secs = |v: &serde_json::Value| v["seconds"].as_f64().unwrap();
            println!();
            println!("baseline: the AWS documentation's Python consumer (aws-encryption-sdk, boto3 KMS on the same moto), same corpus:");
            for (name, v) in [("one KMS Decrypt per record", &uncached), ("KMS calls cached", &cached)] {
                println!(
                    "  {:<28} {:>9.1} ms  {:>10.0} events/s  KMS calls {:>6}  -> das-forwarder (best) is {:.1}x faster",
                    name, secs(v) * 1000.0, v["events"].as_f64().unwrap() / secs(v), v["kms_calls"], secs(v) / best_e2e
                );
                println!("  {:<28} same work only (no OCSF, no output gzip): das-forwarder is {:.1}x faster", "", secs(v) / same_work);
                assert_eq!(v["events"].as_u64().unwrap() as usize, events, "both sides must see the same events");
            }
        }

        // Peak RSS of the real binary on the largest batch a Kinesis mapping delivers.
        if args.binary.is_file() {
            let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
            s3.create_bucket().bucket("das-bench").send().await.expect("CreateBucket");
            // Lambda delivers at most 6 MB: as many one-event records as fit, and 10,000 records
            // (about 22 MB, more than a mapping can deliver) as the worst case.
            let mut rss = Vec::new();
            for (records, label) in [(2_750, "6 MB batch"), (10_000, "10,000 records")] {
                let big = corpus(records, 1, 43, &keys);
                let path = out_dir.join(format!("batch-{records}.json"));
                std::fs::write(&path, serde_json::to_vec(&big).unwrap()).unwrap();
                let size = std::fs::metadata(&path).unwrap().len();
                let (kib, secs) = invoke_peak_rss(&args.binary, &path, &moto, "das-bench");
                rss.push(format!(
                    "  peak RSS, invoke of a {label} ({records} records, {:.1} MB event, KMS + S3 on moto): {:.1} MiB ({:.2} s)",
                    size as f64 / 1e6,
                    kib as f64 / 1024.0,
                    secs
                ));
            }
            let empty = out_dir.join("empty.json");
            std::fs::write(&empty, b"{\"Records\":[]}").unwrap();
            let ready = start_to_ready(&args.binary, &empty);
            println!();
            println!("process ({}):", args.binary.display());
            for line in &rss {
                println!("{line}");
            }
            println!("  start to ready (empty batch, KMS and S3 clients built, no network I/O): {ready:.1} ms (median of 21 runs, whole process)");
        } else {
            println!("\n(no {} : build it with `cargo build --release` for the RSS and start-up rows)", args.binary.display());
        }
        let bootstrap = repo_dir().join("target/lambda/das-forwarder/bootstrap");
        match std::fs::metadata(&bootstrap) {
            Ok(m) if m.modified().ok() < newest_source() => {
                println!("  arm64 bootstrap: {:.1} MB, but older than the sources (make build, then rerun)", m.len() as f64 / 1e6)
            }
            Ok(m) => println!("  arm64 bootstrap: {:.1} MB", m.len() as f64 / 1e6),
            Err(_) => println!("  arm64 bootstrap: not built (make build)"),
        }
    });
}

/// The newest modification time of what the bootstrap is built from (Cargo.toml, Cargo.lock, src/).
fn newest_source() -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(Some(t));
            }
        }
    }
    let root = repo_dir();
    let mut newest = None;
    for file in ["Cargo.toml", "Cargo.lock"] {
        newest = newest.max(std::fs::metadata(root.join(file)).and_then(|m| m.modified()).ok());
    }
    walk(&root.join("src"), &mut newest);
    newest
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
