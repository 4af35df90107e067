//! ISO 3166-1 alpha-2 country codes.

use std::fmt;

use super::Invalid;

/// Every officially assigned ISO 3166-1 alpha-2 code (249), sorted so that
/// lookups can binary-search. User-assigned codes such as `XK` (Kosovo) and
/// reserved ones such as `UK` or `EU` are not officially assigned and are
/// refused: integrators must send the code their card network uses.
const CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An officially assigned ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// Trims and upper-cases; the result must be an assigned code.
    pub fn parse(raw: &str) -> Result<Country, Invalid> {
        let s = raw.trim();
        let bytes = s.as_bytes();
        if bytes.len() != 2 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(Invalid::new("country must be a two-letter ISO 3166-1 alpha-2 code"));
        }
        let code = [bytes[0].to_ascii_uppercase(), bytes[1].to_ascii_uppercase()];
        let as_str =
            std::str::from_utf8(&code).map_err(|_| Invalid::new("country code is not ASCII"))?;
        if CODES.binary_search(&as_str).is_err() {
            return Err(Invalid::new("country is not an assigned ISO 3166-1 alpha-2 code"));
        }
        Ok(Country(code))
    }

    /// The code, e.g. `MX`. `'static` so callers can keep it without
    /// holding on to the (`Copy`) value.
    pub fn as_str(&self) -> &'static str {
        // An 8-step binary search; the fallback is unreachable because a
        // `Country` is only built from a code in the table.
        CODES.binary_search_by(|c| c.as_bytes().cmp(&self.0[..])).map_or("??", |i| CODES[i])
    }

    /// Every assigned code, in alphabetical order.
    pub fn all() -> impl Iterator<Item = Country> {
        CODES.iter().map(|c| {
            let b = c.as_bytes();
            Country([b[0], b[1]])
        })
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(CODES.iter().all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())));
        assert_eq!(Country::all().count(), 249);
        for c in Country::all() {
            assert_eq!(Country::parse(c.as_str()), Ok(c));
        }
    }

    #[test]
    fn parses_case_insensitively() {
        assert_eq!(Country::parse(" mx ").unwrap().as_str(), "MX");
        assert_eq!(Country::parse("Br").unwrap().to_string(), "BR");
        for code in ["AQ", "SS", "BQ", "CW", "SX", "AX", "PS", "TW", "EH"] {
            assert!(Country::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn refuses_unassigned_and_malformed() {
        for bad in ["", "M", "MEX", "XK", "UK", "EU", "ZZ", "AA", "1A", "M ", "ÑA", "mx\u{0}"] {
            assert!(Country::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            if let Ok(c) = Country::parse(&s) {
                prop_assert_eq!(Country::parse(c.as_str()), Ok(c));
            }
        }
    }
}
