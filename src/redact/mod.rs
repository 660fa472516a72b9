//! SQL redaction (`REDACT_SQL`): `literals` replaces every string, number, hex, bit, date and
//! dollar-quoted literal of `commandText` with `?` and keeps the statement's shape (comments are
//! reduced to their markers); `full` drops the text and keeps an HMAC-SHA256 under
//! `REDACT_HMAC_KEY`, so identical statements still correlate. `paramList` values (bind
//! parameters: literals by definition) become `?` in both modes. The OCSF event says what was done
//! under `unmapped.redaction`.

pub(crate) mod tokenizer;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::das::json::RawJson;
use crate::das::RawEvent;
pub use tokenizer::Dialect;
use tokenizer::{tokens, Kind};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Off,
    Literals,
    Full,
}

/// The redaction policy; the key never shows in `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    pub mode: Mode,
    key: Vec<u8>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor").field("mode", &self.mode).field("key", &"<redacted>").finish()
    }
}

/// `sql` with every literal replaced by `?` and every comment by its bare markers.
pub fn literals(sql: &str, dialect: Dialect) -> String {
    let mut out = String::with_capacity(sql.len());
    for (kind, range) in tokens(sql, dialect) {
        let text = &sql[range];
        match kind {
            Kind::Literal => out.push('?'),
            Kind::Comment if text.starts_with("/*") => out.push_str("/* ? */"),
            Kind::Comment if text.starts_with('#') => out.push_str("# ?"),
            Kind::Comment => out.push_str("-- ?"),
            Kind::Other => out.push_str(text),
        }
    }
    out
}

impl Redactor {
    pub fn new(mode: Mode, key: Vec<u8>) -> Redactor {
        Redactor { mode, key }
    }

    fn hmac(&self, text: &str) -> String {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Redacts the event's `commandText` (when it is a string) and `paramList` (when it is a
    /// non-empty list) in place; returns the record of what was done (for `unmapped.redaction`),
    /// or None when nothing was.
    pub fn apply(&self, event: &mut RawEvent<'_>) -> Option<Redaction> {
        if self.mode == Mode::Off {
            return None;
        }
        let dialect = match event.text("serverType") {
            Some(t) if t.eq_ignore_ascii_case("mysql") => Dialect::MySql,
            _ => Dialect::Postgres,
        };
        let full = self.mode == Mode::Full;
        let mut record =
            Redaction { mode: if full { "full" } else { "literals" }, command_hmac: None, fields: Vec::new() };
        let command = event.get("commandText").and_then(|v| v.str_value()).map(|text| {
            if full {
                record.command_hmac = Some(self.hmac(&text));
                String::new()
            } else {
                literals(&text, dialect)
            }
        });
        if let Some(text) = command {
            event.set("commandText", RawJson::string(&text));
            record.fields.push("commandText");
        }
        let params = event
            .get("paramList")
            .filter(|v| v.is_array())
            .map(|v| serde_json::from_str::<Vec<serde::de::IgnoredAny>>(v.as_str()).map_or(0, |items| items.len()));
        if let Some(n) = params.filter(|&n| n > 0) {
            let mut list = String::with_capacity(n * 4 + 2);
            list.push('[');
            for i in 0..n {
                list.push_str(if i == 0 { "\"?\"" } else { ",\"?\"" });
            }
            list.push(']');
            event.set("paramList", RawJson(list.into()));
            record.fields.push("paramList");
        }
        (!record.fields.is_empty()).then_some(record)
    }
}

/// What redaction did to one event: `unmapped.redaction` (`mode`, `fields`, and the
/// `command_hmac` of the statement in full mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub mode: &'static str,
    pub command_hmac: Option<String>,
    pub fields: Vec<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pg(s: &str) -> String {
        literals(s, Dialect::Postgres)
    }
    fn my(s: &str) -> String {
        literals(s, Dialect::MySql)
    }

