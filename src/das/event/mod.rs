//! One activity event, parsed borrowing from the inflated payload: its fields as the JSON text
//! they arrived in ([`RawJson`]), sorted by name, with tolerant typed reads. Nothing is dropped
//! and nothing is copied: a field the mapping does not place is written out under
//! `unmapped.das` from the same bytes.
//!
//! The field set differs per engine and the types drift (numbers that arrive as strings,
//! strings that arrive as numbers, nulls, `""`), so reads are tolerant; a duplicated name keeps
//! its last value, as a JSON object read into a map does.

mod field;
mod known;
mod shape;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

pub use field::Field;
use known::{slot, slot_of, KNOWN, NONE};
use shape::{name_order, Shape, SCANNED};

use super::json::{RawJson, StrictError};
use super::scan::{scan_event, scan_event_expecting, Expect, Scanned};

/// An activity event, fields sorted by name and unique.
#[derive(Debug, Clone)]
pub struct RawEvent<'a> {
    fields: Vec<Field<'a>>,
    /// Index in `fields` of each known name (`NONE` when absent).
    known: [u16; KNOWN.len()],
    /// The event's JSON text, where the fields' pairs lie.
    text: &'a str,
}

thread_local! {
    /// The vector of fields of the last event dropped on this thread, emptied, for the next
    /// event: one allocation a thread instead of one an event.
    static SPARE_FIELDS: std::cell::Cell<Vec<Field<'static>>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Largest vector of fields kept for the next event (names are input: the spare must not grow
/// with them).
const SPARE_MAX_FIELDS: usize = 1024;

/// An empty vector of fields, with the capacity of the last one given back on this thread. The
/// conversion between lifetimes of an empty vector is a collect that reuses its allocation.
// `filter` would keep the lifetime: the `filter_map` is what changes it.
#[allow(clippy::unnecessary_filter_map)]
fn spare_fields<'a>() -> Vec<Field<'a>> {
    SPARE_FIELDS.take().into_iter().filter_map(|_| None).collect()
}

impl Drop for RawEvent<'_> {
    #[allow(clippy::unnecessary_filter_map)] // as in `spare_fields`
    fn drop(&mut self) {
        let mut fields = std::mem::take(&mut self.fields);
        if fields.capacity() <= SPARE_MAX_FIELDS {
            fields.clear();
            SPARE_FIELDS.set(fields.into_iter().filter_map(|_| None).collect());
        }
    }
}

impl Default for RawEvent<'_> {
    fn default() -> Self {
        RawEvent { fields: Vec::new(), known: [NONE; KNOWN.len()], text: "" }
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

impl From<StrictError> for EventError {
    fn from(e: StrictError) -> EventError {
        EventError::NotJson(e.0)
    }
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
            let mut fields = spare_fields();
            fields.extend(shape.order.iter().map(|&i| {
                let s = &scanned[i as usize];
                Field::of_scan(borrowed(s), value(s), s)
            }));
            return Ok(RawEvent { fields, known: shape.known, text });
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
        let mut fields = spare_fields();
        fields.extend(order.iter().map(|&i| {
            let s = &scanned[i as usize];
            Field::of_scan(std::mem::take(&mut names[i as usize]), value(s), s)
        }));
        let event = RawEvent::indexed(fields, text);
        shape.remember(text.as_bytes(), scanned, &order, &event.known);
        Ok(event)
    }

    /// The event of `fields` (sorted and unique), its known names found.
    fn indexed(fields: Vec<Field<'a>>, text: &'a str) -> RawEvent<'a> {
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
        RawEvent { fields, known, text }
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
                f.pair_at = field::NO_PAIR;
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

    /// `"name":value` of one of the event's fields as the canonical form writes it, when the
    /// event's text holds it so (see `Field::pair_at`).
    #[inline]
    pub(crate) fn canonical_pair(&self, f: &Field<'a>) -> Option<&'a str> {
        debug_assert!(self.fields.as_ptr_range().contains(&std::ptr::from_ref(f)), "a field of this event");
        if f.pair_at == field::NO_PAIR {
            return None;
        }
        let at = f.pair_at as usize;
        self.text.get(at..at + f.name.len() + 3 + f.value.as_str().len())
    }

    /// The event as `serde_json` writes a map of it: `{"name":value,…}`, names sorted.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        self.write_object(out, self.fields.iter());
    }

    /// `{"name":value,…}` of the fields no OCSF attribute holds, in name order, values in
    /// canonical form.
    pub fn write_unplaced(&self, out: &mut Vec<u8>) {
        self.write_object(out, self.unplaced());
    }

    /// `{"name":value,…}` of the given fields of this event (in name order), values in
    /// canonical form.
    fn write_object<'f>(&self, out: &mut Vec<u8>, fields: impl Iterator<Item = &'f Field<'a>>)
    where
        'a: 'f,
    {
        out.push(b'{');
        for (i, f) in fields.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.write_member(f, out);
        }
        out.push(b'}');
    }

    /// `"name":value` of one of the event's fields, value in canonical form: copied whole
    /// where the text holds it so (`canonical_pair`).
    #[inline]
    pub(crate) fn write_member(&self, f: &Field<'a>, out: &mut Vec<u8>) {
        match self.canonical_pair(f) {
            Some(pair) => out.extend_from_slice(pair.as_bytes()),
            None => {
                f.write_name(out);
                out.push(b':');
                f.write_value(out);
            }
        }
    }
}
