//! One JSON value kept as the text it arrived in, borrowed from the inflated payload.
//!
//! The events are never built into `serde_json::Value`s. A field is read where the mapping needs
//! it (`text`, `integer`), and written out as its *canonical* form: the bytes `serde_json` gives
//! for the same value (no whitespace, object keys sorted and unique, its escapes, its number
//! format). Most values arrive canonical already (DAS writes compact JSON) and are copied as
//! they are; the rest are parsed and written again by `serde_json` itself, so the bytes cannot
//! drift from what the `Value` engine wrote.

use std::borrow::Cow;

use thiserror::Error;

/// The JSON text of one value, without surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawJson<'a>(pub Cow<'a, str>);

/// A value that is not valid JSON in the strict sense of `serde_json::Value` (lone surrogates,
/// numbers out of range), found where a lenient skip let it through.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct StrictError(pub String);

impl From<serde_json::Error> for StrictError {
    fn from(e: serde_json::Error) -> StrictError {
        strict(e)
    }
}

fn strict(e: serde_json::Error) -> StrictError {
    // Only the category: the message could quote statement text.
    StrictError(format!("{:?} error in a value", e.classify()))
}

/// A plain integer that both engines print as it is: at most 18 digits, no `-0`.
fn is_plain_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0"
}

/// The escapes `serde_json` writes, and only those: a string whose every escape is one of them
/// is written back exactly as it arrived.
fn has_only_canonical_escapes(body: &[u8]) -> bool {
    let mut i = 0;
    while let Some(at) = memchr::memchr(b'\\', &body[i..]) {
        let e = i + at + 1;
        match body.get(e) {
            Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => i = e + 1,
            Some(b'u') => {
                let hex = body.get(e + 1..e + 5);
                let ok = matches!(hex, Some([b'0', b'0', hi, lo])
                    if matches!(hi, b'0' | b'1') && lo.is_ascii_hexdigit() && !lo.is_ascii_uppercase()
                        && !matches!((hi, lo), (b'0', b'8' | b'9' | b'a' | b'c' | b'd')));
                if !ok {
                    return false;
                }
                i = e + 5;
            }
            _ => return false,
        }
    }
    true
}

impl<'a> RawJson<'a> {
    pub fn borrowed(text: &'a str) -> RawJson<'a> {
        RawJson(Cow::Borrowed(text))
    }

    /// A JSON string holding `s`.
    pub fn string(s: &str) -> RawJson<'static> {
        let mut out = Vec::with_capacity(s.len() + 2);
        write_str(&mut out, s);
        // The escaper writes UTF-8 in, UTF-8 out.
        RawJson(Cow::Owned(String::from_utf8(out).unwrap_or_default()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn first(&self) -> u8 {
        self.0.as_bytes().first().copied().unwrap_or(b'n')
    }

    pub fn is_string(&self) -> bool {
        self.first() == b'"'
    }
    pub fn is_array(&self) -> bool {
        self.first() == b'['
    }
    pub fn is_object(&self) -> bool {
        self.first() == b'{'
    }
    fn is_number(&self) -> bool {
        matches!(self.first(), b'-' | b'0'..=b'9')
    }

    /// The decoded text of a string value (`None` for any other kind).
    pub fn str_value(&self) -> Option<Cow<'_, str>> {
        if !self.is_string() {
            return None;
        }
        let body = &self.0[1..self.0.len() - 1];
        if !body.contains('\\') {
            return Some(Cow::Borrowed(body));
        }
        serde_json::from_str::<String>(&self.0).ok().map(Cow::Owned)
    }

    /// A string, number or bool rendered as text; `None` for null, `""`, arrays and objects
    /// (numbers as `serde_json` prints them).
    pub fn text(&self) -> Option<Cow<'_, str>> {
        match self.first() {
            b'"' => self.str_value().filter(|s| !s.is_empty()),
            b't' | b'f' => Some(Cow::Borrowed(&self.0)),
            _ if self.is_number() => {
                if is_plain_integer(&self.0) {
                    Some(Cow::Borrowed(&self.0))
                } else {
                    serde_json::from_str::<serde_json::Number>(&self.0).ok().map(|n| Cow::Owned(n.to_string()))
                }
            }
            _ => None,
        }
    }

    /// The value as an integer whether it arrived as a number or a numeric string.
    pub fn integer(&self) -> Option<i64> {
        if self.is_string() {
            return self.str_value()?.trim().parse().ok();
        }
        if !self.is_number() {
            return None;
        }
        if is_plain_integer(&self.0) {
            return self.0.parse().ok();
        }
        let n: serde_json::Number = serde_json::from_str(&self.0).ok()?;
        n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
    }

    /// True when the arrived text is already the canonical form.
    pub fn is_canonical(&self) -> bool {
        match self.first() {
            b'"' => has_only_canonical_escapes(&self.0.as_bytes()[1..self.0.len() - 1]),
            b't' | b'f' | b'n' => true,
            _ if self.is_number() => is_plain_integer(&self.0),
            _ => false,
        }
    }

    /// Checks what a lenient skip does not: the value parses as a `serde_json::Value`.
    pub fn check_strict(&self) -> Result<(), StrictError> {
        if self.is_canonical() {
            return Ok(());
        }
        serde_json::from_str::<serde_json::Value>(&self.0).map(drop).map_err(strict)
    }

    /// Appends the canonical form (what `serde_json::to_writer` writes for the parsed value).
    pub fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), StrictError> {
        if self.is_canonical() {
            out.extend_from_slice(self.0.as_bytes());
            return Ok(());
        }
        let value: serde_json::Value = serde_json::from_str(&self.0).map_err(strict)?;
        serde_json::to_writer(out, &value).map_err(strict)
    }
}

