//! One event object scanned in a single pass, strictly: what `serde_json` refuses when it reads
//! the event into a `Value` is refused here too (control characters in strings, bad escapes,
//! lone surrogates, malformed or out-of-range numbers, literals, commas, nesting deeper than its
//! limit), and each field comes out as the slices of its name and value with what the engine
//! needs to know about them: whether the value is already in canonical form, and whether a
//! string holds escapes.

use super::json::escape_mask;

/// A field as scanned: byte ranges into the event's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    /// The name's body (between its quotes), and whether it holds escapes.
    pub name: (usize, usize),
    pub name_escapes: bool,
    /// The value's whole text.
    pub value: (usize, usize),
    /// The value is written as `serde_json` would write it.
    pub canonical: bool,
    /// The value is a string whose body holds escapes.
    pub escapes: bool,
}

/// Where and why the text is not JSON (the position is a byte offset in the event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanError {
    pub what: &'static str,
    pub at: usize,
}

/// `serde_json` refuses a 128th level of nesting; the record and its list are two levels above
/// an event.
const MAX_DEPTH: usize = 127;
const EVENT_DEPTH: usize = 3;

/// The names an event is expected to hold, in order: those of the event before it (DAS writes
/// the events of a record alike). A name found where it is expected is compared, not scanned.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'s> {
    /// The names back to back (none holds an escape), each ending at `ends[i]`.
    pub names: &'s [u8],
    pub ends: &'s [u32],
}

struct Scanner<'a, 's> {
    b: &'a [u8],
    i: usize,
    /// Still following the expected names (dropped at the first that differs).
    expect: Option<Expect<'s>>,
    /// The next expected name: its index, and where it starts in `names`.
    next: usize,
    from: usize,
}

type R<T> = Result<T, ScanError>;

/// What a string scan found.
struct Str {
    start: usize,
    end: usize,
    escapes: bool,
    canonical: bool,
}

fn hex(b: u8) -> Option<u16> {
    match b {
        b'0'..=b'9' => Some(u16::from(b - b'0')),
        b'a'..=b'f' => Some(u16::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u16::from(b - b'A' + 10)),
        _ => None,
    }
}

impl Scanner<'_, '_> {
    fn err<T>(&self, what: &'static str) -> R<T> {
        Err(ScanError { what, at: self.i })
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Four hex digits at `i`.
    fn hex4(&self, i: usize) -> Option<u16> {
        let d = self.b.get(i..i + 4)?;
        Some(hex(d[0])? << 12 | hex(d[1])? << 8 | hex(d[2])? << 4 | hex(d[3])?)
    }

    /// A string, from its opening quote.
    fn string(&mut self) -> R<Str> {
        self.i += 1;
        let start = self.i;
        let (mut escapes, mut canonical) = (false, true);
        loop {
            // Eight bytes at a time up to the first quote, backslash or control character.
            while let Some(word) = self.b.get(self.i..self.i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(word);
                let mask = escape_mask(u64::from_le_bytes(w));
                if mask != 0 {
                    self.i += (mask.trailing_zeros() / 8) as usize;
                    break;
                }
                self.i += 8;
            }
            // Then byte by byte (the last few bytes of the text).
            while let Some(&b) = self.b.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            let Some(b) = self.peek() else { return self.err("end inside a string") };
            match b {
                b'"' => {
                    let end = self.i;
                    self.i += 1;
                    return Ok(Str { start, end, escapes, canonical });
                }
                b'\\' => {
                    escapes = true;
                    match self.b.get(self.i + 1) {
                        Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
                        Some(b'/') => {
                            canonical = false;
                            self.i += 2;
                        }
                        Some(b'u') => {
                            let Some(cp) = self.hex4(self.i + 2) else { return self.err("bad \\u escape") };
                            match cp {
                                0xD800..=0xDBFF => {
                                    let low = match self.b.get(self.i + 6..self.i + 8) {
                                        Some(b"\\u") => self.hex4(self.i + 8),
                                        _ => None,
                                    };
                                    if !low.is_some_and(|l| (0xDC00..=0xDFFF).contains(&l)) {
                                        return self.err("lone surrogate");
                                    }
                                    canonical = false;
                                    self.i += 12;
                                }
                                0xDC00..=0xDFFF => return self.err("lone surrogate"),
                                _ => {
                                    // serde_json writes `\u00xx` in lower case for the control
                                    // characters without a short escape, and nothing else.
                                    let d = &self.b[self.i + 2..self.i + 6];
                                    let lower = !d.iter().any(u8::is_ascii_uppercase);
                                    let short = matches!(cp, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d);
                                    canonical &= cp < 0x20 && !short && lower;
                                    self.i += 6;
                                }
                            }
                        }
                        _ => return self.err("bad escape"),
                    }
                }
                _ => return self.err("control character in a string"),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - from
    }

    /// A number; canonical when it is a plain integer both engines print as it is.
    fn number(&mut self) -> R<bool> {
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let int_start = self.i;
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err("bad number"),
        }
        if let Some(b'0'..=b'9') = self.peek() {
            return self.err("leading zero");
        }
        let int_len = self.i - int_start;
        let mut plain = true;
        if self.peek() == Some(b'.') {
            self.i += 1;
            plain = false;
            if self.digits() == 0 {
                return self.err("bad fraction");
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            plain = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return self.err("bad exponent");
            }
        }
        let text = &self.b[start..self.i];
        let canonical = plain && int_len <= 18 && text != b"-0";
        if !canonical {
            // Out of range for an f64 is an error to serde_json: ask it (rare numbers only).
            let ok = std::str::from_utf8(text).is_ok_and(|t| serde_json::from_str::<serde_json::Number>(t).is_ok());
            if !ok {
                return Err(ScanError { what: "number out of range", at: start });
            }
        }
        Ok(canonical)
    }

    fn literal(&mut self, word: &'static [u8]) -> R<()> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            self.err("bad literal")
        }
    }

    /// Any value; (canonical, a string with escapes).
    fn value(&mut self, depth: usize) -> R<(bool, bool)> {
        match self.peek() {
            Some(b'"') => self.string().map(|s| (s.canonical, s.escapes)),
            Some(b'{') => self.object(depth + 1).map(|()| (false, false)),
            Some(b'[') => self.array(depth + 1).map(|()| (false, false)),
            Some(b't') => self.literal(b"true").map(|()| (true, false)),
            Some(b'f') => self.literal(b"false").map(|()| (true, false)),
            Some(b'n') => self.literal(b"null").map(|()| (true, false)),
            Some(b'-' | b'0'..=b'9') => self.number().map(|c| (c, false)),
            Some(_) => self.err("expected a value"),
            None => self.err("end before a value"),
        }
    }

    fn array(&mut self, depth: usize) -> R<()> {
        if depth > MAX_DEPTH {
            return self.err("nested too deep");
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.err("expected ',' or ']'"),
            }
        }
    }

