//! One activity event, parsed borrowing from the inflated payload: its fields as the JSON text
//! they arrived in ([`RawJson`]), sorted by name, with tolerant typed reads. Nothing is dropped
//! and nothing is copied: a field the mapping does not place is written out under
//! `unmapped.das` from the same bytes.
//!
//! The field set differs per engine and the types drift (numbers that arrive as strings,
//! strings that arrive as numbers, nulls, `""`), so reads are tolerant; a duplicated name keeps
//! its last value, as a JSON object read into a map does.

use std::borrow::Cow;
use std::cell::Cell;

use super::json::{write_str, RawJson, StrictError};
use super::scan::{scan_event, scan_event_expecting, Expect, Scanned};

/// One field: its name, its value, whether the value is already canonical, and whether the
/// OCSF mapping placed it in an attribute.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    pub name: Cow<'a, str>,
    pub value: RawJson<'a>,
    /// The name's first 8 bytes, big-endian: sorts as the name does, up to ties.
    prefix: u64,
    canonical: bool,
    /// A string whose body holds escapes (its text is not the body as it is).
    escapes: bool,
    /// The name needs no escape: it is written between quotes as it is.
    plain_name: bool,
    placed: Cell<bool>,
}

impl<'a> Field<'a> {
    /// A field of the scan: a name without escapes holds no byte that needs one (the scan
    /// refuses control characters, and a quote or backslash would have been an escape).
    fn of_scan(name: Cow<'a, str>, value: RawJson<'a>, s: &Scanned) -> Field<'a> {
        let prefix = prefix_of(name.as_bytes());
        let plain_name = !s.name_escapes;
        Field { name, value, prefix, canonical: s.canonical, escapes: s.escapes, plain_name, placed: Cell::new(false) }
    }

    /// Appends the name as a JSON string.
    #[inline]
    pub fn write_name(&self, out: &mut Vec<u8>) {
        if self.plain_name {
            out.reserve(self.name.len() + 2);
            out.push(b'"');
            out.extend_from_slice(self.name.as_bytes());
            out.push(b'"');
        } else {
            write_str(out, &self.name);
        }
    }

    /// The value as text (numbers rendered), `None` when null or empty: `RawJson::text`, without
    /// looking for escapes again.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        let raw = self.value.as_str();
        if self.value.is_string() && !self.escapes {
            let body = &raw[1..raw.len() - 1];
            return (!body.is_empty()).then_some(Cow::Borrowed(body));
        }
        self.value.text()
    }

    /// Appends the value's canonical form.
    pub fn write_value(&self, out: &mut Vec<u8>) {
        if self.canonical {
            out.extend_from_slice(self.value.as_str().as_bytes());
        } else if self.value.write_canonical(out).is_err() {
            // Checked when the event was parsed: cannot happen.
            out.extend_from_slice(b"null");
        }
    }

    /// The value's text when it is already canonical (written as it is).
    pub fn canonical_text(&self) -> Option<&str> {
        self.canonical.then(|| self.value.as_str())
    }
}

/// The fields the mapping reads, found once when the event is parsed.
const KNOWN: [&str; 24] = [
    "class",
    "clientApplication",
    "command",
    "commandText",
    "databaseName",
    "dbUserName",
    "endTime",
    "errorMessage",
    "exitCode",
    "logTime",
    "objectName",
    "objectType",
    "paramList",
    "remoteHost",
    "remotePort",
    "serverHost",
    "serverType",
    "serverVersion",
    "serviceName",
    "sessionId",
    "startTime",
    "statementId",
    "substatementId",
    "type",
];

/// The slot of a known field name (a literal argument folds to a constant).
#[inline(always)]
fn slot(name: &str) -> Option<usize> {
    KNOWN.iter().position(|k| *k == name)
}

/// The first 8 bytes of a name, big-endian (zero-padded): orders as the names do, up to ties.
const fn prefix_of(name: &[u8]) -> u64 {
    let mut head = [0u8; 8];
    let mut i = 0;
    while i < 8 && i < name.len() {
        head[i] = name[i];
        i += 1;
    }
    u64::from_be_bytes(head)
}

/// The known names' prefixes (they are all different).
const KNOWN_PREFIXES: [u64; KNOWN.len()] = {
    let mut out = [0u64; KNOWN.len()];
    let mut i = 0;
    while i < KNOWN.len() {
        out[i] = prefix_of(KNOWN[i].as_bytes());
        i += 1;
    }
    out
};

