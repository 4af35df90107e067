//! ISO 4217 currency codes and their minor-unit exponents.

use std::fmt;

use super::Invalid;

/// Active ISO 4217 codes (SIX list one as published 2026-01-01) with the
/// number of decimals of their minor unit, sorted by code for binary search.
///
/// Codes whose minor unit ISO gives as "N.A." (precious metals, SDR, bond
/// market units, `XTS`, `XXX`, …) are left out: nobody pays in them and an
/// amount in them has no defined minor unit. Withdrawn codes (`HRK`, `ANG`,
/// `BGN`, `SLL`, `ZWL`, `CUC`, …) are refused so stale integrations surface.
const TABLE: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAD", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// An active ISO 4217 currency. Cheap to copy: an index into a static table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(u8);

impl Currency {
    /// Trims and upper-cases; the result must be an active ISO 4217 code.
    pub fn parse(raw: &str) -> Result<Currency, Invalid> {
        let s = raw.trim();
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(Invalid::new("currency must be a three-letter ISO 4217 code, e.g. MXN"));
        }
        let upper = s.to_ascii_uppercase();
        TABLE
            .binary_search_by(|(code, _)| (*code).cmp(upper.as_str()))
            .ok()
            .and_then(|i| u8::try_from(i).ok())
            .map(Currency)
            .ok_or_else(|| Invalid::new("currency is not an active ISO 4217 code"))
    }

    /// The code, e.g. `MXN`.
    pub fn code(self) -> &'static str {
        TABLE[usize::from(self.0)].0
    }

    /// Decimals of the minor unit: 2 for MXN (centavos), 0 for JPY or CLP,
    /// 3 for KWD or BHD, 4 for CLF or UYW.
    pub fn exponent(self) -> u8 {
        TABLE[usize::from(self.0)].1
    }

    /// Every supported currency, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        // The table has fewer than 256 rows (checked in tests), so the
        // conversion never truncates.
        (0..TABLE.len()).filter_map(|i| u8::try_from(i).ok()).map(Currency)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn table_is_sorted_and_small() {
        assert!(TABLE.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(TABLE.len() < 256);
        assert!(
            TABLE
                .iter()
                .all(|(c, e)| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) && *e <= 4)
        );
        assert_eq!(Currency::all().count(), TABLE.len());
        for c in Currency::all() {
            assert_eq!(Currency::parse(c.code()), Ok(c));
        }
    }

    #[test]
    fn known_exponents() {
        for (code, exp) in [
            ("MXN", 2),
            ("JPY", 0),
            ("CLP", 0),
            ("BHD", 3),
            ("KWD", 3),
            ("UYU", 2),
            ("COP", 2),
            ("BRL", 2),
            ("PEN", 2),
            ("ARS", 2),
            ("USD", 2),
            ("EUR", 2),
            ("CLF", 4),
            ("UYW", 4),
            ("KRW", 0),
            ("TND", 3),
            ("XOF", 0),
            ("ISK", 0),
        ] {
            let c = Currency::parse(code).unwrap();
            assert_eq!((c.code(), c.exponent()), (code, exp));
        }
    }

    #[test]
    fn parses_case_insensitively() {
        assert_eq!(Currency::parse(" mxn ").unwrap().code(), "MXN");
        assert_eq!(Currency::parse("Usd").unwrap().to_string(), "USD");
    }

    #[test]
    fn refuses_unknown_and_withdrawn() {
        for bad in ["", "MX", "MXNN", "M1N", "ABC", "XAU", "XXX", "HRK", "ZWL", "ÑÑÑ"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            if let Ok(c) = Currency::parse(&s) {
                prop_assert_eq!(Currency::parse(c.code()), Ok(c));
            }
        }
    }
}
