//! The record reader on whole records and on windows cut anywhere.

use super::reader::{KEEP_WINDOW, SPARE_WINDOW};
use super::*;

const LIMITS: ReadLimits = ReadLimits { max_events: 2, max_event_bytes: 1 << 20 };

fn code(json: &[u8]) -> &'static str {
    crate::error::Failure::from(events_of(json, LIMITS).unwrap_err()).code()
}

#[test]
fn tolerant_fields_and_heartbeats() {
    let json = br#"{"type":"DatabaseActivityMonitoringRecord","clusterId":"cluster-1","instanceId":"db-1",
        "databaseActivityEventList":[
          {"type":"heartbeat"},
          {"type":"record","pid":"123","sessionId":42,"exitCode":"","rowCount":null,"newField":[1]}]}"#;
    let (info, events) = events_of(json, LIMITS).unwrap();
    assert_eq!((info.heartbeats, info.elements, events.len()), (1, 2, 1));
    assert_eq!(info.ids.cluster_id.as_deref(), Some("cluster-1"));
    assert_eq!(info.ids.instance_id.as_deref(), Some("db-1"));
    assert!(!info.ids_after_list);
    let e = RawEvent::parse(&events[0]).unwrap();
    assert_eq!(e.integer("pid"), Some(123));
    assert_eq!(e.get("newField").unwrap().as_str(), "[1]");
}

#[test]
fn the_window_kept_for_the_next_record_is_wiped_and_reused() {
    let json = br#"{"databaseActivityEventList":[{"type":"record","commandText":"SELECT 'secret'"}]}"#;
    let (_, first) = events_of(json, LIMITS).unwrap();
    let spare = SPARE_WINDOW.take();
    assert!(!spare.is_empty(), "the thread keeps its window");
    assert!(spare.iter().all(|&b| b == 0), "the kept window holds no plaintext");
    let at = spare.as_ptr();
    SPARE_WINDOW.set(spare);
    // The next record reads into the same window, and reads the same.
    let (_, again) = events_of(json, LIMITS).unwrap();
    assert_eq!(first, again);
    let spare = SPARE_WINDOW.take();
    assert_eq!(spare.as_ptr(), at);
    assert!(spare.iter().all(|&b| b == 0));
    // A window grown past KEEP_WINDOW is not kept.
    let big = format!(
        r#"{{"databaseActivityEventList":[{{"type":"record","commandText":"{}"}}]}}"#,
        "a".repeat(KEEP_WINDOW * 2)
    );
    events_of(big.as_bytes(), LIMITS).unwrap_err();
    let limits = ReadLimits { max_events: 2, max_event_bytes: KEEP_WINDOW * 4 };
    events_of(big.as_bytes(), limits).unwrap();
    assert!(SPARE_WINDOW.take().is_empty());
}

