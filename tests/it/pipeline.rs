//! The streaming pipeline's fates when something fails part-way through a batch: a sink failing
//! in chunk k, the quarantine failing mid-batch, the deadline reached in the middle of a record
//! larger than a chunk; the hostile batch (huge statements) through `invoke` within its memory
//! budget; and the S3 sink's multipart uploads against moto, an aborted one included.

use crate::common;

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::kinesis::KinesisEvent;
use das_forwarder::cli::generate::{generate, GenerateOptions, Profile};
use das_forwarder::config::Config;
use das_forwarder::handler::Forwarder;
use das_forwarder::keys::local::LocalKeys;
use das_forwarder::sinks::file::FileSink;
use das_forwarder::sinks::quarantine::{FileQuarantine, QuarantineEntry, QuarantineStore};
use das_forwarder::sinks::{BatchInfo, Chunk, Delivery, Sink, SinkError, SinkWriter};
use futures::future::BoxFuture;

const MASTER: [u8; 32] = [9; 32];

fn event(opts: GenerateOptions) -> KinesisEvent {
    let opts = GenerateOptions { resource_id: "cluster-PIPELINETEST".into(), start_ms: 1_700_000_000_000, ..opts };
    serde_json::from_value(generate(&opts, &LocalKeys::new(MASTER))).unwrap()
}

fn config(pairs: &[(&str, &str)]) -> Config {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())).unwrap()
}

fn seqs(ev: &KinesisEvent) -> Vec<String> {
    ev.records.iter().map(|r| r.kinesis.sequence_number.clone()).collect()
}

fn failures(resp: &aws_lambda_events::event::streams::KinesisEventResponse) -> Vec<String> {
    resp.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect()
}

/// Every `metadata.uid` of the NDJSON under `dir`, and how many lines there are.
fn uids(dir: &Path) -> (usize, HashSet<String>) {
    let lines = common::ndjson_under(dir);
    let uids = lines.iter().map(|l| l["metadata"]["uid"].as_str().unwrap().to_owned()).collect();
    (lines.len(), uids)
}

/// A sink that fails at its `fail_at`-th append (1-based) from that chunk's first record, or
/// sleeps `pause` in each append; it keeps the first record of every chunk it was given.
struct Scripted {
    fail_at: usize,
    pause: Duration,
    chunks: Arc<Mutex<Vec<usize>>>,
}

struct ScriptedWriter {
    fail_at: usize,
    pause: Duration,
    n: usize,
    chunks: Arc<Mutex<Vec<usize>>>,
    delivery: Delivery,
}

impl Sink for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn open<'a>(&'a self, _: &BatchInfo) -> Box<dyn SinkWriter + 'a> {
        Box::new(ScriptedWriter {
            fail_at: self.fail_at,
            pause: self.pause,
            n: 0,
            chunks: self.chunks.clone(),
            delivery: Delivery::default(),
        })
    }
}

impl SinkWriter for ScriptedWriter {
    fn append<'a>(&'a mut self, chunk: &'a Chunk) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            self.n += 1;
            let first = chunk.records[0].meta.index;
            self.chunks.lock().unwrap().push(first);
            tokio::time::sleep(self.pause).await;
            if self.n == self.fail_at {
                let e = SinkError::new("scripted", first, "503 on this chunk");
                self.delivery.fail(e.clone());
                return Err(e);
            }
            Ok(())
        })
    }
    fn finish(&mut self) -> BoxFuture<'_, Delivery> {
        Box::pin(async move { std::mem::take(&mut self.delivery) })
    }
}

