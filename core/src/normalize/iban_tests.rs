use iban::{IbanLike as _, ParseIbanError};
use proptest::prelude::*;

use super::*;

const VALID: [&str; 10] = [
    "GB82WEST12345698765432",
    "DE89370400440532013000",
    "BR1800360305000010009795493C1",
    "NL91ABNA0417164300",
    "FR1420041010050500013M02606",
    "ES9121000418450200051332",
    "NO9386011117947",
    "MT84MALT011000012345MTLCAST001S",
    "LC55HEMM000100010012001200023015",
    "XK051212012345678906",
];

/// `country` + correct check digits + `bban`.
fn with_check_digits(country: &str, bban: &str) -> String {
    let r = mod97(&format!("{country}00{bban}"));
    format!("{country}{:02}{bban}", 98 - r)
}

/// A BBAN that follows `layout`, its characters picked by `seed`.
fn conforming(layout: &str, seed: &[u8]) -> String {
    const DIGITS: &[u8] = b"0123456789";
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const BOTH: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let classes = groups(layout).flat_map(|(n, class)| std::iter::repeat_n(class, n));
    classes
        .zip(seed.iter().cycle())
        .map(|(class, &r)| {
            let set = match class {
                b'n' => DIGITS,
                b'a' => LETTERS,
                _ => BOTH,
            };
            char::from(set[usize::from(r) % set.len()])
        })
        .collect()
}

#[test]
fn accepts_registry_examples_in_both_forms() {
    for ok in VALID {
        assert_eq!(Iban::parse(ok).unwrap().as_str(), ok);
    }
    let i = Iban::parse(" gb82 west 1234 5698 7654 32 ").unwrap();
    assert_eq!(i.as_str(), "GB82WEST12345698765432");
    assert_eq!((i.country_code(), i.check_digits(), i.bban()), ("GB", "82", "WEST12345698765432"));
    assert_eq!(i.to_string(), "GB82WEST12345698765432");
}

#[test]
fn says_why_it_refuses() {
    let why = |s: &str| Iban::parse(s).unwrap_err().to_string();
    assert_eq!(
        why("DE89 3704 0044"),
        "wrong length for an IBAN from DE: it has exactly 22 characters"
    );
    assert!(why("GB82WEST12345698765433").contains("check digits are wrong"));
    assert!(why("GB28WEST12345698765432").contains("check digits are wrong"));
    assert_eq!(why("MX12345678901234567890"), "country MX does not use IBANs");
    assert_eq!(why("US12345678901234567890"), "country US does not use IBANs");
    assert_eq!(why("ZZ12345678901234567890"), "the IBAN does not start with a known country code");
    assert!(why("12GB345678").contains("two-letter country code"));
    assert!(why("GB82-WEST").contains("only letters and digits"));
    assert!(why("DEXX370400440532013000").contains("check digits (characters 3–4)"));
    assert_eq!(
        why("GB82W3ST12345698765432"),
        "an IBAN from GB has 4 letters, then 14 digits after its check digits"
    );
    assert_eq!(why(""), "IBAN is empty");
}

#[test]
fn from_bban_computes_the_check_digits() {
    for ok in VALID {
        let built = Iban::from_bban(&ok[..2], &ok[4..]).unwrap();
        assert_eq!(built.as_str(), ok);
    }
    assert_eq!(Iban::from_bban("de", "3704 0044 0532 0130 00").unwrap().check_digits(), "89");
    // Check digits cannot repair a BBAN of the wrong length or layout.
    assert!(Iban::from_bban("DE", "37040044053201300").is_err());
    assert!(Iban::from_bban("GB", "W3ST12345698765432").is_err());
    assert!(Iban::from_bban("MX", "12345678901234567890").is_err());
    assert!(Iban::from_bban("DE", "3704-0044").is_err());
    assert!(Iban::from_bban("D", "370400440532013000").is_err());
}

#[test]
fn layout_catches_what_mod97_misses() {
    // `0` read as `I` keeps the mod-97 remainder of this German IBAN.
    let typo = "DE89370400440532I13000";
    assert_eq!(mod97(typo), 1);
    assert!(Iban::parse(typo).unwrap_err().to_string().contains("has 18 digits"));
}

