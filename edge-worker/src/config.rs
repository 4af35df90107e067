//! The worker's settings: `wrangler.toml` variables and the `EDGE_TOKEN`
//! secret, read once per request from the environment (they are cheap to
//! read and can change between deployments without a code change).

use clausum_core::wire::edge::MIN_EDGE_TOKEN_LEN;

/// Parsed settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeConfig {
    /// Base URL of the origin, without a trailing slash (`ORIGIN_URL`).
    pub origin_url: String,
    /// Shared secret with the origin (`EDGE_TOKEN`, a secret).
    pub edge_token: String,
    /// Revalidate cached snapshots this often (`REFRESH_INTERVAL_MS`, 10 s).
    pub refresh_interval_ms: i64,
    /// Past this age without a successful revalidation a snapshot is stale:
    /// no edge declines, everything is forwarded (`MAX_SNAPSHOT_AGE_MS`, 120 s).
    pub max_age_ms: i64,
    /// Deadline for the origin's answer to a forwarded assess
    /// (`ORIGIN_TIMEOUT_MS`, 2.5 s): past it the edge answers 504.
    pub origin_timeout_ms: i64,
    /// How often an isolate checks the shared purge marker (`PURGE_POLL_MS`, 1 s).
    pub purge_poll_ms: i64,
    /// Serve the benchmark routes (`BENCH_ROUTES=on`; never in production).
    pub bench_routes: bool,
}

/// Default of `REFRESH_INTERVAL_MS`.
pub const DEFAULT_REFRESH_MS: i64 = 10_000;
/// Default of `MAX_SNAPSHOT_AGE_MS`.
pub const DEFAULT_MAX_AGE_MS: i64 = 120_000;
/// Default of `ORIGIN_TIMEOUT_MS`.
pub const DEFAULT_ORIGIN_TIMEOUT_MS: i64 = 2_500;
/// Default of `PURGE_POLL_MS`.
pub const DEFAULT_PURGE_POLL_MS: i64 = 1_000;

impl EdgeConfig {
    /// Reads the settings through `get` (a variable or secret by name).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<EdgeConfig, String> {
        let origin_url = get("ORIGIN_URL")
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .ok_or("ORIGIN_URL must be set to the origin's http(s) base URL")?;
        let edge_token = get("EDGE_TOKEN")
            .map(|t| t.trim().to_owned())
            .filter(|t| t.chars().count() >= MIN_EDGE_TOKEN_LEN)
            .ok_or("the EDGE_TOKEN secret must be set (at least 32 characters)")?;
        let ms = |name: &str, default: i64| -> Result<i64, String> {
            match get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{name} must be a positive number of milliseconds")),
            }
        };
        Ok(EdgeConfig {
            origin_url,
            edge_token,
            refresh_interval_ms: ms("REFRESH_INTERVAL_MS", DEFAULT_REFRESH_MS)?,
            max_age_ms: ms("MAX_SNAPSHOT_AGE_MS", DEFAULT_MAX_AGE_MS)?,
            origin_timeout_ms: ms("ORIGIN_TIMEOUT_MS", DEFAULT_ORIGIN_TIMEOUT_MS)?,
            purge_poll_ms: ms("PURGE_POLL_MS", DEFAULT_PURGE_POLL_MS)?,
            bench_routes: get("BENCH_ROUTES").is_some_and(|v| v.trim() == "on"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<EdgeConfig, String> {
        EdgeConfig::from_lookup(|name| {
            pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_and_overrides() {
        let token = "t".repeat(32);
        let c = from(&[("ORIGIN_URL", "https://origin.example/"), ("EDGE_TOKEN", &token)]).unwrap();
        assert_eq!(c.origin_url, "https://origin.example");
        assert_eq!(c.refresh_interval_ms, DEFAULT_REFRESH_MS);
        assert_eq!(c.max_age_ms, DEFAULT_MAX_AGE_MS);
        assert!(!c.bench_routes);
        let c = from(&[
            ("ORIGIN_URL", "http://127.0.0.1:9"),
            ("EDGE_TOKEN", &token),
            ("MAX_SNAPSHOT_AGE_MS", "1500"),
            ("BENCH_ROUTES", "on"),
        ])
        .unwrap();
        assert_eq!(c.max_age_ms, 1_500);
        assert!(c.bench_routes);
    }

    #[test]
    fn refuses_what_would_misbehave() {
        let token = "t".repeat(32);
        assert!(from(&[("EDGE_TOKEN", &token)]).is_err());
        assert!(from(&[("ORIGIN_URL", "ftp://x"), ("EDGE_TOKEN", &token)]).is_err());
        assert!(from(&[("ORIGIN_URL", "https://x"), ("EDGE_TOKEN", "short")]).is_err());
        let bad = [("ORIGIN_URL", "https://x"), ("EDGE_TOKEN", &token), ("ORIGIN_TIMEOUT_MS", "0")];
        assert!(from(&bad).is_err());
    }
}