#[test]
fn malformed_records() {
    assert_eq!(code(b"nope"), "activity.not_json");
    assert_eq!(code(b""), "activity.not_json");
    assert_eq!(code(br#"{"databaseActivityEventList":[]} x"#), "activity.not_json");
    assert_eq!(code(br#"{"type":"X","databaseActivityEventList":[]}"#), "activity.wrong_type");
    assert_eq!(code(br#"{"databaseActivityEventList":{}}"#), "activity.event_list_not_array");
    assert_eq!(code(br#"{"databaseActivityEventList":[1]}"#), "activity.event_not_object");
    assert_eq!(code(br#"{"instanceId":"db-1"}"#), "activity.missing_event_list");
    assert_eq!(code(br#"{"databaseActivityEventList":null}"#), "activity.missing_event_list");
    assert_eq!(code(br#"{"databaseActivityEventList":[{},{},{}]}"#), "activity.too_many_events");
    assert_eq!(code(br#"{"databaseActivityEventList":[{},{}],"databaseActivityEventList":[]}"#), "activity.not_json");
    // Precedence of a whole-document parse: not UTF-8, then not JSON, then the rest.
    assert_eq!(code(b"{\"databaseActivityEventList\":[1,{\"a\":\"\xff\"}]}"), "activity.not_utf8");
    assert_eq!(code(br#"{"type":"X","databaseActivityEventList":[1],"z":}"#), "activity.not_json");
    assert_eq!(code(br#"{"databaseActivityEventList":[1,{},{},{}]}"#), "activity.too_many_events");
    assert_eq!(code(br#"{"databaseActivityEventList":[{"a":"\ud800"}]}"#), "activity.not_json");
    let tiny = ReadLimits { max_events: 10, max_event_bytes: 16 };
    let big = format!(r#"{{"databaseActivityEventList":[{{"a":"{}"}}]}}"#, "x".repeat(200_000));
    let too_large = crate::error::Failure::from(events_of(big.as_bytes(), tiny).unwrap_err());
    assert_eq!(too_large.code(), "activity.event_too_large");
}

#[test]
fn list_in_a_string_and_ids_after_the_list() {
    let json =
        br#"{"databaseActivityEventList":"[{\"type\":\"record\",\"a\":1},{\"type\":\"heartbeat\"}]","clusterId":"c"}"#;
    let (info, events) = events_of(json, LIMITS).unwrap();
    assert_eq!((events.len(), info.heartbeats), (1, 1));
    assert!(info.ids_after_list);
    assert_eq!(code(br#"{"databaseActivityEventList":"[1"}"#), "activity.event_list_not_array");
}

#[test]
fn documented_examples_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/das");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let limits = ReadLimits { max_events: 1000, max_event_bytes: 1 << 20 };
            let (info, events) = events_of(&std::fs::read(&path).unwrap(), limits).unwrap();
            assert!(!events.is_empty(), "{}", path.display());
            assert!(info.ids.instance_id.is_some(), "{}", path.display());
            n += 1;
        }
    }
    assert!(n >= 8);
}

/// Hands out `n` bytes at a time, so values end up cut at every place by the window.
struct Trickle<'a>(&'a [u8], usize);

impl Source for Trickle<'_> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, InflateError> {
        let n = buf.len().min(self.0.len()).min(self.1);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn a_stream_in_small_pieces_reads_as_the_whole() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/das");
    let mut records: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    for odd in [
        &br#"{"databaseActivityEventList":[{"a":"x\"}\\","b":[{"c":"]"}]},"s",7,true]}"#[..],
        br#"{"databaseActivityEventList":[{"a":1]},{"a":[}]}]}"#,
        br#"{"databaseActivityEventList":[{"a":"open"#,
        br#"{"databaseActivityEventList":[{"a":"\"#,
        br#"{"databaseActivityEventList":"[{\"a\":1}]","clusterId":"c"}"#,
    ] {
        records.push(odd.to_vec());
    }
    let limits = ReadLimits { max_events: 1000, max_event_bytes: 1 << 20 };
    for record in &records {
        let whole = events_of(record, limits);
        for n in [1, 2, 3, 7, 64] {
            assert_eq!(events_from(Trickle(record, n), limits), whole, "{n} bytes at a time");
        }
    }
}

#[test]
fn a_bomb_of_whitespace_is_too_large() {
    let gz = crate::gzip::gzip(&vec![b' '; 16 << 20], 6);
    let src = crate::das::inflate::Inflater::new(&gz, 1 << 20).unwrap();
    let limits = ReadLimits { max_events: 10, max_event_bytes: 256 << 10 };
    let r = read_record(src, limits, &mut CheckOnly);
    assert!(matches!(r, Err(ReadError::Inflate(InflateError::TooLarge(_)))), "{r:?}");
}

/// A source that only streams (it never offers its bytes whole).
struct Streamed<S>(S);

impl<S: Source> Source for Streamed<S> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, InflateError> {
        self.0.fill(buf)
    }
}

#[test]
fn a_record_inflated_whole_reads_as_one_streamed() {
    use crate::das::inflate::Inflater;
    let gzip = |b: &[u8]| crate::gzip::gzip(b, 6);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/das");
    let mut records: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let big = format!(r#"{{"databaseActivityEventList":[{{"a":"{}"}},{{"b":1}}]}}"#, "x".repeat(300 << 10));
    // An event past the smaller limit below, cut off by the end of the record.
    let cut = format!(r#"{{"databaseActivityEventList":[{{"b":1}},{{"a":"{}"#, "x".repeat(300 << 10));
    for odd in [
        &br#"{"databaseActivityEventList":[{"a":"open"#[..],
        b"{\"databaseActivityEventList\":[{\"a\":\"\xff\"}]}",
        br#"{"databaseActivityEventList":[{"a":1},{"b":2},{"c":3}]}"#,
        big.as_bytes(),
        cut.as_bytes(),
    ] {
        records.push(odd.to_vec());
    }
    for record in &records {
        // A window larger than the largest event allowed, and a record larger than the window kept.
        for limits in [ReadLimits { max_events: 2, max_event_bytes: 64 << 10 }, LIMITS] {
            let gz = gzip(record);
            // Each reference reads through a fresh window, as the stream always did.
            let fresh = |src| {
                drop(SPARE_WINDOW.take());
                events_from(Streamed(src), limits)
            };
            let streamed = fresh(Inflater::new(&gz, 1 << 20).unwrap());
            assert_eq!(events_from(Inflater::new(&gz, 1 << 20).unwrap(), limits), streamed);
            let limited = fresh(Inflater::new(&gz, 100).unwrap());
            assert_eq!(events_from(Inflater::new(&gz, 100).unwrap(), limits), limited);
            // Two members, and a trailer whose CRC-32 is wrong: the stream's answer either way.
            let half = record.len() / 2;
            let mut two = gzip(&record[..half]);
            two.extend(gzip(&record[half..]));
            assert_eq!(events_from(Inflater::new(&two, 1 << 20).unwrap(), limits), streamed);
            let mut bad = gz.clone();
            let at = bad.len() - 8;
            bad[at] ^= 1;
            let streamed_bad = fresh(Inflater::new(&bad, 1 << 20).unwrap());
            assert!(streamed_bad.is_err());
            assert_eq!(events_from(Inflater::new(&bad, 1 << 20).unwrap(), limits), streamed_bad);
            let spare = SPARE_WINDOW.take();
            assert!(spare.iter().all(|&b| b == 0), "the kept window holds no plaintext");
            SPARE_WINDOW.set(spare);
        }
    }
}
