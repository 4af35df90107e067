//! Card number (PAN) detection and redaction.
//!
//! Clausum must never store a full card number, yet integrators paste them
//! into free-form fields (metadata, notes) by mistake. Anything that looks
//! like a PAN — 13 to 19 digits passing the Luhn check, possibly written in
//! groups separated by single spaces or dashes — is truncated to the PCI DSS
//! display form: first 6 and last 4 digits, the middle replaced by `*`.
//!
//! False positives (an order number that happens to pass Luhn) cost a few
//! masked digits; false negatives would put us in PCI scope. So when the
//! grouping is ambiguous we mask every candidate, overlapping ones included.

use std::borrow::Cow;

use serde_json::{Number, Value};

/// Shortest PAN (ISO/IEC 7812).
const MIN_PAN: usize = 13;
/// Longest PAN (ISO/IEC 7812).
const MAX_PAN: usize = 19;
/// Digits PCI DSS allows to show at the start and end of a truncated PAN.
const KEEP_FIRST: usize = 6;
const KEEP_LAST: usize = 4;

/// Whether `digits` is a non-empty string of ASCII digits passing the Luhn
/// (mod 10) check used by every card number.
pub fn luhn_valid(digits: &str) -> bool {
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && luhn_bytes(digits.as_bytes())
}

/// Luhn check over ASCII digits (the caller has checked they are digits).
fn luhn_bytes(digits: &[u8]) -> bool {
    let sum = digits.iter().rev().enumerate().fold(0u32, |acc, (i, b)| {
        let d = u32::from(b - b'0');
        let d = if i % 2 == 1 {
            let doubled = d * 2;
            if doubled > 9 { doubled - 9 } else { doubled }
        } else {
            d
        };
        (acc + d) % 10
    });
    sum == 0
}

/// Replaces every PAN-looking digit run in `text` with its truncated form
/// (`4111 1111 1111 1111` → `411111******1111`). Returns the input borrowed
/// when nothing needed masking.
///
/// A run is a sequence of ASCII digit groups joined by single spaces or
/// dashes. Within a run, every window of whole groups with 13..=19 digits
/// that passes Luhn and does not start with 0 is a candidate; a single
/// unbroken group longer than 19 digits is not a PAN and is left alone, and
/// neither are digit runs inside hex digests (32+ hex characters, e.g. a
/// `card_hash`).
///
/// Linear in practice; a crafted input whose masking keeps exposing new
/// candidates can take a pass per 7 digits, so callers bound the input size.
pub fn redact_pans(text: &str) -> Cow<'_, str> {
    // Masking can leave a few visible digits next to other digit groups
    // (`1234567 411111******1111`), and those could form a new candidate.
    // Repeating the pass until nothing changes makes redaction idempotent,
    // so a stored, redacted request re-normalises to itself. Each pass that
    // changes anything masks at least 3 more digits, so this terminates
    // (nearly always after one pass).
    let mut current = match redact_once(text) {
        Cow::Borrowed(_) => return Cow::Borrowed(text),
        Cow::Owned(s) => s,
    };
    while let Cow::Owned(next) = redact_once(&current) {
        current = next;
    }
    Cow::Owned(current)
}

/// One left-to-right masking pass over `text`.
fn redact_once(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `text` already copied into `out`.
    let mut copied = 0;
    let mut i = 0;
    let mut digests = HexTokens::default();
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let groups = digit_groups(bytes, i);
        let (run_start, run_end) = (groups[0].0, groups[groups.len() - 1].1);
        if let Some(masked) = redact_run(text, &groups, &mut digests) {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..run_start]);
            out.push_str(&masked);
            copied = run_end;
        }
        i = run_end;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The byte ranges of the digit groups of the run starting at `start`.
fn digit_groups(bytes: &[u8], start: usize) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    let mut j = start;
    loop {
        let group_start = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        groups.push((group_start, j));
        let joined =
            j + 1 < bytes.len() && matches!(bytes[j], b' ' | b'-') && bytes[j + 1].is_ascii_digit();
        if !joined {
            return groups;
        }
        j += 1;
    }
}

