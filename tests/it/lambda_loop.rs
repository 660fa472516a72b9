//! The cargo-lambda local loop: `cargo lambda watch` runs the function as Lambda does (the runtime API,
//! JSON logs, the request id), and `make invoke` sends it every file in `events/`. Each answer and the
//! files the function wrote are checked against the table in `events/README.md`.
//!
//! Ignored by `cargo test` (it builds and runs the binary under cargo-lambda, which comes from PyPI):
//! `make lambda-test` runs it, and CI calls that.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::moto::free_port;
use common::ocsf::OcsfValidator;
use common::{files_under, ndjson_under, repo_dir};

/// One row of the events/README.md table.
#[derive(Debug)]
struct Expected {
    response: serde_json::Value,
    events: usize,
    quarantined: usize,
}

fn documented() -> BTreeMap<String, Expected> {
    let readme = std::fs::read_to_string(repo_dir().join("events/README.md")).unwrap();
    let mut rows = BTreeMap::new();
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert_eq!(cells.len(), 5, "events/README.md row without five cells: {line}");
        let strip = |c: &str| c.trim_matches('`').to_owned();
        rows.insert(
            strip(cells[0]),
            Expected {
                response: serde_json::from_str(&strip(cells[2])).unwrap(),
                events: cells[3].parse().unwrap(),
                quarantined: cells[4].parse().unwrap(),
            },
        );
    }
    rows
}

fn event_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_dir().join("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

fn local_env(out: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("KEY_PROVIDER", "local".into()),
        ("LOCAL_MASTER_KEY_FILE", "events/local-master-key.hex".into()),
        ("SINKS", "file".into()),
        ("FILE_SINK_DIR", out.display().to_string()),
    ]
}

/// A `cargo lambda watch` this test started, stopped by its PID (its own process group) on drop.
struct Watch(Child);

impl Watch {
    fn start(port: u16, out: &Path, log: &Path) -> Watch {
        let mut cmd = Command::new("setsid");
        cmd.args(["cargo", "lambda", "watch", "--ignore-changes", "-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(repo_dir())
            .envs(local_env(out))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(std::fs::File::create(log.with_extension("err")).unwrap());
        let child = cmd.spawn().expect("setsid cargo lambda watch (is cargo-lambda on PATH? make lambda-tools)");
        let watch = Watch(child);
        let deadline = Instant::now() + Duration::from_secs(600);
        while !listening(port) {
            assert!(Instant::now() < deadline, "cargo lambda watch not listening on {port}");
            std::thread::sleep(Duration::from_millis(200));
        }
        watch
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let pgid = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &pgid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.0.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &pgid]).status();
        let _ = self.0.wait();
    }
}

/// `make -s invoke EVENT=<file> WATCH_PORT=<port>`: the response JSON (the last line of stdout).
fn make_invoke(event: &Path, port: u16, out: &Path) -> serde_json::Value {
    let output = Command::new("make")
        .args(["-s", "invoke", &format!("EVENT={}", event.display()), &format!("WATCH_PORT={port}")])
        .arg(format!("WATCH_OUT={}", out.display()))
        .current_dir(repo_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "make invoke {} failed:\n{stdout}\n{}",
        event.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap_or_else(|| panic!("no response: {stdout}"));
    serde_json::from_str(last).unwrap()
}

#[test]
#[ignore = "needs cargo-lambda (make lambda-test)"]
fn every_event_file_answers_as_documented() {
    let table = documented();
    let files = event_files();
    assert!(files.len() >= 8, "events/ holds {} event files", files.len());
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    let port = free_port();
    let watch = Watch::start(port, &out, &scratch.path().join("watch.log"));
    let validator = OcsfValidator::new();

    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let expected = table.get(&name).unwrap_or_else(|| panic!("{name} is not documented in events/README.md"));
        let _ = std::fs::remove_dir_all(&out);
        let response = make_invoke(file, port, &out);
        assert_eq!(response, expected.response, "{name}: response");
        let events = ndjson_under(&out.join("das"));
        assert_eq!(events.len(), expected.events, "{name}: OCSF events written");
        for event in &events {
            validator.check(event);
        }
        let quarantined = files_under(&out.join("quarantine")).len();
        assert_eq!(quarantined, expected.quarantined, "{name}: quarantined records");
        println!("{name}: {response} {} events, {quarantined} quarantined", events.len());
    }
    for name in table.keys() {
        assert!(files.iter().any(|f| f.ends_with(name)), "events/README.md documents {name}, which is missing");
    }
    drop(watch);
    assert!(!listening(port), "the watch outlived its stop");
}

#[test]
#[ignore = "needs cargo-lambda (make lambda-test)"]
fn make_invoke_starts_and_stops_its_own_watch() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    let port = free_port();
    assert!(!listening(port));
    let event = repo_dir().join("events/poison-record.json");
    let response = make_invoke(&event, port, &out);
    assert_eq!(response, serde_json::json!({"batchItemFailures": []}));
    assert_eq!(files_under(&out.join("quarantine")).len(), 1);
    assert!(!listening(port), "make invoke left its watch running on {port}");
}
