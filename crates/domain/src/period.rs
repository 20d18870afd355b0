//! Billing periods: calendar months. The one implementation of month arithmetic in the project.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month, OffsetDateTime};

use crate::FieldError;

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// A billing period: one calendar month (`YYYY-MM`), as FOCUS's `BillingPeriodStart` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BillingPeriod {
    year: i32,
    month: Month,
}

impl BillingPeriod {
    pub const FIELD: &'static str = "period";

    /// The period a day falls in.
    pub fn of(d: Date) -> Self {
        Self {
            year: d.year(),
            month: d.month(),
        }
    }

    /// The period of an instant, in UTC.
    pub fn of_instant(t: OffsetDateTime) -> Self {
        Self::of(t.to_offset(time::UtcOffset::UTC).date())
    }

    /// The period of a UTC timestamp in microseconds since the Unix epoch (Arrow's timestamps).
    pub fn of_micros(micros: i64) -> Option<Self> {
        let jd = micros.div_euclid(MICROS_PER_DAY) + UNIX_EPOCH_JULIAN_DAY;
        Some(Self::of(
            Date::from_julian_day(i32::try_from(jd).ok()?).ok()?,
        ))
    }

    pub fn new(year: i32, month: u8) -> Option<Self> {
        let month = Month::try_from(month).ok()?;
        Date::from_calendar_date(year, month, 1).ok()?;
        Some(Self { year, month })
    }

    /// Parse `YYYY-MM` (also `YYYYMM`, Azure's billing period form).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let invalid = || {
            FieldError::new(
                Self::FIELD,
                "period_invalid",
                format!("A billing period is a month written YYYY-MM, such as 2026-10; got {s:?}."),
            )
        };
        let (y, m) = match s.split_once('-') {
            Some((y, m)) => (y, m),
            None if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) => s.split_at(4),
            None => return Err(invalid()),
        };
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let year: i32 = y.parse().map_err(|_| invalid())?;
        let month: u8 = m.parse().map_err(|_| invalid())?;
        if !(1900..=9999).contains(&year) {
            return Err(invalid());
        }
        Self::new(year, month).ok_or_else(invalid)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> Month {
        self.month
    }

    /// `YYYY-MM`.
    pub fn key(self) -> String {
        self.to_string()
    }

    pub fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, 1).expect("a period is a valid month")
    }

    pub fn last_day(self) -> Date {
        self.next()
            .first_day()
            .previous_day()
            .expect("a period is a valid month")
    }

    pub fn next(self) -> Self {
        match self.month {
            Month::December => Self {
                year: self.year + 1,
                month: Month::January,
            },
            m => Self {
                year: self.year,
                month: m.next(),
            },
        }
    }

    pub fn previous(self) -> Self {
        match self.month {
            Month::January => Self {
                year: self.year - 1,
                month: Month::December,
            },
            m => Self {
                year: self.year,
                month: m.previous(),
            },
        }
    }

    /// The period `n` months later (earlier when negative).
    pub fn plus_months(self, n: i32) -> Self {
        let index = self.year * 12 + (self.month as i32 - 1) + n;
        let month = Month::try_from((index.rem_euclid(12) + 1) as u8).expect("1..=12");
        Self {
            year: index.div_euclid(12),
            month,
        }
    }

    /// Months from `self` to `other` (positive when `other` is later).
    pub fn months_until(self, other: Self) -> i32 {
        (other.year * 12 + other.month as i32) - (self.year * 12 + self.month as i32)
    }

    /// `BillingPeriodStart`: midnight UTC of the first day, in microseconds since the epoch.
    pub fn start_micros(self) -> i64 {
        (self.first_day().to_julian_day() as i64 - UNIX_EPOCH_JULIAN_DAY) * MICROS_PER_DAY
    }

    /// `BillingPeriodEnd` (exclusive): midnight UTC of the next month's first day.
    pub fn end_micros(self) -> i64 {
        self.next().start_micros()
    }

    /// Every period from `from` to `to`, both included (empty when `to` is before `from`).
    pub fn range(from: Self, to: Self) -> impl Iterator<Item = Self> {
        std::iter::successors(Some(from), |p| Some(p.next())).take_while(move |p| *p <= to)
    }
}

impl fmt::Display for BillingPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month as u8)
    }
}

impl FromStr for BillingPeriod {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for BillingPeriod {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BillingPeriod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn p(s: &str) -> BillingPeriod {
        BillingPeriod::parse(s).expect("valid")
    }

    #[test]
    fn bounds_of_a_leap_february() {
        let feb = BillingPeriod::of(date!(2024 - 02 - 10));
        assert_eq!(
            (feb.first_day(), feb.last_day()),
            (date!(2024 - 02 - 01), date!(2024 - 02 - 29))
        );
    }

    #[test]
    fn next_and_previous_cross_the_year() {
        assert_eq!(p("2025-12").next(), p("2026-01"));
        assert_eq!(p("2026-01").previous(), p("2025-12"));
        assert_eq!(p("2026-10").plus_months(-13), p("2025-09"));
        assert_eq!(p("2026-10").plus_months(3), p("2027-01"));
        assert_eq!(p("2025-09").months_until(p("2026-10")), 13);
    }

    #[test]
    fn parses_both_forms_and_refuses_others() {
        assert_eq!(p(" 2026-10 ").to_string(), "2026-10");
        assert_eq!(p("202610"), p("2026-10"));
        for bad in [
            "2026-13", "2026-1", "26-10", "2026/10", "", "2026-00", "abcd-ef", "0000-01",
        ] {
            assert_eq!(
                BillingPeriod::parse(bad).expect_err(bad).code,
                "period_invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn micros_match_focus_timestamps() {
        let oct = p("2026-10");
        assert_eq!(
            oct.start_micros(),
            datetime!(2026-10-01 0:00 UTC).unix_timestamp() * 1_000_000
        );
        assert_eq!(
            oct.end_micros(),
            datetime!(2026-11-01 0:00 UTC).unix_timestamp() * 1_000_000
        );
        assert_eq!(BillingPeriod::of_micros(oct.end_micros() - 1), Some(oct));
        assert_eq!(
            BillingPeriod::of_micros(oct.start_micros() - 1),
            Some(p("2026-09"))
        );
    }

    #[test]
    fn range_is_inclusive_and_ordered() {
        let keys: Vec<String> = BillingPeriod::range(p("2025-11"), p("2026-02"))
            .map(|x| x.key())
            .collect();
        assert_eq!(keys, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(BillingPeriod::range(p("2026-02"), p("2026-01")).count(), 0);
    }

    #[test]
    fn serde_is_the_text_form() {
        let json = serde_json::to_string(&p("2026-10")).expect("ser");
        assert_eq!(json, "\"2026-10\"");
        assert!(serde_json::from_str::<BillingPeriod>("\"2026-13\"").is_err());
    }
}
