//! Tolerant DAS timestamp parsing: `2019-05-24 00:39:49.940668+00`,
//! `2021-01-15 00:15:36.233787` (no offset: UTC), seven fractional digits
//! (SQL Server), `T` or space, `Z`, `+HH`, `+HHMM` or `+HH:MM`.

fn digits(s: &[u8], n: usize) -> Option<u32> {
    let part = s.get(..n)?;
    part.iter().try_fold(0u32, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0')))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid proleptic Gregorian date (years 0 to 9999): the count of
/// days before the date's year in 400-year eras, shifted so that a year starts in March.
fn days_from_civil(y: u32, m: u32, d: u32) -> i64 {
    let y = i64::from(if m <= 2 { y + 399 } else { y + 400 }); // +400: never negative
    let (m, d) = (i64::from(m), i64::from(d));
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era - 1) * 146_097 + day_of_era - 719_468
}

/// A parsed DAS timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    /// Epoch milliseconds, UTC (fraction truncated).
    pub millis: i64,
    /// RFC 3339 with every fractional digit kept: `2019-05-24T00:39:49.940668Z`.
    pub rfc3339: Rfc3339,
}

/// The RFC 3339 text of a timestamp, held in place when it fits (every timestamp DAS writes
/// does: at most 35 bytes), so that an event's three times cost no allocation.
#[derive(Clone, PartialEq, Eq)]
pub enum Rfc3339 {
    Inline { len: u8, bytes: [u8; Rfc3339::INLINE] },
    Heap(Box<str>),
}

impl Rfc3339 {
    const INLINE: usize = 40;