#[test]
fn forged_check_digit_aliases_are_refused() {
    // A BBAN whose correct check digits are 02 also passes mod 97 with 99.
    let alias = (0..1_000_000u32)
        .map(|n| format!("NO99{n:011}"))
        .find(|s| mod97(s) == 1)
        .expect("some BBAN has check digits 02");
    assert!(Iban::parse(&alias).is_err());
    assert!(Iban::parse(&format!("NO02{}", &alias[4..])).is_ok());
}

#[test]
fn table_is_sorted_and_covers_sepa() {
    assert!(LAYOUTS.windows(2).all(|w| w[0].0 < w[1].0));
    for (code, layout) in LAYOUTS {
        let len = 4 + groups(layout).map(|(n, _)| n).sum::<usize>();
        assert!((15..=34).contains(&len), "{code}");
        assert!(groups(layout).all(|(n, c)| n > 0 && b"nac".contains(&c)), "{code}");
        assert!(code == "XK" || Country::parse(code).is_ok(), "{code}");
    }
    for cc in "AT BE BG CY CZ DE DK EE ES FI FR GB GR HR HU IE IS IT LI LT LU LV MC MT NL NO \
               PL PT RO SE SI SK SM CH VA AD"
        .split_whitespace()
    {
        assert!(LAYOUTS.iter().any(|(c, _)| *c == cc), "{cc}");
    }
}

#[test]
fn the_registry_crate_knows_no_country_we_lack() {
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            let cc = String::from_utf8(vec![a, b]).unwrap();
            if LAYOUTS.iter().any(|(c, _)| *c == cc) {
                continue;
            }
            let candidate = with_check_digits(&cc, "0000000000000000");
            assert!(
                matches!(candidate.parse::<iban::Iban>(), Err(ParseIbanError::UnknownCountry(_))),
                "{cc}"
            );
        }
    }
}

proptest! {
    #[test]
    fn agrees_with_the_registry_crate(k in 0usize..87, seed in proptest::collection::vec(any::<u8>(), 1..40)) {
        let (cc, layout) = LAYOUTS[k];
        let good = with_check_digits(cc, &conforming(layout, &seed));
        let ours = Iban::parse(&good);
        prop_assert!(ours.is_ok(), "{good}: {ours:?}");
        let theirs = good.parse::<iban::Iban>();
        prop_assert!(theirs.is_ok(), "{good}");
        let theirs = theirs.unwrap();
        prop_assert_eq!(theirs.electronic_str(), good.as_str());

        // One character of the wrong class, or one too many or too few,
        // with check digits recomputed so only the layout is wrong.
        let bban = &good[4..];
        let mut wrong = Vec::new();
        for (i, class) in groups(layout).flat_map(|(n, c)| std::iter::repeat_n(c, n)).enumerate() {
            let sub = match class { b'n' => 'Q', b'a' => '7', _ => continue };
            wrong.push(format!("{}{sub}{}", &bban[..i], &bban[i + 1..]));
        }
        wrong.push(format!("{bban}0"));
        wrong.push(bban[1..].to_owned());
        for bad_bban in wrong {
            let bad = with_check_digits(cc, &bad_bban);
            prop_assert!(Iban::parse(&bad).is_err(), "{bad}");
            prop_assert!(bad.parse::<iban::Iban>().is_err(), "{bad}");
        }
    }

    #[test]
    fn never_panics_and_is_idempotent(s in any::<String>()) {
        if let Ok(i) = Iban::parse(&s) {
            prop_assert_eq!(Iban::parse(i.as_str()), Ok(i.clone()));
        }
    }

    #[test]
    fn same_kind_typos_are_caught(k in 0usize..10, pos in 0usize..34, c in "[0-9A-Z]") {
        let good = VALID[k];
        prop_assume!(pos < good.len() && good.as_bytes()[pos] != c.as_bytes()[0]);
        let same_kind = |x: u8| x.is_ascii_digit() == c.as_bytes()[0].is_ascii_digit();
        prop_assume!(same_kind(good.as_bytes()[pos]));
        let mut typo = good.as_bytes().to_vec();
        typo[pos] = c.as_bytes()[0];
        prop_assert!(Iban::parse(std::str::from_utf8(&typo).unwrap()).is_err());
    }
}
