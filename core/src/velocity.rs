//! Velocity: how many transactions (and how much money) a payer moved in the
//! last 10 minutes, hour and day, per payer dimension.
//!
//! Windows are exact and sliding: every observation is kept with its
//! timestamp until it falls out of the longest window. The state sits behind
//! [`VelocityStore`] so that one node can keep it in memory
//! ([`MemoryVelocity`]) and a cluster can keep it in a shared store; the
//! arithmetic (which events count in which window) lives here either way.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// A payer dimension velocity is counted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Normalised email.
    Email,
    /// Card: BIN + last4.
    Card,
    /// IP address.
    Ip,
    /// Device fingerprint.
    Device,
    /// Merchant's customer id.
    Customer,
    /// A payout's origin (debited) account.
    Account,
}

impl Dimension {
    /// Every dimension, in a fixed order.
    pub const ALL: [Dimension; 6] = [
        Dimension::Email,
        Dimension::Card,
        Dimension::Ip,
        Dimension::Device,
        Dimension::Customer,
        Dimension::Account,
    ];

    /// The name used in rules (`velocity.<name>.count_1h`) and descriptions.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Email => "email",
            Dimension::Card => "card",
            Dimension::Ip => "ip",
            Dimension::Device => "device",
            Dimension::Customer => "customer",
            Dimension::Account => "account",
        }
    }

    /// Parses the rule-language name.
    pub fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A sliding window length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Window {
    /// The last 10 minutes.
    #[serde(rename = "10m")]
    TenMinutes,
    /// The last hour.
    #[serde(rename = "1h")]
    OneHour,
    /// The last 24 hours.
    #[serde(rename = "24h")]
    OneDay,
}

impl Window {
    /// Every window, shortest first.
    pub const ALL: [Window; 3] = [Window::TenMinutes, Window::OneHour, Window::OneDay];

    /// Length in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            Window::TenMinutes => 10 * 60 * 1000,
            Window::OneHour => 60 * 60 * 1000,
            Window::OneDay => 24 * 60 * 60 * 1000,
        }
    }

    /// The suffix used in rules (`count_10m`, `sum_1h`, `count_24h`).
    pub fn as_str(self) -> &'static str {
        match self {
            Window::TenMinutes => "10m",
            Window::OneHour => "1h",
            Window::OneDay => "24h",
        }
    }

    /// Parses a suffix.
    pub fn parse(s: &str) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.as_str() == s)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The longest window: observations older than this are forgotten.
pub const HORIZON_MS: i64 = 24 * 60 * 60 * 1000;

/// Count and amount sum of earlier transactions in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowStats {
    /// Number of earlier transactions.
    pub count: u32,
    /// Sum of their amounts, in minor units.
    pub sum_minor: i64,
}

/// Stats of one dimension for every window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionStats {
    /// Indexed by [`Window`] order: 10 min, 1 h, 24 h.
    pub windows: [WindowStats; 3],
}

impl DimensionStats {
    /// Stats of one window.
    pub fn get(&self, window: Window) -> WindowStats {
        self.windows[window.index()]
    }
}

/// What velocity knew about a request *before* it was counted: the
/// transactions earlier than this one, per dimension present in the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VelocitySnapshot {
    /// `None` for dimensions the request did not carry.
    pub by_dimension: [Option<DimensionStats>; Dimension::ALL.len()],
}

impl VelocitySnapshot {
    /// Stats of one dimension, if the request carried it.
    pub fn get(&self, dimension: Dimension) -> Option<&DimensionStats> {
        self.by_dimension[dimension as usize].as_ref()
    }
}

/// The key a velocity counter is kept under: the organisation's dimension
/// value, digested so raw emails are not held as map keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VelocityKey {
    /// Which dimension.
    pub dimension: Dimension,
    /// Digest of organisation id + normalised value.
    pub digest: Digest,
}

/// One observation to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The keys of every dimension the request carried.
    pub keys: Vec<VelocityKey>,
    /// When it happened (unix milliseconds).
    pub at_ms: i64,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// Unique id, so the observation can be withdrawn if its transaction is
    /// not recorded (idempotent replay lost a race, or the write failed).
    pub id: u64,
}

