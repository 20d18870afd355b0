//! Currencies, amounts and percentages: exact decimals, never floating point.
//!
//! Stored cost rows are Arrow `Decimal128(38, 24)`; [`Amount`] and [`Percent`] are what people type
//! into rules (a fee, a minimum, a tier bound, a markup). Both convert exactly to the engine's
//! scale-24 integers ([`Amount::to_scaled`], [`Percent::ratio`]).

use std::{fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::FieldError;

/// Decimal places of stored money (Arrow `Decimal128(38, 24)`).
pub const MONEY_SCALE: u32 = 24;
/// Integral digits an amount may have (38 - 24).
pub const MONEY_INTEGRAL_DIGITS: u32 = 14;

/// An ISO 4217 currency, with its minor units (USD 2, JPY 0, KWD 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub const FIELD: &'static str = "currency";

    /// Parse a code such as `USD` (case-insensitive). Codes without minor units (gold, test codes)
    /// are refused: nobody bills in them.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        match iso_currency::Currency::from_code(&code) {
            Some(c) if c.exponent().is_some() => Ok(Self(c)),
            _ => Err(FieldError::new(
                Self::FIELD,
                "currency_unknown",
                format!(
                    "{:?} is not an ISO 4217 currency code; use three letters such as USD, EUR or JPY.",
                    raw.trim()
                ),
            )),
        }
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Decimal places of the currency's minor unit.
    pub fn minor_units(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(2))
    }

    pub fn name(self) -> String {
        self.0.name().to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Parse a plain decimal as a person writes it: optional sign, digits, optional fraction. No
/// exponent, no grouping, no currency sign; `max_places` decimals at most.
fn parse_decimal(
    raw: &str,
    field: &'static str,
    what: &str,
    max_places: u32,
) -> Result<Decimal, FieldError> {
    let s = raw.trim();
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits_ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok || (body.contains('.') && frac.is_empty()) {
        return Err(FieldError::new(
            field,
            "number_invalid",
            format!(
                "{what} is a plain number such as 12.50 (digits, one optional point, no thousands separators); got {s:?}."
            ),
        ));
    }
    if frac.len() as u32 > max_places {
        return Err(FieldError::new(
            field,
            "number_too_precise",
            format!(
                "{what} has at most {max_places} decimal places; {s:?} has {}.",
                frac.len()
            ),
        ));
    }
    let int_digits = int.trim_start_matches('0').len() as u32;
    if int_digits > MONEY_INTEGRAL_DIGITS {
        return Err(FieldError::new(
            field,
            "number_too_large",
            format!("{what} {s:?} is too large."),
        ));
    }
    Decimal::from_str_exact(s).map_err(|_| {
        FieldError::new(
            field,
            "number_invalid",
            format!("{what} {s:?} is not a number."),
        )
    })
}

/// An exact amount of money (a fee, a minimum, a tier bound), at most 24 decimal places and 14
/// integral digits: it fits the stored `Decimal128(38, 24)` exactly. Its currency is wherever it is
/// used (the rows it applies to, or an explicit currency beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Amount(Decimal);

impl Amount {
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        parse_decimal(raw, field, "An amount", MONEY_SCALE).map(Self)
    }

    /// The value in units of 10^-24 (the stored representation).
    pub fn to_scaled(self) -> i128 {
        let scale = self.0.scale();
        self.0.mantissa() * 10i128.pow(MONEY_SCALE - scale)
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Refuse more decimals than the currency's minor unit (15.005 is not a USD amount).
    pub fn check_currency(
        self,
        currency: Currency,
        field: &'static str,
    ) -> Result<Self, FieldError> {
        if self.0.normalize().scale() > currency.minor_units() {
            return Err(FieldError::new(
                field,
                "amount_currency_precision",
                format!(
                    "{} has {} decimal places; {} amounts have at most {}.",
                    self,
                    self.0.normalize().scale(),
                    currency,
                    currency.minor_units()
                ),
            ));
        }
        Ok(self)
    }

    pub fn as_decimal(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?, "amount").map_err(serde::de::Error::custom)
    }
}

/// A percentage as people write it (10 means 10 %), at most 4 decimal places. Ranges depend on the
/// use and are checked there ([`Percent::check_range`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Percent(Decimal);

/// Decimal places a percentage may have.
pub const PERCENT_PLACES: u32 = 4;

