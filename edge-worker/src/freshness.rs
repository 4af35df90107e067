//! When a cached snapshot (or key manifest) may be used, and when it must
//! be revalidated with the origin. The rule that matters: never decline on
//! stale data — past the maximum age the edge forwards everything.

use crate::config::EdgeConfig;

/// How usable a cached copy is at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Validated within the refresh interval and not purged: use it.
    Fresh,
    /// Usable, but revalidate in the background.
    Due,
    /// Older than the maximum age (or never validated): do not decide on it.
    Stale,
}

impl Freshness {
    /// Freshness of a copy last validated at `validated_at_ms` (a 200 or a
    /// 304 from the origin), at `now_ms`. `purged` marks a copy the origin
    /// asked to drop (an entry may have been deleted): it is stale at once,
    /// and the origin decides until the refresh lands.
    pub fn of(validated_at_ms: Option<i64>, now_ms: i64, purged: bool, c: &EdgeConfig) -> Self {
        let Some(at) = validated_at_ms else { return Freshness::Stale };
        let age = now_ms.saturating_sub(at);
        if purged || age > c.max_age_ms || age < 0 && -age > c.max_age_ms {
            Freshness::Stale
        } else if age >= c.refresh_interval_ms {
            Freshness::Due
        } else {
            Freshness::Fresh
        }
    }

    /// Whether the edge may decide (decline, refuse a key) on the copy.
    pub fn usable(self) -> bool {
        self != Freshness::Stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EdgeConfig {
        EdgeConfig {
            origin_url: "http://o".into(),
            edge_token: "t".repeat(32),
            refresh_interval_ms: 1_000,
            max_age_ms: 5_000,
            origin_timeout_ms: 100,
            purge_poll_ms: 100,
            bench_routes: false,
        }
    }

    #[test]
    fn ages() {
        let c = config();
        assert_eq!(Freshness::of(None, 0, false, &c), Freshness::Stale);
        assert_eq!(Freshness::of(Some(10_000), 10_500, false, &c), Freshness::Fresh);
        assert_eq!(Freshness::of(Some(10_000), 10_500, true, &c), Freshness::Stale);
        assert_eq!(Freshness::of(Some(10_000), 11_000, false, &c), Freshness::Due);
        assert_eq!(Freshness::of(Some(10_000), 15_000, false, &c), Freshness::Due);
        assert_eq!(Freshness::of(Some(10_000), 15_001, false, &c), Freshness::Stale);
        assert!(!Freshness::of(Some(10_000), 15_001, true, &c).usable());
        // A clock that went far backwards is not trusted either.
        assert_eq!(Freshness::of(Some(10_000), 4_000, false, &c), Freshness::Stale);
    }
}
