//! The date formats seen in Cost Details files, to UTC microseconds since the epoch.
//!
//! - `MM/DD/YYYY` (also `M/D/YYYY`), the Cost Details API and older exports;
//! - `YYYY-MM-DD`, newer exports;
//! - ISO 8601 with a time: `YYYY-MM-DDTHH:MM:SS[.fffffff][Z|+HH:MM|-HH:MM]` (also a space for `T`);
//! - `M/D/YYYY H:MM:SS AM` (US locale with a time), seen in portal downloads.

use time::{Date, Month};

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |a, c| a * 10 + (c - b'0') as u32))
}

fn days(y: u32, m: u32, d: u32) -> Option<i64> {
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()?;
    Some((date.to_julian_day() - 2_440_588) as i64)
}

/// Parse a date or date-time; `None` when it is in no known format or not a real date.
pub fn parse_timestamp_micros(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    // split date and time
    let (date_part, time_part) = match b.iter().position(|c| *c == b'T' || *c == b' ') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let day = if date_part.contains(&b'/') {
        let mut it = date_part.split(|c| *c == b'/');
        let m = num(it.next()?)?;
        let d = num(it.next()?)?;
        let y_raw = it.next()?;
        if it.next().is_some() || y_raw.len() != 4 {
            return None;
        }
        days(num(y_raw)?, m, d)?
    } else {
        let mut it = date_part.split(|c| *c == b'-');
        let y_raw = it.next()?;
        let m = num(it.next()?)?;
        let d = num(it.next()?)?;
        if it.next().is_some() || y_raw.len() != 4 {
            return None;
        }
        days(num(y_raw)?, m, d)?
    };
    let mut micros = day * MICROS_PER_DAY;
    if let Some(t) = time_part {
        micros += parse_time(std::str::from_utf8(t).ok()?.trim())?;
    }
    Some(micros)
}

/// `HH:MM[:SS[.f]]` then an optional `Z`, offset or `AM`/`PM`; returns microseconds to add (UTC).
fn parse_time(t: &str) -> Option<i64> {
    if t.is_empty() {
        return Some(0);
    }
    let (clock, suffix) = match t.find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.')) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, ""),
    };
    let mut it = clock.split(':');
    let h = num(it.next()?.as_bytes())? as i64;
    let mi = num(it.next()?.as_bytes())? as i64;
    let (sec, frac_us) = match it.next() {
        None => (0, 0),
        Some(sf) => {
            let (sec, frac) = sf.split_once('.').unwrap_or((sf, ""));
            let sec = num(sec.as_bytes())? as i64;
            if !frac.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let mut us = 0i64;
            for (i, c) in frac.bytes().take(6).enumerate() {
                us += (c - b'0') as i64 * 10i64.pow(5 - i as u32);
            }
            (sec, us)
        }
    };
    if it.next().is_some() || mi > 59 || sec > 60 {
        return None;
    }
    let mut hour = h;
    let mut offset_us = 0i64;
    match suffix {
        "" | "Z" | "z" => {}
        "AM" | "am" => {
            if !(1..=12).contains(&h) {
                return None;
            }
            hour = h % 12;
        }
        "PM" | "pm" => {
            if !(1..=12).contains(&h) {
                return None;
            }
            hour = h % 12 + 12;
        }
        o if (o.starts_with('+') || o.starts_with('-')) && o.len() >= 3 => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let body = o[1..].replace(':', "");
            if body.len() != 4 {
                return None;
            }
            let oh = num(&body.as_bytes()[..2])? as i64;
            let om = num(&body.as_bytes()[2..])? as i64;
            offset_us = sign * (oh * 3600 + om * 60) * 1_000_000;
        }
        _ => return None,
    }
    if hour > 23 {
        return None;
    }
    Some(((hour * 60 + mi) * 60 + sec) * 1_000_000 + frac_us - offset_us)
}

/// Midnight UTC of the day of a timestamp.
pub fn day_start(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY
}

/// The first day of the month of a timestamp, and the first day of the next month (UTC micros).
pub fn month_bounds(micros: i64) -> Option<(i64, i64)> {
    be_domain::BillingPeriod::of_micros(micros).map(|p| (p.start_micros(), p.end_micros()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D20230921: i64 = 19_621 * MICROS_PER_DAY;

    #[test]
    fn every_format_seen() {
        assert_eq!(parse_timestamp_micros("09/21/2023"), Some(D20230921));
        assert_eq!(parse_timestamp_micros("9/21/2023"), Some(D20230921));
        assert_eq!(parse_timestamp_micros("2023-09-21"), Some(D20230921));
        assert_eq!(
            parse_timestamp_micros("2023-09-21T00:00:00Z"),
            Some(D20230921)
        );
        assert_eq!(
            parse_timestamp_micros("2023-09-21T00:00:00.0000000Z"),
            Some(D20230921)
        );
        assert_eq!(
            parse_timestamp_micros("2023-09-21T00:00:00"),
            Some(D20230921)
        );
        assert_eq!(
            parse_timestamp_micros("2023-09-21 00:00:00+00:00"),
            Some(D20230921)
        );
        assert_eq!(
            parse_timestamp_micros("2023-09-21T02:00:00+02:00"),
            Some(D20230921)
        );
        assert_eq!(
            parse_timestamp_micros("9/21/2023 12:00:00 AM"),
            Some(D20230921)
        );
        assert_eq!(
            parse_timestamp_micros("9/21/2023 1:30:00 PM"),
            Some(D20230921 + (13 * 60 + 30) * 60_000_000)
        );
        assert_eq!(
            parse_timestamp_micros("2023-09-21T10:00:00.5Z"),
            Some(D20230921 + 36_000_500_000)
        );
    }

    #[test]
    fn rejects_impossible_and_unknown() {
        for s in [
            "",
            "2023-02-30",
            "13/01/2023",
            "21.09.2023",
            "2023/09/21",
            "09/21/23",
            "2023-09-21T25:00:00",
            "2023-09-21Tnoon",
            "yesterday",
        ] {
            assert_eq!(parse_timestamp_micros(s), None, "{s}");
        }
    }

    #[test]
    fn month_bounds_cross_the_year() {
        let dec = parse_timestamp_micros("12/15/2023").unwrap_or_default();
        assert_eq!(
            month_bounds(dec),
            Some((
                parse_timestamp_micros("2023-12-01").unwrap_or_default(),
                parse_timestamp_micros("2024-01-01").unwrap_or_default()
            ))
        );
    }
}
