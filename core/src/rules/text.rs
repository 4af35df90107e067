//! Byte-level string work on the hot path: hashing, equality and search,
//! written for the short strings rules compare (countries, codes, domains,
//! emails), where call overhead and searcher set-up dominate.

use super::tree::TextOp;

/// FxHash over the bytes, then a final mix so the top bits (the table
/// index) depend on every byte. Not keyed: the sets' contents come from the
/// operator, and a hostile request value costs at most one probe run.
pub(super) fn hash_str(s: &str) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let mut h = s.len() as u64;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ word).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^ (h >> 32)
}

/// Byte equality without a call into `memcmp` for the short strings rules
/// mostly compare (countries, codes, domains).
#[inline]
pub(super) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() <= 16 { a.iter().zip(b).all(|(x, y)| x == y) } else { a == b }
}

#[inline]
pub(super) fn str_eq(a: &str, b: &str) -> bool {
    bytes_eq(a.as_bytes(), b.as_bytes())
}

/// `contains`, `starts_with`, `ends_with` on bytes (UTF-8 matching is byte
/// matching). The standard searcher's set-up costs more than scanning a
/// whole email, so short patterns are found by their first byte.
#[inline]
pub(super) fn text_test(op: TextOp, s: &str, p: &[u8]) -> bool {
    let h = s.as_bytes();
    match op {
        TextOp::StartsWith => h.get(..p.len()).is_some_and(|head| bytes_eq(head, p)),
        TextOp::EndsWith => h.len() >= p.len() && bytes_eq(&h[h.len() - p.len()..], p),
        TextOp::Contains => contains(s, p),
    }
}

/// Substring search.
fn contains(s: &str, p: &[u8]) -> bool {
    let h = s.as_bytes();
    match p.len() {
        0 => true,
        n if h.len() < n => false,
        // At most 16 comparisons per candidate, so linear in the value.
        n if n <= 16 => {
            let last = h.len() - p.len();
            let mut from = 0;
            while let Some(k) = find_byte(p[0], &h[from..=last]) {
                if bytes_eq(&h[from + k..from + k + p.len()], p) {
                    return true;
                }
                from += k + 1;
                if from > last {
                    break;
                }
            }
            false
        }
        // Longer patterns: the standard two-way search, linear whatever the input.
        // (Patterns come from `str` literals, so they are UTF-8.)
        _ => std::str::from_utf8(p).is_ok_and(|p| s.contains(p)),
    }
}

/// The first index of `b` in `h`, eight bytes at a time.
fn find_byte(b: u8, h: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = h.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
            ^ (LO * u64::from(b));
        // The lowest set bit marks the first zero byte of `x` (higher ones
        // may be false positives, which `trailing_zeros` never reaches).
        let zero = x.wrapping_sub(LO) & !x & HI;
        if zero != 0 {
            return Some(base + (zero.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks.remainder().iter().position(|&c| c == b).map(|k| base + k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_differ_and_cover_tails() {
        let names = ["", "a", "b", "ab", "ba", "gmail.com", "gmail.con", "abcdefgh", "abcdefgh\0"];
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                assert_ne!(hash_str(a), hash_str(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn short_and_long_string_equality() {
        assert!(str_eq("MX", "MX") && !str_eq("MX", "MY") && !str_eq("MX", "MXN"));
        let long = "a-rather-long-domain-name.example";
        assert!(str_eq(long, long) && !str_eq(long, "a-rather-long-domain-name.exampla"));
        assert!(str_eq("", ""));
    }

    #[test]
    fn text_tests_match_the_standard_library() {
        let long = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120";
        let hays = ["", "a", "ana@x.mx", "ñandú@correo.mx", long];
        let pats = [
            "",
            "a",
            "@",
            ".mx",
            "ñ",
            "dú@",
            "Headless",
            "HeadlessChrome/120",
            "x",
            "aa",
            "120",
            long,
        ];
        for h in hays {
            for p in pats {
                assert_eq!(
                    text_test(TextOp::Contains, h, p.as_bytes()),
                    h.contains(p),
                    "{h:?} contains {p:?}"
                );
                assert_eq!(
                    text_test(TextOp::StartsWith, h, p.as_bytes()),
                    h.starts_with(p),
                    "{h:?} {p:?}"
                );
                assert_eq!(
                    text_test(TextOp::EndsWith, h, p.as_bytes()),
                    h.ends_with(p),
                    "{h:?} {p:?}"
                );
            }
        }
    }

    #[test]
    fn find_byte_finds_the_first() {
        let h = b"abcdefgh_abcdefgh_xyz";
        for (i, &b) in h.iter().enumerate() {
            assert_eq!(find_byte(b, h), h.iter().position(|&c| c == b), "{i}");
        }
        assert_eq!(find_byte(b'!', h), None);
        assert_eq!(find_byte(0x80, &[0x7f, 0x80, 0x81, 0, 0, 0, 0, 0, 0x80]), Some(1));
        assert_eq!(find_byte(0, &[1, 1, 1, 1, 1, 1, 1, 1, 0]), Some(8));
    }
}
