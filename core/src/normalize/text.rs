//! Free text and identifier fields.
//!
//! These values end up in logs, CSV exports and the review dashboard, so
//! control characters (newlines forging log lines, NULs, escape sequences)
//! and bidirectional overrides (text that displays differently from what it
//! is) are refused rather than silently stripped.

use super::Invalid;

/// Trims `field_value` and checks it is non-empty, at most `max_len`
/// characters, and free of control characters and bidirectional-override
/// characters. Returns the trimmed text.
pub fn clean_text(field_value: &str, max_len: usize) -> Result<String, Invalid> {
    let s = field_value.trim();
    if s.is_empty() {
        return Err(Invalid::new("must not be empty"));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::new("must not contain control characters"));
    }
    if s.chars().any(is_bidi_control) {
        return Err(Invalid::new("must not contain bidirectional text-override characters"));
    }
    // Count lazily so a huge value costs no more than `max_len + 1` steps.
    if s.chars().nth(max_len).is_some() {
        return Err(Invalid::new(format!("must be at most {max_len} characters")));
    }
    Ok(s.to_owned())
}

/// Like [`clean_text`], and also refuses whitespace anywhere inside: for
/// identifiers such as `customer_id` or `order_id`, where `"ORD 1"` and
/// `"ORD  1"` would otherwise be two different ids that look the same.
pub fn clean_token(field_value: &str, max_len: usize) -> Result<String, Invalid> {
    let s = clean_text(field_value, max_len)?;
    if s.chars().any(char::is_whitespace) {
        return Err(Invalid::new("must not contain spaces"));
    }
    Ok(s)
}

/// Unicode bidirectional embedding, override and isolate controls (the
/// "Trojan Source" characters). Category Cf, so `char::is_control` misses them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn trims_and_accepts_ordinary_text() {
        assert_eq!(clean_text("  Ciudad de México ", 128).unwrap(), "Ciudad de México");
        assert_eq!(clean_token(" ORD-123 ", 128).unwrap(), "ORD-123");
        assert_eq!(clean_text("ñ".repeat(4).as_str(), 4).unwrap(), "ññññ");
    }

    #[test]
    fn refuses_empty_control_and_too_long() {
        assert!(clean_text("   ", 10).is_err());
        assert!(clean_text("", 10).is_err());
        assert!(clean_text("a\nb", 10).is_err());
        assert!(clean_text("a\u{0}b", 10).is_err());
        assert!(clean_text("a\u{1b}[31mb", 10).is_err());
        assert!(clean_text("abc\u{202E}def", 10).is_err());
        let err = clean_text("abcdefghijk", 10).unwrap_err().to_string();
        assert_eq!(err, "must be at most 10 characters");
        assert!(clean_token("ORD 1", 10).is_err());
        assert!(clean_token("ORD\u{a0}1", 10).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in any::<String>(), max in 0usize..40) {
            if let Ok(t) = clean_text(&s, max) {
                prop_assert_eq!(clean_text(&t, max), Ok(t.clone()));
                prop_assert!(t.chars().count() <= max);
            }
            if let Ok(t) = clean_token(&s, max) {
                prop_assert_eq!(clean_token(&t, max), Ok(t));
            }
        }
    }
}
