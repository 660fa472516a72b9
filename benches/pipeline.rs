//! `make bench`: das-forwarder beside the AWS documentation's Python consumer, whole processes,
//! on corpora made by `das-forwarder generate`, in one run. Everything is local: KMS and S3 are
//! a moto server on a loopback port (started here, stopped by its PID), and the same KMS serves
//! both sides.
//!
//! Prints one table: the ratios against the consumer (on all cores, on one core, and with one
//! KMS call per record), events/s a core beside the floor (decrypt + inflate alone), peak RSS on
//! the dense and the hostile batches (with the hostile batch's invocations, each within its
//! deadline, and every event delivered exactly once), RSS across warm invocations in the Lambda
//! runtime, start to ready, and the S3 path's compression as a figure of its own.
//!
//! Flags (after `--`): `--records N` (corpus records, default 1000), `--runs N` (default 5),
//! `--skip-python`, `--skip-hostile`, `--warm N` (warm invocations, default 500). Without `--bench` (as `cargo test --all-targets` runs it)
//! it makes a small smoke run of every section instead.

#[path = "../tests/it/common/mod.rs"]
#[allow(dead_code)] // the tests' helpers: the bench uses a few
mod common;
#[path = "support/runtime_api.rs"]
mod runtime_api;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_lambda_events::event::kinesis::KinesisEvent;
use common::moto::{venv, Moto};
use common::repo_dir;
use das_forwarder::cli::generate::{generate_with_keys, GenerateOptions};
use das_forwarder::das::envelope;
use das_forwarder::das::inflate::inflate;
use das_forwarder::esdk::{self, RawAesKeyring};
use runtime_api::RuntimeApi;

const RESOURCE: &str = "cluster-BENCH7Q2LKXH3ZC5RTUVWX4Y";
const DATA_KEYS: usize = 4;
const EVENTS_PER_RECORD: usize = 25;
const BINARY: &str = env!("CARGO_BIN_EXE_das-forwarder");