/// Where velocity state lives. Implementations must make
/// [`VelocityStore::observe`] atomic: concurrent observations each see the
/// others exactly once or not at all, never half.
pub trait VelocityStore {
    /// Returns the stats of earlier observations for each key, then records
    /// this one.
    fn observe(&mut self, observation: &Observation) -> VelocitySnapshot;
    /// Returns what [`VelocityStore::observe`] would, without recording
    /// (browser pre-checks must not move the counters).
    fn peek(&mut self, observation: &Observation) -> VelocitySnapshot;
    /// Withdraws an observation recorded earlier (same keys and id).
    fn withdraw(&mut self, observation: &Observation);
}

/// Pure windowed arithmetic over a time-ordered queue of `(at_ms, amount, id)`.
#[derive(Debug, Default, Clone)]
struct Series {
    events: VecDeque<(i64, i64, u64)>,
}

impl Series {
    fn evict(&mut self, now_ms: i64) {
        while let Some(&(t, _, _)) = self.events.front() {
            if t <= now_ms - HORIZON_MS {
                self.events.pop_front();
            } else {
                break;
            }
        }
    }

    /// Stats of events in `(now - window, now]`, for every window.
    fn stats(&self, now_ms: i64) -> DimensionStats {
        let mut out = DimensionStats::default();
        // Walk newest to oldest; windows are nested, so one pass fills all three.
        for &(t, amount, _) in self.events.iter().rev() {
            // A negative age (another node's clock slightly ahead) still
            // counts: that event was processed before this one.
            let age = now_ms - t;
            for w in Window::ALL {
                if age < w.millis() {
                    let s = &mut out.windows[w.index()];
                    s.count += 1;
                    s.sum_minor = s.sum_minor.saturating_add(amount);
                }
            }
            if age >= HORIZON_MS {
                break;
            }
        }
        out
    }

    fn insert(&mut self, at_ms: i64, amount: i64, id: u64) {
        // Keep the queue ordered even if a clock steps back a little.
        let pos = self.events.iter().rposition(|&(t, _, _)| t <= at_ms).map_or(0, |p| p + 1);
        self.events.insert(pos, (at_ms, amount, id));
    }

    fn remove(&mut self, id: u64) {
        if let Some(pos) = self.events.iter().rposition(|&(_, _, i)| i == id) {
            self.events.remove(pos);
        }
    }
}

/// In-memory velocity for a single node.
#[derive(Debug, Default)]
pub struct MemoryVelocity {
    series: HashMap<VelocityKey, Series>,
    observations: u64,
}

impl MemoryVelocity {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys currently tracked.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// True when nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Drops every series whose events all fell out of the horizon.
    /// Called now and then so memory tracks live payers only.
    pub fn sweep(&mut self, now_ms: i64) {
        self.series.retain(|_, s| {
            s.evict(now_ms);
            !s.events.is_empty()
        });
    }
}

impl VelocityStore for MemoryVelocity {
    fn observe(&mut self, obs: &Observation) -> VelocitySnapshot {
        let mut snapshot = VelocitySnapshot::default();
        for key in &obs.keys {
            let series = self.series.entry(*key).or_default();
            series.evict(obs.at_ms);
            snapshot.by_dimension[key.dimension as usize] = Some(series.stats(obs.at_ms));
            series.insert(obs.at_ms, obs.amount_minor, obs.id);
        }
        self.observations += 1;
        // Amortised cleanup: payers seen once would otherwise stay forever.
        if self.observations.is_multiple_of(65_536) {
            self.sweep(obs.at_ms);
        }
        snapshot
    }

    fn peek(&mut self, obs: &Observation) -> VelocitySnapshot {
        let mut snapshot = VelocitySnapshot::default();
        for key in &obs.keys {
            if let Some(series) = self.series.get(key) {
                snapshot.by_dimension[key.dimension as usize] = Some(series.stats(obs.at_ms));
            } else {
                snapshot.by_dimension[key.dimension as usize] = Some(DimensionStats::default());
            }
        }
        snapshot
    }