    /// The text of `parts` (pieces of `str` cut at ASCII bytes, or ASCII) put end to end.
    fn from_parts(parts: &[&[u8]]) -> Rfc3339 {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > Self::INLINE {
            // Valid UTF-8, as the parts are.
            return Rfc3339::Heap(String::from_utf8(parts.concat()).unwrap_or_default().into_boxed_str());
        }
        let mut bytes = [0u8; Self::INLINE];
        let mut at = 0;
        for part in parts {
            bytes[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        Rfc3339::Inline { len: at as u8, bytes }
    }

    pub fn as_str(&self) -> &str {
        match self {
            // `bytes[..len]` is what `from_parts` copied from UTF-8 parts cut at ASCII bytes.
            Rfc3339::Inline { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default(),
            Rfc3339::Heap(s) => s,
        }
    }
}

impl From<String> for Rfc3339 {
    fn from(text: String) -> Rfc3339 {
        Rfc3339::from_parts(&[text.as_bytes()])
    }
}

impl std::ops::Deref for Rfc3339 {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<&str> for Rfc3339 {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Parses a timestamp; `None` when it is not one.
pub fn parse(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    let s = t.as_bytes();
    let (y, mo, d) = (digits(s, 4)?, digits(s.get(5..)?, 2)?, digits(s.get(8..)?, 2)?);
    if s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') || !matches!(s.get(10), Some(b' ' | b'T')) {
        return None;
    }
    let rest = s.get(11..)?;
    let (h, mi, sec) = (digits(rest, 2)?, digits(rest.get(3..)?, 2)?, digits(rest.get(6..)?, 2)?);
    if rest.get(2) != Some(&b':') || rest.get(5) != Some(&b':') {
        return None;
    }
    let mut rest = rest.get(8..)?;
    // The fraction's digits (after the dot), and the milliseconds they start with.
    let mut fraction = 0;
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        fraction = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        if fraction == 0 {
            return None;
        }
        millis = frac[..fraction].iter().chain(b"000").take(3).fold(0, |ms, b| ms * 10 + i64::from(b - b'0'));
        rest = &frac[fraction..];
    }
    let offset: Option<(bool, i64, i64)> = match rest {
        [] | [b'Z'] | [b'z'] => None,
        [sign @ (b'+' | b'-'), tz @ ..] => {
            let hh = i64::from(digits(tz, 2)?);
            let mm = match &tz[2..] {
                [] => 0,
                [b':', m @ ..] | m if m.len() == 2 => i64::from(digits(m, 2)?),
                _ => return None,
            };
            if hh > 23 || mm > 59 {
                return None;
            }
            Some((*sign == b'-', hh, mm)).filter(|&(_, hh, mm)| hh + mm > 0)
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let local = days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + sec);
    let offset_secs =
        offset.map_or(0, |(west, hh, mm)| if west { -(hh * 3600 + mm * 60) } else { hh * 3600 + mm * 60 });
    // RFC 3339: the date and the time are the digits read above, at fixed places, copied as
    // they are; then the fraction as it is, and the offset.
    let date = t.get(..10)?.as_bytes();
    let time = t.get(11..19)?.as_bytes();
    let dot_fraction = if fraction > 0 { t.get(19..20 + fraction)?.as_bytes() } else { b"" };
    let signed;
    let zone: &[u8] = match offset {
        None => b"Z",
        Some((west, hh, mm)) => {
            let digit = |n: i64| b'0' + n as u8;
            signed =
                [if west { b'-' } else { b'+' }, digit(hh / 10), digit(hh % 10), b':', digit(mm / 10), digit(mm % 10)];
            &signed
        }
    };
    let rfc3339 = Rfc3339::from_parts(&[date, b"T", time, dot_fraction, zone]);
    Some(Timestamp { millis: (local - offset_secs) * 1000 + millis, rfc3339 })
}

#[cfg(test)]
mod tests {
    fn parse_millis(text: &str) -> Option<i64> {
        super::parse(text).map(|t| t.millis)
    }

    #[test]
    fn formats_seen_in_das() {
        let base = 1_558_658_389_940; // 2019-05-24T00:39:49.940Z
        assert_eq!(parse_millis("2019-05-24 00:39:49.940668+00"), Some(base));
        assert_eq!(parse_millis("2019-05-24 00:39:49.940668"), Some(base));
        assert_eq!(parse_millis("2019-05-24T00:39:49.9406681Z"), Some(base));
        assert_eq!(parse_millis("2019-05-24 02:39:49.940+02:00"), Some(base));
        assert_eq!(parse_millis("2019-05-24 02:09:49.940+0130"), Some(base));
        assert_eq!(parse_millis("2019-05-23 22:39:49.940-02"), Some(base));
        assert_eq!(parse_millis("2019-05-24 00:39:49"), Some(base - 940));
        // PostgreSQL drops trailing zeros: one or two digits, then the offset.
        assert_eq!(parse_millis("2019-05-24 00:39:49.94+00"), Some(base));
        assert_eq!(parse_millis("2019-05-24 00:39:49.9Z"), Some(base - 40));
        assert_eq!(parse_millis("2019-05-24 02:39:49.94+02:00"), Some(base));
        assert_eq!(parse_millis("2019-05-24 00:39:49.940-00"), Some(base));
    }

    #[test]
    fn rfc3339_keeps_every_digit_and_the_offset() {
        assert_eq!(super::parse("2019-05-24 00:39:49.940668+00").unwrap().rfc3339, "2019-05-24T00:39:49.940668Z");
        assert_eq!(
            super::parse("2019-05-24 02:39:49.9406681+0200").unwrap().rfc3339,
            "2019-05-24T02:39:49.9406681+02:00"
        );
        assert_eq!(super::parse("2019-05-24 00:39:49-0330").unwrap().rfc3339, "2019-05-24T00:39:49-03:30");
        // A fraction longer than any DAS writes: the text no longer fits in place, and is the same.
        let long = format!("2019-05-24 00:39:49.{}+02", "1234567890".repeat(5));
        let t = super::parse(&long).unwrap().rfc3339;
        assert!(matches!(t, super::Rfc3339::Heap(_)), "{t:?}");
        assert_eq!(t.as_str(), format!("2019-05-24T00:39:49.{}+02:00", "1234567890".repeat(5)));
        assert!(matches!(
            super::parse("2019-05-24 00:39:49.940668+00").unwrap().rfc3339,
            super::Rfc3339::Inline { .. }
        ));
    }

    #[test]
    fn every_day_and_time_of_day_as_chrono_counts_them() {
        use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
        for y in (0..=9999).step_by(7).chain([1600, 1900, 1970, 2000, 2024, 2100, 9999]) {
            for m in 1..=13 {
                for d in 0..=32 {
                    let text = format!("{y:04}-{m:02}-{d:02} 23:59:58.5");
                    let want = NaiveDate::from_ymd_opt(y, m, d).map(|date| {
                        let t = NaiveTime::from_hms_milli_opt(23, 59, 58, 500).unwrap();
                        NaiveDateTime::new(date, t).and_utc().timestamp_millis()
                    });
                    assert_eq!(parse_millis(&text), want, "{text}");
                }
            }
        }
        // Fractions of every length, then each form of offset: chrono reads the RFC 3339 text.
        for fraction in ["", ".5", ".94", ".940", ".9406", ".940668", ".9406681", ".123456789", ".1234567891"] {
            for (offset, rfc) in
                [("", "Z"), ("Z", "Z"), ("+00", "Z"), ("-00:00", "Z"), ("+0130", "+01:30"), ("-02", "-02:00")]
            {
                let text = format!("2019-05-24 00:39:49{fraction}{offset}");
                let want = chrono::DateTime::parse_from_rfc3339(&format!("2019-05-24T00:39:49{fraction}{rfc}"))
                    .unwrap()
                    .timestamp_millis();
                assert_eq!(parse_millis(&text), Some(want), "{text}");
            }
        }
        for (h, mi, s) in [(0, 0, 0), (23, 59, 59), (24, 0, 0), (12, 60, 0), (12, 0, 60)] {
            let text = format!("2024-02-29 {h:02}:{mi:02}:{s:02}");
            let want = NaiveTime::from_hms_opt(h, mi, s).map(|t| {
                NaiveDateTime::new(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(), t).and_utc().timestamp_millis()
            });
            assert_eq!(parse_millis(&text), want, "{text}");
        }
    }

    #[test]
    fn garbage_is_none_never_a_panic() {
        for s in [
            "",
            "2019",
            "2019-13-01 00:00:00",
            "2019-05-24 25:00:00",
            "2019-05-24 00:39:49.",
            "2019-05-24 00:39:49+0",
            "2019-05-24 00:39:49.5x",
            "2019-05-24 00:39:49.5+",
            "2019-05-24 00:39:49 junk",
            "２０１９-05-24 00:00:00",
        ] {
            assert_eq!(parse_millis(s), None, "{s}");
        }
    }
}
