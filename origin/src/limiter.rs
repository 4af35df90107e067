//! Per-key rate limits: exact sliding windows of a minute and (optionally)
//! a day, kept in memory on this node. The arithmetic is `clausum-core`'s.

use std::{collections::HashMap, sync::Mutex};

use clausum_core::ratelimit::{RateDecision, SlidingWindow};

use crate::state::KeyInfo;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

#[derive(Debug)]
struct KeyWindows {
    minute: SlidingWindow,
    day: Option<SlidingWindow>,
}

/// Rate limits of every key.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, KeyWindows>>,
}

/// The outcome of a check, with what the `X-RateLimit-*` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Admitted.
    pub allowed: bool,
    /// The per-minute limit.
    pub limit: u32,
    /// Requests still admissible.
    pub remaining: u32,
    /// Unix seconds when the window admits again.
    pub reset_at_s: i64,
    /// Seconds to wait when refused.
    pub retry_after_s: u64,
}

/// Combines the minute window's decision and the day window's (if any)
/// into what the `X-RateLimit-*` headers report: refused by whichever
/// refused, reset when that window next admits.
pub fn admission(
    limit: u32,
    minute: RateDecision,
    day: Option<RateDecision>,
    now_ms: i64,
) -> Admission {
    let refused_by: Option<RateDecision> = match day {
        Some(d) if !d.allowed => Some(d),
        _ if !minute.allowed => Some(minute),
        _ => None,
    };
    let reset = refused_by.unwrap_or(minute).reset_at_ms;
    Admission {
        allowed: refused_by.is_none(),
        limit,
        remaining: minute.remaining.min(day.map_or(u32::MAX, |d| d.remaining)),
        reset_at_s: (reset + 999) / 1000,
        retry_after_s: u64::try_from(((reset - now_ms) + 999) / 1000).unwrap_or(1).max(1),
    }
}

impl RateLimiter {
    /// Admits (and counts) one request of `key` at `now_ms`, or refuses it.
    pub fn check(&self, key: &KeyInfo, now_ms: i64) -> Admission {
        let mut windows = self.windows.lock().expect("limiter lock");
        let w = windows.entry(key.id.clone()).or_insert_with(|| KeyWindows {
            minute: SlidingWindow::new(key.rate_limit_per_minute, MINUTE_MS),
            day: key.rate_limit_per_day.map(|d| SlidingWindow::new(d, DAY_MS)),
        });
        // Limits may have been edited since the window was created.
        w.minute.set_limit(key.rate_limit_per_minute);
        let minute = w.minute.check(now_ms);
        let day = match (&mut w.day, minute.allowed) {
            (Some(day), true) => Some(day.check(now_ms)),
            _ => None,
        };
        admission(key.rate_limit_per_minute, minute, day, now_ms)
    }

    /// Admits one request counted under `name` (a user, a login address)
    /// against `per_minute`, with the same sliding-minute arithmetic.
    pub fn check_bucket(&self, name: &str, per_minute: u32, now_ms: i64) -> Admission {
        let mut windows = self.windows.lock().expect("limiter lock");
        let w = windows.entry(name.to_owned()).or_insert_with(|| KeyWindows {
            minute: SlidingWindow::new(per_minute, MINUTE_MS),
            day: None,
        });
        let d = w.minute.check(now_ms);
        Admission {
            allowed: d.allowed,
            limit: per_minute,
            remaining: d.remaining,
            reset_at_s: (d.reset_at_ms + 999) / 1000,
            retry_after_s: u64::try_from(((d.reset_at_ms - now_ms) + 999) / 1000)
                .unwrap_or(1)
                .max(1),
        }
    }

    /// Drops windows with nothing in them (called periodically).
    pub fn sweep(&self, now_ms: i64) {
        self.windows.lock().expect("limiter lock").retain(|_, w| {
            !(w.minute.is_idle(now_ms) && w.day.as_ref().is_none_or(|d| d.is_idle(now_ms)))
        });
    }
}