impl Percent {
    pub const HUNDRED: Percent = Percent(Decimal::ONE_HUNDRED);

    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        parse_decimal(raw, field, "A percentage", PERCENT_PLACES).map(Self)
    }

    /// Refuse a value outside `[min, max]` (both in percent), naming the range.
    pub fn check_range(
        self,
        min: Decimal,
        max: Decimal,
        field: &'static str,
    ) -> Result<Self, FieldError> {
        if self.0 < min || self.0 > max {
            return Err(FieldError::new(
                field,
                "percent_out_of_range",
                format!("A percentage here is between {min} and {max}; got {self}."),
            ));
        }
        Ok(self)
    }

    /// `p / 100` as an exact fraction `(numerator, denominator)` with a positive denominator.
    pub fn ratio(self) -> (i128, i128) {
        (self.0.mantissa(), 100 * 10i128.pow(self.0.scale()))
    }

    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?, "percent").map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_know_their_minor_units() {
        assert_eq!(Currency::parse("usd").expect("usd").minor_units(), 2);
        assert_eq!(Currency::parse("JPY").expect("jpy").minor_units(), 0);
        assert_eq!(Currency::parse("KWD").expect("kwd").minor_units(), 3);
        assert_eq!(
            Currency::parse("MC").expect_err("two letters").code,
            "currency_unknown"
        );
        assert_eq!(
            Currency::parse("XAU").expect_err("gold").code,
            "currency_unknown"
        );
    }

    #[test]
    fn amounts_are_exact_at_scale_24() {
        let a = Amount::parse("15.00", "amount").expect("amount");
        assert_eq!(a.to_string(), "15.00", "written as given");
        assert_eq!(
            a,
            Amount::parse("15", "amount").expect("15"),
            "compared by value"
        );
        assert_eq!(a.to_scaled(), 15 * 10i128.pow(24));
        let tiny = Amount::parse("0.000000000000000000000001", "amount").expect("1e-24");
        assert_eq!(tiny.to_scaled(), 1);
        assert_eq!(
            Amount::parse("-2.5", "amount").expect("neg").to_scaled(),
            -25 * 10i128.pow(23)
        );
    }

    #[test]
    fn amounts_refuse_what_a_person_would_mistype() {
        for (raw, code) in [
            ("1,000.00", "number_invalid"),
            ("1e3", "number_invalid"),
            ("$15", "number_invalid"),
            ("15.", "number_invalid"),
            ("", "number_invalid"),
            ("0.0000000000000000000000001", "number_too_precise"),
            ("123456789012345", "number_too_large"),
        ] {
            assert_eq!(
                Amount::parse(raw, "amount").expect_err(raw).code,
                code,
                "{raw}"
            );
        }
    }

    #[test]
    fn amounts_fit_their_currency() {
        let usd = Currency::parse("USD").expect("usd");
        let jpy = Currency::parse("JPY").expect("jpy");
        assert!(
            Amount::parse("15.50", "amount")
                .expect("a")
                .check_currency(usd, "amount")
                .is_ok()
        );
        let e = Amount::parse("15.5", "amount")
            .expect("a")
            .check_currency(jpy, "amount")
            .expect_err("jpy has no cents");
        assert_eq!(e.code, "amount_currency_precision");
        assert!(e.message.contains("JPY"), "{}", e.message);
    }

    #[test]
    fn percentages_have_four_places_and_a_checked_range() {
        let p = Percent::parse("12.3456", "percent").expect("p");
        assert_eq!(p.ratio(), (123456, 1_000_000));
        assert_eq!(
            Percent::parse("12.34567", "percent")
                .expect_err("5 places")
                .code,
            "number_too_precise"
        );
        let big = Percent::parse("1000000000", "percent").expect("parses");
        assert_eq!(
            big.check_range(Decimal::ZERO, Decimal::from(1000), "percent")
                .expect_err("1e9")
                .code,
            "percent_out_of_range"
        );
    }
}

/// An exact amount at the stored scale (24 places), as computed by the engine: a rated value, a
/// sum. Arithmetic is checked (a sum beyond 14 integral digits is an error, never a rounding).
/// Rounding happens only for presentation ([`Exact::round`], [`Exact::display_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Exact(i128);

impl Exact {
    pub const ZERO: Exact = Exact(0);
    pub const ONE: Exact = Exact(1_000_000_000_000_000_000_000_000);

    /// From units of 10^-24.
    pub const fn from_scaled(v: i128) -> Self {
        Self(v)
    }

    pub const fn scaled(self) -> i128 {
        self.0
    }

