//! Case reference numbers: `CLM-` and six symbols, e.g. `CLM-LX9A2B`.
//!
//! People read these aloud on the phone and copy them from printed letters
//! to the regulator, so the alphabet leaves out the pairs that get confused
//! (`0`/`O`, `1`/`I`). 32 symbols over 6 places give 2^30 (about a billion)
//! numbers: the origin still checks uniqueness, but collisions stay rare.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::normalize::Invalid;

/// 2–9 and A–Z without I and O: 8 + 24 = 32 symbols, so `byte % 32` maps
/// every byte value onto a symbol uniformly (256 = 8 × 32).
const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const PREFIX: &str = "CLM-";
/// Symbols after the prefix; one random byte each.
const SYMBOLS: usize = 6;

/// A case reference number, `CLM-` followed by six symbols.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReferenceNumber(String);

impl ReferenceNumber {
    /// A new reference number from random bytes (the caller supplies them
    /// from its RNG; core has none of its own).
    pub fn from_random(random: [u8; SYMBOLS]) -> ReferenceNumber {
        let mut s = String::with_capacity(PREFIX.len() + SYMBOLS);
        s.push_str(PREFIX);
        s.extend(random.iter().map(|b| char::from(ALPHABET[usize::from(b % 32)])));
        ReferenceNumber(s)
    }

    /// Strict: exactly `CLM-` and six symbols of the alphabet, upper case,
    /// nothing around it. Reference numbers are only ever copied from what
    /// we printed, so anything else is a different (or mistyped) number.
    pub fn parse(raw: &str) -> Result<ReferenceNumber, Invalid> {
        let Some(body) = raw.strip_prefix(PREFIX) else {
            return Err(Invalid::new("a reference number starts with CLM-"));
        };
        if body.len() != SYMBOLS {
            return Err(Invalid::new("a reference number has six characters after CLM-"));
        }
        if !body.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(Invalid::new(
                "a reference number uses only 2-9 and upper-case A-Z without I or O",
            ));
        }
        Ok(ReferenceNumber(raw.to_owned()))
    }

    /// The text, e.g. `CLM-LX9A2B`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReferenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ReferenceNumber {
    type Error = Invalid;

    fn try_from(s: String) -> Result<ReferenceNumber, Invalid> {
        ReferenceNumber::parse(&s)
    }
}

impl From<ReferenceNumber> for String {
    fn from(r: ReferenceNumber) -> String {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn alphabet_has_no_ambiguous_symbols() {
        assert_eq!(ALPHABET.len(), 32);
        let mut sorted = ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 32, "duplicates");
        for bad in *b"01IO" {
            assert!(!ALPHABET.contains(&bad));
        }
        assert!(ALPHABET.iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
    }

    #[test]
    fn from_random_maps_bytes_onto_the_alphabet() {
        assert_eq!(ReferenceNumber::from_random([0; 6]).as_str(), "CLM-222222");
        assert_eq!(ReferenceNumber::from_random([31, 32, 63, 255, 8, 1]).as_str(), "CLM-Z2ZZA3");
    }

    #[test]
    fn parse_is_strict() {
        let r = ReferenceNumber::parse("CLM-LX9A2B").unwrap();
        assert_eq!(r.to_string(), "CLM-LX9A2B");
        for bad in [
            "",
            "CLM-",
            "clm-LX9A2B",
            "CLM-lx9a2b",
            " CLM-LX9A2B",
            "CLM-LX9A2B ",
            "CLM-LX9A2",
            "CLM-LX9A2BC",
            "CLM-LX0A2B",
            "CLM-LX1A2B",
            "CLM-LXOA2B",
            "CLM-LXIA2B",
            "CLM_LX9A2B",
            "CLM-LX9A2Ñ",
        ] {
            assert!(ReferenceNumber::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serde_is_the_string() {
        let r = ReferenceNumber::parse("CLM-LX9A2B").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"CLM-LX9A2B\"");
        assert_eq!(serde_json::from_str::<ReferenceNumber>("\"CLM-LX9A2B\"").unwrap(), r);
        assert!(serde_json::from_str::<ReferenceNumber>("\"CLM-LX0A2B\"").is_err());
    }

    proptest! {
        #[test]
        fn from_random_round_trips(bytes in any::<[u8; 6]>()) {
            let r = ReferenceNumber::from_random(bytes);
            prop_assert_eq!(ReferenceNumber::parse(r.as_str()), Ok(r.clone()));
            prop_assert_eq!(r.as_str().len(), 10);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            if let Ok(r) = ReferenceNumber::parse(&s) {
                prop_assert_eq!(r.as_str(), s.as_str());
            }
        }
    }
}
