//! Exact decimals: a fast parser for the numbers in Cost Details files and an exact sum.
//!
//! Why not `rust_decimal` for everything: its 96-bit mantissa holds 28-29 significant digits and its
//! addition silently rounds when a sum needs more, so a sum over millions of rows of 28-place values
//! would not be exact. Here a parsed value keeps its mantissa and scale as written ([`Dec`]), the
//! stored FOCUS value is an Arrow `Decimal128(38, 24)` ([`STORE_SCALE`]), and sums are kept as a
//! whole part plus a 36-place fraction ([`ExactSum`]), exact for any realistic period.

use std::fmt;
use std::str::FromStr;

/// Scale of every decimal column this crate writes: Arrow `Decimal128(38, 24)`. 24 fractional digits
/// hold the finest values in real files (they print 28 places, of which the last 4 are zeros, e.g.
/// `0.0000000072922557592391990000`), and 14 integral digits hold a row of 10^14 in any currency.
pub const STORE_SCALE: u32 = 24;
/// Precision of the decimal columns.
pub const STORE_PRECISION: u8 = 38;
/// Most fractional digits a source value may have (after exponent and trailing zeros).
pub const MAX_SOURCE_SCALE: u32 = 36;

const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^n` for `n <= 38`.
pub fn pow10(n: u32) -> i128 {
    POW10[n as usize]
}

/// A decimal exactly as written: `mantissa / 10^scale`, trailing fractional zeros removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dec {
    pub mantissa: i128,
    pub scale: u32,
}

/// Why a number did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecError {
    Syntax,
    TooManyDigits,
    TooManyPlaces,
    OutOfRange,
}

impl DecError {
    pub fn message(self) -> &'static str {
        match self {
            DecError::Syntax => "not a decimal number",
            DecError::TooManyDigits => "a decimal number with more than 38 significant digits",
            DecError::TooManyPlaces => "a decimal number with more than 36 decimal places",
            DecError::OutOfRange => "a decimal number too large to store (at most 10^14)",
        }
    }
}

impl Dec {
    pub const ZERO: Dec = Dec {
        mantissa: 0,
        scale: 0,
    };

    /// Parse `[+-]digits[.digits][(e|E)[+-]digits]`, surrounding spaces allowed. Exact: no rounding.
    pub fn parse(s: &str) -> Result<Dec, DecError> {
        let b = s.trim().as_bytes();
        let mut i = 0;
        let neg = match b.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut m: u128 = 0;
        let mut scale: i64 = 0;
        let mut pending_zeros: u32 = 0; // fractional zeros not yet multiplied in
        let mut any = false;
        let mut frac = false;
        let limit: u128 = POW10[38] as u128;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_digit() {
                any = true;
                let d = (c - b'0') as u128;
                if frac {
                    if d == 0 {
                        pending_zeros += 1;
                    } else {
                        if pending_zeros > 0 {
                            if pending_zeros > 38 && m != 0 {
                                return Err(DecError::TooManyDigits);
                            }
                            if m != 0 {
                                m = m
                                    .checked_mul(POW10[pending_zeros as usize] as u128)
                                    .ok_or(DecError::TooManyDigits)?;
                            }
                        }
                        scale += pending_zeros as i64 + 1;
                        pending_zeros = 0;
                        m = m
                            .checked_mul(10)
                            .and_then(|x| x.checked_add(d))
                            .ok_or(DecError::TooManyDigits)?;
                    }
                } else {
                    m = m
                        .checked_mul(10)
                        .and_then(|x| x.checked_add(d))
                        .ok_or(DecError::TooManyDigits)?;
                }
                if m >= limit {
                    return Err(DecError::TooManyDigits);
                }
            } else if c == b'.' && !frac {
                frac = true;
            } else {
                break;
            }
            i += 1;
        }
        if !any {
            return Err(DecError::Syntax);
        }
        if i < b.len() {
            if b[i] != b'e' && b[i] != b'E' {
                return Err(DecError::Syntax);
            }
            i += 1;
            let eneg = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let start = i;
            let mut e: i64 = 0;
            while i < b.len() && b[i].is_ascii_digit() {
                e = (e * 10 + (b[i] - b'0') as i64).min(10_000);
                i += 1;
            }
            if i == start || i != b.len() {
                return Err(DecError::Syntax);
            }
            scale -= if eneg { -e } else { e };
        }
        if m == 0 {
            return Ok(Dec::ZERO);
        }
        if scale < 0 {
            let up = (-scale).min(39) as usize;
            m = POW10
                .get(up)
                .and_then(|p| m.checked_mul(*p as u128))
                .filter(|x| *x < limit)
                .ok_or(DecError::TooManyDigits)?;
            scale = 0;
        } else {
            // drop trailing zeros an exponent may have left (1.50E+2 -> 150)
            while scale > 0 && m.is_multiple_of(10) {
                m /= 10;
                scale -= 1;
            }
        }
        if scale > MAX_SOURCE_SCALE as i64 {
            return Err(DecError::TooManyPlaces);
        }
        let mi = m as i128; // <= 38 digits < i128::MAX
        Ok(Dec {
            mantissa: if neg { -mi } else { mi },
            scale: scale as u32,
        })
    }

    /// The value at [`STORE_SCALE`]; `rounded` is true when digits beyond it were rounded half-even.
    pub fn to_store(self) -> Result<(i128, bool), DecError> {
        rescale(self.mantissa, self.scale, STORE_SCALE)
    }

    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// As a `rust_decimal::Decimal`, when it fits exactly.
    pub fn to_decimal(self) -> Option<rust_decimal::Decimal> {
        if self.scale > 28 {
            return None;
        }
        rust_decimal::Decimal::try_from_i128_with_scale(self.mantissa, self.scale).ok()
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, self.mantissa, self.scale)
    }
}

/// `mantissa / 10^from` expressed at scale `to` (round half to even when `to < from`).
pub fn rescale(mantissa: i128, from: u32, to: u32) -> Result<(i128, bool), DecError> {
    if from <= to {
        let f = pow10(to - from);
        let v = mantissa.checked_mul(f).ok_or(DecError::OutOfRange)?;
        if v.unsigned_abs() >= pow10(STORE_PRECISION as u32) as u128 {
            return Err(DecError::OutOfRange);
        }
        Ok((v, false))
    } else {
        let f = pow10(from - to);
        let q = mantissa / f;
        let r = mantissa % f;
        if r == 0 {
            return Ok((q, false));
        }
        let twice = r.unsigned_abs() * 2;
        let half_up = twice > f as u128 || (twice == f as u128 && q % 2 != 0);
        let q = if half_up { q + mantissa.signum() } else { q };
        Ok((q, true))
    }
}

/// Write `mantissa / 10^scale` as plain decimal text, trailing fractional zeros trimmed.
pub fn write_scaled(f: &mut impl fmt::Write, mantissa: i128, scale: u32) -> fmt::Result {
    let neg = mantissa < 0;
    let a = mantissa.unsigned_abs();
    let p = pow10(scale) as u128;
    let int = a / p;
    let mut frac = a % p;
    let mut places = scale;
    while places > 0 && frac.is_multiple_of(10) {
        frac /= 10;
        places -= 1;
    }
    if neg && (int != 0 || frac != 0) {
        f.write_char('-')?;
    }
    write!(f, "{int}")?;
    if places > 0 {
        write!(f, ".{:0width$}", frac, width = places as usize)?;
    }
    Ok(())
}

/// Format a stored (scale 24) value.
pub fn format_store(v: i128) -> String {
    let mut s = String::new();
    let _ = write_scaled(&mut s, v, STORE_SCALE);
    s
}

const FRAC_SCALE: u32 = 36;

/// An exact sum of decimals with up to 36 places: `whole + frac / 10^36`, with `|frac| < 10^36`
/// and `frac` of the sign of the total. Adding never rounds; it fails only past 10^38 in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ExactSum {
    whole: i128,
    frac: i128,
}

impl ExactSum {
    pub const ZERO: ExactSum = ExactSum { whole: 0, frac: 0 };

    /// Add `mantissa / 10^scale` (`scale <= 36`).
    pub fn add_scaled(&mut self, mantissa: i128, scale: u32) {
        debug_assert!(scale <= FRAC_SCALE);
        let p = pow10(scale);
        self.whole = self.whole.saturating_add(mantissa / p);
        self.frac += (mantissa % p) * pow10(FRAC_SCALE - scale);
        self.normalize();
    }

    pub fn add_dec(&mut self, d: Dec) {
        self.add_scaled(d.mantissa, d.scale);
    }

    /// Add a stored (scale 24) value.
    pub fn add_store(&mut self, v: i128) {
        self.add_scaled(v, STORE_SCALE);
    }

    pub fn add(&mut self, other: &ExactSum) {
        self.whole = self.whole.saturating_add(other.whole);
        self.frac += other.frac;
        self.normalize();
    }

    fn normalize(&mut self) {
        let one = pow10(FRAC_SCALE);
        if self.frac >= one || self.frac <= -one {
            self.whole = self.whole.saturating_add(self.frac / one);
            self.frac %= one;
        }
        if self.whole > 0 && self.frac < 0 {
            self.whole -= 1;
            self.frac += one;
        } else if self.whole < 0 && self.frac > 0 {
            self.whole += 1;
            self.frac -= one;
        }
    }

    pub fn is_zero(&self) -> bool {
        self.whole == 0 && self.frac == 0
    }

    /// The difference `self - other`, exact.
    pub fn minus(&self, other: &ExactSum) -> ExactSum {
        let mut d = ExactSum {
            whole: self.whole.saturating_sub(other.whole),
            frac: self.frac - other.frac,
        };
        d.normalize();
        d
    }

    /// As a `rust_decimal::Decimal`, when it fits exactly (28 significant digits or fewer).
    pub fn to_decimal(&self) -> Option<rust_decimal::Decimal> {
        rust_decimal::Decimal::from_str(&self.to_string())
            .ok()
            .filter(|d| d.to_string() == self.to_string())
    }
}

/// An exact running sum of many decimals, cheaper per value than [`ExactSum::add_dec`]: one `i128`
/// per scale, folded into an [`ExactSum`] when it would overflow and at the end.
#[derive(Debug, Clone)]
pub struct SumBuilder {
    by_scale: [i128; MAX_SOURCE_SCALE as usize + 1],
    folded: ExactSum,
}

impl Default for SumBuilder {
    fn default() -> Self {
        SumBuilder {
            by_scale: [0; MAX_SOURCE_SCALE as usize + 1],
            folded: ExactSum::ZERO,
        }
    }
}

impl SumBuilder {
    /// Add `mantissa / 10^scale` (`scale <= 36`).
    #[inline]
    pub fn add_scaled(&mut self, mantissa: i128, scale: u32) {
        let slot = &mut self.by_scale[scale as usize];
        match slot.checked_add(mantissa) {
            Some(v) => *slot = v,
            None => {
                self.folded.add_scaled(*slot, scale);
                *slot = mantissa;
            }
        }
    }

    #[inline]
    pub fn add(&mut self, d: Dec) {
        self.add_scaled(d.mantissa, d.scale);
    }

    /// The sum so far.
    pub fn finish(&self) -> ExactSum {
        let mut s = self.folded;
        for (scale, m) in self.by_scale.iter().enumerate() {
            if *m != 0 {
                s.add_scaled(*m, scale as u32);
            }
        }
        s
    }
}

impl fmt::Display for ExactSum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.whole < 0 || self.frac < 0;
        if neg {
            f.write_str("-")?;
        }
        write!(f, "{}", self.whole.unsigned_abs())?;
        let mut frac = self.frac.unsigned_abs();
        let mut places = FRAC_SCALE;
        while places > 0 && frac.is_multiple_of(10) {
            frac /= 10;
            places -= 1;
        }
        if places > 0 {
            write!(f, ".{:0width$}", frac, width = places as usize)?;
        }
        Ok(())
    }
}

impl FromStr for ExactSum {
    type Err = DecError;

    /// Parse the text [`Display`](fmt::Display) writes (for values read back from a database).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty()
            || !int.bytes().all(|c| c.is_ascii_digit())
            || !frac.bytes().all(|c| c.is_ascii_digit())
        {
            return Err(DecError::Syntax);
        }
        if frac.len() > FRAC_SCALE as usize {
            return Err(DecError::TooManyPlaces);
        }
        let whole: i128 = int.parse().map_err(|_| DecError::OutOfRange)?;
        let fr: i128 = if frac.is_empty() {
            0
        } else {
            frac.parse::<i128>().map_err(|_| DecError::Syntax)?
                * pow10(FRAC_SCALE - frac.len() as u32)
        };
        let sign = if neg { -1 } else { 1 };
        Ok(ExactSum {
            whole: sign * whole,
            frac: sign * fr,
        })
    }
}

impl serde::Serialize for ExactSum {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ExactSum {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e: DecError| serde::de::Error::custom(e.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Dec {
        Dec::parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    #[test]
    fn parses_plain_signed_and_padded() {
        assert_eq!(
            p("3.25"),
            Dec {
                mantissa: 325,
                scale: 2
            }
        );
        assert_eq!(
            p("-0.5"),
            Dec {
                mantissa: -5,
                scale: 1
            }
        );
        assert_eq!(
            p("+7"),
            Dec {
                mantissa: 7,
                scale: 0
            }
        );
        assert_eq!(
            p(" 12 "),
            Dec {
                mantissa: 12,
                scale: 0
            }
        );
        assert_eq!(
            p("0.0000000072922557592391990000"),
            Dec {
                mantissa: 7292255759239199,
                scale: 24
            }
        );
        assert_eq!(
            p("0.000000144000000000000000"),
            Dec {
                mantissa: 144,
                scale: 9
            }
        );
        assert_eq!(
            p(".5"),
            Dec {
                mantissa: 5,
                scale: 1
            }
        );
        assert_eq!(
            p("5."),
            Dec {
                mantissa: 5,
                scale: 0
            }
        );
        assert_eq!(p("0"), Dec::ZERO);
        assert_eq!(p("-0.000"), Dec::ZERO);
        assert_eq!(
            p("100"),
            Dec {
                mantissa: 100,
                scale: 0
            }
        );
        assert_eq!(
            p("1.0000000000000000000000000001"),
            Dec {
                mantissa: 10000000000000000000000000001,
                scale: 28
            }
        );
    }

    #[test]
    fn parses_exponents_exactly() {
        assert_eq!(
            p("1.5E-05"),
            Dec {
                mantissa: 15,
                scale: 6
            }
        );
        assert_eq!(
            p("2.5e3"),
            Dec {
                mantissa: 2500,
                scale: 0
            }
        );
        assert_eq!(
            p("1.50E+2"),
            Dec {
                mantissa: 150,
                scale: 0
            }
        );
        assert_eq!(
            p("-4.2e-30"),
            Dec {
                mantissa: -42,
                scale: 31
            }
        );
        assert_eq!(
            p("7E0"),
            Dec {
                mantissa: 7,
                scale: 0
            }
        );
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        for s in [
            "", "-", "abc", "1.2.3", "1e", "1e+", "12a", "1,5", "NaN", "--1", "1 2",
        ] {
            assert_eq!(Dec::parse(s).map_err(|_| ()), Err(()), "{s}");
        }
        assert_eq!(Dec::parse("1e-40"), Err(DecError::TooManyPlaces));
        assert_eq!(
            Dec::parse("123456789012345678901234567890123456789"),
            Err(DecError::TooManyDigits)
        );
        assert_eq!(Dec::parse("1e39"), Err(DecError::TooManyDigits));
    }

    #[test]
    fn stores_at_scale_24_rounding_half_even_only_beyond() {
        assert_eq!(
            p("3.25").to_store(),
            Ok((3_250_000_000_000_000_000_000_000, false))
        );
        assert_eq!(p("1e-24").to_store(), Ok((1, false)));
        assert_eq!(p("1.5e-24").to_store(), Ok((2, true)));
        assert_eq!(p("2.5e-24").to_store(), Ok((2, true)));
        assert_eq!(p("-2.5e-24").to_store(), Ok((-2, true)));
        assert_eq!(p("-2.51e-24").to_store(), Ok((-3, true)));
        assert_eq!(p("99999999999999.5").to_store().map(|x| x.1), Ok(false));
        assert_eq!(p("100000000000000").to_store(), Err(DecError::OutOfRange));
        assert_eq!(
            format_store(
                p("0.0000000072922557592391990000")
                    .to_store()
                    .map(|x| x.0)
                    .unwrap_or(0)
            ),
            "0.000000007292255759239199"
        );
        assert_eq!(format_store(-1), "-0.000000000000000000000001");
        assert_eq!(format_store(0), "0");
    }

    #[test]
    fn sum_builder_equals_exact_sum_even_past_i128() {
        let values = [
            "0.1",
            "-0.2",
            "99999999999999.999999999999999999999999",
            "1e-36",
            "12.5",
            "99999999999999.999999999999999999999999",
        ];
        let mut slow = ExactSum::ZERO;
        let mut fast = SumBuilder::default();
        for _ in 0..2000 {
            for v in values {
                slow.add_dec(p(v));
                fast.add(p(v));
            }
        }
        assert_eq!(fast.finish(), slow);
        assert_eq!(
            fast.finish().to_string(),
            "400000000000024799.999999999999999999996000000000002"
        );
    }

    #[test]
    fn exact_sum_never_rounds() {
        let mut s = ExactSum::ZERO;
        for v in [
            "0.1",
            "0.2",
            "-0.3",
            "1e-36",
            "123456789012345678901234567.5",
        ] {
            s.add_dec(p(v));
        }
        assert_eq!(
            s.to_string(),
            "123456789012345678901234567.500000000000000000000000000000000001"
        );
        let mut t = ExactSum::ZERO;
        t.add_dec(p("-1.25"));
        t.add_dec(p("0.5"));
        assert_eq!(t.to_string(), "-0.75");
        assert_eq!("-0.75".parse::<ExactSum>(), Ok(t));
        assert_eq!(s.to_string().parse::<ExactSum>(), Ok(s));
        assert_eq!(t.minus(&t), ExactSum::ZERO);
        let mut u = ExactSum::ZERO;
        for _ in 0..1000 {
            u.add_dec(p("0.0000000072922557592391990000"));
        }
        assert_eq!(u.to_string(), "0.000007292255759239199");
        assert_eq!(
            u.to_decimal().map(|d| d.to_string()),
            Some("0.000007292255759239199".into())
        );
    }
}