/// `s` as a JSON string, escaped exactly as `serde_json` escapes: `\"`, `\\`, `\b`, `\f`, `\n`,
/// `\r`, `\t`, and `\u00xx` (lower-case hex) for the other control characters; nothing else.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    write_str_contents(out, s.as_bytes());
    out.push(b'"');
}

const fn escape_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
}

static ESCAPE: [u8; 256] = escape_table();

/// The bytes of `w` (little-endian) that need an escape (a control character, `"` or `\`): the
/// high bit of each such byte is set. Borrows can flag bytes above a true one, never below it,
/// so the lowest flag is exact.
#[inline]
pub(crate) fn escape_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    below_space | has_zero(w ^ (ONES * u64::from(b'"'))) | has_zero(w ^ (ONES * u64::from(b'\\')))
}

/// Appends `bytes`. Most names and values are short: up to 32 bytes they are copied as two
/// overlapping words of a fixed size, inline, instead of through a call to `memcpy` (the OCSF
/// line and the canonical form make about 140 copies an event).
#[inline(always)]
pub(crate) fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    if !(4..=32).contains(&n) {
        out.extend_from_slice(bytes);
        return;
    }
    out.reserve(n);
    let len = out.len();
    let spare = &mut out.spare_capacity_mut()[..n];
    // The first and the last `W` bytes (they overlap when `n < 2 * W`).
    fn both_ends<const W: usize>(spare: &mut [std::mem::MaybeUninit<u8>], bytes: &[u8]) {
        let n = bytes.len();
        let (mut head, mut tail) = ([0u8; W], [0u8; W]);
        head.copy_from_slice(&bytes[..W]);
        tail.copy_from_slice(&bytes[n - W..]);
        for (d, s) in spare[..W].iter_mut().zip(head) {
            d.write(s);
        }
        for (d, s) in spare[n - W..].iter_mut().zip(tail) {
            d.write(s);
        }
    }
    match n {
        16.. => both_ends::<16>(spare, bytes),
        8.. => both_ends::<8>(spare, bytes),
        _ => both_ends::<4>(spare, bytes),
    }
    // SAFETY: the `n` bytes past `len` are within the capacity reserved above and were all
    // written just now (the first and the last `W` cover them, `W <= n < 2 * W + 1`).
    unsafe { out.set_len(len + n) };
}

/// True when `bytes` hold a character that a JSON string must escape.
pub fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| ESCAPE[b as usize] != 0)
}

/// No byte of `block` needs an escape. Written so that the compiler checks the 32 bytes as
/// vectors, without a branch per byte.
#[inline(always)]
fn block_is_clean(block: &[u8; 32]) -> bool {
    let mut dirty = 0u8;
    for &b in block {
        dirty |= u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\');
    }
    dirty == 0
}

/// No byte of `bytes` needs an escape: 32 bytes at a time (the last block overlapping the one
/// before), a short string 8 at a time (the last word overlapping), a very short one bytewise.
#[inline]
fn is_clean(bytes: &[u8]) -> bool {
    let n = bytes.len();
    let block = |at: usize| bytes.get(at..at + 32).and_then(|b| <&[u8; 32]>::try_from(b).ok());
    let word = |at: usize| bytes.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_le_bytes);
    if n >= 32 {
        let mut at = 0;
        while at + 32 <= n {
            if !block(at).is_some_and(block_is_clean) {
                return false;
            }
            at += 32;
        }
        at == n || block(n - 32).is_some_and(block_is_clean)
    } else if n >= 8 {
        let mut dirty = word(n - 8).map_or(1, escape_mask);
        let mut at = 0;
        while at + 8 <= n {
            dirty |= word(at).map_or(1, escape_mask);
            at += 8;
        }
        dirty == 0
    } else {
        bytes.iter().all(|&b| ESCAPE[b as usize] == 0)
    }
}

