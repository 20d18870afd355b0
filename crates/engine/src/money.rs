//! Exact arithmetic on stored money: `i128` units of 10^-24 (Arrow `Decimal128(38, 24)`), with
//! `i256` intermediates so no product or sum can overflow or round silently. Every rounding is
//! half-even at 24 places, the one rule engine.md states.

use datafusion::arrow::datatypes::i256;

/// Places of stored money.
pub const SCALE: u32 = 24;
/// Precision of stored money.
pub const PRECISION: u8 = 38;
/// Precision used for exact sums (`Decimal256(76, 24)`).
pub const SUM_PRECISION: u8 = 76;

/// The largest magnitude `Decimal128(38, _)` holds.
const MAX_38: i128 = 99_999_999_999_999_999_999_999_999_999_999_999_999;

/// `n / d` rounded half-even (`d` > 0).
pub fn div_half_even(n: i256, d: i256) -> i256 {
    let zero = i256::ZERO;
    let (q, r) = (n.wrapping_div(d), n.wrapping_rem(d));
    if r == zero {
        return q;
    }
    let twice = r.wrapping_abs().wrapping_mul(i256::from_i128(2));
    let away = match twice.cmp(&d) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => q.wrapping_rem(i256::from_i128(2)) != zero,
    };
    if !away {
        q
    } else if n < zero {
        q.wrapping_sub(i256::ONE)
    } else {
        q.wrapping_add(i256::ONE)
    }
}

/// `x × num / den`, rounded half-even; `None` if the result does not fit 38 digits.
pub fn mul_ratio(x: i128, num: i128, den: i128) -> Option<i128> {
    let product = i256::from_i128(x).checked_mul(i256::from_i128(num))?;
    narrow(div_half_even(product, i256::from_i128(den)))
}

/// An `i256` that fits `Decimal128(38, _)`.
pub fn narrow(v: i256) -> Option<i128> {
    v.to_i128().filter(|x| x.abs() <= MAX_38)
}

/// A scale-24 value as decimal text, without trailing zeros (`16.9625`, `-20`, `0`).
pub fn format(v: i128) -> String {
    format_wide(i256::from_i128(v))
}

/// A scale-24 sum as decimal text, without trailing zeros.
pub fn format_wide(v: i256) -> String {
    let negative = v < i256::ZERO;
    let digits = v.wrapping_abs().to_string();
    let digits = format!("{digits:0>25}");
    let (int, frac) = digits.split_at(digits.len() - SCALE as usize);
    let frac = frac.trim_end_matches('0');
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// Parse decimal text (as [`format`] writes it, or any plain decimal with at most 24 places).
pub fn parse(s: &str) -> Option<i128> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty()
        || frac.len() > SCALE as usize
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{int}{frac:0<24}");
    let v: i128 = digits.parse().ok()?;
    Some(if negative { -v } else { v })
}