    /// The expected name, when the string at `i` is exactly it: a name without escapes between
    /// quotes is the string of its bytes, so comparing them is the scan.
    fn expected_name(&mut self) -> Option<Str> {
        let e = self.expect?;
        let end = *e.ends.get(self.next)? as usize;
        let name = e.names.get(self.from..end)?;
        let (start, close) = (self.i + 1, self.i + 1 + name.len());
        if self.b.get(start..close) != Some(name) || self.b.get(close) != Some(&b'"') {
            self.expect = None;
            return None;
        }
        self.next += 1;
        self.from = end;
        self.i = close + 1;
        Some(Str { start, end: close, escapes: false, canonical: true })
    }

    /// The members of an object, from its `{`: each handed to `member`. `guided`: the names
    /// are compared with the expected ones first (the event's own members only).
    fn members(&mut self, depth: usize, guided: bool, mut member: impl FnMut(&mut Self, Str) -> R<()>) -> R<()> {
        if depth > MAX_DEPTH {
            return self.err("nested too deep");
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return self.err("expected a field name");
            }
            let name = match guided.then(|| self.expected_name()).flatten() {
                Some(name) => name,
                None => self.string()?,
            };
            self.ws();
            if self.peek() != Some(b':') {
                return self.err("expected ':'");
            }
            self.i += 1;
            self.ws();
            member(self, name)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.err("expected ',' or '}'"),
            }
        }
    }

    fn object(&mut self, depth: usize) -> R<()> {
        self.members(depth, false, |s, _| s.value(depth).map(drop))
    }
}

/// Scans one event object (its whole text); the fields in the order they came.
pub fn scan_event(text: &[u8], out: &mut Vec<Scanned>) -> Result<(), ScanError> {
    let mut s = Scanner { b: text, i: 0, expect: None, next: 0, from: 0 };
    s.ws();
    s.event(out)?;
    s.ws();
    if s.i != text.len() {
        return s.err("trailing characters");
    }
    Ok(())
}

