//! Payer history: what earlier transactions taught us about this payer.
//!
//! Kept per payer key (email, card, device, customer id — digested, never
//! raw): how many transactions and approvals, when the payer was first seen,
//! running amount statistics (Welford's algorithm, so no amounts are kept),
//! and how many confirmed fraud reports touched the key.

use std::collections::HashMap;

use crate::digest::Digest;
use crate::scoring::Decision;
use crate::velocity::Dimension;

/// Running statistics of one payer key.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PayerStats {
    /// Transactions recorded.
    pub transactions: u32,
    /// Of which approved.
    pub approved: u32,
    /// Confirmed fraud reports that involved this key.
    pub fraud_reports: u32,
    /// First transaction (unix ms).
    pub first_seen_ms: i64,
    /// Mean amount in minor units.
    pub amount_mean: f64,
    /// Sum of squared deviations (Welford), for the variance.
    pub amount_m2: f64,
}

impl PayerStats {
    /// Folds one transaction in.
    pub fn record(&mut self, amount_minor: i64, decision: Decision, at_ms: i64) {
        if self.transactions == 0 || at_ms < self.first_seen_ms {
            self.first_seen_ms = at_ms;
        }
        self.transactions = self.transactions.saturating_add(1);
        if decision == Decision::Approve {
            self.approved = self.approved.saturating_add(1);
        }
        let x = amount_minor as f64;
        let delta = x - self.amount_mean;
        self.amount_mean += delta / f64::from(self.transactions);
        self.amount_m2 += delta * (x - self.amount_mean);
    }

    /// Sample standard deviation of the amounts.
    pub fn amount_stddev(&self) -> f64 {
        if self.transactions < 2 {
            0.0
        } else {
            (self.amount_m2 / f64::from(self.transactions - 1)).sqrt()
        }
    }
}

/// A payer key: which dimension, and the digest of its value.
pub type PayerKey = (Dimension, Digest);

/// What the engine sees of the payer's past.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryView {
    /// Fraud reports over all of the request's keys.
    pub fraud_reports: u32,
    /// The first key (in [`Dimension::ALL`] order) with a fraud report.
    pub fraud_on: Option<Dimension>,
    /// Stats of the payer's primary key (customer id, else email, else card).
    pub primary: Option<PayerStats>,
}

/// Minimum earlier approvals, and age of the first, for a payer to count as trusted.
pub const TRUSTED_MIN_APPROVED: u32 = 3;
/// See [`TRUSTED_MIN_APPROVED`].
pub const TRUSTED_MIN_AGE_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Earlier transactions needed before amounts can be called outliers.
pub const OUTLIER_MIN_HISTORY: u32 = 5;

impl HistoryView {
    /// A returning payer with enough approved history and no fraud.
    pub fn is_trusted(&self, now_ms: i64) -> bool {
        self.fraud_reports == 0
            && self.primary.is_some_and(|p| {
                p.approved >= TRUSTED_MIN_APPROVED && now_ms - p.first_seen_ms >= TRUSTED_MIN_AGE_MS
            })
    }

    /// Whether `amount_minor` is far above the payer's usual amounts: more
    /// than three standard deviations above the mean *and* more than three
    /// times the mean (the second guard keeps payers with very regular
    /// amounts from tripping on small changes).
    pub fn is_amount_outlier(&self, amount_minor: i64) -> bool {
        let Some(p) = self.primary else { return false };
        if p.transactions < OUTLIER_MIN_HISTORY {
            return false;
        }
        let x = amount_minor as f64;
        x > p.amount_mean + 3.0 * p.amount_stddev() && x > 3.0 * p.amount_mean
    }
}

/// In-memory payer history for one node.
#[derive(Debug, Default)]
pub struct MemoryHistory {
    stats: HashMap<PayerKey, PayerStats>,
}

impl MemoryHistory {
    /// Empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of payer keys known.
    pub fn len(&self) -> usize {
        self.stats.len()
    }

    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.stats.is_empty()
    }

    /// The view for a request carrying `keys` (in [`Dimension::ALL`] order);
    /// `primary` picks which key's stats describe the payer.
    pub fn view(&self, keys: &[PayerKey], primary: Option<PayerKey>) -> HistoryView {
        let mut view = HistoryView::default();
        for k in keys {
            if let Some(s) = self.stats.get(k)
                && s.fraud_reports > 0
            {
                view.fraud_reports += s.fraud_reports;
                view.fraud_on.get_or_insert(k.0);
            }
        }
        view.primary = primary.and_then(|k| self.stats.get(&k).copied());
        view
    }

    /// Records a transaction on every key.
    pub fn record(&mut self, keys: &[PayerKey], amount_minor: i64, decision: Decision, at_ms: i64) {
        for k in keys {
            self.stats.entry(*k).or_default().record(amount_minor, decision, at_ms);
        }
    }

    /// Counts a confirmed fraud report on every key.
    pub fn record_fraud(&mut self, keys: &[PayerKey]) {
        for k in keys {
            let s = self.stats.entry(*k).or_default();
            s.fraud_reports = s.fraud_reports.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 60 * 60 * 1000;

    fn key(n: u8) -> PayerKey {
        (Dimension::Email, Digest([n; 16]))
    }

    #[test]
    fn welford_matches_direct_computation() {
        let mut s = PayerStats::default();
        for (i, a) in [100, 200, 300, 400].into_iter().enumerate() {
            s.record(a, Decision::Approve, i as i64);
        }
        assert!((s.amount_mean - 250.0).abs() < 1e-9);
        // Sample variance of 100..400 step 100 is 16666.67.
        assert!((s.amount_stddev() - 16_666.666_666_7_f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn trusted_needs_age_approvals_and_no_fraud() {
        let mut h = MemoryHistory::new();
        for i in 0..3 {
            h.record(&[key(1)], 1_000, Decision::Approve, i);
        }
        assert!(!h.view(&[key(1)], Some(key(1))).is_trusted(DAY));
        assert!(h.view(&[key(1)], Some(key(1))).is_trusted(8 * DAY));
        h.record_fraud(&[key(1)]);
        let v = h.view(&[key(1)], Some(key(1)));
        assert!(!v.is_trusted(8 * DAY));
        assert_eq!(v.fraud_on, Some(Dimension::Email));
    }

    #[test]
    fn outliers_need_history_and_a_big_jump() {
        let mut h = MemoryHistory::new();
        for i in 0..4 {
            h.record(&[key(2)], 1_000 + i * 10, Decision::Approve, i);
        }
        assert!(!h.view(&[], Some(key(2))).is_amount_outlier(1_000_000));
        h.record(&[key(2)], 1_020, Decision::Approve, 5);
        let v = h.view(&[], Some(key(2)));
        assert!(v.is_amount_outlier(1_000_000));
        assert!(!v.is_amount_outlier(2_000));
    }
}
