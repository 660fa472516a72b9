//! Tolerant DAS timestamp parsing: `2019-05-24 00:39:49.940668+00`,
//! `2021-01-15 00:15:36.233787` (no offset: UTC), seven fractional digits
//! (SQL Server), `T` or space, `Z`, `+HH`, `+HHMM` or `+HH:MM`.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

fn digits(s: &[u8], n: usize) -> Option<u32> {
    let part = s.get(..n)?;
    part.iter().try_fold(0u32, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0')))
}

/// A parsed DAS timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    /// Epoch milliseconds, UTC (fraction truncated).
    pub millis: i64,
    /// RFC 3339 with every fractional digit kept: `2019-05-24T00:39:49.940668Z`.
    pub rfc3339: String,
}

/// Parses a timestamp into epoch milliseconds (UTC); `None` when it is not one.
pub fn parse_millis(text: &str) -> Option<i64> {
    parse(text).map(|t| t.millis)
}

/// Parses a timestamp; `None` when it is not one.
pub fn parse(text: &str) -> Option<Timestamp> {
    let s = text.trim().as_bytes();
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
    let mut nanos: u64 = 0;
    let mut fraction: &[u8] = &[];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for (i, b) in frac[..n].iter().enumerate().take(9) {
            nanos += u64::from(b - b'0') * 10u64.pow(8 - i as u32);
        }
        fraction = &frac[..n];
        rest = &frac[n..];
    }
    let offset_secs: i64 = match rest {
        [] | [b'Z'] | [b'z'] => 0,
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
            let secs = hh * 3600 + mm * 60;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(y as i32, mo, d)?;
    let time = NaiveTime::from_hms_opt(h, mi, sec)?;
    let local = NaiveDateTime::new(date, time).and_utc().timestamp();
    // The date and the time are the digits read above, at fixed places: copied as they are.
    let t = text.trim();
    let mut rfc3339 = String::with_capacity(40);
    rfc3339.push_str(t.get(..10)?);
    rfc3339.push('T');
    rfc3339.push_str(t.get(11..19)?);
    if !fraction.is_empty() {
        rfc3339.push('.');
        // `fraction` holds ASCII digits only.
        rfc3339.push_str(std::str::from_utf8(fraction).unwrap_or(""));
    }
    if offset_secs == 0 {
        rfc3339.push('Z');
    } else {
        let a = offset_secs.abs();
        let two = |n: i64| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        rfc3339.push(if offset_secs < 0 { '-' } else { '+' });
        rfc3339.extend(two(a / 3600).map(char::from));
        rfc3339.push(':');
        rfc3339.extend(two(a % 3600 / 60).map(char::from));
    }
    Some(Timestamp { millis: (local - offset_secs) * 1000 + (nanos / 1_000_000) as i64, rfc3339 })
}

#[cfg(test)]
mod tests {
    use super::parse_millis;

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
    }

    #[test]
    fn rfc3339_keeps_every_digit_and_the_offset() {
        assert_eq!(super::parse("2019-05-24 00:39:49.940668+00").unwrap().rfc3339, "2019-05-24T00:39:49.940668Z");
        assert_eq!(
            super::parse("2019-05-24 02:39:49.9406681+0200").unwrap().rfc3339,
            "2019-05-24T02:39:49.9406681+02:00"
        );
        assert_eq!(super::parse("2019-05-24 00:39:49-0330").unwrap().rfc3339, "2019-05-24T00:39:49-03:30");
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
            "2019-05-24 00:39:49 junk",
            "２０１９-05-24 00:00:00",
        ] {
            assert_eq!(parse_millis(s), None, "{s}");
        }
    }
}
