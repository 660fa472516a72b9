//! A SQL tokenizer just deep enough to find literals: PostgreSQL and MySQL quoting rules
//! (doubled quotes, backslash escapes, E'' / B'' / X'' / N'' / U&'' prefixes, dollar-quoted
//! strings, MySQL double-quoted strings, backquoted and double-quoted identifiers), numbers
//! (decimal, exponent, 0x hex, 0b bits), and comments (`--`, `#` in MySQL, nested `/* */` in
//! PostgreSQL). Never panics on any input; unterminated constructs run to the end of the text.

/// Which quoting rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `"x"` is an identifier, `$tag$…$tag$` is a string, `/* */` nests, backslashes only in E''.
    Postgres,
    /// `"x"` is a string, backslash escapes in strings, `#` starts a comment, `` `x` `` identifiers.
    MySql,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string, number, hex, bit or dollar-quoted literal: what redaction replaces.
    Literal,
    Comment,
    /// Words, identifiers, operators, placeholders, whitespace: kept as they are.
    Other,
}

/// The text split into (kind, byte range) tokens that cover it whole, in order.
pub fn tokens(sql: &str, dialect: Dialect) -> Vec<(Kind, std::ops::Range<usize>)> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let c = b[i];
        let next = b.get(i + 1).copied();
        let kind = if c == b'-' && next == Some(b'-') || dialect == Dialect::MySql && c == b'#' {
            i = line_end(b, i);
            Kind::Comment
        } else if c == b'/' && next == Some(b'*') {
            i = block_comment_end(b, i, dialect == Dialect::Postgres);
            Kind::Comment
        } else if c == b'\'' {
            i = quoted_end(b, i, b'\'', dialect == Dialect::MySql);
            Kind::Literal
        } else if c == b'"' {
            i = quoted_end(b, i, b'"', dialect == Dialect::MySql);
            if dialect == Dialect::MySql {
                Kind::Literal
            } else {
                Kind::Other
            }
        } else if c == b'`' {
            i = quoted_end(b, i, b'`', false);
            Kind::Other
        } else if let Some(end) = prefixed_string(b, i, dialect) {
            i = end;
            Kind::Literal
        } else if c == b'$' && dialect == Dialect::Postgres {
            match dollar_string_end(b, i) {
                Some(end) => {
                    i = end;
                    Kind::Literal
                }
                None => {
                    // `$1` placeholder or a lone `$`.
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    Kind::Other
                }
            }
        } else if c.is_ascii_digit() || c == b'.' && next.is_some_and(|n| n.is_ascii_digit()) {
            i = number_end(b, i);
            Kind::Literal
        } else if is_word(c) {
            while i < b.len() && (is_word(b[i]) || b[i] == b'$') {
                i += 1;
            }
            Kind::Other
        } else {
            // One character (a whole UTF-8 sequence): operators, punctuation, whitespace.
            i += utf8_len(c);
            Kind::Other
        };
        out.push((kind, start..i.min(b.len())));
        i = i.min(b.len());
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn line_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'\n' {
        i += 1;
    }
    i
}

fn block_comment_end(b: &[u8], mut i: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth = if nested { depth + 1 } else { 1 };
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// End (exclusive) of a quoted run starting at `i` (the opening quote): a doubled quote is an
/// escaped quote; with `backslash`, `\x` escapes any character.
fn quoted_end(b: &[u8], mut i: usize, quote: u8, backslash: bool) -> usize {
    i += 1;
    while i < b.len() {
        if backslash && b[i] == b'\\' {
            i += 2;
        } else if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// `E'…'`, `B'…'`, `X'…'`, `N'…'`, `U&'…'` (any case, as a whole word).
fn prefixed_string(b: &[u8], i: usize, dialect: Dialect) -> Option<usize> {
    if i > 0 && is_word(b[i - 1]) {
        return None;
    }
    let upper = b[i].to_ascii_uppercase();
    let (quote_at, backslash) = match upper {
        b'E' => (i + 1, true),
        b'B' | b'X' | b'N' => (i + 1, dialect == Dialect::MySql),
        b'U' if b.get(i + 1) == Some(&b'&') => (i + 2, false),
        _ => return None,
    };
    (b.get(quote_at) == Some(&b'\'')).then(|| quoted_end(b, quote_at, b'\'', backslash))
}

/// `$tag$ … $tag$` (the tag may be empty); None when `i` does not open one.
fn dollar_string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
        j += 1;
    }
    if b.get(j) != Some(&b'$') || b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let tag = &b[i..=j];
    let body = j + 1;
    let close = b[body..].windows(tag.len()).position(|w| w == tag);
    Some(close.map_or(b.len(), |p| body + p + tag.len()))
}

fn number_end(b: &[u8], mut i: usize) -> usize {
    if b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X' | b'b' | b'B')) {
        i += 2;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        return i;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
        i += 1;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        let mut j = i + 1;
        if j < b.len() && matches!(b[j], b'+' | b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = j;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}
