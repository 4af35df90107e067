//! SWIFT / BIC codes (ISO 9362): which bank, and which office of it,
//! receives a payout.
//!
//! `DEUTDEFF500` is bank `DEUT`, country `DE`, location `FF`, branch `500`.
//! An 11-character code ending in `XXX` names the primary office, exactly
//! like the 8-character code, so it is stored as the 8-character code: a
//! blocklist entry `DEUTDEFF` then matches a payout that says `DEUTDEFFXXX`.

use std::fmt;

use super::{Country, Invalid};

/// The branch code that means "primary office".
const PRIMARY_OFFICE: &str = "XXX";

/// A SWIFT / BIC code, upper case, 8 characters (primary office) or 11.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SwiftBic {
    code: String,
    // Parsed once so `country()` need not re-parse (or fail).
    country: Country,
}

impl SwiftBic {
    /// Removes whitespace, upper-cases, then requires a four-letter bank
    /// code, an assigned ISO country, a two-character location and an
    /// optional three-character branch. A trailing `XXX` is dropped.
    ///
    /// ISO 9362:2014 allows digits in the bank code, but no such code has
    /// been issued to a bank we pay out to; letters only keeps an IBAN or
    /// an account number pasted into the wrong field from passing.
    pub fn parse(raw: &str) -> Result<SwiftBic, Invalid> {
        let s: String =
            raw.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
        if s.is_empty() {
            return Err(Invalid::new("SWIFT/BIC code is empty"));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Invalid::new("a SWIFT/BIC code contains only letters and digits"));
        }
        if s.len() != 8 && s.len() != 11 {
            return Err(Invalid::new("a SWIFT/BIC code has 8 or 11 characters"));
        }
        if !s.as_bytes()[..4].iter().all(u8::is_ascii_alphabetic) {
            return Err(Invalid::new("a SWIFT/BIC code starts with a four-letter bank code"));
        }
        let Ok(country) = Country::parse(&s[4..6]) else {
            return Err(Invalid::new(
                "characters 5–6 of a SWIFT/BIC code are an ISO country code, and these are not",
            ));
        };
        let code = match s.strip_suffix(PRIMARY_OFFICE) {
            Some(primary) if s.len() == 11 => primary.to_owned(),
            _ => s,
        };
        Ok(SwiftBic { code, country })
    }

    /// The code: 8 characters for a primary office, else 11.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The 8-character code of the primary office (the code itself when it
    /// has no branch): a blocklist entry on it covers every branch.
    pub fn primary_office(&self) -> &str {
        &self.code[..8]
    }

    /// The four-letter bank (institution) code.
    pub fn bank_code(&self) -> &str {
        &self.code[..4]
    }

    /// The country of the office.
    pub fn country(&self) -> Country {
        self.country
    }

    /// The two-character location code.
    pub fn location(&self) -> &str {
        &self.code[6..8]
    }

    /// The three-character branch code; `None` for the primary office.
    pub fn branch(&self) -> Option<&str> {
        self.code.get(8..).filter(|b| !b.is_empty())
    }
}

impl fmt::Display for SwiftBic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_8_and_11_character_codes() {
        let b = SwiftBic::parse("DEUTDEFF500").unwrap();
        assert_eq!(
            (b.as_str(), b.bank_code(), b.location(), b.branch()),
            ("DEUTDEFF500", "DEUT", "FF", Some("500"))
        );
        assert_eq!(b.country().as_str(), "DE");
        assert_eq!(b.primary_office(), "DEUTDEFF");
        let b = SwiftBic::parse(" bnmx mx mm ").unwrap();
        assert_eq!((b.as_str(), b.branch()), ("BNMXMXMM", None));
        assert_eq!(SwiftBic::parse("NWBKGB2L").unwrap().to_string(), "NWBKGB2L");
        assert_eq!(SwiftBic::parse("BCHICLRM").unwrap().country().as_str(), "CL");
    }

    #[test]
    fn primary_office_is_stored_as_8_characters() {
        assert_eq!(SwiftBic::parse("DEUTDEFFXXX").unwrap(), SwiftBic::parse("deutdeff").unwrap());
        assert_eq!(SwiftBic::parse("DEUTDEFFXXX").unwrap().as_str(), "DEUTDEFF");
        // Only a whole `XXX` branch means the primary office.
        assert_eq!(SwiftBic::parse("DEUTDEFFXX1").unwrap().as_str(), "DEUTDEFFXX1");
    }

    #[test]
    fn says_why_it_refuses() {
        let why = |s: &str| SwiftBic::parse(s).unwrap_err().to_string();
        assert_eq!(why(""), "SWIFT/BIC code is empty");
        assert_eq!(why("DEUTDEF"), "a SWIFT/BIC code has 8 or 11 characters");
        assert_eq!(why("DEUTDEFF50"), "a SWIFT/BIC code has 8 or 11 characters");
        assert_eq!(why("DEUT-DEFF"), "a SWIFT/BIC code contains only letters and digits");
        assert_eq!(why("D3UTDEFF"), "a SWIFT/BIC code starts with a four-letter bank code");
        assert!(why("DEUTZZFF").contains("ISO country code"));
        assert!(why("DEUTUKFF").contains("ISO country code"));
        assert!(SwiftBic::parse("DE89370400440532013000").is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in any::<String>()) {
            if let Ok(b) = SwiftBic::parse(&s) {
                prop_assert_eq!(SwiftBic::parse(b.as_str()), Ok(b.clone()));
                prop_assert!(b.as_str().len() == 8 || b.as_str().len() == 11);
            }
        }

        #[test]
        fn well_formed_codes_parse(bank in "[A-Z]{4}", loc in "[A-Z0-9]{2}", branch in "([A-Z0-9]{3})?") {
            let code = format!("{bank}MX{loc}{branch}");
            let b = SwiftBic::parse(&code).unwrap();
            prop_assert_eq!(b.location(), loc.as_str());
            prop_assert_eq!(b.branch().is_none(), branch.is_empty() || branch == "XXX");
        }
    }
}