    /// Parse plain decimal text with at most 24 places.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (negative, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty()
            || frac.len() > MONEY_SCALE as usize
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let v: i128 = format!("{int}{frac:0<24}").parse().ok()?;
        Some(Self(if negative { -v } else { v }))
    }

    pub fn checked_add(self, o: Exact) -> Option<Exact> {
        self.0.checked_add(o.0).map(Exact)
    }

    pub fn checked_sub(self, o: Exact) -> Option<Exact> {
        self.0.checked_sub(o.0).map(Exact)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Rounded half-even to `places` decimals.
    pub fn round(self, places: u32) -> Exact {
        if places >= MONEY_SCALE {
            return self;
        }
        let unit = 10i128.pow(MONEY_SCALE - places);
        let (q, r) = (self.0 / unit, self.0 % unit);
        let twice = 2 * r.abs();
        let away = twice > unit || (twice == unit && q % 2 != 0);
        let q = if !away {
            q
        } else if self.0 < 0 {
            q - 1
        } else {
            q + 1
        };
        Exact(q * unit)
    }

    /// `self / other` as a percentage with two decimals (a margin); `None` when `other` is zero.
    pub fn percent_of(self, other: Exact) -> Option<String> {
        if other.0 == 0 {
            return None;
        }
        // Ten-thousandths of a percent, then rounded half-even to hundredths.
        let scaled = self.0.checked_mul(1_000_000)? / other.0;
        let hundredths = {
            let (q, r) = (scaled / 100, scaled % 100);
            if 2 * r.abs() > 100 || (2 * r.abs() == 100 && q % 2 != 0) {
                q + scaled.signum()
            } else {
                q
            }
        };
        let sign = if hundredths < 0 { "-" } else { "" };
        Some(format!(
            "{sign}{}.{:02}",
            hundredths.abs() / 100,
            hundredths.abs() % 100
        ))
    }

    /// For people: rounded half-even to the currency's minor units, digits grouped by thousands,
    /// the code in front (`USD 1,234.57`, `JPY 1,235`). Exports keep [`Exact`]'s exact text.
    pub fn display_in(self, currency: Option<Currency>) -> String {
        let places = currency.map(|c| c.minor_units()).unwrap_or(2);
        let rounded = self.round(places);
        let text = rounded.to_string();
        let (negative, body) = match text.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, text.as_str()),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let frac = format!("{frac:0<width$}", width = places as usize);
        let sign = if negative { "-" } else { "" };
        let number = if places == 0 {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}.{frac}")
        };
        match currency {
            Some(c) => format!("{} {number}", c.code()),
            None => number,
        }
    }
}

impl std::iter::Sum for Exact {
    /// Saturating is never right for money: a sum that does not fit is a bug upstream.
    fn sum<I: Iterator<Item = Exact>>(iter: I) -> Exact {
        iter.fold(Exact::ZERO, |a, b| {
            a.checked_add(b)
                .expect("sums of stored money fit 38 digits")
        })
    }
}

impl fmt::Display for Exact {
    /// Exact decimal text without trailing zeros (`16.9625`, `-20`, `0`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = format!("{:0>25}", self.0.unsigned_abs());
        let (int, frac) = digits.split_at(digits.len() - MONEY_SCALE as usize);
        let frac = frac.trim_end_matches('0');
        let sign = if self.0 < 0 { "-" } else { "" };
        if frac.is_empty() {
            write!(f, "{sign}{int}")
        } else {
            write!(f, "{sign}{int}.{frac}")
        }
    }
}

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Exact::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{s:?} is not an exact decimal with at most 24 places"
            ))
        })
    }
}

#[cfg(test)]
mod exact_tests {
    use super::*;

    fn e(s: &str) -> Exact {
        Exact::parse(s).expect("exact")
    }

    #[test]
    fn text_and_rounding() {
        assert_eq!(e("256.2125").to_string(), "256.2125");
        assert_eq!(e("256.2125").round(2).to_string(), "256.21");
        assert_eq!(e("16.965").round(2).to_string(), "16.96");
        assert_eq!(e("-0.005").round(2).to_string(), "0");
        assert_eq!(e("0.000000000000000000000001").scaled(), 1);
        assert_eq!(Exact::ONE, e("1"));
    }

    #[test]
    fn people_see_the_currency_grouped_digits_and_minor_units() {
        let usd = Currency::parse("USD").ok();
        assert_eq!(e("11199.572203324984").display_in(usd), "USD 11,199.57");
        assert_eq!(e("-1234567.5").display_in(usd), "USD -1,234,567.50");
        assert_eq!(
            e("1234.5").display_in(Currency::parse("JPY").ok()),
            "JPY 1,234"
        );
        assert_eq!(
            e("0.0005").display_in(Currency::parse("KWD").ok()),
            "KWD 0.000"
        );
        assert_eq!(e("999.995").display_in(usd), "USD 1,000.00");
    }

    #[test]
    fn margins() {
        assert_eq!(
            e("-258.7875").percent_of(e("441.2125")).as_deref(),
            Some("-58.65")
        );
        assert_eq!(e("1").percent_of(Exact::ZERO), None);
        assert_eq!(e("1").percent_of(e("3")).as_deref(), Some("33.33"));
    }
}