/// The escaped characters of a string, without the quotes.
pub fn write_str_contents(out: &mut Vec<u8>, bytes: &[u8]) {
    // Most strings need no escape at all: checked at once, copied at once.
    if is_clean(bytes) {
        put(out, bytes);
        return;
    }
    let mut start = 0;
    let mut i = 0;
    loop {
        // Thirty-two bytes at a time while none needs an escape, then eight at a time up to the
        // first that does.
        while let Some(block) = bytes.get(i..i + 32) {
            let word = |k: usize| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&block[k..k + 8]);
                escape_mask(u64::from_le_bytes(w))
            };
            if word(0) | word(8) | word(16) | word(24) != 0 {
                break;
            }
            i += 32;
        }
        while let Some(word) = bytes.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let mask = escape_mask(u64::from_le_bytes(w));
            if mask != 0 {
                i += (mask.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        // Then byte by byte (the tail, or the byte found).
        let Some(at) = bytes[i..].iter().position(|&b| ESCAPE[b as usize] != 0).map(|p| i + p) else { break };
        let b = bytes[at];
        out.extend_from_slice(&bytes[start..at]);
        match ESCAPE[b as usize] {
            b'u' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
            }
            c => out.extend_from_slice(&[b'\\', c]),
        }
        i = at + 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canonical(raw: &str) -> String {
        let mut out = Vec::new();
        RawJson::borrowed(raw).write_canonical(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_at_every_place_of_every_length_match_serde_json() {
        let specials = ["\u{0}", "\u{1f}", "\"", "\\", "\n", "\u{7f}", "\u{e9}"];
        // Past two blocks of 32, so that every short, block and overlapping-tail case is met.
        const CLEAN: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij";
        for len in 0..=CLEAN.len() {
            for at in 0..len {
                for a in specials {
                    // A space, `#` or `]` after an escaped byte is where a borrow would flag one.
                    for b in ["", "\u{1}", "\"", "x", " ", "#", "]"] {
                        let mut s: String = CLEAN[..len].to_owned();
                        s.replace_range(at..at + 1, &format!("{a}{b}"));
                        let mut out = Vec::new();
                        write_str(&mut out, &s);
                        assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&s).unwrap(), "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn canonical_forms_match_serde_json() {
        for raw in [
            r#""plain""#,
            r#""a\/b""#,
            r#""\u00e9\n\u001f\u0008""#,
            r#""\uD83D\uDE00""#,
            "-0",
            "1.50",
            "1E3",
            "123456789012345678901",
            "-12",
            "0",
            "true",
            "null",
            r#"{ "b" : 1, "a" : [ 1 , 2 ], "a": "dup" }"#,
            r#"[{"z":1,"y":{"x":"\u0041"}}]"#,
        ] {
            let v: serde_json::Value = serde_json::from_str(raw).unwrap();
            assert_eq!(canonical(raw), serde_json::to_string(&v).unwrap(), "{raw}");
        }
        assert!(RawJson::borrowed(r#""\uD800""#).check_strict().is_err(), "lone surrogate");
        assert!(RawJson::borrowed("1e400").check_strict().is_err(), "out of range");
        assert!(RawJson::borrowed(r#"["\uDC00"]"#).check_strict().is_err());
        assert!(RawJson::borrowed(r#""ok\n""#).check_strict().is_ok());
    }

    #[test]
    fn text_and_integer_read_as_the_value_engine_did() {
        let t = |raw: &str| RawJson::borrowed(raw).text().map(|c| c.into_owned());
        assert_eq!(t(r#""x\u0041""#).as_deref(), Some("xA"));
        assert_eq!(t(r#""""#), None);
        assert_eq!(t("-0").as_deref(), Some("-0.0"));
        assert_eq!(t("1E2").as_deref(), Some("100.0"));
        assert_eq!(t("false").as_deref(), Some("false"));
        assert_eq!(t("null"), None);
        assert_eq!(t("[1]"), None);
        let i = |raw: &str| RawJson::borrowed(raw).integer();
        assert_eq!(i(r#"" 42 ""#), Some(42));
        assert_eq!(i("4.0"), Some(4));
        assert_eq!(i("4.5"), None);
        assert_eq!(i("18446744073709551615"), None);
        assert_eq!(i("true"), None);
    }

    proptest! {
        #[test]
        fn escaping_matches_serde_json(s in "\\PC*|[\\x00-\\x7f]{0,40}") {
            let mut out = Vec::new();
            write_str(&mut out, &s);
            prop_assert_eq!(out, serde_json::to_vec(&s).unwrap());
        }

        #[test]
        fn strings_written_by_anyone_canonicalize_like_serde(s in "[\\x00-\\x7f\u{e9}\u{1F600}]{0,24}", slash in any::<bool>(), upper in any::<bool>()) {
            // Escape every character the long way, as another JSON writer might.
            let mut raw = String::from("\"");
            for c in s.chars() {
                match c {
                    '/' if slash => raw.push_str("\\/"),
                    c if (c as u32) < 0x20 || c == '"' || c == '\\' || (upper && c.is_ascii_lowercase()) => {
                        raw.push_str(&format!("\\u{:04X}", c as u32))
                    }
                    c => raw.push(c),
                }
            }
            raw.push('"');
            let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
            prop_assert_eq!(canonical(&raw), serde_json::to_string(&v).unwrap());
            prop_assert_eq!(RawJson::borrowed(&raw).text().map(|c| c.into_owned()), Some(s.clone()).filter(|s| !s.is_empty()));
        }
    }
}
