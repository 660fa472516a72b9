//! What a DAS event did, as an OCSF Datastore Activity `activity_id`, decided
//! on `command` first and `class` as a fallback. A MySQL `QUERY` is
//! classified by the first SQL keyword of its text (comments skipped).

use std::borrow::Cow;

pub const UNKNOWN: u8 = 0;
pub const READ: u8 = 1;
pub const UPDATE: u8 = 2;
pub const CONNECT: u8 = 3;
pub const QUERY: u8 = 4;
pub const WRITE: u8 = 5;
pub const CREATE: u8 = 6;
pub const DELETE: u8 = 7;
pub const LIST: u8 = 8;
pub const OTHER: u8 = 99;

/// The schema's caption for an activity id.
pub fn caption(id: u8) -> &'static str {
    match id {
        READ => "Read",
        UPDATE => "Update",
        CONNECT => "Connect",
        QUERY => "Query",
        WRITE => "Write",
        CREATE => "Create",
        DELETE => "Delete",
        LIST => "List",
        9 => "Encrypt",
        10 => "Decrypt",
        OTHER => "Other",
        _ => "Unknown",
    }
}

/// `type_name`: "Datastore Activity: " and the caption.
pub fn type_name(id: u8) -> &'static str {
    match id {
        READ => "Datastore Activity: Read",
        UPDATE => "Datastore Activity: Update",
        CONNECT => "Datastore Activity: Connect",
        QUERY => "Datastore Activity: Query",
        WRITE => "Datastore Activity: Write",
        CREATE => "Datastore Activity: Create",
        DELETE => "Datastore Activity: Delete",
        LIST => "Datastore Activity: List",
        9 => "Datastore Activity: Encrypt",
        10 => "Datastore Activity: Decrypt",
        OTHER => "Datastore Activity: Other",
        _ => "Datastore Activity: Unknown",
    }
}

/// An activity and the statement traits that raise severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: u8,
    /// For `OTHER`: the source label (`Disconnect`, `Execute`, the command).
    pub label: Option<String>,
    /// GRANT, REVOKE, CREATE/ALTER/DROP ROLE or USER, SET PASSWORD.
    pub privilege_change: bool,
    /// DROP or TRUNCATE.
    pub destructive: bool,
    /// DROP DATABASE or DROP SCHEMA.
    pub drops_database: bool,
}

impl Activity {
    fn new(id: u8) -> Activity {
        Activity { id, label: None, privilege_change: false, destructive: false, drops_database: false }
    }
    fn other(label: &str) -> Activity {
        Activity { label: Some(label.to_owned()), ..Activity::new(OTHER) }
    }
    /// `activity_name`: the caption, or the source label for `Other`.
    pub fn name(&self) -> String {
        match (&self.label, self.id) {
            (Some(label), OTHER) => label.clone(),
            _ => caption(self.id).to_owned(),
        }
    }
}

