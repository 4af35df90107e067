//! Money amounts as exact integers of the currency's minor unit.
//!
//! JSON gives us an `f64`. Multiplying it by 100 is wrong (`0.29 * 100.0` is
//! `28.999999999999996`), so a major-unit amount is converted through its
//! shortest round-trip decimal spelling instead: the digits the integrator
//! typed, recovered exactly, then shifted by the currency's exponent.

use std::fmt;

use super::{Currency, Invalid};
use crate::wire::AmountUnit;

/// 10^15 minor units: anything above is absurd for a single payment (10
/// trillion of a 2-decimal currency) and stays exactly representable in an
/// `f64` (< 2^53), so the wire round trip is lossless.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

/// Digits in [`MAX_AMOUNT_MINOR`].
const MAX_DIGITS: i64 = 16;

/// A non-negative amount in the minor unit of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

impl Amount {
    /// Converts the JSON number as received. With [`AmountUnit::Minor`] it
    /// must be a non-negative integer; with [`AmountUnit::Major`] it may have
    /// up to `currency.exponent()` decimals. Negative, NaN, infinite, too many
    /// decimals, or more than [`MAX_AMOUNT_MINOR`] minor units is refused.
    pub fn from_wire(value: f64, unit: AmountUnit, currency: Currency) -> Result<Amount, Invalid> {
        if !value.is_finite() {
            return Err(Invalid::new("amount must be a finite number"));
        }
        if value < 0.0 {
            return Err(Invalid::new("amount must not be negative"));
        }
        // `-0.0` passes the check above and would print as "-0".
        let value = value.abs();
        // Display for f64 is the shortest string that parses back to the same
        // f64, i.e. the decimal the integrator sent (for ≤ 15 significant
        // digits), and it never uses exponent notation.
        let decimal = format!("{value}");
        let minor = match unit {
            AmountUnit::Minor => decimal_to_minor(&decimal, 0).map_err(|e| match e {
                DecimalError::TooManyDecimals => Invalid::new(
                    "amount in minor units (amount_unit \"minor\") must be a whole number",
                ),
                other => other.into(),
            })?,
            AmountUnit::Major => {
                decimal_to_minor(&decimal, currency.exponent()).map_err(|e| match e {
                    DecimalError::TooManyDecimals => Invalid::new(format!(
                        "amount has more decimals than {} allows ({})",
                        currency.code(),
                        currency.exponent()
                    )),
                    other => other.into(),
                })?
            }
        };
        Amount::from_minor(minor, currency)
    }

    /// Builds an amount from minor units (0..=[`MAX_AMOUNT_MINOR`]).
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Amount, Invalid> {
        if minor < 0 {
            return Err(Invalid::new("amount must not be negative"));
        }
        if minor > MAX_AMOUNT_MINOR {
            return Err(DecimalError::TooLarge.into());
        }
        Ok(Amount { minor, currency })
    }

    /// The amount in minor units (cents, centavos; yen for JPY).
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount in major units as the nearest `f64` (`minor / 10^exponent`).
    /// Both operands are exact in `f64` and IEEE division rounds correctly,
    /// so this is the same `f64` as parsing [`Amount::to_major_string`].
    pub fn major_f64(&self) -> f64 {
        // minor ≤ 10^15 < 2^53: the conversion is exact.
        self.minor as f64 / 10f64.powi(i32::from(self.currency.exponent()))
    }

    /// The exact amount in major units with all the currency's decimals,
    /// e.g. `"25000.00"` for MXN, `"1500"` for JPY, `"1.500"` for KWD.
    pub fn to_major_string(&self) -> String {
        let exp = usize::from(self.currency.exponent());
        if exp == 0 {
            return self.minor.to_string();
        }
        let scale = 10i64.pow(u32::from(self.currency.exponent()));
        let (whole, frac) = (self.minor / scale, self.minor % scale);
        format!("{whole}.{frac:0exp$}")
    }
}

impl fmt::Display for Amount {
    /// `25000.00 MXN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major_string(), self.currency)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecimalError {
    Malformed,
    TooManyDecimals,
    TooLarge,
}