struct Args {
    smoke: bool,
    records: usize,
    runs: usize,
    python: bool,
    hostile: bool,
    /// Warm invocations in the Lambda runtime.
    warm: usize,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --all-targets` runs this binary without `--bench`: a small run of every
    // section, so the bench cannot rot unnoticed (no numbers worth reading).
    let smoke = !argv.iter().any(|a| a == "--bench");
    let mut a = Args {
        smoke,
        records: if smoke { 24 } else { 1000 },
        runs: if smoke { 1 } else { 5 },
        python: true,
        hostile: true,
        warm: if smoke { 5 } else { 500 },
    };
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--records" => a.records = it.next().and_then(|v| v.parse().ok()).expect("--records N"),
            "--runs" => a.runs = it.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--skip-python" => a.python = false,
            "--skip-hostile" => a.hostile = false,
            "--warm" => a.warm = it.next().and_then(|v| v.parse().ok()).expect("--warm N"),
            _ => {} // `--bench` and what else cargo passes
        }
    }
    a
}

fn generate(opts: GenerateOptions, keys: &[([u8; 32], String)], path: &Path) -> KinesisEvent {
    let value = generate_with_keys(&opts, keys);
    std::fs::write(path, serde_json::to_vec(&value).unwrap()).unwrap();
    serde_json::from_value(value).unwrap()
}

fn options(records: usize, events: usize, seed: u64) -> GenerateOptions {
    GenerateOptions {
        events_per_record: Some(events),
        records,
        seed,
        resource_id: RESOURCE.into(),
        data_keys: DATA_KEYS,
        ..GenerateOptions::default()
    }
}

/// One round: each side once, back to back (seconds).
struct Round {
    all: f64,
    one: f64,
    consumer_loop: Option<f64>,
    consumer_process: Option<f64>,
}

/// The consumer with its KMS calls cached: its medians, and the medians of the rounds' ratios.
struct Cached {
    loop_secs: f64,
    process_secs: f64,
    loop_all: f64,
    loop_one: f64,
    process_all: f64,
    process_one: f64,
}

impl Cached {
    fn of(rounds: &[Round]) -> Option<Cached> {
        let pairs: Vec<(&Round, f64, f64)> =
            rounds.iter().filter_map(|r| Some((r, r.consumer_loop?, r.consumer_process?))).collect();
        if pairs.is_empty() {
            return None;
        }
        let m = |f: &dyn Fn(&(&Round, f64, f64)) -> f64| median(pairs.iter().map(f).collect());
        Some(Cached {
            loop_secs: m(&|p| p.1),
            process_secs: m(&|p| p.2),
            loop_all: m(&|p| p.1 / p.0.all),
            loop_one: m(&|p| p.1 / p.0.one),
            process_all: m(&|p| p.2 / p.0.all),
            process_one: m(&|p| p.2 / p.0.one),
        })
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// One `das-forwarder invoke` as a whole process.
struct Invoke {
    seconds: f64,
    response: serde_json::Value,
    summary: serde_json::Value,
    peak_rss_kib: u64,
}

fn invoke(event: &Path, env: &[(&str, String)], one_core: bool) -> Invoke {
    let mut cmd = if one_core {
        let mut c = Command::new("taskset");
        c.args(["-c", "0", BINARY]);
        c
    } else {
        Command::new(BINARY)
    };
    cmd.args(["invoke", "--event"]).arg(event).envs(env.iter().map(|(k, v)| (k, v))).env("RUST_LOG", "warn");
    let start = Instant::now();
    let out = cmd.output().expect("run das-forwarder");
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "invoke failed: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |prefix: &str| stderr.lines().find_map(|l| l.strip_prefix(prefix).map(str::to_owned));
    Invoke {
        seconds,
        response: serde_json::from_str(stdout.lines().last().unwrap_or("{}")).expect("response"),
        summary: serde_json::from_str(&line("summary: ").expect("summary")).unwrap(),
        peak_rss_kib: line("peak_rss_kib: ").and_then(|v| v.trim().parse().ok()).expect("peak_rss_kib"),
    }
}

fn kms_file_env(moto: &Moto, out: &Path) -> Vec<(&'static str, String)> {
    let mut env = moto.aws_env();
    env.extend([
        ("KEY_PROVIDER", "kms".into()),
        ("SINKS", "file".into()),
        ("FILE_SINK_DIR", out.display().to_string()),
        ("METRICS", "off".into()),
    ]);
    env
}

fn python_baseline(corpus: &Path, endpoint: &str, cache: bool, out: &Path) -> serde_json::Value {
    let mut cmd = Command::new(venv().join("bin/python"));
    cmd.arg(repo_dir().join("tests/support/bench_baseline.py"))
        .args(["--corpus", &corpus.display().to_string(), "--endpoint", endpoint, "--resource-id", RESOURCE])
        .args(["--out", &out.display().to_string()])
        .current_dir(repo_dir().join("tests/support"));
    if cache {
        cmd.arg("--cache");
    }
    let start = Instant::now();
    let out = cmd.output().expect("run the Python baseline");
    let process_seconds = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "baseline failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("baseline JSON");
    // The consumer times its loop only; the whole process also starts Python, imports boto3 and
    // the ESDK, and reads the corpus, as ours does.
    report["process_seconds"] = process_seconds.into();
    report
}

/// The floors under the pipeline, each stage alone on one thread (keys in hand), seconds for
/// the whole corpus: decrypt + inflate; reading the events (serde_json validating the list, the fastest
/// reader measured, and beside it our scan, which also finds the fields); SHA-256 of each
/// event's canonical form (its `metadata.uid`, which the format requires); writing the output's
/// bytes to the file system (the file sink's kernel copy).
struct Floors {
    decrypt_inflate: f64,
    read: f64,
    scan: f64,
    uid_hash: f64,
    write: f64,
}

fn floors(event: &KinesisEvent, keys: &[([u8; 32], String)], output: &Path, scratch: &Path, runs: usize) -> Floors {
    use base64::Engine;
    use das_forwarder::das::activity::{events_of, read_record, CheckOnly, ReadLimits};
    use sha2::Digest;
    let b64 = base64::engine::general_purpose::STANDARD;
    let messages: Vec<(Vec<u8>, [u8; 32])> = event
        .records
        .iter()
        .map(|r| {
            let env = envelope::parse(&r.kinesis.data.0).unwrap();
            let key = keys.iter().find(|(_, blob)| b64.decode(blob).unwrap() == env.key_blob).unwrap().0;
            (env.message, key)
        })
        .collect();
    let limits = ReadLimits { max_events: 100_000, max_event_bytes: 16 << 20 };
    let inflated: Vec<Vec<u8>> = messages
        .iter()
        .map(|(m, k)| inflate(&esdk::decrypt(m, &RawAesKeyring::das(k)).unwrap(), 64 << 20).unwrap())
        .collect();
    let canonical: Vec<String> = inflated.iter().flat_map(|j| events_of(j, limits).unwrap().1).collect();
    let files: Vec<(PathBuf, Vec<u8>)> = common::files_under(output)
        .into_iter()
        .map(|p| (scratch.join(p.strip_prefix(output).unwrap()), std::fs::read(&p).unwrap()))
        .collect();
    let time = |f: &dyn Fn()| {
        median(
            (0..runs.max(3))
                .map(|_| {
                    let start = Instant::now();
                    f();
                    start.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    Floors {
        decrypt_inflate: time(&|| {
            for (message, key) in &messages {
                let plain = esdk::decrypt(message, &RawAesKeyring::das(key)).unwrap();
                std::hint::black_box(inflate(&plain, 64 << 20).unwrap());
            }
        }),
        read: time(&|| {
            for json in &inflated {
                std::hint::black_box(serde_json::from_slice::<serde::de::IgnoredAny>(json).unwrap());
            }
        }),
        scan: time(&|| {
            for json in &inflated {
                std::hint::black_box(read_record(&json[..], limits, &mut CheckOnly).unwrap());
            }
        }),
        uid_hash: time(&|| {
            for text in &canonical {
                std::hint::black_box(sha2::Sha256::digest(text.as_bytes()));
            }
        }),
        write: time(&|| {
            let _ = std::fs::remove_dir_all(scratch);
            for (path, bytes) in &files {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, bytes).unwrap();
            }
        }),
    }
}

/// Every `metadata.uid` under `dir` (the NDJSON lines of the file sink), and the line count.
fn uids_under(dir: &Path) -> (usize, HashSet<String>) {
    const MARK: &[u8] = b"\"feature\":{\"name\":\"Database Activity Streams\"}},\"uid\":\"";
    let mut lines = 0;
    let mut uids = HashSet::new();
    for file in common::files_under(dir).iter().filter(|p| p.extension().is_some_and(|x| x == "ndjson")) {
        let body = std::fs::read(file).unwrap();
        for line in body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            lines += 1;
            let at = memchr::memmem::find(line, MARK).expect("a uid in every line") + MARK.len();
            uids.insert(String::from_utf8_lossy(&line[at..at + 32]).into_owned());
        }
    }
    (lines, uids)
}

struct Hostile {
    invocations: usize,
    max_seconds: f64,
    max_rss_kib: u64,
    events: usize,
    unique: usize,
    expected: usize,
    inflated_gb: f64,
    size_mb: f64,
}

/// The hostile batch through as many invocations as its deadline needs, as Kinesis would retry
/// them: each one from the first record the last reported.
fn hostile(
    moto: &Moto,
    keys: &[([u8; 32], String)],
    dir: &Path,
    (records, events, statement): (usize, usize, usize),
    deadline_secs: u64,
) -> Hostile {
    let path = dir.join("hostile.json");
    let opts = GenerateOptions {
        statement_bytes: Some(statement),
        profile: das_forwarder::cli::generate::Profile::Postgres,
        ..options(records, events, 44)
    };
    let mut event = generate(opts, keys, &path);
    let size_mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
    let out = dir.join("hostile-out");
    let _ = std::fs::remove_dir_all(&out);
    let mut env = kms_file_env(moto, &out);
    env.push(("DELIVERY_TIMEOUT_SECS", deadline_secs.to_string()));
    let mut h = Hostile {
        invocations: 0,
        max_seconds: 0.0,
        max_rss_kib: 0,
        events: 0,
        unique: 0,
        expected: records * events,
        inflated_gb: (records * events * statement) as f64 / 1e9,
        size_mb,
    };
    loop {
        let run = invoke(&path, &env, false);
        h.invocations += 1;
        h.max_seconds = h.max_seconds.max(run.seconds);
        h.max_rss_kib = h.max_rss_kib.max(run.peak_rss_kib);
        let failures = run.response["batchItemFailures"].as_array().cloned().unwrap_or_default();
        let Some(first) = failures.first().and_then(|f| f["itemIdentifier"].as_str()) else { break };
        let from = event.records.iter().position(|r| r.kinesis.sequence_number == first).unwrap();
        assert!(from > 0 || h.invocations < 3, "no progress: {}", run.summary);
        assert!(h.invocations < 100, "too many invocations");
        event.records.drain(..from);
        std::fs::write(&path, serde_json::to_vec(&event).unwrap()).unwrap();
    }
    let (lines, uids) = uids_under(&out);
    h.events = lines;
    h.unique = uids.len();
    let _ = std::fs::remove_dir_all(&out);
    h
}

/// The binary in the Lambda runtime (a loopback Runtime API): VmRSS after each of `checkpoints`
/// warm invocations of the same batch.
async fn warm_invocations(event: &Path, out: &Path, checkpoints: &[usize]) -> Vec<(usize, u64)> {
    let api = RuntimeApi::start(std::fs::read(event).unwrap(), Duration::from_secs(60)).await;
    let mut child = Command::new(BINARY)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "das-forwarder")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("KEY_PROVIDER", "local")
        .env("LOCAL_MASTER_KEY_FILE", repo_dir().join("events/local-master-key.hex"))
        .env("SINKS", "file")
        .env("FILE_SINK_DIR", out)
        .env("METRICS", "off")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start das-forwarder in the runtime");
    let mut rss = Vec::new();
    let mut done = 0;
    for &n in checkpoints {
        api.release(n - done).await;
        assert!(api.wait_answered(n, Duration::from_secs(600)).await, "runtime stalled at {}", api.answered().await);
        done = n;
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok());
        rss.push((n, kib.unwrap_or(0)));
    }
    assert!(api.errors().await.is_empty(), "the function answered errors");
    assert!(api.responses().await.iter().all(|r| r.starts_with(b"{\"batchItemFailures\":[]")), "records reported");
    // Only the process this bench started, by its PID.
    let _ = child.kill();
    let _ = child.wait();
    rss
}

/// Process start to ready: `invoke` of an empty batch with the Lambda configuration (KMS and
/// S3 clients built, nothing sent), wall time of the whole process, median of 21.
fn start_to_ready(empty: &Path) -> f64 {
    let times: Vec<f64> = (0..21)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(BINARY)
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
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run das-forwarder");
            assert!(status.success());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    median(times)
}

/// gzip levels (libdeflate) and zstd levels on the NDJSON the file sink wrote: bytes, and MB/s
/// of input on one core.
fn compression(dir: &Path) -> Vec<(String, usize, f64)> {
    let mut ndjson = Vec::new();
    for file in common::files_under(dir).iter().filter(|p| p.extension().is_some_and(|x| x == "ndjson")) {
        ndjson.extend(std::fs::read(file).unwrap());
    }
    let mut rows = vec![("none".to_owned(), ndjson.len(), f64::NAN)];
    let mut time = |name: String, f: &dyn Fn() -> usize| {
        let start = Instant::now();
        let bytes = f();
        rows.push((name, bytes, ndjson.len() as f64 / 1e6 / start.elapsed().as_secs_f64()));
    };
    for level in [1, 3, 6, 9] {
        time(format!("gzip {level} (libdeflate)"), &|| das_forwarder::gzip::gzip(&ndjson, level).len());
    }
    for level in [1, 3, 6, 9, 19] {
        time(format!("zstd {level}"), &|| zstd::bulk::compress(&ndjson, level).unwrap().len());
    }
    rows
}

fn main() {
    let args = args();
    let dir = repo_dir().join(if args.smoke { "target/bench-smoke" } else { "target/bench" });
    std::fs::create_dir_all(&dir).unwrap();
    let moto = Moto::start();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        // KMS `GenerateDataKey` under the RDS encryption context, as RDS does it.
        let keys = moto.rds_data_keys(RESOURCE, DATA_KEYS).await;
        let corpus = dir.join("corpus.json");
        let event = generate(options(args.records, EVENTS_PER_RECORD, 42), &keys, &corpus);
        let mb = std::fs::metadata(&corpus).unwrap().len() as f64 / 1e6;
        println!("das-forwarder bench: {} records x {EVENTS_PER_RECORD} statements (generate --events-per-record {EVENTS_PER_RECORD} --seed 42, {DATA_KEYS} data keys, suite 0178), {mb:.1} MB event; {} runs each", args.records, args.runs);
        println!("machine: {} logical CPUs, {}", das_forwarder::parallel::default_threads(), cpu_model());
        println!("binary: {BINARY}");

        // das-forwarder, whole processes, file sink, KMS on moto (a fresh process: cold cache),
        // beside the consumer with its KMS calls cached. The runs go in rounds: in each, ours on
        // all cores, ours on one core, then the consumer, back to back, so that each round's
        // ratios compare runs made in the same minute (this VM's speed drifts by tens of percent
        // over an hour, and one side's median against the other's would carry that drift). The
        // table gives each side's median and the median of the rounds' ratios.
        let out = dir.join("out");
        let ours = |one_core: bool| {
            let mut env = kms_file_env(&moto, &out);
            if one_core {
                env.push(("DECODE_THREADS", "1".into()));
            }
            let _ = std::fs::remove_dir_all(&out);
            let r = invoke(&corpus, &env, one_core);
            assert!(r.response["batchItemFailures"].as_array().is_some_and(Vec::is_empty), "{}", r.summary);
            r
        };
        let py_out = dir.join("python-out.ndjson");
        let mut rounds: Vec<Round> = Vec::new();
        let mut all_run = None;
        for _ in 0..args.runs {
            let all = ours(false);
            let one = ours(true);
            let consumer = args.python.then(|| python_baseline(&corpus, &moto.endpoint, true, &py_out));
            rounds.push(Round {
                all: all.seconds,
                one: one.seconds,
                consumer_loop: consumer.as_ref().map(|c| c["seconds"].as_f64().unwrap()),
                consumer_process: consumer.as_ref().map(|c| c["process_seconds"].as_f64().unwrap()),
            });
            if let Some(c) = &consumer {
                let ours = all.summary["events"].as_u64().unwrap() as f64;
                assert_eq!(c["events"].as_f64().unwrap(), ours, "both sides must see the same events");
            }
            all_run = Some(all);
        }
        let all_run = all_run.expect("at least one run");
        let all_cores = median(rounds.iter().map(|r| r.all).collect());
        let one_core = median(rounds.iter().map(|r| r.one).collect());
        let events = all_run.summary["events"].as_u64().unwrap() as f64;
        let kms_calls = all_run.summary["key_provider_calls"].as_u64().unwrap();
        let compressed = compression(&out);
        let floor = floors(&event, &keys, &out, &dir.join("floor-out"), args.runs);
        let _ = std::fs::remove_dir_all(dir.join("floor-out"));
        let cached = Cached::of(&rounds);
        let uncached = args.python.then(|| python_baseline(&corpus, &moto.endpoint, false, &py_out));

        // Peak RSS: a 6 MB batch of 25-statement records (as many as fit in Lambda's 6 MB).
        let per_record = std::fs::metadata(&corpus).unwrap().len() as f64 / args.records as f64;
        let dense_records = if args.smoke { 48 } else { (6.0e6 / per_record) as usize };
        let dense = dir.join("dense.json");
        generate(options(dense_records, EVENTS_PER_RECORD, 43), &keys, &dense);
        let dense_mb = std::fs::metadata(&dense).unwrap().len() as f64 / 1e6;
        let _ = std::fs::remove_dir_all(&out);
        let dense_file = invoke(&dense, &kms_file_env(&moto, &out), false);
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&moto.sdk_config().await).force_path_style(true).build(),
        );
        s3.create_bucket().bucket("das-bench").send().await.expect("CreateBucket");
        let mut s3_env = moto.aws_env();
        s3_env.extend([
            ("KEY_PROVIDER", "kms".into()),
            ("SINKS", "s3".into()),
            ("S3_BUCKET", "das-bench".into()),
            ("S3_FORCE_PATH_STYLE", "true".into()),
            ("METRICS", "off".into()),
        ]);
        let dense_s3 = invoke(&dense, &s3_env, false);

        let hostile_shape = if args.smoke { (4, 6, 256 << 10) } else { (40, 60, 1 << 20) };
        let hostile = args.hostile.then(|| hostile(&moto, &keys, &dir, hostile_shape, if args.smoke { 60 } else { 20 }));

        // Warm invocations in the Lambda runtime, on a batch for the local key provider.
        let local_keys = das_forwarder::keys::local::LocalKeys::from_file(&repo_dir().join("events/local-master-key.hex")).unwrap();
        let warm_event = dir.join("warm.json");
        let warm_opts = options(if args.smoke { 8 } else { 200 }, EVENTS_PER_RECORD, 45);
        std::fs::write(&warm_event, serde_json::to_vec(&das_forwarder::cli::generate::generate(&warm_opts, &local_keys)).unwrap()).unwrap();
        // After 10 invocations, then at every tenth of the run.
        let checkpoints: Vec<usize> = std::iter::once(10.min(args.warm))
            .chain((1..=10).map(|k| args.warm * k / 10))
            .filter(|&n| n > 0)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let warm = warm_invocations(&warm_event, &dir.join("warm-out"), &checkpoints).await;
        let _ = std::fs::remove_dir_all(dir.join("warm-out"));

        let empty = dir.join("empty.json");
        std::fs::write(&empty, b"{\"Records\":[]}").unwrap();
        let ready = start_to_ready(&empty);

        // The table.
        println!();
        println!("| | das-forwarder | baseline | ratio |");
        println!("|---|---|---|---|");
        let eps = |secs: f64| events / secs;
        let rounds_note = format!("median of {} rounds", rounds.len());
        println!("| all cores ({} threads), whole process, file sink | {:.1} ms, {:.0} events/s | {} | **{}** |",
            das_forwarder::parallel::default_threads(), all_cores * 1e3, eps(all_cores),
            cached.as_ref().map_or("-".into(), |c| format!("consumer, KMS cached: {:.1} ms (its loop)", c.loop_secs * 1e3)),
            cached.as_ref().map_or("-".into(), |c| format!("{:.1}x", c.loop_all)));
        println!("| one core (taskset, DECODE_THREADS=1) | {:.1} ms, **{:.0} events/s a core** | {} | **{}** |",
            one_core * 1e3, eps(one_core),
            cached.as_ref().map_or("-".into(), |c| format!("the same, single-threaded: {:.0} events/s", events / c.loop_secs)),
            cached.as_ref().map_or("-".into(), |c| format!("{:.1}x", c.loop_one)));
        println!("| one KMS call per record (the sample as written) | {:.1} ms, {kms_calls} KMS calls | {} | **{}** |",
            all_cores * 1e3,
            uncached.as_ref().map_or("-".into(), |u| format!("{:.1} ms, {} KMS calls", u["seconds"].as_f64().unwrap() * 1e3, u["kms_calls"])),
            uncached.as_ref().map_or("-".into(), |u| format!("{:.1}x", u["seconds"].as_f64().unwrap() / all_cores)));
        if let Some(c) = &cached {
            println!("| whole processes on both sides (the consumer's start-up, imports and corpus read included) | 2 threads **{:.1}x**, one core **{:.1}x** | consumer process, KMS cached: {:.1} ms | (the rows above time the consumer's loop only; ratios: the {rounds_note}) |",
                c.process_all, c.process_one, c.process_secs * 1e3);
        }
        let us = |secs: f64| secs * 1e6 / events;
        let floor_sum = floor.decrypt_inflate + floor.read + floor.uid_hash + floor.write;
        println!("| floor, one core, keys in hand: decrypt + inflate | {:.2} µs an event | | |", us(floor.decrypt_inflate));
        println!("| + read every event: serde_json validating the whole list, the fastest reader measured (benches/stages.rs) | {:.2} µs an event | | our scan (fields, canonical flags): {:.2} µs an event |", us(floor.read), us(floor.scan));
        println!("| + SHA-256 of each event's canonical form (`metadata.uid`) | {:.2} µs an event | | |", us(floor.uid_hash));
        println!("| + write the output's {:.1} MB to the file system (the file sink's kernel copy) | {:.2} µs an event | | |",
            compressed[0].1 as f64 / 1e6, us(floor.write));
        println!("| = the floor, with no mapping and no line written | {:.2} µs an event, {:.0} events/s | {} | pipeline: {:.2} µs an event on one core |",
            us(floor_sum), eps(floor_sum),
            cached.as_ref().map_or("-".into(), |c| format!("at most {:.1}x the cached consumer on one core", c.loop_secs / floor_sum)),
            us(one_core));
        println!("| peak RSS, dense 6 MB batch ({dense_records} records x {EVENTS_PER_RECORD}, {dense_mb:.1} MB, {} events), file sink | **{:.1} MiB** | | |",
            dense_file.summary["events"], dense_file.peak_rss_kib as f64 / 1024.0);
        println!("| peak RSS, the same batch, S3 sink (moto, gzip 6) | **{:.1} MiB** | | |", dense_s3.peak_rss_kib as f64 / 1024.0);
        if let Some(h) = &hostile {
            println!("| peak RSS, hostile batch ({} records x {} statements of {} KiB, {:.1} MB, {:.2} GB inflated), file sink, {} s deadline | **{:.1} MiB** over {} invocations (longest {:.1} s) | | {} of {} events, {} distinct |",
                hostile_shape.0, hostile_shape.1, hostile_shape.2 >> 10, h.size_mb, h.inflated_gb, if args.smoke { 60 } else { 20 },
                h.max_rss_kib as f64 / 1024.0, h.invocations, h.max_seconds, h.events, h.expected, h.unique);
        }
        let rss: Vec<String> = warm.iter().map(|(n, kib)| format!("{n}: {:.1}", *kib as f64 / 1024.0)).collect();
        println!("| RSS in the Lambda runtime after N warm invocations (MiB) | {} | | |", rss.join(", "));
        println!("| start to ready (empty batch, KMS and S3 clients built) | {ready:.1} ms | | |");
        println!();
        println!("S3 path, compression of the corpus's NDJSON ({:.1} MB, one core):", compressed[0].1 as f64 / 1e6);
        println!("| codec | bytes | ratio | MB/s a core |");
        println!("|---|---|---|---|");
        for (name, bytes, mbs) in &compressed[1..] {
            println!("| {name} | {bytes} | {:.1}x | {mbs:.0} |", compressed[0].1 as f64 / *bytes as f64);
        }
        if let Some(h) = &hostile {
            assert_eq!((h.events, h.unique), (h.expected, h.expected), "every hostile event exactly once");
            if !args.smoke {
                assert!(h.max_seconds < 20.0, "an invocation ran past its deadline");
            }
        }
    });
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
