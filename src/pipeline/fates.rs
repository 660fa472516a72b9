//! The batch's state: one fate per record, and the cut. This is where the Kinesis semantics
//! live:
//!
//! * **delivered**: decoded, and every sink took its events;
//! * **quarantined**: failed permanently; stored with its reason code;
//! * **reported**: listed in `batchItemFailures` for Kinesis to retry.
//!
//! The earliest record that could not be finished (a key lookup, the quarantine store or a
//! sink failing, or the deadline) is the *cut*: every record from the cut on is reported and
//! counts as neither delivered nor quarantined, because Kinesis resumes from the earliest
//! reported record. The summary and the response are a fold over the fates.

use std::collections::BTreeMap;

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use aws_lambda_events::event::streams::KinesisEventResponse;
use serde::Serialize;

/// Events the filters dropped, per filter.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FilterCounts {
    pub users: usize,
    pub commands: usize,
    pub databases: usize,
    /// Outside `replay --since/--until`.
    pub time: usize,
}

impl FilterCounts {
    pub fn total(&self) -> usize {
        self.users + self.commands + self.databases + self.time
    }

    pub fn add(&mut self, other: &FilterCounts) {
        self.users += other.users;
        self.commands += other.commands;
        self.databases += other.databases;
        self.time += other.time;
    }
}

/// What a decoded record held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Events written (one line each).
    pub events: usize,
    pub heartbeats: usize,
    pub filtered: FilterCounts,
}

/// Where one record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Not finished (yet): reported unless something else happens to it before the cut.
    Pending,
    /// Decoded and handed to the sinks.
    Decoded(Counts),
    /// Failed for good; its quarantine entry is written.
    Quarantined(&'static str),
}

/// The fates of a batch's records and the cut.
#[derive(Debug)]
pub struct Fates {
    fates: Vec<Fate>,
    cut: usize,
}

impl Fates {
    pub fn new(records: usize) -> Fates {
        Fates { fates: vec![Fate::Pending; records], cut: records }
    }

    pub fn set(&mut self, record: usize, fate: Fate) {
        if let Some(f) = self.fates.get_mut(record) {
            *f = fate;
        }
    }

    /// Nothing from `record` on counts as done in this invocation.
    pub fn cut_at(&mut self, record: usize) {
        self.cut = self.cut.min(record);
    }

    pub fn cut(&self) -> usize {
        self.cut
    }

    /// The response: every record from the cut on, for Kinesis to retry.
    pub fn response(&self, records: &[KinesisEventRecord]) -> KinesisEventResponse {
        let mut response = KinesisEventResponse::default();
        response.set_failures(records[self.cut.min(records.len())..].iter().map(|r| r.kinesis.sequence_number.clone()));
        response
    }

    /// The counts of the summary: a fold over the fates before the cut.
    pub fn fold(&self, records: &[KinesisEventRecord], summary: &mut Summary) {
        summary.records = records.len();
        summary.reported = records.len() - self.cut.min(records.len());
        summary.first_reported = records.get(self.cut).map(|r| r.kinesis.sequence_number.clone());
        for (record, fate) in records.iter().zip(&self.fates).take(self.cut) {
            match fate {
                Fate::Decoded(c) => {
                    summary.delivered += 1;
                    summary.events += c.events;
                    summary.heartbeats += c.heartbeats;
                    summary.filtered.add(&c.filtered);
                }
                Fate::Quarantined(code) => {
                    summary.quarantined += 1;
                    *summary.quarantine_reasons.entry(code).or_default() += 1;
                    summary.quarantined_records.push(record.kinesis.sequence_number.clone());
                }
                // Before the cut every record is finished; this would be a bug, and reporting it
                // is the safe answer.
                Fate::Pending => summary.reported += 1,
            }
        }
    }
}

/// What one invocation did; logged as one line and printed by `invoke`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub records: usize,
    pub delivered: usize,
    pub quarantined: usize,
    pub reported: usize,
    pub events: usize,
    pub heartbeats: usize,
    /// Events dropped by EXCLUDE_USERS, EXCLUDE_COMMANDS, EXCLUDE_DATABASES.
    pub filtered: FilterCounts,
    pub quarantine_reasons: BTreeMap<&'static str, usize>,
    pub key_provider_calls: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub sink_errors: Vec<String>,
    /// Events a sink refused for good, quarantined one by one.
    pub rejected_events: usize,
    pub first_reported: Option<String>,
    /// Why the records from the cut on were reported (the first cause), when any were.
    pub cut_reason: Option<String>,
    /// The DAS resource id of the batch (the metrics' dimension).
    pub resource_id: Option<String>,
    /// Now minus the arrival time of the batch's last record (what Lambda calls the iterator age).
    pub iterator_age_ms: Option<u64>,
    /// Now minus the arrival time of the batch's oldest record.
    pub oldest_record_age_ms: Option<u64>,
    /// What each sink did with the batch.
    pub sinks: BTreeMap<&'static str, crate::sinks::SinkStats>,
    /// Sequence numbers of the records quarantined in this invocation.
    pub quarantined_records: Vec<String>,
    /// Chunks delivered to the sinks.
    pub chunks: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: usize) -> Vec<KinesisEventRecord> {
        (0..n)
            .map(|i| {
                let mut r = KinesisEventRecord::default();
                r.kinesis.sequence_number = format!("s{i}");
                r
            })
            .collect()
    }

    #[test]
    fn the_cut_reports_everything_from_it_on() {
        let recs = records(5);
        let mut f = Fates::new(5);
        let c = Counts { events: 3, heartbeats: 1, filtered: FilterCounts::default() };
        f.set(0, Fate::Decoded(c));
        f.set(1, Fate::Quarantined("esdk.frame_tag"));
        f.set(2, Fate::Decoded(c));
        f.set(3, Fate::Decoded(c));
        f.cut_at(3);
        f.cut_at(4);
        let mut s = Summary::default();
        f.fold(&recs, &mut s);
        assert_eq!((s.delivered, s.quarantined, s.reported, s.events), (2, 1, 2, 6));
        assert_eq!(s.first_reported.as_deref(), Some("s3"));
        assert_eq!(s.quarantined_records, ["s1"]);
        let failures: Vec<_> =
            f.response(&recs).batch_item_failures.into_iter().map(|b| b.item_identifier.unwrap()).collect();
        assert_eq!(failures, ["s3", "s4"]);
    }
}