/// The slot of a parsed field: its prefix finds the one candidate, the name confirms it.
fn slot_of(f: &Field<'_>) -> Option<usize> {
    let k = KNOWN_PREFIXES.iter().position(|&p| p == f.prefix)?;
    (KNOWN[k] == f.name).then_some(k)
}

const NONE: u16 = u16::MAX;

/// An activity event, fields sorted by name and unique.
#[derive(Debug, Clone)]
pub struct RawEvent<'a> {
    fields: Vec<Field<'a>>,
    /// Index in `fields` of each known name (`NONE` when absent).
    known: [u16; KNOWN.len()],
}

impl Default for RawEvent<'_> {
    fn default() -> Self {
        RawEvent { fields: Vec::new(), known: [NONE; KNOWN.len()] }
    }
}

/// Why an element of `databaseActivityEventList` is not an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// Not a JSON object.
    NotObject,
    /// Not valid JSON; the detail names the category and the position, never the text.
    NotJson(String),
}

/// The names of the last event parsed on this thread, and their order: DAS writes the events of
/// a record with the same fields in the same order, so the sort is done once per shape.
#[derive(Default)]
struct Shape {
    /// The names back to back, and where each ends.
    names: Vec<u8>,
    ends: Vec<u32>,
    /// The positions of the fields kept (the last of a duplicated name), in name order.
    order: Vec<u32>,
    known: [u16; KNOWN.len()],
}

/// Largest shape remembered: names are input, and the cache must not grow with them.
const SHAPE_MAX_NAMES: usize = 256;
const SHAPE_MAX_BYTES: usize = 8 << 10;

impl Shape {
    /// The scanned names are those remembered, in the same order.
    fn matches(&self, text: &[u8], scanned: &[Scanned]) -> bool {
        if scanned.len() != self.ends.len() || self.ends.is_empty() {
            return false;
        }
        let mut start = 0;
        scanned.iter().zip(&self.ends).all(|(s, &end)| {
            let name = &self.names[start..end as usize];
            start = end as usize;
            !s.name_escapes && &text[s.name.0..s.name.1] == name
        })
    }

    fn remember(&mut self, text: &[u8], scanned: &[Scanned], order: &[u32], known: &[u16; KNOWN.len()]) {
        self.names.clear();
        self.ends.clear();
        self.order.clear();
        let bytes: usize = scanned.iter().map(|s| s.name.1 - s.name.0).sum();
        if scanned.len() > SHAPE_MAX_NAMES || bytes > SHAPE_MAX_BYTES || scanned.iter().any(|s| s.name_escapes) {
            return;
        }
        for s in scanned {
            self.names.extend_from_slice(&text[s.name.0..s.name.1]);
            self.ends.push(self.names.len() as u32);
        }
        self.order.extend_from_slice(order);
        self.known = *known;
    }
}

thread_local! {
    static SCANNED: std::cell::RefCell<(Vec<Scanned>, Shape)> = std::cell::RefCell::new(Default::default());
}

impl From<StrictError> for EventError {
    fn from(e: StrictError) -> EventError {
        EventError::NotJson(e.0)
    }
}

/// The positions of `names` in name order, the last of a duplicated name kept (as a map insert
/// would): (prefix, position) pairs are sorted, the whole name breaking a tie of prefixes.
fn name_order(names: &[Cow<'_, str>]) -> Vec<u32> {
    let mut order: Vec<(u64, u32)> =
        names.iter().enumerate().map(|(i, n)| (prefix_of(n.as_bytes()), i as u32)).collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| names[a.1 as usize].cmp(&names[b.1 as usize])).then(a.1.cmp(&b.1))
    });
    // Of each run of one name (positions ascending), the last.
    let mut kept: Vec<u32> = Vec::with_capacity(order.len());
    for (k, &(_, i)) in order.iter().enumerate() {
        let next_same = order.get(k + 1).is_some_and(|&(_, j)| names[j as usize] == names[i as usize]);
        if !next_same {
            kept.push(i);
        }
    }
    kept
}

