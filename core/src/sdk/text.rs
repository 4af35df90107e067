//! String helpers for the code the browser SDK runs. The standard
//! library's `format!`, `to_string`, `join` and substring search each pull
//! kilobytes of generic code into the WebAssembly download; these do the
//! few things the SDK needs in a few hundred bytes.

/// Appends `n` in decimal. (No indexing into a digit buffer: a bounds
/// check's panic message formats numbers, which costs the download more
/// than this loop.)
pub fn push_decimal(out: &mut String, n: u64) {
    // The largest power of ten not above `n` (1 for 0..=9).
    let mut unit = 1u64;
    while n / unit >= 10 {
        unit *= 10;
    }
    loop {
        out.push(char::from(b'0' + (n / unit % 10) as u8));
        if unit == 1 {
            break;
        }
        unit /= 10;
    }
}

/// `n` in decimal.
pub fn decimal(n: u64) -> String {
    let mut s = String::new();
    push_decimal(&mut s, n);
    s
}

/// Whether `needle` occurs in `haystack` (byte-wise, like `str::contains`).
pub fn contains(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w == n)
}

/// `parts` joined with `sep`.
pub fn join(parts: &[String], sep: char) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decimal_is_to_string(n: u64) {
            prop_assert_eq!(decimal(n), n.to_string());
        }

        #[test]
        fn contains_is_str_contains(h in "[ab]{0,12}", n in "[ab]{0,4}") {
            prop_assert_eq!(contains(&h, &n), h.contains(n.as_str()));
        }

        #[test]
        fn join_is_slice_join(parts in proptest::collection::vec("[a-z,]{0,5}", 0..5)) {
            prop_assert_eq!(join(&parts, ','), parts.join(","));
        }
    }
}
