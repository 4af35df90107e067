//! Session ids: `ps_<unix milliseconds>_<random>` (e.g. `ps_1716998400000_a1b2c3d4e`).
//!
//! The browser SDK issues them for a checkout session; the origin issues one
//! when a request carries none. The timestamp makes ids sortable and lets an
//! old id be recognised; the random part keeps them unguessable enough to
//! serve as correlation ids (they are not credentials).

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// Length of the random part of ids this crate issues.
pub const RANDOM_LEN: usize = 9;

/// Issues a session id from a timestamp and random bytes.
pub fn generate(now_ms: i64, random: [u8; RANDOM_LEN]) -> String {
    // No `format!`: this runs in the browser SDK, where core::fmt costs kilobytes.
    let mut out = String::from("ps_");
    crate::sdk::text::push_decimal(&mut out, now_ms.max(0) as u64);
    out.push('_');
    // 252 = 7 × 36 keeps the characters near-uniform; the bias of the
    // fallback for bytes ≥ 252 is irrelevant for a correlation id.
    out.extend(random.iter().map(|&b| ALPHABET[usize::from(b % 36)] as char));
    out
}

/// Whether `s` has the documented form: `ps_`, 10–16 digits, `_`, 6–32 of `[a-z0-9]`.
pub fn is_valid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("ps_") else {
        return false;
    };
    let Some((ms, random)) = rest.split_once('_') else {
        return false;
    };
    (10..=16).contains(&ms.len())
        && ms.bytes().all(|b| b.is_ascii_digit())
        && (6..=32).contains(&random.len())
        && random.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_valid_and_carry_the_time() {
        let id = generate(1_716_998_400_000, [1, 2, 3, 40, 50, 60, 70, 80, 255]);
        assert!(id.starts_with("ps_1716998400000_"));
        assert!(is_valid(&id), "{id}");
    }

    #[test]
    fn documented_example_is_valid_and_junk_is_not() {
        assert!(is_valid("ps_1716998400000_a1b2c3d4e"));
        for bad in [
            "",
            "ps_",
            "ps_123_abcdef",
            "ps_1716998400000_ABCDEF",
            "xs_1716998400000_abcdef",
            "ps_1716998400000_abc",
            "ps_1716998400000abcdef",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