/// The masked replacement for one run, or `None` when it holds no PAN.
fn redact_run(text: &str, groups: &[(usize, usize)], digests: &mut HexTokens) -> Option<String> {
    let bytes = text.as_bytes();
    let digits: Vec<u8> = groups.iter().flat_map(|&(s, e)| bytes[s..e].iter().copied()).collect();
    // offsets[g] = index in `digits` where group g starts; offsets[n] = total.
    let mut offsets = Vec::with_capacity(groups.len() + 1);
    offsets.push(0);
    for &(s, e) in groups {
        offsets.push(offsets[offsets.len() - 1] + (e - s));
    }

    let mut masked = vec![false; digits.len()];
    // joined[g]: the separator before group g lies inside a PAN, so drop it.
    let mut joined = vec![false; groups.len()];
    let mut any = false;
    for a in 0..groups.len() {
        for b in a..groups.len() {
            let (from, to) = (offsets[a], offsets[b + 1]);
            if to - from > MAX_PAN {
                break;
            }
            // No card number starts with 0 (ISO/IEC 7812 major industry
            // identifier 0 is not issued), and a leading 0 never changes the
            // Luhn sum, so without this "5.0 4111…" would swallow the "0".
            // Only the outer groups can touch hex letters (inner ones sit
            // between separators), so only they can be part of a digest.
            if to - from >= MIN_PAN
                && digits[from] != b'0'
                && luhn_bytes(&digits[from..to])
                && !digests.contains(bytes, groups[a])
                && !digests.contains(bytes, groups[b])
            {
                any = true;
                joined[a + 1..=b].fill(true);
                masked[from + KEEP_FIRST..to - KEEP_LAST].fill(true);
            }
        }
    }
    if !any {
        return None;
    }

    let mut out = String::with_capacity(groups[groups.len() - 1].1 - groups[0].0);
    for (g, &(s, e)) in groups.iter().enumerate() {
        if g > 0 && !joined[g] {
            // The single separator between the previous group and this one.
            out.push_str(&text[groups[g - 1].1..s]);
        }
        for k in offsets[g]..offsets[g + 1] {
            out.push(if masked[k] { '*' } else { char::from(digits[k]) });
        }
        debug_assert_eq!(offsets[g + 1] - offsets[g], e - s);
    }
    Some(out)
}

/// Finds digit groups that sit inside a standalone hex token of at least 32
/// characters with at least one letter — an MD5, SHA-1 or SHA-256 digest such
/// as a merchant's `card_hash`. Digests contain long digit runs often enough
/// (~0.3% of SHA-256s hold a Luhn-valid one) that masking them would silently
/// break hash matching, and a digest is not where a PAN lands by accident.
///
/// Remembers the last token it measured: groups are asked about left to
/// right, so a long token holding many digit groups is scanned once and the
/// pass stays linear.
#[derive(Default)]
struct HexTokens {
    /// `(start, end, is_digest)` of the last token measured.
    last: Option<(usize, usize, bool)>,
}

impl HexTokens {
    /// Minimum length of a hex digest (MD5).
    const MIN_DIGEST_HEX: usize = 32;

    /// Whether the digit group `(start, end)` lies inside a digest.
    fn contains(&mut self, bytes: &[u8], (start, end): (usize, usize)) -> bool {
        if let Some((l, r, digest)) = self.last
            && l <= start
            && end <= r
        {
            return digest;
        }
        let mut l = start;
        while l > 0 && bytes[l - 1].is_ascii_hexdigit() {
            l -= 1;
        }
        let mut r = end;
        while r < bytes.len() && bytes[r].is_ascii_hexdigit() {
            r += 1;
        }
        let standalone = (l == 0 || !bytes[l - 1].is_ascii_alphanumeric())
            && (r == bytes.len() || !bytes[r].is_ascii_alphanumeric());
        let digest = standalone
            && r - l >= Self::MIN_DIGEST_HEX
            && bytes[l..r].iter().any(u8::is_ascii_alphabetic);
        self.last = Some((l, r, digest));
        digest
    }
}