fn forwarder(dir: &Path, config: Config, extra: Vec<Box<dyn Sink>>, quarantine: Box<dyn QuarantineStore>) -> Forwarder {
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(FileSink::new(dir.to_path_buf(), "das/".into()))];
    sinks.extend(extra);
    Forwarder::new(config, Arc::new(LocalKeys::new(MASTER)), sinks, quarantine)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sink_failing_in_chunk_k_cuts_at_its_first_record_and_the_chunks_before_stay_delivered() {
    let dir = tempfile::tempdir().unwrap();
    // About 80 KB of lines a record and chunks of 1 MiB: a dozen records a chunk.
    let ev = event(GenerateOptions { records: 60, events_per_record: Some(25), seed: 3, ..Default::default() });
    let chunks = Arc::new(Mutex::new(Vec::new()));
    let failing = Scripted { fail_at: 3, pause: Duration::ZERO, chunks: chunks.clone() };
    let cfg = config(&[("BATCH_MEMORY_MB", "8")]);
    let q = Box::new(FileQuarantine::new(dir.path().to_path_buf(), "quarantine/".into()));
    let fwd = forwarder(dir.path(), cfg.clone(), vec![Box::new(failing)], q);
    let (resp, summary) = fwd.handle(&ev).await;
    let firsts = chunks.lock().unwrap().clone();
    assert_eq!(firsts.len(), 3, "nothing is appended after the failing chunk: {firsts:?}");
    let cut = firsts[2];
    assert!(cut > firsts[1] && firsts[1] > 0, "{firsts:?}");
    assert_eq!(failures(&resp), seqs(&ev)[cut..].to_vec());
    assert_eq!((summary.delivered, summary.reported), (cut, 60 - cut));
    assert!(summary.cut_reason.as_deref().unwrap().contains("scripted"), "{summary:?}");
    // The file sink took every chunk it was given; the records before the cut are all there.
    let (lines, _) = uids(&dir.path().join("das"));
    assert!(lines >= summary.events, "{lines} < {}", summary.events);

    // Kinesis retries from the cut; with the sink healthy everything goes through, and the
    // records before the cut are not sent again.
    let mut retry = ev.clone();
    retry.records.drain(..cut);
    let healthy = Scripted { fail_at: 0, pause: Duration::ZERO, chunks: Arc::new(Mutex::new(Vec::new())) };
    let q = Box::new(FileQuarantine::new(dir.path().to_path_buf(), "quarantine/".into()));
    let fwd = forwarder(dir.path(), cfg, vec![Box::new(healthy)], q);
    let (resp, again) = fwd.handle(&retry).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(again.delivered, 60 - cut);
}

/// Fails every write after the first one that had entries.
struct SecondWriteFails(AtomicUsize, FileQuarantine);

