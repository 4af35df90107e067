//! Phone numbers in E.164 form.

use std::fmt;

use super::Invalid;

/// Fewest digits after the `+` we accept. E.164 allows shorter numbers in
/// theory, but no payer's mobile number has fewer than 8 digits including the
/// country code, and short strings are usually typos or placeholders.
const MIN_DIGITS: usize = 8;
/// Most digits E.164 allows (country code included).
const MAX_DIGITS: usize = 15;

/// An E.164 phone number: `+` followed by 8 to 15 digits, the first not 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

impl Phone {
    /// Drops the usual visual separators (whitespace, `-`, `.`, `(`, `)`),
    /// then requires E.164. Numbers without the leading `+` are refused: a
    /// national number is ambiguous without its country code.
    pub fn parse(raw: &str) -> Result<Phone, Invalid> {
        let compact: String = raw
            .chars()
            .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')')))
            .collect();
        if compact.is_empty() {
            return Err(Invalid::new("phone number is empty"));
        }
        let Some(digits) = compact.strip_prefix('+') else {
            return Err(Invalid::new(
                "phone number must be in E.164 form: + then country code and number, e.g. +5215512345678",
            ));
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new("phone number may contain only digits after the +"));
        }
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) {
            return Err(Invalid::new("phone number must have 8 to 15 digits after the +"));
        }
        if digits.starts_with('0') {
            return Err(Invalid::new("phone number country code cannot start with 0"));
        }
        Ok(Phone(compact))
    }

    /// The number, e.g. `+5215512345678`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn strips_separators() {
        assert_eq!(Phone::parse("+52 1 55 1234-5678").unwrap().as_str(), "+5215512345678");
        assert_eq!(Phone::parse(" +1 (415) 555.0100 ").unwrap().as_str(), "+14155550100");
    }

    #[test]
    fn refuses_non_e164() {
        let err = Phone::parse("4155550100").unwrap_err().to_string();
        assert!(err.contains("E.164") && !err.contains("4155550100"), "{err}");
        for bad in [
            "",
            " ",
            "+",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
            "+52 55 abc 5678",
            "++5215512345678",
            "+52+5512345678",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Phone::parse("+12345678").is_ok());
        assert!(Phone::parse("+123456789012345").is_ok());
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in any::<String>()) {
            if let Ok(p) = Phone::parse(&s) {
                prop_assert_eq!(Phone::parse(p.as_str()), Ok(p));
            }
        }
    }
}
