//! CORS for the two endpoints a checkout page calls cross-origin: the
//! browser SDK's session registration and the publishable-key pre-check.
//! The origin answers preflights and adds [`ANSWER_HEADERS`] to every
//! answer on [`BROWSER_PATHS`]; the edge worker adds the same headers to
//! the answers it gives itself there (declines, 401s, 503/504), so a page
//! can read every answer whoever gave it. Both use these constants, so the
//! two cannot drift.
//!
//! Any origin (`*`) is allowed: those calls authenticate with a bearer
//! publishable key, never with cookies, so a foreign page gains nothing it
//! could not do with the key itself. No other route gets CORS headers.

/// Paths a browser calls cross-origin (exact paths: payouts are a backend's
/// business and get no CORS).
pub const BROWSER_PATHS: [&str; 2] = ["/api/v1/sessions", "/api/v1/assess"];

/// The header naming who may read an answer (lower case).
pub const ALLOW_ORIGIN_HEADER: &str = "access-control-allow-origin";

/// `Access-Control-Allow-Origin`: any page.
pub const ALLOW_ORIGIN: &str = "*";

/// `Access-Control-Allow-Methods` of a preflight.
pub const ALLOW_METHODS: &str = "POST, OPTIONS";

/// `Access-Control-Allow-Headers` of a preflight: what the SDK sends.
pub const ALLOW_HEADERS: &str = "authorization, content-type, idempotency-key";

/// `Access-Control-Max-Age` of a preflight, in seconds.
pub const MAX_AGE: &str = "600";

/// `Access-Control-Expose-Headers`: the answer headers a page may read
/// (whether an answer was a pre-check, and the rate limit).
pub const EXPOSE_HEADERS: &str =
    "x-clausum-precheck, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset";

/// Headers of a preflight's `204` answer, as `(lower-case name, value)`.
pub const PREFLIGHT_HEADERS: [(&str, &str); 4] = [
    (ALLOW_ORIGIN_HEADER, ALLOW_ORIGIN),
    ("access-control-allow-methods", ALLOW_METHODS),
    ("access-control-allow-headers", ALLOW_HEADERS),
    ("access-control-max-age", MAX_AGE),
];

/// Headers added to every other answer on [`BROWSER_PATHS`] (errors
/// included, so the SDK can read why a call failed), as
/// `(lower-case name, value)`.
pub const ANSWER_HEADERS: [(&str, &str); 2] =
    [(ALLOW_ORIGIN_HEADER, ALLOW_ORIGIN), ("access-control-expose-headers", EXPOSE_HEADERS)];

/// Whether `path` (without query) is one of [`BROWSER_PATHS`].
pub fn is_browser_path(path: &str) -> bool {
    BROWSER_PATHS.contains(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_paths_are_exact() {
        assert!(is_browser_path("/api/v1/sessions"));
        assert!(is_browser_path("/api/v1/assess"));
        for other in ["/api/v1/assess/payout", "/api/v1/assess/", "/api/v1/health", "/"] {
            assert!(!is_browser_path(other), "{other}");
        }
    }

    #[test]
    fn header_names_are_lower_case_and_values_plain() {
        for (name, value) in PREFLIGHT_HEADERS.iter().chain(&ANSWER_HEADERS) {
            assert_eq!(*name, name.to_ascii_lowercase());
            assert!(value.bytes().all(|b| (0x20..0x7f).contains(&b)), "{value}");
        }
        assert_eq!(PREFLIGHT_HEADERS[0], ANSWER_HEADERS[0], "one allow-origin");
    }
}