impl<'a> RawEvent<'a> {
    /// Parses one element of the event list (`text` is its whole JSON text).
    pub fn parse(text: &'a str) -> Result<RawEvent<'a>, EventError> {
        if !text.trim_start().starts_with('{') {
            return Err(EventError::NotObject);
        }
        SCANNED.with_borrow_mut(|(scanned, shape)| {
            scanned.clear();
            scan_event(text.as_bytes(), scanned)
                .map_err(|e| EventError::NotJson(format!("Syntax error at byte {} of an event: {}", e.at, e.what)))?;
            Self::of_scanned(text, scanned, shape, false)
        })
    }

    /// The event object that `window` starts with, and its length, when the window holds all
    /// of it and it reads as an event (UTF-8 included). `None` for anything else: the caller
    /// then finds the element's extent and calls [`RawEvent::parse`], which says what is wrong.
    /// On success both ways give the same event, read in one pass here instead of two.
    pub fn parse_at_start(window: &'a [u8]) -> Option<(RawEvent<'a>, usize)> {
        SCANNED.with_borrow_mut(|(scanned, shape)| {
            scanned.clear();
            let expect = Expect { names: &shape.names, ends: &shape.ends };
            let (len, same) = scan_event_expecting(window, scanned, Some(expect)).ok()?;
            let text = std::str::from_utf8(&window[..len]).ok()?;
            Some((Self::of_scanned(text, scanned, shape, same).ok()?, len))
        })
    }

    /// The event of `text`, whose fields `scanned` holds; `same`: the scan found the names of
    /// `shape`, in its order.
    fn of_scanned(
        text: &'a str,
        scanned: &[Scanned],
        shape: &mut Shape,
        same: bool,
    ) -> Result<RawEvent<'a>, EventError> {
        let borrowed = |s: &Scanned| Cow::Borrowed(&text[s.name.0..s.name.1]);
        let value = |s: &Scanned| RawJson::borrowed(&text[s.value.0..s.value.1]);
        if same || shape.matches(text.as_bytes(), scanned) {
            // The same names as the last event: its order and index hold.
            let fields = shape
                .order
                .iter()
                .map(|&i| {
                    let s = &scanned[i as usize];
                    Field::of_scan(borrowed(s), value(s), s)
                })
                .collect();
            return Ok(RawEvent { fields, known: shape.known });
        }
        let mut names = Vec::with_capacity(scanned.len());
        for s in scanned.iter() {
            names.push(if s.name_escapes {
                // Checked by the scan: it unescapes.
                let quoted = &text[s.name.0 - 1..s.name.1 + 1];
                Cow::Owned(serde_json::from_str::<String>(quoted).map_err(StrictError::from)?)
            } else {
                borrowed(s)
            });
        }
        let order = name_order(&names);
        let fields: Vec<Field<'a>> = order
            .iter()
            .map(|&i| {
                let s = &scanned[i as usize];
                Field::of_scan(std::mem::take(&mut names[i as usize]), value(s), s)
            })
            .collect();
        let event = RawEvent::indexed(fields);
        shape.remember(text.as_bytes(), scanned, &order, &event.known);
        Ok(event)
    }

    /// The event of `fields` (sorted and unique), its known names found.
    fn indexed(fields: Vec<Field<'a>>) -> RawEvent<'a> {
        let mut known = [NONE; KNOWN.len()];
        for (i, f) in fields.iter().enumerate() {
            if let Some(k) = slot_of(f) {
                known[k] = i as u16;
            }
        }
        if fields.len() >= NONE as usize {
            // More fields than a slot can index: names are searched instead.
            known = [NONE; KNOWN.len()];
        }
        RawEvent { fields, known }
    }

    #[inline(always)]
    fn index(&self, name: &str) -> Option<usize> {
        match slot(name) {
            Some(k) if self.fields.len() < NONE as usize => {
                let i = self.known[k];
                (i != NONE).then_some(i as usize)
            }
            _ => self.fields.binary_search_by(|f| f.name.as_ref().cmp(name)).ok(),
        }
    }

    #[inline(always)]
    fn field(&self, name: &str) -> Option<&Field<'a>> {
        self.index(name).map(|i| &self.fields[i])
    }

    pub fn fields(&self) -> &[Field<'a>] {
        &self.fields
    }

    #[inline(always)]
    pub fn get(&self, name: &str) -> Option<&RawJson<'a>> {
        self.field(name).map(|f| &f.value)
    }

    /// The field as text (numbers rendered), `None` when absent, null or empty.
    #[inline(always)]
    pub fn text(&self, name: &str) -> Option<Cow<'_, str>> {
        self.field(name).and_then(Field::text)
    }

    /// The field as an integer whether it arrived as a number or a numeric string.
    #[inline(always)]
    pub fn integer(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(RawJson::integer)
    }

    pub fn is_heartbeat(&self) -> bool {
        self.get("type").and_then(RawJson::str_value).is_some_and(|t| t.eq_ignore_ascii_case("heartbeat"))
    }

    /// Replaces the value of an existing field (redaction); false when there is none.
    pub fn set(&mut self, name: &str, value: RawJson<'a>) -> bool {
        match self.index(name) {
            Some(i) => {
                let f = &mut self.fields[i];
                f.canonical = value.is_canonical();
                f.escapes = value.is_string() && value.as_str().contains('\\');
                f.value = value;
                true
            }
            None => false,
        }
    }

    /// Marks a field as placed in an OCSF attribute (or not, when `placed` is false).
    #[inline(always)]
    pub fn mark(&self, name: &str, placed: bool) {
        if let Some(f) = self.field(name) {
            f.placed.set(placed);
        }
    }

    /// The fields no OCSF attribute holds, in name order.
    pub fn unplaced(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| !f.placed.get())
    }

    /// Clears every placed mark.
    pub fn reset_marks(&self) {
        for f in &self.fields {
            f.placed.set(false);
        }
    }

    /// The event as `serde_json` writes a map of it: `{"name":value,…}`, names sorted.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        write_object(out, self.fields.iter());
    }
}

