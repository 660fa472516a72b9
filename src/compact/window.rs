//! The window `compact` merges: whole UTC hours `[start, start + hours)`, and whether it is closed.

use chrono::{DateTime, Timelike, Utc};

use super::CompactError;
use crate::layout::HOUR_MS;

/// Longest window: one object per event day and window stays one day's worth at most.
pub const MAX_HOURS: u32 = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub hours: u32,
}

impl Window {
    /// `start`: RFC 3339 at a whole hour (`2026-11-27T05:00:00Z`); `hours`: 1-24.
    pub fn parse(start: &str, hours: u32) -> Result<Window, CompactError> {
        let t = DateTime::parse_from_rfc3339(start)
            .map_err(|e| CompactError::Window(format!("--start {start:?} is not an RFC 3339 time: {e}")))?
            .with_timezone(&Utc);
        if t.minute() != 0 || t.second() != 0 || t.nanosecond() != 0 {
            let why = format!("--start {start:?} is not a whole hour: windows are made of hour partitions");
            return Err(CompactError::Window(why));
        }
        if hours == 0 || hours > MAX_HOURS {
            return Err(CompactError::Window(format!("--hours {hours} is outside 1..={MAX_HOURS}")));
        }
        Ok(Window { start_ms: t.timestamp_millis(), hours })
    }

    pub fn end_ms(&self) -> i64 {
        self.start_ms + i64::from(self.hours) * HOUR_MS
    }

    pub fn contains(&self, time_ms: i64) -> bool {
        (self.start_ms..self.end_ms()).contains(&time_ms)
    }

    /// The hive-layout directories of the window's hours, e.g. `das/class_uid=6005/dt=2026-11-27/hour=05/`.
    pub fn hour_prefixes(&self, prefix: &str) -> Vec<String> {
        (0..i64::from(self.hours))
            .map(|h| format!("{}/", crate::layout::hive_dir(prefix, self.start_ms + h * HOUR_MS)))
            .collect()
    }

    /// Ok when the window ended at least `grace_ms` before `now_ms`; otherwise when it will have.
    pub fn check_closed(&self, now_ms: i64, grace_ms: i64) -> Result<(), CompactError> {
        let ready = self.end_ms() + grace_ms;
        if now_ms >= ready {
            return Ok(());
        }
        Err(CompactError::Window(format!(
            "the window {} is not closed: events may still arrive. Run it at or after {}",
            self.label(),
            stamp(ready, "%Y-%m-%dT%H:%M:%SZ")
        )))
    }

    /// `das-<start>-<end>` in `YYYYMMDDTHHMMZ`: the name of the window's objects.
    pub fn label(&self) -> String {
        format!("das-{}-{}", stamp(self.start_ms, "%Y%m%dT%H%MZ"), stamp(self.end_ms(), "%Y%m%dT%H%MZ"))
    }
}

fn stamp(ms: i64, format: &str) -> String {
    DateTime::from_timestamp_millis(ms).unwrap_or_default().format(format).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_hours_and_close_after_the_grace() {
        let w = Window::parse("2025-11-26T23:00:00Z", 2).unwrap();
        assert_eq!(w.label(), "das-20251126T2300Z-20251127T0100Z");
        assert_eq!(
            w.hour_prefixes("das/"),
            ["das/class_uid=6005/dt=2025-11-26/hour=23/", "das/class_uid=6005/dt=2025-11-27/hour=00/"]
        );
        assert!(w.contains(w.start_ms) && !w.contains(w.end_ms()));
        assert!(w.check_closed(w.end_ms() + 60_000, 60_000).is_ok());
        let e = w.check_closed(w.end_ms(), 900_000).unwrap_err().to_string();
        assert!(e.contains("2025-11-27T01:15:00Z"), "{e}");
        assert!(Window::parse("2025-11-26T23:30:00Z", 1).unwrap_err().to_string().contains("whole hour"));
        assert!(Window::parse("2025-11-26T23:00:00Z", 25).is_err());
        assert!(Window::parse("yesterday", 1).is_err());
        assert_eq!(Window::parse("2025-11-27T01:00:00+01:00", 1).unwrap().start_ms, 1_764_201_600_000);
    }
}