/// Round a scale-24 value to `places` decimals, half-even (an invoice line, a pivot cell).
pub fn round_to(v: i128, places: u32) -> i128 {
    if places >= SCALE {
        return v;
    }
    let unit = 10i128.pow(SCALE - places);
    div_half_even(i256::from_i128(v), i256::from_i128(unit)).as_i128() * unit
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: i128 = 1_000_000_000_000_000_000_000_000;

    #[test]
    fn half_even_at_24_places() {
        // 1e-24 × 1/2 = 0.5e-24 -> 0 (even); 3e-24 × 1/2 = 1.5e-24 -> 2e-24 (even).
        assert_eq!(mul_ratio(1, 1, 2), Some(0));
        assert_eq!(mul_ratio(3, 1, 2), Some(2));
        assert_eq!(mul_ratio(-3, 1, 2), Some(-2));
        assert_eq!(mul_ratio(-5, 1, 2), Some(-2));
        assert_eq!(mul_ratio(7, 1, 3), Some(2));
    }

    #[test]
    fn percent_of_money() {
        // 239.25 × 5 / 100 = 11.9625
        assert_eq!(
            mul_ratio(23925 * ONE / 100, 5, 100).map(format).as_deref(),
            Some("11.9625")
        );
        assert_eq!(mul_ratio(100 * ONE, 60, 100), Some(60 * ONE));
    }

    #[test]
    fn products_wider_than_i128_stay_exact() {
        let big = 99_999_999_999_999 * ONE; // 14 integral digits
        assert_eq!(mul_ratio(big, 1_000_000, 1_000_000), Some(big));
        assert_eq!(mul_ratio(big, 10, 1), None, "does not fit 38 digits");
    }

    #[test]
    fn text_round_trips() {
        for s in [
            "0",
            "16.9625",
            "-20",
            "0.000000000000000000000001",
            "-258.7875",
            "99999999999999.999999999999999999999999",
        ] {
            assert_eq!(parse(s).map(format).as_deref(), Some(s), "{s}");
        }
        assert_eq!(parse("1e5"), None);
        assert_eq!(format_wide(i256::from_i128(-ONE / 2)), "-0.5");
    }

    #[test]
    fn rounding_for_presentation() {
        let v = parse("256.2125").expect("v");
        assert_eq!(format(round_to(v, 2)), "256.21");
        assert_eq!(format(round_to(parse("16.965").expect("v"), 2)), "16.96");
        assert_eq!(format(round_to(parse("16.975").expect("v"), 2)), "16.98");
        assert_eq!(format(round_to(parse("-0.5").expect("v"), 0)), "0");
    }
}

/// An exact sum of stored money (scale 24), as wide as `Decimal256(76, 24)`. Shown and serialized
/// as decimal text without trailing zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Exact(i256);

impl Exact {
    pub const ZERO: Exact = Exact(i256::ZERO);

    pub fn from_scaled(v: i128) -> Self {
        Self(i256::from_i128(v))
    }

    pub fn from_wide(v: i256) -> Self {
        Self(v)
    }

    pub fn wide(self) -> i256 {
        self.0
    }

    /// The value as stored money, if it fits `Decimal128(38, 24)`.
    pub fn scaled(self) -> Option<i128> {
        narrow(self.0)
    }

    pub fn is_zero(self) -> bool {
        self.0 == i256::ZERO
    }

    pub fn is_negative(self) -> bool {
        self.0 < i256::ZERO
    }

    /// Parse decimal text with at most 24 places (any width up to 76 digits).
    pub fn parse(s: &str) -> Option<Self> {
        let (negative, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty()
            || frac.len() > SCALE as usize
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let v = i256::from_string(&format!("{int}{frac:0<24}"))?;
        Some(Self(if negative { v.wrapping_neg() } else { v }))
    }

    /// Rounded half-even to `places` decimals (presentation: a pivot cell, an invoice line).
    pub fn rounded(self, places: u32) -> Self {
        if places >= SCALE {
            return self;
        }
        let unit = i256::from_i128(10i128.pow(SCALE - places));
        Self(div_half_even(self.0, unit).wrapping_mul(unit))
    }
}

impl std::ops::Add for Exact {
    type Output = Exact;
    fn add(self, o: Exact) -> Exact {
        Exact(self.0.wrapping_add(o.0))
    }
}

impl std::ops::AddAssign for Exact {
    fn add_assign(&mut self, o: Exact) {
        self.0 = self.0.wrapping_add(o.0);
    }
}

impl std::ops::Sub for Exact {
    type Output = Exact;
    fn sub(self, o: Exact) -> Exact {
        Exact(self.0.wrapping_sub(o.0))
    }
}

impl std::ops::Neg for Exact {
    type Output = Exact;
    fn neg(self) -> Exact {
        Exact(self.0.wrapping_neg())
    }
}

impl std::iter::Sum for Exact {
    fn sum<I: Iterator<Item = Exact>>(iter: I) -> Exact {
        iter.fold(Exact::ZERO, |a, b| a + b)
    }
}

impl std::fmt::Display for Exact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_wide(self.0))
    }
}

impl serde::Serialize for Exact {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Exact {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Exact::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{s:?} is not an exact decimal with at most 24 places"
            ))
        })
    }
}