/// Scans the event object that `window` starts with (whatever follows it is left alone): its
/// length. A window that ends inside the object is an error like any other, so a success is
/// the object the whole stream holds there. Each name is first compared with the one `expect`
/// holds at its place: the fields come out the same either way, and the flag tells whether the
/// names were exactly those expected.
pub fn scan_event_expecting(
    window: &[u8],
    out: &mut Vec<Scanned>,
    expect: Option<Expect<'_>>,
) -> Result<(usize, bool), ScanError> {
    let expect = expect.filter(|e| !e.ends.is_empty());
    let mut s = Scanner { b: window, i: 0, expect, next: 0, from: 0 };
    s.event(out)?;
    let same = s.expect.is_some_and(|e| s.next == e.ends.len() && out.len() == e.ends.len());
    Ok((s.i, same))
}

impl Scanner<'_, '_> {
    /// An event object from its `{`, each field pushed to `out`.
    fn event(&mut self, out: &mut Vec<Scanned>) -> R<()> {
        if self.peek() != Some(b'{') {
            return self.err("expected an object");
        }
        self.members(EVENT_DEPTH, true, |s, name| {
            let start = s.i;
            let (canonical, escapes) = s.value(EVENT_DEPTH)?;
            out.push(Scanned {
                name: (name.start, name.end),
                name_escapes: name.escapes,
                value: (start, s.i),
                canonical,
                escapes,
            });
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unguided scan of a window: its length.
    fn scan_event_at(window: &[u8], out: &mut Vec<Scanned>) -> Result<usize, ScanError> {
        scan_event_expecting(window, out, None).map(|(len, _)| len)
    }

    /// A window cut anywhere inside an event is refused, and one that holds all of it (with
    /// more after) gives the fields the event's own text gives.
    #[test]
    fn a_window_reads_an_event_only_when_it_holds_all_of_it() {
        let events: [&[u8]; 6] = [
            br#"{"pid":215}"#,
            br#"{"a":-12.5e3,"b":[1,{"c":"}"}],"d":"q\"\\\u00e9\ud83d\ude00","e":true,"f":null}"#,
            br#"{ "type" : "record" , "n" : 0 }"#,
            br#"{"nested":{"x":{"y":[[],{}]}},"s":"]}"}"#,
            br#"{}"#,
            br#"{"paramList":["a,b",2],"rowCount":18446744073709551616}"#,
        ];
        for event in events {
            let mut whole = Vec::new();
            scan_event(event, &mut whole).unwrap();
            let mut stream = event.to_vec();
            stream.extend_from_slice(br#",{"next":1}]"#);
            for cut in 0..stream.len() {
                let mut got = Vec::new();
                let read = scan_event_at(&stream[..cut], &mut got);
                if cut < event.len() {
                    assert!(read.is_err(), "{} cut at {cut}", String::from_utf8_lossy(event));
                } else {
                    assert_eq!(read, Ok(event.len()), "{}", String::from_utf8_lossy(event));
                    assert_eq!(got, whole);
                }
            }
        }
        let mut out = Vec::new();
        assert!(scan_event_at(b" {}", &mut out).is_err(), "the window starts at the object");
        assert!(scan_event_at(b"[1]", &mut out).is_err());
    }

    /// Guided by expected names, the scan gives the fields an unguided scan gives, and says
    /// "same" only when the names are exactly the expected ones, in order and number.
    #[test]
    fn an_expected_shape_changes_nothing_but_the_flag() {
        let names = b"typepidcommand";
        let ends = [4u32, 7, 14];
        let expect = Expect { names, ends: &ends };
        let cases: [(&[u8], bool); 9] = [
            (br#"{"type":"record","pid":1,"command":"QUERY"}"#, true),
            (br#"{ "type" : "x" , "pid" : [1,{"type":2}] , "command" : null }"#, true),
            (br#"{"type":"record","pid":1}"#, false),
            (br#"{"type":"record","pid":1,"command":"Q","more":1}"#, false),
            (br#"{"type":"record","pi":1,"command":"QUERY"}"#, false),
            (br#"{"type":"record","pids":1,"command":"QUERY"}"#, false),
            (br#"{"type":"record","p\u0069d":1,"command":"QUERY"}"#, false),
            (br#"{"pid":1,"type":"record","command":"QUERY"}"#, false),
            (br#"{"type":"record","pid":1,"command":"QUERY","command":"again"}"#, false),
        ];
        for (event, same) in cases {
            let mut plain = Vec::new();
            let len = scan_event_at(event, &mut plain).unwrap();
            let mut guided = Vec::new();
            let got = scan_event_expecting(event, &mut guided, Some(expect)).unwrap();
            assert_eq!(got, (len, same), "{}", String::from_utf8_lossy(event));
            assert_eq!(guided, plain, "{}", String::from_utf8_lossy(event));
        }
        let cut = br#"{"type":"record","pid""#;
        assert!(scan_event_expecting(cut, &mut Vec::new(), Some(expect)).is_err());
    }
}