/// `{"name":value,…}` of the given fields (already in name order), values in canonical form.
pub fn write_object<'f, 'a: 'f>(out: &mut Vec<u8>, fields: impl Iterator<Item = &'f Field<'a>>) {
    out.push(b'{');
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        f.write_name(out);
        out.push(b':');
        f.write_value(out);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_fields_sorted_unique_and_borrowed() {
        let text = r#"{"type":"record","pid":"123","sessionId":42,"exitCode":"","rowCount":null,
            "newField":[1, 2],"pid":"124","na\u006de":"x"}"#;
        let e = RawEvent::parse(text).unwrap();
        let names: Vec<&str> = e.fields().iter().map(|f| f.name.as_ref()).collect();
        assert_eq!(names, ["exitCode", "name", "newField", "pid", "rowCount", "sessionId", "type"]);
        assert_eq!(e.integer("pid"), Some(124), "the last of a duplicated name wins");
        assert_eq!(e.text("sessionId").as_deref(), Some("42"));
        assert_eq!(e.text("exitCode"), None);
        assert_eq!(e.integer("rowCount"), None);
        assert!(matches!(e.get("type").unwrap().0, Cow::Borrowed(_)));
        let mut out = Vec::new();
        e.write_canonical(&mut out);
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(out, serde_json::to_vec(&v).unwrap());
        assert!(!e.is_heartbeat());
        assert!(RawEvent::parse(r#"{"type":"HeartBeat"}"#).unwrap().is_heartbeat());
    }

    #[test]
    fn events_of_one_shape_are_read_alike() {
        // The second and third events have the names of the first (the order is remembered);
        // the fourth escapes a name and the fifth drops one: both are sorted afresh.
        let texts = [
            r#"{"z":1,"a":2,"type":3,"a":4}"#,
            r#"{"z":"x","a":[],"type":null,"a":"last"}"#,
            r#"{"z":5,"a":6,"type":7,"a":8}"#,
            r#"{"z":5,"\u0061":6,"type":7,"a":8}"#,
            r#"{"z":5,"a":6,"type":7}"#,
        ];
        for text in texts {
            let e = RawEvent::parse(text).unwrap();
            let mut out = Vec::new();
            e.write_canonical(&mut out);
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string(), "{text}");
            for name in ["z", "a", "type"] {
                // Through the index of known names too ("type" is one).
                assert_eq!(e.get(name).map(|v| v.as_str().to_owned()), v.get(name).map(|v| v.to_string()), "{text}");
            }
        }
    }

    #[test]
    fn what_is_not_an_event() {
        assert_eq!(RawEvent::parse("[1]").unwrap_err(), EventError::NotObject);
        assert!(matches!(RawEvent::parse(r#"{"a":}"#), Err(EventError::NotJson(_))));
        assert!(matches!(RawEvent::parse(r#"{"a":"\ud800"}"#), Err(EventError::NotJson(_))));
        assert!(matches!(RawEvent::parse(r#"{"a":1} x"#), Err(EventError::NotJson(_))));
        assert!(matches!(RawEvent::parse(r#"{"\ud800":1}"#), Err(EventError::NotJson(_))));
    }

    #[test]
    fn marks_and_redaction() {
        let mut e = RawEvent::parse(r#"{"a":1,"b":"x","c":true}"#).unwrap();
        e.mark("b", true);
        assert_eq!(e.unplaced().map(|f| f.name.as_ref()).collect::<Vec<_>>(), ["a", "c"]);
        assert!(e.set("b", RawJson::string("y\n")));
        assert!(!e.set("zz", RawJson::string("y")));
        assert_eq!(e.text("b").as_deref(), Some("y\n"));
    }
}