impl From<DecimalError> for Invalid {
    fn from(e: DecimalError) -> Invalid {
        match e {
            DecimalError::Malformed => Invalid::new("amount is not a plain decimal number"),
            DecimalError::TooManyDecimals => Invalid::new("amount has too many decimals"),
            DecimalError::TooLarge => {
                Invalid::new("amount is too large (at most 10^15 minor units)")
            }
        }
    }
}

/// Converts a non-negative decimal string (`123`, `123.45`, `1.5e3`,
/// `1E-2`) to an integer count of `10^-scale` units, exactly.
fn decimal_to_minor(s: &str, scale: u8) -> Result<i64, DecimalError> {
    let (mantissa, exp10) = match s.find(['e', 'E']) {
        Some(i) => {
            let exp: i64 = s[i + 1..].parse().map_err(|_| DecimalError::Malformed)?;
            (&s[..i], exp)
        }
        None => (s, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(DecimalError::Malformed);
    }
    if !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(DecimalError::Malformed);
    }
    // value = digits × 10^shift, in units of 10^-scale.
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let frac_len = i64::try_from(frac_part.len()).map_err(|_| DecimalError::Malformed)?;
    let shift = exp10
        .checked_add(i64::from(scale))
        .and_then(|v| v.checked_sub(frac_len))
        .ok_or(DecimalError::Malformed)?;
    // Trailing zeros only move the decimal point: "150.00" is 15 × 10^1.
    let significant = digits.trim_end_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    let trailing_zeros =
        i64::try_from(digits.len() - significant.len()).map_err(|_| DecimalError::TooLarge)?;
    let shift = shift.saturating_add(trailing_zeros);
    if shift < 0 {
        // The last significant digit is below the minor unit.
        return Err(DecimalError::TooManyDecimals);
    }
    // Bound the size before building the integer so 1e300 cannot overflow.
    let total_digits =
        i64::try_from(significant.len()).map_err(|_| DecimalError::TooLarge)?.saturating_add(shift);
    if total_digits > MAX_DIGITS {
        return Err(DecimalError::TooLarge);
    }
    let base: i64 = significant.parse().map_err(|_| DecimalError::Malformed)?;
    let minor = u32::try_from(shift)
        .ok()
        .and_then(|s| 10i64.checked_pow(s))
        .and_then(|p| base.checked_mul(p))
        .ok_or(DecimalError::TooLarge)?;
    if minor > MAX_AMOUNT_MINOR {
        return Err(DecimalError::TooLarge);
    }
    Ok(minor)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn major(v: f64, code: &str) -> Result<i64, Invalid> {
        Amount::from_wire(v, AmountUnit::Major, cur(code)).map(|a| a.minor())
    }

    fn minor(v: f64, code: &str) -> Result<i64, Invalid> {
        Amount::from_wire(v, AmountUnit::Minor, cur(code)).map(|a| a.minor())
    }

    #[test]
    fn minor_units_must_be_whole() {
        assert_eq!(minor(1500.0, "MXN"), Ok(1500));
        assert_eq!(minor(0.0, "MXN"), Ok(0));
        assert_eq!(minor(-0.0, "MXN"), Ok(0));
        assert_eq!(minor(1e15, "MXN"), Ok(MAX_AMOUNT_MINOR));
        assert!(minor(1500.5, "MXN").unwrap_err().to_string().contains("whole number"));
        assert!(minor(1e15 + 2.0, "MXN").is_err());
    }

    #[test]
    fn major_units_convert_exactly() {
        assert_eq!(major(150.0, "MXN"), Ok(15000));
        assert_eq!(major(0.29, "MXN"), Ok(29));
        assert_eq!(major(1.005, "KWD"), Ok(1005));
        assert_eq!(major(19.99, "USD"), Ok(1999));
        assert_eq!(major(25000.0, "MXN"), Ok(2_500_000));
        assert_eq!(major(1500.0, "JPY"), Ok(1500));
        assert_eq!(major(0.0001, "CLF"), Ok(1));
        assert_eq!(major(1e13, "MXN"), Ok(MAX_AMOUNT_MINOR));
        // 0.1 + 0.2 is not 0.3 in binary; its shortest spelling has 17 digits.
        assert!(major(0.1 + 0.2, "MXN").is_err());
    }

    #[test]
    fn major_units_refuse_extra_decimals() {
        let err = major(1.001, "MXN").unwrap_err().to_string();
        assert!(err.contains("MXN") && err.contains('2'), "{err}");
        assert!(!err.contains("1.001"));
        assert!(major(1.5, "JPY").is_err());
        assert!(major(1.5, "CLP").is_err());
        assert!(major(5e-324, "MXN").is_err());
    }

    #[test]
    fn refuses_negative_non_finite_and_huge() {
        for v in [-1.0, -0.01, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e16, 1e300, f64::MAX] {
            assert!(minor(v, "MXN").is_err(), "{v}");
            assert!(major(v, "MXN").is_err(), "{v}");
        }
        assert!(major(1e13 + 0.01, "MXN").is_err());
        assert!(Amount::from_minor(-1, cur("MXN")).is_err());
        assert!(Amount::from_minor(MAX_AMOUNT_MINOR + 1, cur("MXN")).is_err());
    }

    #[test]
    fn decimal_parser_handles_exponents() {
        assert_eq!(decimal_to_minor("1e3", 2), Ok(100_000));
        assert_eq!(decimal_to_minor("1.5E2", 0), Ok(150));
        assert_eq!(decimal_to_minor("15e-1", 1), Ok(15));
        assert_eq!(decimal_to_minor("15e-1", 0), Err(DecimalError::TooManyDecimals));
        assert_eq!(decimal_to_minor("1e21", 2), Err(DecimalError::TooLarge));
        assert_eq!(decimal_to_minor("0e999999", 2), Ok(0));
        assert_eq!(decimal_to_minor(".5", 1), Ok(5));
        assert_eq!(decimal_to_minor("5.", 1), Ok(50));
        assert_eq!(decimal_to_minor("000.0100", 2), Ok(1));
        for bad in ["", ".", "e5", "1e", "1e+", "1.2.3", "-1", "+1", "1_000", "١"] {
            assert_eq!(decimal_to_minor(bad, 2), Err(DecimalError::Malformed), "{bad:?}");
        }
        assert!(decimal_to_minor("1e99999999999999999999", 2).is_err());
        assert!(decimal_to_minor("1e-9223372036854775808", 2).is_err());
        assert!(decimal_to_minor("100e9223372036854775805", 2).is_err());
    }

    #[test]
    fn major_strings() {
        let a = |m: i64, c: &str| Amount::from_minor(m, cur(c)).unwrap();
        assert_eq!(a(2_500_000, "MXN").to_major_string(), "25000.00");
        assert_eq!(a(5, "MXN").to_major_string(), "0.05");
        assert_eq!(a(1500, "JPY").to_major_string(), "1500");
        assert_eq!(a(1500, "KWD").to_major_string(), "1.500");
        assert_eq!(a(1, "CLF").to_major_string(), "0.0001");
        assert_eq!(a(1999, "USD").to_string(), "19.99 USD");
        assert_eq!(a(1999, "USD").major_f64(), 19.99);
    }

    proptest! {
        #[test]
        fn major_roundtrip(m in 0..=MAX_AMOUNT_MINOR, code in "(JPY|MXN|KWD|CLF)") {
            let c = cur(&code);
            let a = Amount::from_minor(m, c).unwrap();
            // Every value here has ≤ 15 significant digits (10^15 itself has
            // one), so its shortest f64 spelling is the decimal itself.
            let f: f64 = a.to_major_string().parse().unwrap();
            prop_assert_eq!(f, a.major_f64());
            prop_assert_eq!(Amount::from_wire(f, AmountUnit::Major, c), Ok(a));
            prop_assert_eq!(Amount::from_wire(m as f64, AmountUnit::Minor, c), Ok(a));
        }

        #[test]
        fn never_panics(v in any::<f64>(), code in "(JPY|MXN|KWD|CLF)") {
            let c = cur(&code);
            for unit in [AmountUnit::Minor, AmountUnit::Major] {
                if let Ok(a) = Amount::from_wire(v, unit, c) {
                    prop_assert!((0..=MAX_AMOUNT_MINOR).contains(&a.minor()));
                }
            }
        }

        #[test]
        fn decimal_parser_never_panics(s in "[0-9.eE+-]{0,30}", scale in 0u8..=4) {
            let _ = decimal_to_minor(&s, scale);
        }
    }
}