/// Skips whitespace, `--` and `/* */` comments and opening parentheses.
fn skip_noise(mut s: &str) -> &str {
    loop {
        let t = s.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(rest) = t.strip_prefix("--").or_else(|| t.strip_prefix('#')) {
            s = rest.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(rest) = t.strip_prefix("/*") {
            s = rest.split_once("*/").map_or("", |(_, r)| r);
        } else {
            return t;
        }
    }
}

/// The first `n` SQL words, upper-cased.
pub fn leading_keywords(text: &str, n: usize) -> Vec<String> {
    let mut words = Vec::with_capacity(n);
    let mut rest = text;
    while words.len() < n {
        rest = skip_noise(rest);
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        words.push(rest[..end].to_ascii_uppercase());
        rest = &rest[end..];
    }
    words
}

/// Classifies by SQL keywords (a PostgreSQL command tag or a statement's first words).
fn by_keywords(words: &[String], class: Option<&str>) -> Option<Activity> {
    let first = words.first()?.as_str();
    let second = words.get(1).map(String::as_str).unwrap_or("");
    let on_principal = matches!(second, "ROLE" | "USER" | "GROUP");
    let mut a = match first {
        "CONNECT" | "LOGON" | "LOGIN" | "CHANGEUSER" | "FAILED_CONNECT" => Activity::new(CONNECT),
        "DISCONNECT" | "LOGOFF" | "LOGOUT" | "QUIT" => Activity::other("Disconnect"),
        "SELECT" if second == "INTO" => Activity::new(CREATE),
        "SELECT" | "VALUES" | "TABLE" | "WITH" | "EXPLAIN" => Activity::new(QUERY),
        "FETCH" | "READ" => Activity::new(READ),
        "COPY" if class.is_some_and(|c| c.eq_ignore_ascii_case("WRITE")) => Activity::new(WRITE),
        "COPY" => Activity::new(READ),
        "INSERT" | "MERGE" | "REPLACE" | "LOAD" | "UPSERT" | "WRITE" => Activity::new(WRITE),
        "UPDATE" | "ALTER" | "COMMENT" | "RENAME" | "REINDEX" | "CLUSTER" | "GRANT" | "REVOKE" => Activity::new(UPDATE),
        "SECURITY" if second == "LABEL" => Activity::new(UPDATE),
        "SET" if second == "PASSWORD" => Activity::new(UPDATE),
        "DELETE" | "TRUNCATE" | "DROP" => Activity::new(DELETE),
        "CREATE" => Activity::new(CREATE),
        "SHOW" | "DESCRIBE" | "DESC" => Activity::new(LIST),
        "DO" | "CALL" | "EXECUTE" | "EXEC" => Activity::other("Execute"),
        _ => return None,
    };
    a.privilege_change = matches!(first, "GRANT" | "REVOKE")
        || (matches!(first, "CREATE" | "ALTER" | "DROP") && on_principal)
        || (first == "SET" && second == "PASSWORD");
    a.destructive = matches!(first, "DROP" | "TRUNCATE");
    a.drops_database = first == "DROP" && matches!(second, "DATABASE" | "SCHEMA");
    Some(a)
}

fn by_class(class: &str, command: Option<&str>) -> Activity {
    match class.to_ascii_uppercase().as_str() {
        "READ" => Activity::new(READ),
        "WRITE" => Activity::new(WRITE),
        "CONNECT" => Activity::new(CONNECT),
        "ROLE" => Activity { privilege_change: true, ..Activity::new(UPDATE) },
        "FUNCTION" => Activity::other("Execute"),
        _ => command.map_or(Activity::new(UNKNOWN), Activity::other),
    }
}

/// `command`, `class` and `commandText` of an event → its activity.
pub fn classify(command: Option<&str>, class: Option<&str>, command_text: Option<&str>) -> Activity {
    let class_upper = class.map(str::to_ascii_uppercase);
    match class_upper.as_deref() {
        // Aurora MySQL AUX events name the object operation in `command`.
        Some("AUX") => {
            let words = command.map(|c| leading_keywords(c, 1)).unwrap_or_default();
            return by_keywords(&words, None)
                .unwrap_or_else(|| command.map_or(Activity::new(UNKNOWN), Activity::other));
        }
        // Aurora MySQL MAIN QUERY: the statement's own first keywords decide.
        Some("MAIN") if command.is_some_and(|c| c.eq_ignore_ascii_case("QUERY")) => {
            let words = command_text.map(|t| leading_keywords(t, 2)).unwrap_or_default();
            return by_keywords(&words, None).unwrap_or_else(|| Activity::new(QUERY));
        }
        _ => {}
    }
    if let Some(cmd) = command.filter(|c| !c.trim().is_empty()) {
        let words = leading_keywords(cmd, 2);
        if let Some(a) = by_keywords(&words, class) {
            // A role-class GRANT or an ALTER ROLE is a privilege change either way.
            let role_class = class_upper.as_deref() == Some("ROLE");
            return Activity { privilege_change: a.privilege_change || role_class, ..a };
        }
        return match class {
            Some(c) if !c.trim().is_empty() => {
                let fallback = by_class(c, Some(cmd));
                if fallback.id == OTHER || fallback.id == UNKNOWN {
                    Activity::other(cmd)
                } else {
                    fallback
                }
            }
            _ => Activity::other(cmd),
        };
    }
    class.filter(|c| !c.trim().is_empty()).map_or(Activity::new(UNKNOWN), |c| by_class(c, None))
}

/// Text for `message`: "<command> on <object> by <user>", without SQL text.
pub fn message(activity: &Activity, command: Option<&str>, object: Option<&str>, user: Option<&str>) -> String {
    let what: Cow<'_, str> = command.map_or_else(|| Cow::Owned(activity.name()), Cow::Borrowed);
    let len = what.len() + object.map_or(0, |o| o.len() + 4) + user.map_or(0, |u| u.len() + 4);
    let mut m = String::with_capacity(len);
    m.push_str(&what);
    if let Some(o) = object {
        m.push_str(" on ");
        m.push_str(o);
    }
    if let Some(u) = user {
        m.push_str(" by ");
        m.push_str(u);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(command: Option<&str>, class: Option<&str>, text: Option<&str>) -> u8 {
        classify(command, class, text).id
    }

    #[test]
    fn type_names_are_the_captions() {
        for id in (0..=12).chain([99]) {
            assert_eq!(type_name(id), format!("Datastore Activity: {}", caption(id)));
        }
    }

    #[test]
    fn postgresql_command_tags() {
        assert_eq!(id(Some("SELECT"), Some("READ"), None), QUERY);
        assert_eq!(id(Some("CONNECT"), Some("MISC"), None), CONNECT);
        assert_eq!(id(Some("CREATE TABLE"), Some("DDL"), None), CREATE);
        assert_eq!(id(Some("COPY"), Some("WRITE"), None), WRITE);
        assert_eq!(id(Some("COPY"), Some("READ"), None), READ);
        assert_eq!(id(Some("TRUNCATE TABLE"), Some("WRITE"), None), DELETE);
        assert_eq!(id(Some("VACUUM"), Some("MISC"), None), OTHER);
        assert_eq!(classify(Some("VACUUM"), Some("MISC"), None).name(), "VACUUM");
        assert_eq!(classify(Some("DISCONNECT"), Some("MISC"), None).name(), "Disconnect");
        assert_eq!(id(Some("SOMETHING NEW"), Some("READ"), None), READ);
        assert_eq!(id(None, Some("WRITE"), None), WRITE);
        assert_eq!(id(None, None, None), UNKNOWN);
        let grant = classify(Some("GRANT"), Some("ROLE"), None);
        assert_eq!((grant.id, grant.privilege_change), (UPDATE, true));
        let role = classify(Some("DROP ROLE"), Some("ROLE"), None);
        assert_eq!((role.id, role.privilege_change, role.destructive), (DELETE, true, true));
        assert!(classify(Some("DROP DATABASE"), Some("DDL"), None).drops_database);
    }

    #[test]
    fn mysql_main_and_aux() {
        assert_eq!(id(Some("QUERY"), Some("MAIN"), Some("/* app */ -- x\n ( SELECT 1 )")), QUERY);
        assert_eq!(id(Some("QUERY"), Some("MAIN"), Some("insert into t values (1)")), WRITE);
        assert_eq!(id(Some("QUERY"), Some("MAIN"), Some("SHOW TABLES")), LIST);
        assert_eq!(id(Some("QUERY"), Some("MAIN"), Some("# c\nDROP TABLE t")), DELETE);
        assert_eq!(id(Some("QUERY"), Some("MAIN"), Some("")), QUERY);
        assert!(classify(Some("QUERY"), Some("MAIN"), Some("CREATE USER bob")).privilege_change);
        assert!(classify(Some("QUERY"), Some("MAIN"), Some("set password for bob = 'x'")).privilege_change);
        assert_eq!(id(Some("CONNECT"), Some("MAIN"), Some("")), CONNECT);
        assert_eq!(id(Some("READ"), Some("AUX"), Some("t")), READ);
        assert_eq!(id(Some("CREATE"), Some("AUX"), Some("t")), CREATE);
        assert_eq!(id(Some("RENAME"), Some("AUX"), None), UPDATE);
        assert_eq!(classify(Some("WEIRD"), Some("AUX"), None).name(), "WEIRD");
    }

    #[test]
    fn keywords_skip_comments_and_stop_at_the_end() {
        assert_eq!(leading_keywords("  /* a */ /* b", 2), Vec::<String>::new());
        assert_eq!(leading_keywords("drop   schema x", 2), vec!["DROP", "SCHEMA"]);
        assert_eq!(leading_keywords("--only a comment", 2), Vec::<String>::new());
    }
}
