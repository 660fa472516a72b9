//! One field of an event, and the canonical writing of a run of fields.

use std::borrow::Cow;
use std::cell::Cell;

use crate::das::json::{write_str, RawJson};
use crate::das::scan::Scanned;

/// One field: its name, its value, whether the value is already canonical, and whether the
/// OCSF mapping placed it in an attribute.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    pub name: Cow<'a, str>,
    pub value: RawJson<'a>,
    pub(super) canonical: bool,
    /// A string whose body holds escapes (its text is not the body as it is).
    pub(super) escapes: bool,
    /// The name needs no escape: it is written between quotes as it is.
    pub(super) plain_name: bool,
    pub(super) placed: Cell<bool>,
    /// Where `"name":value` starts in the event's text when it is written there as the
    /// canonical form writes it (plain name, canonical value, nothing between them but the
    /// colon): the pair is then copied whole. `NO_PAIR` otherwise.
    pub(super) pair_at: u32,
}

pub(super) const NO_PAIR: u32 = u32::MAX;

impl<'a> Field<'a> {
    /// A field of the scan: a name without escapes holds no byte that needs one (the scan
    /// refuses control characters, and a quote or backslash would have been an escape).
    pub(super) fn of_scan(name: Cow<'a, str>, value: RawJson<'a>, s: &Scanned) -> Field<'a> {
        let plain_name = !s.name_escapes;
        let pair_at = match u32::try_from(s.name.0 - 1) {
            Ok(at) if plain_name && s.canonical && s.value.0 == s.name.1 + 2 && at != NO_PAIR => at,
            _ => NO_PAIR,
        };
        Field { name, value, canonical: s.canonical, escapes: s.escapes, plain_name, placed: Cell::new(false), pair_at }
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
