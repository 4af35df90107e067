//! Exact sliding-window rate limiting arithmetic.
//!
//! A window keeps the timestamps of the requests it admitted (at most
//! `limit` of them), so "at most N in any 60 s" holds exactly, with no
//! burst at window boundaries as fixed windows allow.

use std::collections::VecDeque;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request is admitted (and was counted).
    pub allowed: bool,
    /// Requests still admissible right now.
    pub remaining: u32,
    /// When the oldest counted request leaves the window (unix ms): from
    /// then on at least one more request is admissible.
    pub reset_at_ms: i64,
}

/// One key's window.
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    limit: u32,
    window_ms: i64,
    admitted: VecDeque<i64>,
}

impl SlidingWindow {
    /// A window admitting `limit` requests per `window_ms`.
    pub fn new(limit: u32, window_ms: i64) -> Self {
        SlidingWindow { limit, window_ms, admitted: VecDeque::new() }
    }

    /// Changes the limit (a key's configuration was edited).
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    /// Admits and counts the request if the window has room.
    pub fn check(&mut self, now_ms: i64) -> RateDecision {
        while self.admitted.front().is_some_and(|&t| t <= now_ms - self.window_ms) {
            self.admitted.pop_front();
        }
        let allowed = (self.admitted.len() as u64) < u64::from(self.limit);
        if allowed {
            self.admitted.push_back(now_ms);
        }
        let used = self.admitted.len() as u32;
        RateDecision {
            allowed,
            remaining: self.limit.saturating_sub(used),
            reset_at_ms: self.admitted.front().map_or(now_ms, |&t| t + self.window_ms),
        }
    }

    /// Whether nothing is counted any more (the window can be dropped).
    pub fn is_idle(&self, now_ms: i64) -> bool {
        self.admitted.back().is_none_or(|&t| t <= now_ms - self.window_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_exactly_limit_per_window() {
        let mut w = SlidingWindow::new(3, 60_000);
        assert!(w.check(0).allowed);
        assert!(w.check(10).allowed);
        let d = w.check(20);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        let d = w.check(30);
        assert!(!d.allowed);
        assert_eq!(d.reset_at_ms, 60_000);
        // The first request leaves the window at 60 000 exactly.
        assert!(!w.check(59_999).allowed);
        assert!(w.check(60_000).allowed);
        assert!(!w.check(60_001).allowed);
    }

    #[test]
    fn a_zero_limit_admits_nothing_and_idles() {
        let mut w = SlidingWindow::new(0, 1_000);
        assert!(!w.check(5).allowed);
        assert!(w.is_idle(5));
    }
}
