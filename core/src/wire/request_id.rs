//! Request ids (`X-Request-Id`). A caller may name its request, so that its
//! logs, ours, the edge's and a webhook receiver's meet on one id; the
//! origin and the edge keep a caller's id when it is a sane token and issue
//! their own otherwise. Every answer carries it back.

/// The header, lower case.
pub const HEADER: &str = "x-request-id";

/// Longest id a caller may choose.
pub const MAX_LEN: usize = 64;

/// Whether a caller's id is kept: 1–64 of `[A-Za-z0-9._-]` (safe in logs,
/// headers and URLs). Anything else is replaced by an id of our own.
pub fn is_acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_tokens_only() {
        for ok in ["req-checkout-42", "a", "A.b_c-1", &"x".repeat(64)] {
            assert!(is_acceptable(ok), "{ok}");
        }
        for bad in ["", &"x".repeat(65), "has space", "semi;colon", "new\nline", "ñ", "a/b"] {
            assert!(!is_acceptable(bad), "{bad:?}");
        }
    }
}