    fn withdraw(&mut self, obs: &Observation) {
        for key in &obs.keys {
            if let Some(series) = self.series.get_mut(key) {
                series.remove(obs.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> VelocityKey {
        VelocityKey { dimension: Dimension::Email, digest: Digest([n; 16]) }
    }

    fn obs(id: u64, at_ms: i64, amount: i64) -> Observation {
        Observation { keys: vec![key(1)], at_ms, amount_minor: amount, id }
    }

    #[test]
    fn counts_only_earlier_events_in_each_window() {
        let mut v = MemoryVelocity::new();
        let t0 = 1_000_000_000_000;
        v.observe(&obs(1, t0, 100));
        v.observe(&obs(2, t0 + 5 * 60_000, 200));
        v.observe(&obs(3, t0 + 31 * 60_000, 300));
        let s = v.observe(&obs(4, t0 + 40 * 60_000, 400));
        let stats = s.get(Dimension::Email).unwrap();
        // 10 min: only event 3 (9 min before). 1 h: all three. 24 h: all three.
        assert_eq!(stats.get(Window::TenMinutes), WindowStats { count: 1, sum_minor: 300 });
        assert_eq!(stats.get(Window::OneHour), WindowStats { count: 3, sum_minor: 600 });
        assert_eq!(stats.get(Window::OneDay), WindowStats { count: 3, sum_minor: 600 });
    }

    #[test]
    fn window_edges_are_exclusive_of_the_exact_length() {
        let mut v = MemoryVelocity::new();
        let t0 = 5_000_000;
        v.observe(&obs(1, t0, 1));
        let s = v.observe(&obs(2, t0 + Window::TenMinutes.millis(), 1));
        assert_eq!(s.get(Dimension::Email).unwrap().get(Window::TenMinutes).count, 0);
        assert_eq!(s.get(Dimension::Email).unwrap().get(Window::OneHour).count, 1);
    }

    #[test]
    fn events_past_the_horizon_are_forgotten() {
        let mut v = MemoryVelocity::new();
        v.observe(&obs(1, 0, 1));
        let s = v.observe(&obs(2, HORIZON_MS + 1, 1));
        assert_eq!(s.get(Dimension::Email).unwrap().get(Window::OneDay).count, 0);
        v.sweep(3 * HORIZON_MS);
        assert!(v.is_empty());
    }

    #[test]
    fn withdraw_removes_exactly_one_observation() {
        let mut v = MemoryVelocity::new();
        v.observe(&obs(1, 10, 5));
        let o2 = obs(2, 20, 7);
        v.observe(&o2);
        v.withdraw(&o2);
        let s = v.observe(&obs(3, 30, 1));
        assert_eq!(
            s.get(Dimension::Email).unwrap().get(Window::OneHour),
            WindowStats { count: 1, sum_minor: 5 }
        );
    }

    #[test]
    fn out_of_order_inserts_stay_sorted() {
        let mut v = MemoryVelocity::new();
        v.observe(&obs(1, 1_000, 1));
        v.observe(&obs(2, 500, 1));
        let s = v.observe(&obs(3, 1_000 + Window::TenMinutes.millis() - 1, 1));
        assert_eq!(s.get(Dimension::Email).unwrap().get(Window::TenMinutes).count, 1);
        assert_eq!(s.get(Dimension::Email).unwrap().get(Window::OneHour).count, 2);
    }

    #[test]
    fn peek_does_not_record() {
        let mut v = MemoryVelocity::new();
        v.observe(&obs(1, 0, 1));
        let p = v.peek(&obs(2, 1, 1));
        assert_eq!(p.get(Dimension::Email).unwrap().get(Window::OneHour).count, 1);
        let s = v.observe(&obs(3, 2, 1));
        assert_eq!(s.get(Dimension::Email).unwrap().get(Window::OneHour).count, 1);
    }

    #[test]
    fn dimensions_absent_from_the_request_stay_none() {
        let mut v = MemoryVelocity::new();
        let s = v.observe(&obs(1, 0, 1));
        assert!(s.get(Dimension::Ip).is_none());
    }
}
