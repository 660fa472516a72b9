//! The checks' results: one line each for people, or one JSON document (`--json`).

use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One check: what it looked at, what it found, and for a warning or a failure, the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub status: Status,
    /// What was checked: `stream <name>`, `sink s3`, …
    pub target: String,
    /// The check's name: `stream.active`, `record.kms`, …
    pub check: &'static str,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn ok(&mut self, target: &str, check: &'static str, detail: impl Into<String>) {
        self.push(Status::Ok, target, check, detail.into(), None);
    }

    pub fn warn(&mut self, target: &str, check: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.push(Status::Warn, target, check, detail.into(), Some(fix.into()));
    }

    pub fn fail(&mut self, target: &str, check: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.push(Status::Fail, target, check, detail.into(), Some(fix.into()));
    }

    fn push(&mut self, status: Status, target: &str, check: &'static str, detail: String, fix: Option<String>) {
        self.checks.push(Check { status, target: target.to_owned(), check, detail, fix });
    }

    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// One line a check (`ok`, `warn`, `FAIL`), the fix indented under a warning or failure,
    /// and a last line of totals.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let mark = match c.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            let _ = writeln!(out, "{mark}  {}  {}: {}", c.target, c.check, c.detail);
            if let Some(fix) = &c.fix {
                let _ = writeln!(out, "      fix: {fix}");
            }
        }
        let (ok, warn, fail) = (self.count(Status::Ok), self.count(Status::Warn), self.count(Status::Fail));
        let _ = writeln!(out, "{ok} ok, {warn} warnings, {fail} failures");
        out
    }

    /// The report as one JSON document, with the totals.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "checks": self.checks,
            "ok": self.count(Status::Ok),
            "warn": self.count(Status::Warn),
            "fail": self.count(Status::Fail),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fixes_and_totals() {
        let mut r = Report::default();
        r.ok("stream s", "stream.active", "ACTIVE, 1 shard");
        r.fail("sink hec", "hec.token", "HTTP 403", "set HEC_TOKEN to the token of the input");
        let text = r.text();
        assert!(text.starts_with("ok    stream s  stream.active: ACTIVE, 1 shard\n"), "{text}");
        assert!(text.contains("FAIL  sink hec  hec.token: HTTP 403\n      fix: set HEC_TOKEN"), "{text}");
        assert!(text.ends_with("1 ok, 0 warnings, 1 failures\n"), "{text}");
        let json = r.json();
        assert_eq!((json["ok"].as_u64(), json["fail"].as_u64()), (Some(1), Some(1)));
        assert_eq!(json["checks"][1]["status"], "fail");
        assert!(json["checks"][0].get("fix").is_none());
    }
}
