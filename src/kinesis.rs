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

    /// Every event file in `events/` reads the same as with the derived `Deserialize`.
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
            assert_eq!(parse(&bytes).unwrap(), derived, "{}", path.display());
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
            assert_eq!(parse(doc.as_bytes()).unwrap(), derived, "{text}");
        }
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
