//! CLABE: the 18-digit standardised account number of Mexico's SPEI
//! transfers (payout beneficiaries).
//!
//! Layout: 3-digit bank code, 3-digit plaza (city) code, 11-digit account
//! number, 1 check digit. The check digit is Banxico's weighted sum, which
//! catches every single mistyped digit, so a typo is refused here instead of
//! failing to match a blocklist entry later.

use std::fmt;

use super::Invalid;

const LEN: usize = 18;
/// Banxico's weights, repeated over the first 17 digits.
const WEIGHTS: [u32; 3] = [3, 7, 1];

/// A Mexican CLABE with a verified check digit, digits only.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Clabe(String);

impl Clabe {
    /// Strips whitespace and dashes, then requires exactly 18 digits whose
    /// last one is the check digit of the first 17.
    pub fn parse(raw: &str) -> Result<Clabe, Invalid> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if digits.is_empty() {
            return Err(Invalid::new("CLABE is empty"));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new("a CLABE contains only digits"));
        }
        if digits.len() != LEN {
            return Err(Invalid::new("a CLABE has exactly 18 digits"));
        }
        let bytes = digits.as_bytes();
        let expected = check_digit(&bytes[..LEN - 1]);
        if bytes[LEN - 1] - b'0' != expected {
            // The expected digit says which one the integrator mistyped
            // without repeating the account number.
            return Err(Invalid::new(format!(
                "the CLABE check digit is wrong: expected {expected}"
            )));
        }
        Ok(Clabe(digits))
    }

    /// Completes 17 digits (bank, plaza, account) with their check digit.
    /// For generators and tests: an integrator's CLABE goes through
    /// [`Clabe::parse`], which refuses a wrong check digit instead of fixing it.
    pub fn from_body(first17: &str) -> Result<Clabe, Invalid> {
        if first17.len() != LEN - 1 || !first17.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new("the body of a CLABE is exactly 17 digits"));
        }
        Clabe::parse(&format!("{first17}{}", check_digit(first17.as_bytes())))
    }

    /// The 18 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ABM bank code (first 3 digits), e.g. `002` for Banamex.
    pub fn bank_code(&self) -> &str {
        &self.0[..3]
    }

    /// The plaza (city) code, digits 4–6.
    pub fn plaza_code(&self) -> &str {
        &self.0[3..6]
    }

    /// The account number, digits 7–17.
    pub fn account_number(&self) -> &str {
        &self.0[6..17]
    }
}

impl fmt::Display for Clabe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The check digit of 17 ASCII digits: each digit times its weight (3, 7, 1,
/// 3, …) mod 10, summed; then (10 − sum mod 10) mod 10.
fn check_digit(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS.iter().cycle())
        .map(|(d, w)| (u32::from(d - b'0') * w) % 10)
        .sum();
    // < 10, so the cast never truncates.
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_valid_clabes() {
        // Banxico's published example and two more with correct check digits.
        for ok in ["032180000118359719", "002010077777777771", "646180157000000004"] {
            assert_eq!(Clabe::parse(ok).unwrap().as_str(), ok);
        }
        let c = Clabe::parse(" 032-180-00011835971-9 ").unwrap();
        assert_eq!(c.as_str(), "032180000118359719");
        assert_eq!(
            (c.bank_code(), c.plaza_code(), c.account_number()),
            ("032", "180", "00011835971")
        );
        assert_eq!(c.to_string(), "032180000118359719");
    }

    #[test]
    fn says_why_it_refuses() {
        let why = |s: &str| Clabe::parse(s).unwrap_err().to_string();
        assert_eq!(why("032180000118359718"), "the CLABE check digit is wrong: expected 9");
        assert_eq!(why("03218000011835971"), "a CLABE has exactly 18 digits");
        assert_eq!(why("0321800001183597190"), "a CLABE has exactly 18 digits");
        assert_eq!(why("03218000011835971X"), "a CLABE contains only digits");
        assert_eq!(why("  "), "CLABE is empty");
        assert!(Clabe::parse("０３２１８００００１１８３５９７１９").is_err());
    }

    #[test]
    fn any_single_digit_typo_is_caught() {
        let good = b"032180000118359719";
        for pos in 0..LEN {
            for d in b'0'..=b'9' {
                if d == good[pos] {
                    continue;
                }
                let mut typo = *good;
                typo[pos] = d;
                let s = std::str::from_utf8(&typo).unwrap();
                assert!(Clabe::parse(s).is_err(), "{s}");
            }
        }
    }

    #[test]
    fn from_body_appends_the_check_digit() {
        assert_eq!(Clabe::from_body("03218000011835971").unwrap().as_str(), "032180000118359719");
        assert_eq!(Clabe::from_body("64618015700000000").unwrap().as_str(), "646180157000000004");
        assert!(Clabe::from_body("0321800001183597").is_err());
        assert!(Clabe::from_body("0321800001183597x").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            if let Ok(c) = Clabe::parse(&s) {
                prop_assert_eq!(Clabe::parse(c.as_str()), Ok(c.clone()));
            }
        }

        #[test]
        fn completing_with_the_check_digit_parses(body in "[0-9]{17}") {
            let full = format!("{body}{}", check_digit(body.as_bytes()));
            prop_assert!(Clabe::parse(&full).is_ok());
        }
    }
}
