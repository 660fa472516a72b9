//! The Kinesis event as Lambda delivers it, read into `aws_lambda_events`' own types. The same
//! fields and the same defaults as their derived `Deserialize`; only each record's `data` is read
//! differently: decoded with SIMD base64 straight from the input, where the derived one first
//! copies the text into a `String` and then decodes it without SIMD. On the bench's 4.7 MB event
//! that copy and decode were about a third of the time spent reading the event, on one thread,
//! before the first record could be decoded.

use std::fmt;

use aws_lambda_events::encodings::{Base64Data, SecondTimestamp};
use aws_lambda_events::event::kinesis::{KinesisEncryptionType, KinesisEvent, KinesisEventRecord, KinesisRecord};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A Kinesis event, for `serde_json` and the Lambda runtime: `Batch(event)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch(pub KinesisEvent);

/// Reads a Kinesis event from its JSON text.
pub fn parse(json: &[u8]) -> serde_json::Result<KinesisEvent> {
    serde_json::from_slice::<Batch>(json).map(|b| b.0)
}

#[derive(Deserialize)]
struct WireEvent {
    #[serde(rename = "Records")]
    records: Vec<WireRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRecord {
    #[serde(default)]
    aws_region: Option<String>,
    #[serde(default, rename = "eventID")]
    event_id: Option<String>,
    #[serde(default)]
    event_name: Option<String>,
    #[serde(default)]
    event_source: Option<String>,
    #[serde(default, rename = "eventSourceARN")]
    event_source_arn: Option<String>,
    #[serde(default)]
    event_version: Option<String>,
    #[serde(default)]
    invoke_identity_arn: Option<String>,
    kinesis: WireKinesis,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireKinesis {
    #[serde(deserialize_with = "arrival_time")]
    approximate_arrival_timestamp: SecondTimestamp,
    #[serde(deserialize_with = "base64_data")]
    data: Vec<u8>,
    #[serde(default)]
    encryption_type: KinesisEncryptionType,
    #[serde(default)]
    partition_key: String,
    #[serde(default)]
    sequence_number: String,
    #[serde(default)]
    kinesis_schema_version: Option<String>,
}

/// `approximateArrivalTimestamp`: seconds since the epoch with a decimal fraction (Kinesis gives
/// milliseconds), as a JSON number or a numeric string, kept to the microsecond. Not the derived
/// reading: `aws_lambda_events` 1.2 prints the number and reads the digits after its point as
/// milliseconds, so `1764201600.5` arrives 5 ms past the second and `.98` 98 ms past it, where
/// they are 500 and 980 ms (every arrival time whose milliseconds end in a zero is wrong).
fn arrival_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SecondTimestamp, D::Error> {
    struct Seconds;
    impl Visitor<'_> for Seconds {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("seconds since the epoch")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            v.parse::<f64>().map_err(|_| E::custom("invalid timestamp"))
        }
    }
    let seconds = deserializer.deserialize_any(Seconds)?;
    // An f64 holds today's seconds to about 0.24 us: rounded to the microsecond, a time given to
    // the millisecond or the microsecond comes back exact.
    let micros = (seconds * 1e6).round();
    let time = (micros.is_finite() && (0.0..=i64::MAX as f64).contains(&micros))
        .then(|| chrono::DateTime::from_timestamp_micros(micros as i64))
        .flatten()
        .ok_or_else(|| de::Error::custom("invalid timestamp"))?;
    Ok(SecondTimestamp(time))
}

/// Standard base64 with padding, as Kinesis writes it, decoded from the text where it lies.
fn base64_data<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    struct Base64Text;
    impl Visitor<'_> for Base64Text {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a base64 string")
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<Vec<u8>, E> {
            base64_simd::STANDARD
                .decode_to_vec(text.as_bytes())
                .map_err(|_| E::custom("record data is not valid base64"))
        }
    }
    deserializer.deserialize_str(Base64Text)
}

impl<'de> Deserialize<'de> for Batch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Batch, D::Error> {
        let wire = WireEvent::deserialize(deserializer)?;
        let mut event = KinesisEvent::default();
        event.records = wire.records.into_iter().map(record).collect();
        Ok(Batch(event))
    }
}

/// One record of a Kinesis event, from its JSON value (`replay` builds records this way).
pub fn record_from_value(value: serde_json::Value) -> serde_json::Result<KinesisEventRecord> {
    WireRecord::deserialize(value).map(record)
}

/// The first `n` records of a Kinesis event, read without reading the rest (the `invoke` command
/// asks for their keys while it reads the whole event). Empty when the event does not begin with
/// `n` well-formed records: the whole read reports what is wrong.
pub fn first_records(json: &[u8], n: usize) -> Vec<KinesisEventRecord> {
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(json);
    // Reading stops after the `n`th record, which serde_json then calls an error (the array
    // goes on): what was read before it stands.
    let _ = de::DeserializeSeed::deserialize(FirstRecords { n, found: &mut found }, &mut de);
    found
}

struct FirstRecords<'a> {
    n: usize,
    found: &'a mut Vec<KinesisEventRecord>,
}

impl<'de> de::DeserializeSeed<'de> for FirstRecords<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FirstRecords<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kinesis event")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "Records" {
                return map.next_value_seed(Records(self));
            }
            map.next_value::<de::IgnoredAny>()?;
        }
        Ok(())
    }
}

struct Records<'a>(FirstRecords<'a>);

impl<'de> de::DeserializeSeed<'de> for Records<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of records")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Records(FirstRecords { n, found }) = self;
        while found.len() < n {
            match seq.next_element::<WireRecord>()? {
                Some(w) => found.push(record(w)),
                None => break,
            }
        }
        Ok(())
    }
}

fn record(w: WireRecord) -> KinesisEventRecord {
    let mut data = Base64Data::default();
    *data = w.kinesis.data;
    let mut kinesis = KinesisRecord::default();
    kinesis.approximate_arrival_timestamp = w.kinesis.approximate_arrival_timestamp;
    kinesis.data = data;
    kinesis.encryption_type = w.kinesis.encryption_type;
    kinesis.partition_key = w.kinesis.partition_key;
    kinesis.sequence_number = w.kinesis.sequence_number;
    kinesis.kinesis_schema_version = w.kinesis.kinesis_schema_version;
    let mut r = KinesisEventRecord::default();
    r.aws_region = w.aws_region;
    r.event_id = w.event_id;
    r.event_name = w.event_name;
    r.event_source = w.event_source;
    r.event_source_arn = w.event_source_arn;
    r.event_version = w.event_version;
    r.invoke_identity_arn = w.invoke_identity_arn;
    r.kinesis = kinesis;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `derived` with the arrival times of `ours` (the one field read differently on purpose).
    fn but_arrival(mut derived: KinesisEvent, ours: &KinesisEvent) -> KinesisEvent {
        for (d, o) in derived.records.iter_mut().zip(&ours.records) {
            d.kinesis.approximate_arrival_timestamp = o.kinesis.approximate_arrival_timestamp.clone();
        }
        derived
    }

    /// Every event file in `events/` reads the same as with the derived `Deserialize`, but for
    /// the arrival times, which are read exactly.
    #[test]
    fn reads_as_the_derived_deserialize_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let Ok(derived) = serde_json::from_slice::<KinesisEvent>(&bytes) else { continue };
            let ours = parse(&bytes).unwrap();
            assert_eq!(ours, but_arrival(derived, &ours), "{}", path.display());
            let text: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            for (r, t) in ours.records.iter().zip(text["Records"].as_array().unwrap()) {
                let seconds = t["kinesis"]["approximateArrivalTimestamp"].as_f64().unwrap();
                let ms = r.kinesis.approximate_arrival_timestamp.timestamp_millis();
                assert_eq!(ms, (seconds * 1000.0).round() as i64, "{}", path.display());
            }
            seen += 1;
        }
        assert!(seen >= 5, "only {seen} event files read");
    }

    fn one(data: &str, extra: &str) -> String {
        format!(
            r#"{{"Records":[{{"eventID":"shardId-000000000000:1","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/aws-rds-das-cluster-A"{extra},"kinesis":{{"approximateArrivalTimestamp":1764201600.5,"data":{data},"sequenceNumber":"1","partitionKey":"p"}}}}]}}"#
        )
    }

    #[test]
    fn data_escaped_or_not_and_defaults() {
        for (text, json) in [("aGVsbG8=", "\"aGVsbG8=\""), ("escaped", "\"aGVs\\u0062G8=\""), ("empty", "\"\"")] {
            let doc = one(json, ",\"awsRegion\":\"us-east-1\",\"unknownField\":[1,2]");
            let derived: KinesisEvent = serde_json::from_str(&doc).unwrap();
            let ours = parse(doc.as_bytes()).unwrap();
            assert_eq!(ours, but_arrival(derived, &ours), "{text}");
        }
    }

    #[test]
    fn arrival_times_are_read_exactly() {
        let at = |arrival: &str| {
            let doc = one("\"aGVsbG8=\"", "").replace("1764201600.5", arrival);
            parse(doc.as_bytes()).map(|e| e.records[0].kinesis.approximate_arrival_timestamp.timestamp_micros())
        };
        let base = 1_764_201_600_000_000_i64;
        for (text, micros) in [
            ("1764201600.5", 500_000),
            ("1764201600.98", 980_000),
            ("1764201600.987", 987_000),
            ("1764201600.001", 1_000),
            ("1764201600", 0),
            ("1764201600.0", 0),
            ("1.7642016009E9", 900_000),
            ("\"1764201600.25\"", 250_000),
            ("1764201600.123456", 123_456),
        ] {
            assert_eq!(at(text).unwrap(), base + micros, "{text}");
        }
        // The derived reading, for the record: half a second read as 5 ms.
        let derived: KinesisEvent = serde_json::from_str(&one("\"aGVsbG8=\"", "")).unwrap();
        assert_eq!(derived.records[0].kinesis.approximate_arrival_timestamp.timestamp_subsec_millis(), 5);
        for bad in ["-1", "\"soon\"", "null", "[]", "1e300"] {
            assert!(at(bad).is_err(), "{bad}");
        }
        // A record built from a JSON value (`replay`) reads the same.
        let doc: serde_json::Value = serde_json::from_str(&one("\"aGVsbG8=\"", "")).unwrap();
        let record = record_from_value(doc["Records"][0].clone()).unwrap();
        assert_eq!(record, parse(one("\"aGVsbG8=\"", "").as_bytes()).unwrap().records[0]);
        assert_eq!(record.kinesis.approximate_arrival_timestamp.timestamp_subsec_millis(), 500);
    }

    #[test]
    fn refuses_what_the_derived_refuses() {
        for bad in ["\"aGVsbG8\"", "\"aGV sbG8=\"", "\"a*GVsbG8=\"", "12", "null"] {
            let doc = one(bad, "");
            assert!(serde_json::from_str::<KinesisEvent>(&doc).is_err(), "{bad} derived");
            let err = parse(doc.as_bytes()).unwrap_err();
            assert!(err.to_string().contains("line 1"), "{err}");
        }
        assert!(parse(br#"{"Records":[{"kinesis":{"data":"aGVsbG8="}}]}"#).is_err(), "no arrival time");
        assert!(parse(b"{}").is_err(), "no Records");
    }

    #[test]
    fn first_records_read_only_the_first_ones() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events/aurora-mysql.json");
        let bytes = std::fs::read(&path).unwrap();
        let all = parse(&bytes).unwrap().records;
        assert!(all.len() >= 3, "{}", all.len());
        assert_eq!(first_records(&bytes, 2), all[..2]);
        assert_eq!(first_records(&bytes, all.len() + 5), all);
        // A broken record stops the reading there; what came before stands.
        let doc = format!(
            "{{\"x\":{{\"Records\":1}},\"Records\":[{},{{\"kinesis\":7}}]}}",
            one("\"aGVsbG8=\"", "").trim_start_matches("{\"Records\":[").trim_end_matches("]}")
        );
        let got = first_records(doc.as_bytes(), 5);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].kinesis.data.0, b"hello");
        for bad in [&b""[..], b"[]", b"{\"Records\":{}}", b"{\"Records\":[1]}", b"not json"] {
            assert!(first_records(bad, 3).is_empty());
        }
    }
}
