//! The two pieces of a card number Clausum accepts: the BIN (issuer prefix)
//! and the last four digits. Both may be stored and shown under PCI DSS; the
//! full card number (PAN) may not, and is refused outright.

use std::fmt;

use super::Invalid;

/// First 6 or 8 digits of a card number (the issuer identification number).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardBin(String);

impl CardBin {
    /// Strips whitespace and dashes, then requires exactly 6 or 8 ASCII digits.
    pub fn parse(raw: &str) -> Result<CardBin, Invalid> {
        let digits: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if digits.is_empty() {
            return Err(Invalid::new("card BIN is empty"));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new("card BIN must contain only digits"));
        }
        match digits.len() {
            6 | 8 => Ok(CardBin(digits)),
            // Anything past 8 digits is on its way to being a full card
            // number, which must never reach us (PCI DSS scope).
            9.. => Err(Invalid::new(
                "card BIN has more than 8 digits: send only the first 6 or 8 digits, never a full card number",
            )),
            _ => Err(Invalid::new("card BIN must be exactly 6 or 8 digits")),
        }
    }

    /// The digits, e.g. `411111` or `41111111`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 6 digits, so 6- and 8-digit BINs of the same issuer can be
    /// compared.
    pub fn prefix6(&self) -> &str {
        &self.0[..6]
    }

    /// 6 or 8.
    #[allow(clippy::len_without_is_empty)] // never empty by construction
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for CardBin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Last 4 digits of a card number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardLast4(String);

impl CardLast4 {
    /// Trims, then requires exactly 4 ASCII digits.
    pub fn parse(raw: &str) -> Result<CardLast4, Invalid> {
        let s = raw.trim();
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(CardLast4(s.to_owned()))
        } else if s.len() > 4 && s.bytes().all(|b| b.is_ascii_digit() || b == b' ' || b == b'-') {
            Err(Invalid::new(
                "card last4 must be exactly 4 digits: send only the last 4, never a full card number",
            ))
        } else {
            Err(Invalid::new("card last4 must be exactly 4 digits"))
        }
    }

    /// The four digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardLast4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn accepts_6_and_8_digit_bins() {
        let b = CardBin::parse(" 411111 ").unwrap();
        assert_eq!((b.as_str(), b.prefix6(), b.len()), ("411111", "411111", 6));
        let b = CardBin::parse("4111-1111").unwrap();
        assert_eq!((b.as_str(), b.prefix6(), b.len()), ("41111111", "411111", 8));
        assert_eq!(CardBin::parse("4111 11").unwrap().as_str(), "411111");
    }

    #[test]
    fn refuses_other_lengths_and_non_digits() {
        for bad in ["", " - ", "41111", "4111111", "41111a", "４１１１１１", "411111.0"] {
            assert!(CardBin::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn full_card_numbers_are_refused_without_echo() {
        for pan in ["4111111111111111", "4111 1111 1111 1111", "5555-5555-5555-4444", "411111111"] {
            let err = CardBin::parse(pan).unwrap_err().to_string();
            assert!(err.contains("never a full card number"), "{err}");
            assert!(!err.contains("4111") && !err.contains("5555"), "{err}");
        }
    }

    #[test]
    fn last4() {
        assert_eq!(CardLast4::parse(" 4242 ").unwrap().as_str(), "4242");
        for bad in ["", "424", "42424", "42a2", "42 42"] {
            assert!(CardLast4::parse(bad).is_err(), "{bad:?}");
        }
        let err = CardLast4::parse("4111111111111111").unwrap_err().to_string();
        assert!(!err.contains("1111"));
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = CardBin::parse(&s);
            let _ = CardLast4::parse(&s);
        }

        #[test]
        fn roundtrips(d in "[0-9]{6}|[0-9]{8}") {
            let b = CardBin::parse(&d).unwrap();
            prop_assert_eq!(CardBin::parse(b.as_str()), Ok(b.clone()));
            prop_assert!(d.starts_with(b.prefix6()));
        }
    }
}