impl QuarantineStore for SecondWriteFails {
    fn put<'a>(&'a self, entries: &'a [QuarantineEntry]) -> BoxFuture<'a, Result<(), (usize, String)>> {
        Box::pin(async move {
            if entries.is_empty() {
                return Ok(());
            }
            if self.0.fetch_add(1, Ordering::SeqCst) >= 1 {
                return Err((0, "disk full".into()));
            }
            self.1.put(entries).await
        })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_quarantine_failing_mid_batch_cuts_at_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut ev = event(GenerateOptions { records: 60, events_per_record: Some(25), seed: 4, ..Default::default() });
    ev.records[3].kinesis.data.0 = b"not a record".to_vec();
    ev.records[40].kinesis.data.0 = b"not a record either".to_vec();
    let q = SecondWriteFails(AtomicUsize::new(0), FileQuarantine::new(dir.path().to_path_buf(), "quarantine/".into()));
    let fwd = forwarder(dir.path(), config(&[("BATCH_MEMORY_MB", "8")]), vec![], Box::new(q));
    let (resp, summary) = fwd.handle(&ev).await;
    assert_eq!(failures(&resp), seqs(&ev)[40..].to_vec());
    assert_eq!((summary.delivered, summary.quarantined, summary.reported), (39, 1, 20));
    assert_eq!(summary.quarantine_reasons.get("envelope.not_json"), Some(&1));
    assert!(summary.chunks > 2, "{summary:?}");
    assert_eq!(common::files_under(&dir.path().join("quarantine")).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deadline_in_the_middle_of_a_large_record_reports_it_and_the_retry_delivers_it_once() {
    let dir = tempfile::tempdir().unwrap();
    // Record 1 holds 24 statements of 300 KB: its lines (about 7.5 MB) are many chunks.
    let small = event(GenerateOptions { records: 3, events_per_record: Some(4), seed: 5, ..Default::default() });
    let large = event(GenerateOptions {
        records: 3,
        events_per_record: Some(24),
        statement_bytes: Some(300_000),
        profile: Profile::Postgres,
        seed: 6,
        ..Default::default()
    });
    let mut ev = small.clone();
    ev.records[1] = large.records[1].clone();
    // Same keys (one master key), its own sequence number keeps the batch in order.
    ev.records[1].kinesis.sequence_number = small.records[1].kinesis.sequence_number.clone();
    ev.records[1].event_id = small.records[1].event_id.clone();
    let slow = Scripted { fail_at: 0, pause: Duration::from_millis(250), chunks: Arc::new(Mutex::new(Vec::new())) };
    let cfg = config(&[("BATCH_MEMORY_MB", "8"), ("FLUSH_RESERVE_MS", "1000")]);
    let q = || Box::new(FileQuarantine::new(dir.path().to_path_buf(), "quarantine/".into()));
    let fwd = forwarder(dir.path(), cfg.clone(), vec![Box::new(slow)], q());
    let started = Instant::now();
    let (resp, summary) = fwd.handle_until(&ev, Instant::now() + Duration::from_millis(2500)).await;
    assert!(started.elapsed() < Duration::from_millis(2500), "answered by the deadline: {:?}", started.elapsed());
    assert_eq!(failures(&resp), seqs(&ev)[1..].to_vec(), "{summary:?}");
    assert_eq!(summary.delivered, 1);
    // Nothing of the cut record is left in the file sink: no temporary file, no object.
    let files = common::files_under(&dir.path().join("das"));
    assert!(files.iter().all(|f| f.extension().is_some_and(|x| x == "ndjson")), "{files:?}");
    let seq1 = &ev.records[1].kinesis.sequence_number;
    assert!(files.iter().all(|f| !f.to_string_lossy().contains(seq1.as_str())), "{files:?}");

    // The retry from the cut delivers the large record whole: every event exactly once.
    let mut retry = ev.clone();
    retry.records.drain(..1);
    let fwd = forwarder(dir.path(), cfg, vec![], q());
    let (resp, again) = fwd.handle(&retry).await;
    assert!(resp.batch_item_failures.is_empty(), "{again:?}");
    assert!(again.chunks >= 7, "the large record went in pieces: {again:?}");
    let (lines, distinct) = uids(&dir.path().join("das"));
    assert_eq!(lines, summary.events + again.events);
    assert_eq!(distinct.len(), lines, "no event twice");
    let whole = tempfile::tempdir().unwrap();
    let q = Box::new(FileQuarantine::new(whole.path().to_path_buf(), "quarantine/".into()));
    let (_, once) = forwarder(whole.path(), config(&[]), vec![], q).handle(&ev).await;
    assert_eq!(lines, once.events, "as many as one uninterrupted invocation writes");
}

#[test]
fn the_hostile_batch_through_invoke_stays_within_its_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let key = common::repo_dir().join("events/local-master-key.hex");
    let event = dir.path().join("hostile.json");
    // 4 records of 20 statements of 1 MiB: 84 MB of JSON once inflated, 80 KB on the wire.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_das-forwarder"))
        .args(["generate", "--profile", "postgres", "--records", "4", "--events-per-record", "20"])
        .args(["--statement-bytes", "1048576", "--seed", "11", "--out"])
        .arg(&event)
        .arg("--master-key-file")
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(std::fs::metadata(&event).unwrap().len() < 1_000_000);
    let out = dir.path().join("out");
    let env = [
        ("KEY_PROVIDER", "local".to_owned()),
        ("LOCAL_MASTER_KEY_FILE", key.display().to_string()),
        ("SINKS", "file".to_owned()),
        ("FILE_SINK_DIR", out.display().to_string()),
        ("BATCH_MEMORY_MB", "8".to_owned()),
        ("METRICS", "off".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let (response, summary, stderr) = common::invoke(&event, &env);
    assert_eq!(response["batchItemFailures"], serde_json::json!([]));
    assert_eq!(summary["events"], 80);
    let kib: u64 = stderr.lines().find_map(|l| l.strip_prefix("peak_rss_kib: ")).unwrap().trim().parse().unwrap();
    // An engine holding a record whole would hold 21 MB of it, twice, per thread, and the lines
    // of the whole batch (84 MB). The budget (8 MiB), two threads with a 1 MiB event and its
    // line each, and the process itself stay far below.
    assert!(kib < 64 * 1024, "peak RSS {kib} KiB");
    let (lines, distinct) = uids(&out);
    assert_eq!((lines, distinct.len()), (80, 80));
}

mod s3 {
    use super::*;
    use common::fault_proxy::{Fault, FaultProxy};
    use common::moto::Moto;
    use das_forwarder::sinks::s3::config::S3Access;
    use das_forwarder::sinks::s3::{S3Config, S3Sink};
    use das_forwarder::sinks::{Part, RecordLines, RecordMeta};

    const BUCKET: &str = "das-multipart";

    /// Lines that barely compress (random letters), all in one hour.
    pub(super) fn chunks(records: usize, lines_per_record: usize, line_bytes: usize) -> (Vec<Chunk>, Vec<u8>) {
        let mut seed = 7u64;
        let mut all = Vec::new();
        let mut chunks = Vec::new();
        for r in 0..records {
            let mut buf = Vec::new();
            let mut ends = Vec::new();
            for _ in 0..lines_per_record {
                buf.extend((0..line_bytes).map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    b'a' + (seed >> 59) as u8
                }));
                ends.push((1_700_000_000_000, buf.len() as u32));
                buf.push(b'\n');
            }
            all.extend_from_slice(&buf);
            let meta =
                Arc::new(RecordMeta { index: r, sequence_number: format!("{}", 1000 + r), ..Default::default() });
            chunks.push(Chunk {
                records: vec![RecordLines { meta, part: Part::Whole, first_event: 0, buf: buf.into(), ends }],
            });
        }
        (chunks, all)
    }

    pub(super) fn batch() -> BatchInfo {
        BatchInfo {
            shard_id: "shardId-000000000000".into(),
            last_sequence_number: "9999".into(),
            deadline: Instant::now() + Duration::from_secs(60),
        }
    }

    async fn client(endpoint: &str, moto: &Moto) -> aws_sdk_s3::Client {
        let sdk = moto.sdk_config().await;
        let conf = aws_sdk_s3::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .force_path_style(true)
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    fn sink(client: aws_sdk_s3::Client) -> S3Sink {
        let config = S3Config {
            access: S3Access { force_path_style: true, ..S3Access::default() },
            gzip_level: 1,
            ..S3Config::new(BUCKET)
        };
        S3Sink::new(client, config)
    }

    async fn in_progress_uploads(s3: &aws_sdk_s3::Client) -> usize {
        s3.list_multipart_uploads().bucket(BUCKET).send().await.unwrap().uploads().len()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_object_larger_than_a_part_is_a_multipart_upload() {
        let moto = Moto::start();
        let s3 = client(&moto.endpoint, &moto).await;
        s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        let sink = sink(s3.clone());
        // 6 chunks of 3 MB of lines: about 2 MB each once gzipped, 12 MB in all.
        let (chunks, all) = chunks(6, 300, 10_000);
        let mut w = sink.open(&batch());
        for c in &chunks {
            w.append(c).await.unwrap();
        }
        let delivery = w.finish().await;
        assert_eq!(delivery, Delivery::default());
        let list = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
        let keys: Vec<&str> = list.contents().iter().filter_map(|o| o.key()).collect();
        // Named before its last record was known: the batch's last sequence number.
        assert_eq!(keys, ["das/class_uid=6005/dt=2023-11-14/hour=22/shardId-000000000000-1000-9999.ndjson.gz"]);
        // A multipart upload's ETag ends in the number of its parts.
        let head = s3.head_object().bucket(BUCKET).key(keys[0]).send().await.unwrap();
        let parts: usize = head.e_tag().unwrap().trim_matches('"').rsplit_once('-').unwrap().1.parse().unwrap();
        assert!(parts >= 2, "{parts} parts");
        let body = s3.get_object().bucket(BUCKET).key(keys[0]).send().await.unwrap().body.collect().await.unwrap();
        assert!(das_forwarder::das::inflate::inflate(&body.into_bytes(), 1 << 30).unwrap() == all);
        assert_eq!(in_progress_uploads(&s3).await, 0);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_part_that_fails_aborts_the_upload_and_reports_from_its_first_record() {
        let moto = Moto::start();
        let direct = client(&moto.endpoint, &moto).await;
        direct.create_bucket().bucket(BUCKET).send().await.unwrap();
        let proxy = FaultProxy::start(moto.endpoint.trim_start_matches("http://")).await;
        // CreateMultipartUpload and the first part pass, the second part fails, the abort passes.
        proxy.script(vec![Fault::Pass, Fault::Pass, Fault::s3_slow_down()], Fault::Pass);
        let sink = sink(client(&proxy.url, &moto).await);
        let (chunks, _) = chunks(12, 300, 10_000);
        let mut w = sink.open(&batch());
        let mut failed = None;
        for c in &chunks {
            if let Err(e) = w.append(c).await {
                failed = Some(e);
                break;
            }
        }
        let delivery = w.finish().await;
        let e = failed.or(delivery.failed).expect("the second part fails");
        assert_eq!(e.first_undelivered, 0, "{e}");
        let log: Vec<String> = proxy.log().into_iter().map(|(l, _)| l).collect();
        assert!(log.iter().any(|l| l.starts_with("DELETE")), "the upload is aborted: {log:?}");
        assert_eq!(in_progress_uploads(&direct).await, 0, "S3 keeps no part of it");
        let list = direct.list_objects_v2().bucket(BUCKET).send().await.unwrap();
        assert!(list.contents().is_empty(), "no object");
    }
}

mod file_sink {
    use super::*;

    /// A file that grows past the space the sink allocates ahead (4 MiB at a time) holds its
    /// lines and nothing after them: the allocation past the last line is given back.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_file_larger_than_its_allocation_steps_ends_at_its_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let sink = FileSink::new(dir.path().to_path_buf(), "das/".into());
        // 5 chunks of 2 MB of lines, one hour: one file of 10 MB.
        let (chunks, all) = s3::chunks(5, 200, 10_000);
        let mut w = sink.open(&s3::batch());
        for c in &chunks {
            w.append(c).await.unwrap();
        }
        assert_eq!(w.finish().await, Delivery::default());
        let files: Vec<_> = walk(dir.path());
        assert_eq!(files.len(), 1, "{files:?}");
        assert!(files[0].extension().is_some_and(|e| e == "ndjson"), "{files:?}");
        let written = std::fs::read(&files[0]).unwrap();
        assert_eq!(written.len(), all.len());
        assert!(written == all, "the file holds the lines, in order, and nothing else");
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
