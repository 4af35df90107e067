//! IBAN (ISO 13616): international bank account numbers of payout
//! beneficiaries.
//!
//! Checked here: the country code, the length and account (BBAN) layout
//! the SWIFT IBAN Registry sets for that country, and the mod-97 check
//! digits. Mod-97 catches every character replaced by one of its own kind
//! (digit for digit, letter for letter) and every swap of two neighbouring
//! digits, but a digit misread as a letter (`0` as `O`) can keep the
//! remainder; the layout catches that wherever the registry fixes the kind
//! of character (a German BBAN is all digits).
//!
//! Why a table rather than the `iban_validate` crate at run time: the table
//! below *is* that crate's registry data (version 5.0.1, 87 countries),
//! but the crate does not expose lengths, so its errors cannot say "an IBAN
//! from DE has 22 characters", and it checks the checksum before the
//! layout, turning every truncated IBAN into a "bad checksum". The crate is
//! kept as a dev-dependency and the tests check the table against it.

use std::fmt;

use super::{Country, Invalid};

/// BBAN layout by country, in the registry's notation without the `!`:
/// `n` digits, `a` upper-case letters, `c` letters or digits; `4a14n` is
/// four letters then fourteen digits. Sorted by code for binary search.
/// Territories that use another country's IBANs (French overseas
/// departments under FR, Åland under FI, Jersey and Guernsey under GB, …)
/// are not listed, exactly as in the registry; `XK` (Kosovo) is, although
/// ISO has not assigned it.
const LAYOUTS: [(&str, &str); 87] = [
    ("AD", "8n12c"),
    ("AE", "19n"),
    ("AL", "8n16c"),
    ("AT", "16n"),
    ("AZ", "4a20c"),
    ("BA", "16n"),
    ("BE", "12n"),
    ("BG", "4a6n8c"),
    ("BH", "4a14c"),
    ("BI", "23n"),
    ("BR", "23n1a1c"),
    ("BY", "4c4n16c"),
    ("CH", "5n12c"),
    ("CR", "18n"),
    ("CY", "8n16c"),
    ("CZ", "20n"),
    ("DE", "18n"),
    ("DJ", "23n"),
    ("DK", "14n"),
    ("DO", "4c20n"),
    ("EE", "16n"),
    ("EG", "25n"),
    ("ES", "20n"),
    ("FI", "14n"),
    ("FK", "2a12n"),
    ("FO", "14n"),
    ("FR", "10n11c2n"),
    ("GB", "4a14n"),
    ("GE", "2a16n"),
    ("GI", "4a15c"),
    ("GL", "14n"),
    ("GR", "7n16c"),
    ("GT", "24c"),
    ("HR", "17n"),
    ("HU", "24n"),
    ("IE", "4a14n"),
    ("IL", "19n"),
    ("IQ", "4a15n"),
    ("IS", "22n"),
    ("IT", "1a10n12c"),
    ("JO", "4a4n18c"),
    ("KW", "4a22c"),
    ("KZ", "3n13c"),
    ("LB", "4n20c"),
    ("LC", "4a24c"),
    ("LI", "5n12c"),
    ("LT", "16n"),
    ("LU", "3n13c"),
    ("LV", "4a13c"),
    ("LY", "21n"),
    ("MC", "10n11c2n"),
    ("MD", "20c"),
    ("ME", "18n"),
    ("MK", "3n10c2n"),
    ("MN", "16n"),
    ("MR", "23n"),
    ("MT", "4a5n18c"),
    ("MU", "4a19n3a"),
    ("NI", "4a20n"),
    ("NL", "4a10n"),
    ("NO", "11n"),
    ("OM", "3n16c"),
    ("PL", "24n"),
    ("PS", "4a21c"),
    ("PT", "21n"),
    ("QA", "4a21c"),
    ("RO", "4a16c"),
    ("RS", "18n"),
    ("RU", "14n15c"),
    ("SA", "2n18c"),
    ("SC", "4a20n3a"),
    ("SD", "14n"),
    ("SE", "20n"),
    ("SI", "15n"),
    ("SK", "20n"),
    ("SM", "1a10n12c"),
    ("SO", "19n"),
    ("ST", "21n"),
    ("SV", "4a20n"),
    ("TL", "19n"),
    ("TN", "20n"),
    ("TR", "6n16c"),
    ("UA", "6n19c"),
    ("VA", "18n"),
    ("VG", "4a16n"),
    ("XK", "16n"),
    ("YE", "4a4n18c"),
];

/// An IBAN in electronic form (no spaces, upper case) with valid check digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iban(String);

