//! Optional filters (off unless configured): drop events by user, command
//! or database name, compared case-insensitively.

use crate::das::ActivityEvent;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub users: Vec<String>,
    pub commands: Vec<String>,
    pub databases: Vec<String>,
}

/// Which filter dropped an event (a summary counter each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    User,
    Command,
    Database,
}

fn listed(list: &[String], value: Option<std::borrow::Cow<'_, str>>) -> bool {
    value.is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v.trim())))
}

impl Filters {
    /// Parses comma-separated lists.
    pub fn from_lists(users: Option<&str>, commands: Option<&str>, databases: Option<&str>) -> Filters {
        let split = |s: Option<&str>| -> Vec<String> {
            s.unwrap_or("").split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect()
        };
        Filters { users: split(users), commands: split(commands), databases: split(databases) }
    }

    pub fn check(&self, event: &ActivityEvent) -> Option<Dropped> {
        if listed(&self.users, event.text("dbUserName")) {
            Some(Dropped::User)
        } else if listed(&self.commands, event.text("command")) {
            Some(Dropped::Command)
        } else if listed(&self.databases, event.text("databaseName")) {
            Some(Dropped::Database)
        } else {
            None
        }
    }
}
