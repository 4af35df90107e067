//! An organisation's risk policy: thresholds, weight overrides, amount
//! limits, velocity limits, behaviour cut-offs and payout settings. Stored
//! as JSON with the organisation; every field has a default so `{}` is a
//! valid policy (and a policy stored before a field existed still reads).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::Segment;
use crate::scoring::{Thresholds, WEIGHTS, WeightOverrides};

/// The largest count a limit takes (velocity counts, new beneficiaries):
/// far beyond any useful limit, and small enough for every store.
pub const MAX_LIMIT_COUNT: u32 = 1_000_000;

pub mod payout;

pub use payout::PayoutPolicy;

/// Minimum and maximum amount for one currency, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountLimits {
    /// Below this: `amount_below_min` (card-testing pattern).
    #[serde(default)]
    pub min_minor: Option<i64>,
    /// Above this: hard block (`blocked_by: "amount_max"`).
    #[serde(default)]
    pub max_minor: Option<i64>,
}

/// When velocity turns into a signal. Counts are of *earlier* transactions
/// of the same payer key, so `count_1h: 5` fires on the sixth in an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VelocityLimits {
    /// Earlier transactions in 10 minutes.
    pub count_10m: u32,
    /// Earlier transactions in 1 hour.
    pub count_1h: u32,
    /// Earlier transactions in 24 hours.
    pub count_24h: u32,
    /// Amount (earlier + this one) in 24 hours, in minor units. Sums add
    /// minor units across currencies, so set it only for single-currency
    /// organisations. `None`: no amount velocity signal.
    pub sum_24h_minor: Option<i64>,
    /// Count each PSP submerchant apart: a card used at two submerchants
    /// has two sets of counts, and a burst at one does not fire velocity at
    /// the other. Transactions without a `submerchant_id` share the
    /// organisation's counts. Default `false`: one count per organisation.
    /// Changing it starts new counts (earlier ones were kept under the
    /// other scheme).
    pub per_submerchant: bool,
}

impl Default for VelocityLimits {
    fn default() -> Self {
        VelocityLimits {
            count_10m: 3,
            count_1h: 5,
            count_24h: 20,
            sum_24h_minor: None,
            per_submerchant: false,
        }
    }
}

/// Behaviour cut-offs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BehaviorLimits {
    /// Sessions shorter than this fire `short_session`.
    pub short_session_ms: u64,
}

impl Default for BehaviorLimits {
    fn default() -> Self {
        BehaviorLimits { short_session_ms: 3_000 }
    }
}

/// The whole policy of one organisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// Which field requirements apply (`comercio`, `psp`, `banco`).
    pub segment: Segment,
    /// Score bands.
    pub thresholds: Thresholds,
    /// Weight overrides by signal code.
    pub weights: WeightOverrides,
    /// Amount limits by ISO currency code.
    pub amount_limits: BTreeMap<String, AmountLimits>,
    /// Velocity limits.
    pub velocity: VelocityLimits,
    /// Behaviour cut-offs.
    pub behavior: BehaviorLimits,
    /// Payout settings (high-risk countries, cross-border thresholds, …).
    pub payout: PayoutPolicy,
}

impl Policy {
    /// The velocity limits of a flow: a payout's own when set, else the
    /// organisation's (pay-in) limits.
    pub fn velocity_limits(&self, payout: bool) -> &VelocityLimits {
        match (payout, &self.payout.velocity) {
            (true, Some(limits)) => limits,
            _ => &self.velocity,
        }
    }

    /// Checks internal consistency (thresholds increase, limits are sane).
    pub fn validate(&self) -> Result<(), String> {
        self.thresholds.validate().map_err(str::to_owned)?;
        for (name, limits) in std::iter::once(("velocity", &self.velocity))
            .chain(self.payout.velocity.iter().map(|l| ("payout.velocity", l)))
        {
            for (window, count) in [
                ("count_10m", limits.count_10m),
                ("count_1h", limits.count_1h),
                ("count_24h", limits.count_24h),
            ] {
                if count > MAX_LIMIT_COUNT {
                    return Err(format!(
                        "{name}.{window}: must be between 0 and {MAX_LIMIT_COUNT}"
                    ));
                }
            }
            if limits.sum_24h_minor.is_some_and(|v| v <= 0) {
                return Err(format!(
                    "{name}.sum_24h_minor: must be above 0 (or null for no amount velocity)"
                ));
            }
        }
        for (currency, l) in &self.amount_limits {
            if let (Some(min), Some(max)) = (l.min_minor, l.max_minor)
                && min > max
            {
                return Err(format!("amount_limits.{currency}: min_minor is above max_minor"));
            }
            if l.min_minor.is_some_and(|v| v < 0) || l.max_minor.is_some_and(|v| v < 0) {
                return Err(format!("amount_limits.{currency}: limits must be ≥ 0"));
            }
        }
        for (code, w) in &self.weights.0 {
            if !WEIGHTS.contains(w) {
                let (min, max) = WEIGHTS.into_inner();
                return Err(format!("weights.{code}: must be between {min} and {max}"));
            }
        }
        self.payout.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_is_the_default_policy() {
        let p: Policy = serde_json::from_str("{}").unwrap();
        assert_eq!(p, Policy::default());
        assert!(p.validate().is_ok());
    }

    #[test]
    fn a_policy_stored_before_payouts_still_reads() {
        let stored = r#"{"segment":"banco","thresholds":{"review":30,"challenge":60,"decline":80},
            "weights":{"high_velocity":40},"amount_limits":{},"velocity":{"count_10m":3,
            "count_1h":5,"count_24h":20,"sum_24h_minor":null},"behavior":{"short_session_ms":3000}}"#;
        let p: Policy = serde_json::from_str(stored).unwrap();
        assert_eq!(p.payout, PayoutPolicy::default());
        assert_eq!(p.segment, Segment::Banco);
        assert!(p.validate().is_ok());
        // And what it serialises to now reads back the same.
        let again: Policy = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(again, p);
    }

    #[test]
    fn payout_settings_are_validated_with_the_policy() {
        let mut p = Policy::default();
        p.payout.high_risk_countries.push("Narnia".into());
        assert!(p.validate().unwrap_err().starts_with("payout.high_risk_countries"));
    }

    #[test]
    fn inconsistent_limits_are_refused() {
        let mut p = Policy::default();
        p.amount_limits
            .insert("MXN".into(), AmountLimits { min_minor: Some(10), max_minor: Some(5) });
        assert!(p.validate().is_err());
        let mut p = Policy::default();
        p.weights.0.insert("x".into(), 500);
        assert!(p.validate().is_err());
        let mut p = Policy::default();
        p.velocity.count_1h = MAX_LIMIT_COUNT;
        assert!(p.validate().is_ok());
        p.velocity.count_1h = MAX_LIMIT_COUNT + 1;
        assert_eq!(p.validate().unwrap_err(), "velocity.count_1h: must be between 0 and 1000000");
        let mut p = Policy::default();
        p.payout.new_beneficiary_limit = MAX_LIMIT_COUNT + 1;
        assert!(p.validate().unwrap_err().starts_with("payout.new_beneficiary_limit"));
    }
}