impl Iban {
    /// Removes whitespace (the paper form groups by four) and upper-cases,
    /// then checks country, length, layout and check digits. Errors name the
    /// country code (never personal data) but not the account.
    pub fn parse(raw: &str) -> Result<Iban, Invalid> {
        let s: String =
            raw.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
        if s.is_empty() {
            return Err(Invalid::new("IBAN is empty"));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Invalid::new("an IBAN contains only letters and digits"));
        }
        let b = s.as_bytes();
        if b.len() < 4 || !b[..2].iter().all(u8::is_ascii_alphabetic) {
            return Err(Invalid::new(
                "an IBAN starts with a two-letter country code and two check digits",
            ));
        }
        let country = &s[..2];
        let Ok(i) = LAYOUTS.binary_search_by(|(c, _)| (*c).cmp(country)) else {
            return Err(if Country::parse(country).is_ok() {
                Invalid::new(format!("country {country} does not use IBANs"))
            } else {
                Invalid::new("the IBAN does not start with a known country code")
            });
        };
        let layout = LAYOUTS[i].1;
        let expected = 4 + groups(layout).map(|(n, _)| n).sum::<usize>();
        if s.len() != expected {
            return Err(Invalid::new(format!(
                "wrong length for an IBAN from {country}: it has exactly {expected} characters"
            )));
        }
        if !b[2..4].iter().all(u8::is_ascii_digit) {
            return Err(Invalid::new("an IBAN's check digits (characters 3–4) are digits"));
        }
        let classes = groups(layout).flat_map(|(n, class)| std::iter::repeat_n(class, n));
        if !classes.zip(&b[4..]).all(|(class, c)| fits(class, *c)) {
            return Err(Invalid::new(format!(
                "an IBAN from {country} has {} after its check digits",
                describe(layout)
            )));
        }
        // 00, 01 and 99 satisfy mod 97 only as aliases of 97, 98 and 02;
        // ISO 13616 computes check digits in 02..=98, so they are forged.
        if matches!(&s[2..4], "00" | "01" | "99") || mod97(&s) != 1 {
            return Err(Invalid::new(
                "the IBAN check digits are wrong (mod-97 check failed): it was mistyped",
            ));
        }
        Ok(Iban(s))
    }

    /// Builds an IBAN from a country code and a domestic account number
    /// (BBAN), computing the check digits as ISO 13616 does; the result is
    /// then checked like any other IBAN. For generators and tests: an
    /// integrator's IBAN goes through [`Iban::parse`], which refuses wrong
    /// check digits instead of fixing them.
    pub fn from_bban(country: &str, bban: &str) -> Result<Iban, Invalid> {
        let country = country.trim().to_ascii_uppercase();
        let bban: String =
            bban.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
        // mod97 reads letters as 10..=35: anything else must not reach it.
        if country.len() != 2
            || !country.bytes().all(|b| b.is_ascii_uppercase())
            || bban.is_empty()
            || !bban.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Invalid::new(
                "an IBAN is built from a two-letter country code and a BBAN of letters and digits",
            ));
        }
        let remainder = mod97(&format!("{country}00{bban}"));
        Iban::parse(&format!("{country}{:02}{bban}", 98 - remainder))
    }

    /// The electronic form, e.g. `DE89370400440532013000`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-letter country code.
    pub fn country_code(&self) -> &str {
        &self.0[..2]
    }

    /// The two check digits.
    pub fn check_digits(&self) -> &str {
        &self.0[2..4]
    }

    /// The domestic account number (BBAN) after the first four characters.
    pub fn bban(&self) -> &str {
        &self.0[4..]
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `(count, class)` groups of a layout such as `4a14n`.
fn groups(layout: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    layout.split_inclusive(['n', 'a', 'c']).map(|g| {
        let (count, class) = g.split_at(g.len() - 1);
        (count.parse().unwrap_or(0), class.as_bytes()[0])
    })
}

fn fits(class: u8, c: u8) -> bool {
    match class {
        b'n' => c.is_ascii_digit(),
        b'a' => c.is_ascii_uppercase(),
        _ => c.is_ascii_alphanumeric(),
    }
}

/// `4a14n` → "4 letters, then 14 digits".
fn describe(layout: &str) -> String {
    let parts: Vec<String> = groups(layout)
        .map(|(n, class)| {
            let what = match (class, n) {
                (b'n', 1) => "digit",
                (b'n', _) => "digits",
                (b'a', 1) => "letter",
                (b'a', _) => "letters",
                (_, 1) => "letter or digit",
                _ => "letters or digits",
            };
            format!("{n} {what}")
        })
        .collect();
    parts.join(", then ")
}

/// ISO 7064 MOD 97-10 of an upper-case alphanumeric IBAN: the first four
/// characters moved to the end, letters read as 10..=35, taken mod 97 digit
/// by digit so no big integers are needed.
fn mod97(s: &str) -> u32 {
    let (head, tail) = s.as_bytes().split_at(4);
    tail.iter().chain(head).fold(0, |acc, &c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A' + 10)) % 97
        }
    })
}

#[cfg(test)]
#[path = "iban_tests.rs"]
mod tests;