/// Redacts PANs in every string and every object key of `value`,
/// recursively. Bound the size of `value` first: a crafted input can make
/// [`redact_pans`] quadratic. An integer of 13..=19 digits passing Luhn becomes a redacted
/// string. If two keys of one object redact to the same string, the later
/// one (in the map's order) wins.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(redacted) = redact_pans(s) {
                *s = redacted;
            }
        }
        Value::Number(n) => {
            if let Some(redacted) = redact_number(n) {
                *value = Value::String(redacted);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::Object(map) => {
            if map.keys().any(|k| matches!(redact_pans(k), Cow::Owned(_))) {
                for (key, mut item) in std::mem::take(map) {
                    redact_json(&mut item);
                    map.insert(redact_pans(&key).into_owned(), item);
                }
            } else {
                map.values_mut().for_each(redact_json);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// The redacted string for a JSON number that is a PAN, if it is one.
fn redact_number(n: &Number) -> Option<String> {
    let (negative, digits) = if let Some(u) = n.as_u64() {
        (false, u.to_string())
    } else if let Some(i) = n.as_i64() {
        (i < 0, i.unsigned_abs().to_string())
    } else {
        // A PAN sent as a float (`4111111111111111.0`) is still a PAN.
        let f = n.as_f64()?;
        if !(f.is_finite() && f.fract() == 0.0 && f.abs() < 1e19) {
            return None;
        }
        (f < 0.0, format!("{:.0}", f.abs()))
    };
    if !(MIN_PAN..=MAX_PAN).contains(&digits.len()) || !luhn_valid(&digits) {
        return None;
    }
    let masked = redact_pans(&digits).into_owned();
    Some(if negative { format!("-{masked}") } else { masked })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn luhn() {
        for pan in [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "6011111111111117",
            "79927398713",
        ] {
            assert!(luhn_valid(pan), "{pan}");
        }
        for not in
            ["", "4111111111111112", "1234567812345678", "4111 1111 1111 1111", "41111111111111a1"]
        {
            assert!(!luhn_valid(not), "{not:?}");
        }
    }

    #[test]
    fn redacts_test_pans() {
        assert_eq!(redact_pans("4111111111111111"), "411111******1111");
        assert_eq!(redact_pans("card 5555555555554444 ok"), "card 555555******4444 ok");
        assert_eq!(redact_pans("amex:378282246310005."), "amex:378282*****0005.");
        assert_eq!(redact_pans("4111 1111 1111 1111"), "411111******1111");
        assert_eq!(redact_pans("4111-1111-1111-1111"), "411111******1111");
        assert_eq!(redact_pans("3782 822463 10005"), "378282*****0005");
        assert_eq!(
            redact_pans("a 4111111111111111, b 5555555555554444"),
            "a 411111******1111, b 555555******4444"
        );
        // Unicode around the number survives.
        assert_eq!(redact_pans("tarjeta→4111111111111111€"), "tarjeta→411111******1111€");
    }

    #[test]
    fn leaves_non_pans_alone() {
        for text in [
            "order 1234567812345678",  // fails Luhn
            "ref 411111111111",        // 12 digits
            "id 41111111111111111111", // 20 contiguous digits
            "4111  1111  1111  1111",  // double spaces do not join groups
            "0000 0000 0000 0000",     // Luhn-valid, but no PAN starts with 0
            "phone +52 55 1234 5678",
            "2024-05-29 12:00",
            "",
            "no digits at all",
        ] {
            assert!(matches!(redact_pans(text), Cow::Borrowed(_)), "{text:?}");
        }
    }

    #[test]
    fn finds_a_pan_inside_a_longer_grouped_run() {
        // PAN followed by a CVV: the whole run (19 digits) fails Luhn, the
        // PAN window passes.
        assert_eq!(redact_pans("4111 1111 1111 1111 123"), "411111******1111 123");
        assert_eq!(redact_pans("77 4111-1111-1111-1111"), "77 411111******1111");
        assert_eq!(redact_pans("Mozilla/5.0 4111111111111111"), "Mozilla/5.0 411111******1111");
        assert_eq!(redact_pans("0 0 4111111111111111"), "0 0 411111******1111");
        // An over-long grouped run still exposes at most 6 + 4 digits of the PAN.
        let out = redact_pans("1 4111 1111 1111 1111 2024");
        assert!(!out.contains("4111 1111"), "{out}");
    }

    #[test]
    fn hex_digests_are_not_pans() {
        // A SHA-256-like hex token holding a Luhn-valid 16-digit run.
        let digest = "ab4111111111111111cd0123456789abcdef0123456789abcdef0123456789ab";
        assert!(matches!(redact_pans(digest), Cow::Borrowed(_)));
        assert!(matches!(redact_pans(&format!("hash={digest};")), Cow::Borrowed(_)));
        // Too short to be a digest, or glued to non-hex letters: still masked.
        assert_eq!(redact_pans("ab4111111111111111cd"), "ab411111******1111cd");
        assert!(matches!(redact_pans(&format!("x{digest}")), Cow::Owned(_)));
    }

    #[test]
    fn long_hex_and_digit_soup_stay_linear() {
        // Would be quadratic if every digit group rescanned its hex token.
        let soup = "1a".repeat(200_000);
        assert!(matches!(redact_pans(&soup), Cow::Borrowed(_)));
        let pans = "4111111111111111a".repeat(20_000);
        assert!(matches!(redact_pans(&pans), Cow::Borrowed(_)), "one long hex token");
        let spaced = "4111111111111111 x ".repeat(20_000);
        assert!(!redact_pans(&spaced).contains("4111111111111111"));
    }

    #[test]
    fn redaction_is_idempotent() {
        let once = redact_pans("x 4111 1111 1111 1111 y 5555555555554444").into_owned();
        assert!(matches!(redact_pans(&once), Cow::Borrowed(_)));
    }

    #[test]
    fn redacts_json_strings_keys_and_numbers() {
        let mut v = json!({
            "note": "paid with 4111 1111 1111 1111",
            "4111111111111111": "key was a pan",
            "nested": [{"pan": 5555555555554444u64}, 378282246310005i64, -4111111111111111i64, 4111111111111111.0],
            "order": 1234567812345678u64,
            "small": 42,
            "flag": true,
            "none": null
        });
        redact_json(&mut v);
        assert_eq!(
            v,
            json!({
                "note": "paid with 411111******1111",
                "411111******1111": "key was a pan",
                "nested": [{"pan": "555555******4444"}, "378282*****0005", "-411111******1111", "411111******1111"],
                "order": 1234567812345678u64,
                "small": 42,
                "flag": true,
                "none": null
            })
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in any::<String>()) {
            let once = redact_pans(&s).into_owned();
            prop_assert!(matches!(redact_pans(&once), Cow::Borrowed(_)));
        }

        #[test]
        fn digit_soup_is_idempotent(s in "[0-9 -]{0,80}") {
            let once = redact_pans(&s).into_owned();
            prop_assert_eq!(redact_pans(&once).into_owned(), once);
        }

        #[test]
        fn no_luhn_valid_pan_survives(
            prefix in "[a-z ]{0,5}",
            body in "[1-9][0-9]{11,17}",
            suffix in "[a-z ]{0,5}",
        ) {
            // Append the Luhn check digit to make a valid PAN of 13..=19 digits.
            let check = (0..10).map(|d| format!("{body}{d}")).find(|c| luhn_valid(c)).unwrap();
            let text = format!("{prefix}{check}{suffix}");
            let out = redact_pans(&text);
            prop_assert!(!out.contains(&check));
            prop_assert!(out.contains(&check[..6]) && out.contains(&check[check.len() - 4..]));
        }
    }
}
