//! Optional filters (off unless configured): drop events by user, command
//! or database name, compared case-insensitively.

use crate::das::RawEvent;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub users: Vec<String>,
    pub commands: Vec<String>,
    pub databases: Vec<String>,
    /// Event-time window in epoch ms, `[since, until)` (`replay --since/--until`); events
    /// without a time pass.
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// How the kept events' SQL is redacted (`REDACT_SQL`).
    pub redaction: crate::redact::Redactor,
}

/// Which filter dropped an event (a summary counter each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    User,
    Command,
    Database,
    Time,
}

/// Whether the event's `field` is in `list` (its text is not looked at when the list is empty).
fn listed(list: &[String], event: &RawEvent<'_>, field: &str) -> bool {
    !list.is_empty() && event.text(field).is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v.trim())))
}

impl Filters {
    /// Parses comma-separated lists.
    pub fn from_lists(users: Option<&str>, commands: Option<&str>, databases: Option<&str>) -> Filters {
        let split = |s: Option<&str>| -> Vec<String> {
            s.unwrap_or("").split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect()
        };
        Filters { users: split(users), commands: split(commands), databases: split(databases), ..Filters::default() }
    }

    pub fn check(&self, event: &RawEvent<'_>) -> Option<Dropped> {
        if listed(&self.users, event, "dbUserName") {
            Some(Dropped::User)
        } else if listed(&self.commands, event, "command") {
            Some(Dropped::Command)
        } else if listed(&self.databases, event, "databaseName") {
            Some(Dropped::Database)
        } else if self.outside_window(event) {
            Some(Dropped::Time)
        } else {
            None
        }
    }

    fn outside_window(&self, event: &RawEvent<'_>) -> bool {
        if self.since_ms.is_none() && self.until_ms.is_none() {
            return false;
        }
        let time = ["logTime", "startTime"]
            .iter()
            .find_map(|f| event.text(f).and_then(|t| crate::das::time::parse(&t)))
            .map(|t| t.millis);
        match time {
            Some(t) => self.since_ms.is_some_and(|s| t < s) || self.until_ms.is_some_and(|u| t >= u),
            None => false,
        }
    }
}