    #[test]
    fn postgres_literals() {
        assert_eq!(pg("SELECT * FROM t WHERE a = 'x''y' AND b = 42.5e-3"), "SELECT * FROM t WHERE a = ? AND b = ?");
        assert_eq!(pg(r"SELECT E'it\'s', $$body ' $$, $fn$ x $fn$"), "SELECT ?, ?, ?");
        assert_eq!(
            pg(r#"SELECT "col""x" FROM "T" WHERE d = DATE '2024-01-01'"#),
            r#"SELECT "col""x" FROM "T" WHERE d = DATE ?"#
        );
        assert_eq!(
            pg("SELECT $1, $2 FROM t1 /* a /* nested */ 'no' */ -- 'c'\nLIMIT 10"),
            "SELECT $1, $2 FROM t1 /* ? */ -- ?\nLIMIT ?"
        );
        assert_eq!(pg("SELECT X'1F', B'101', U&'d\\0061t'"), "SELECT ?, ?, ?");
        assert_eq!(
            pg("INSERT INTO orders (customer_id, total) VALUES (4711, 99.95);"),
            "INSERT INTO orders (customer_id, total) VALUES (?, ?);"
        );
    }

    #[test]
    fn mysql_literals() {
        assert_eq!(
            my(r#"SELECT "a\"b", 'c\'d', `tbl` FROM x WHERE id = 0x1F # note"#),
            "SELECT ?, ?, `tbl` FROM x WHERE id = ? # ?"
        );
        assert_eq!(
            my("UPDATE orders SET status = 'shipped' WHERE id = 12"),
            "UPDATE orders SET status = ? WHERE id = ?"
        );
    }

    #[test]
    fn unterminated_and_odd_input_never_panics() {
        for s in ["'", "$$", "$a$ x", "/* x", "E'\\", "\"", "`", "0x", "1e", "é'ü", "--", "$", "U&", "\\"] {
            let _ = pg(s);
            let _ = my(s);
        }
        assert_eq!(pg("SELECT 'never closed"), "SELECT ?");
    }

    #[test]
    fn full_mode_keeps_a_keyed_hash_and_params_are_redacted() {
        let r = Redactor::new(Mode::Full, b"k".to_vec());
        let mut e = RawEvent::parse(r#"{"commandText":"SELECT 1","paramList":["alice",7]}"#).unwrap();
        let mut same = e.clone();
        let rec = r.apply(&mut e).unwrap();
        assert_eq!(rec, r.apply(&mut same).unwrap(), "identical statements correlate");
        assert_eq!(e.get("commandText").unwrap().as_str(), r#""""#);
        assert_eq!(e.get("paramList").unwrap().as_str(), r#"["?","?"]"#);
        assert_eq!((rec.mode, rec.fields.as_slice()), ("full", &["commandText", "paramList"][..]));
        assert_eq!(rec.command_hmac.as_deref().unwrap().len(), 64);
        assert!(!format!("{r:?}").contains('k') || format!("{r:?}").contains("<redacted>"));
        // Only a string statement and a non-empty list are redacted.
        let mut odd = RawEvent::parse(r#"{"commandText":42,"paramList":[]}"#).unwrap();
        assert_eq!(r.apply(&mut odd), None);
    }

    /// Statements built from a skeleton without digits or the letters Q/Z, and literals made of
    /// exactly those: no literal may survive, and redaction is idempotent.
    fn literal() -> impl Strategy<Value = (String, String)> {
        prop_oneof![
            "[QZ]{3,12}".prop_map(|s| (format!("'{s}'"), s)),
            "[QZ]{1,6}'[QZ]{1,6}".prop_map(|s| (format!("'{}'", s.replace('\'', "''")), s.replace('\'', ""))),
            "[QZ]{3,10}".prop_map(|s| (format!("$$ {s} $$"), s)),
            "[QZ]{3,10}".prop_map(|s| (format!("$tag$ {s} ' $tag$"), s)),
            "[QZ]{3,10}".prop_map(|s| (format!("E'{s}\\'x'"), s)),
            "[1-9][0-9]{3,8}".prop_map(|s| (s.clone(), s)),
            "[1-9][0-9]{2,5}\\.[0-9]{2,4}".prop_map(|s| (s.clone(), s)),
            "[0-9A-F]{4,8}".prop_map(|s| (format!("X'{s}'"), s.replace(|c: char| !c.is_ascii_digit(), ""))),
            "[QZ]{3,10}".prop_map(|s| (format!("DATE '{s}'"), s)),
            "[QZ]{3,10}".prop_map(|s| (format!("/* {s} */ 'QQQ'"), s)),
        ]
    }

    proptest! {
        #[test]
        fn no_literal_survives_and_redaction_is_idempotent(
            parts in proptest::collection::vec(literal(), 1..6),
            mysql in any::<bool>(),
        ) {
            let dialect = if mysql { Dialect::MySql } else { Dialect::Postgres };
            // Dollar quoting is PostgreSQL's alone.
            let parts: Vec<_> = parts.into_iter().filter(|(l, _)| !(mysql && l.starts_with('$'))).collect();
            prop_assume!(!parts.is_empty());
            let sql = format!(
                "SELECT a, b FROM sales.orders WHERE {}",
                parts.iter().map(|(l, _)| format!("col = {l}")).collect::<Vec<_>>().join(" AND ")
            );
            let out = literals(&sql, dialect);
            for (_, value) in &parts {
                if value.len() >= 3 {
                    prop_assert!(!out.contains(value.as_str()), "{value} survived in {out} (from {sql})");
                }
            }
            prop_assert!(out.starts_with("SELECT a, b FROM sales.orders WHERE col = "));
            prop_assert_eq!(literals(&out, dialect), out.clone(), "idempotent");
        }

        #[test]
        fn any_text_tokenizes_without_panic(s in ".{0,200}") {
            let out = literals(&s, Dialect::Postgres);
            prop_assert_eq!(literals(&out, Dialect::Postgres), out.clone());
            let _ = literals(&s, Dialect::MySql);
        }
    }
}
