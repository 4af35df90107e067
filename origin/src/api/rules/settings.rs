//! Per-organisation scoring settings on the wire: decision thresholds and
//! signal weight overrides, read from and written into the stored policy.

use std::collections::BTreeMap;

use clausum_core::{
    blocklist::ListType,
    engine::blocklist_code,
    policy::{MAX_LIMIT_COUNT, PayoutPolicy, Policy, VelocityLimits},
    scoring::{THRESHOLDS, Thresholds, WEIGHTS},
    signals,
    wire::{ErrorBody, ErrorCode, ErrorDetail},
};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The three score thresholds.
#[derive(Object, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScoreThresholds {
    /// Lowest score routed to `review` (1–100).
    pub review: i64,
    /// Lowest score routed to `challenge`; above `review`.
    pub challenge: i64,
    /// Lowest score declined; above `challenge`, at most 100.
    pub decline: i64,
}

impl From<Thresholds> for ScoreThresholds {
    fn from(t: Thresholds) -> Self {
        ScoreThresholds {
            review: t.review.into(),
            challenge: t.challenge.into(),
            decline: t.decline.into(),
        }
    }
}

/// One built-in signal with its weight in this organisation.
#[derive(Object, Serialize, Debug, Clone)]
pub struct SignalSetting {
    /// Signal code, as returned in assess `signals`.
    pub code: String,
    /// Family: `blocklist`, `email`, `behavior`, `amount`, `geography`, `velocity`, `history`.
    pub category: String,
    /// What it means.
    pub description: String,
    /// The catalogue's weight.
    pub default_weight: i64,
    /// The weight in effect here: the override if any, else the default.
    pub weight: i64,
}

/// When repeat use of one payer key fires `high_velocity`. Payer keys are
/// the email, the card (BIN + last4), the IP, the device fingerprint and the
/// customer id of a pay-in, and the origin account of a payout; counts are
/// of *earlier* transactions over sliding windows.
#[derive(Object, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VelocitySettings {
    /// Earlier transactions of one key in 10 minutes at which `high_velocity`
    /// fires (`3`: the fourth fires); 0 turns this window off.
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub count_10m: i64,
    /// The same over 1 hour.
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub count_1h: i64,
    /// The same over 24 hours.
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub count_24h: i64,
    /// Amount of one key over 24 hours (earlier plus this one), in minor
    /// units, at which `high_velocity` fires; `null` turns amount velocity
    /// off. Sums add minor units across currencies: set it only when the
    /// organisation uses one currency.
    #[serde(default)]
    #[oai(validator(minimum(value = "1")))]
    pub sum_24h_minor: Option<i64>,
    /// PSPs: count each submerchant apart, so a burst at one submerchant
    /// does not fire velocity at another (transactions without
    /// `submerchant_id` share the organisation's counts). Changing it starts
    /// new counts. Payer history (earlier fraud) stays organisation-wide.
    #[serde(default)]
    pub per_submerchant: bool,
}

impl From<&VelocityLimits> for VelocitySettings {
    fn from(v: &VelocityLimits) -> Self {
        VelocitySettings {
            count_10m: v.count_10m.into(),
            count_1h: v.count_1h.into(),
            count_24h: v.count_24h.into(),
            sum_24h_minor: v.sum_24h_minor,
            per_submerchant: v.per_submerchant,
        }
    }
}

/// A count of the wire (`i64`) as the core keeps it, or a 400 naming `field`.
/// The core's [`MAX_LIMIT_COUNT`] bounds it, so the message names it here
/// rather than after the narrowing.
fn count(field: &str, v: i64) -> Result<u32, ApiError> {
    u32::try_from(v).ok().filter(|v| *v <= MAX_LIMIT_COUNT).ok_or_else(|| {
        ApiError::field(field, format!("`{field}` must be between 0 and {MAX_LIMIT_COUNT}"))
    })
}

impl VelocitySettings {
    /// The core's limits (checked with the policy by [`Policy::validate`]);
    /// `at` names the block in errors (`velocity`, `payout.velocity`).
    fn limits(self, at: &str) -> Result<VelocityLimits, ApiError> {
        Ok(VelocityLimits {
            count_10m: count(&format!("{at}.count_10m"), self.count_10m)?,
            count_1h: count(&format!("{at}.count_1h"), self.count_1h)?,
            count_24h: count(&format!("{at}.count_24h"), self.count_24h)?,
            sum_24h_minor: self.sum_24h_minor,
            per_submerchant: self.per_submerchant,
        })
    }
}

/// What makes a payout risky in this organisation.
#[derive(Object, Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PayoutSettings {
    /// Beneficiary countries (ISO 3166-1 alpha-2) that fire
    /// `payout_high_risk_country`. Default: the FATF lists (black and grey).
    #[oai(validator(max_items = 300))]
    pub high_risk_countries: Vec<String>,
    /// Smallest cross-border payout per currency (ISO 4217), in minor units,
    /// that fires `payout_cross_border_high_amount`; a currency not listed
    /// never fires it.
    pub cross_border_min_minor: BTreeMap<String, i64>,
    /// `payout.initiated_by` values that name no one in particular (`system`,
    /// `api`, …) and fire `payout_unattributed_initiator` like a missing one;
    /// compared without case.
    #[oai(validator(max_items = 300))]
    pub generic_initiators: Vec<String>,
    /// Earlier new beneficiaries of one origin account within the window
    /// after which a payout to yet another new one fires
    /// `payout_new_beneficiary_velocity`; 0 turns the signal off.
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub new_beneficiary_limit: i64,
    /// That window, in hours (1–720).
    #[oai(validator(minimum(value = "1"), maximum(value = "720")))]
    pub new_beneficiary_window_hours: i64,
    /// Velocity limits of payouts (counted per origin account); `null` or
    /// absent: the organisation's `velocity`.
    #[serde(default)]
    pub velocity: Option<VelocitySettings>,
}

impl From<&PayoutPolicy> for PayoutSettings {
    fn from(p: &PayoutPolicy) -> Self {
        PayoutSettings {
            high_risk_countries: p.high_risk_countries.clone(),
            cross_border_min_minor: p.cross_border_min_minor.clone(),
            generic_initiators: p.generic_initiators.clone(),
            new_beneficiary_limit: p.new_beneficiary_limit.into(),
            new_beneficiary_window_hours: p.new_beneficiary_window_hours.into(),
            velocity: p.velocity.as_ref().map(VelocitySettings::from),
        }
    }
}

impl PayoutSettings {
    /// The core's payout policy (checked with the policy by [`Policy::validate`]).
    fn policy(self) -> Result<PayoutPolicy, ApiError> {
        Ok(PayoutPolicy {
            high_risk_countries: self.high_risk_countries,
            cross_border_min_minor: self.cross_border_min_minor,
            generic_initiators: self.generic_initiators,
            new_beneficiary_limit: count(
                "payout.new_beneficiary_limit",
                self.new_beneficiary_limit,
            )?,
            new_beneficiary_window_hours: count(
                "payout.new_beneficiary_window_hours",
                self.new_beneficiary_window_hours,
            )?,
            velocity: self.velocity.map(|v| v.limits("payout.velocity")).transpose()?,
        }
        .normalized())
    }
}

/// How this organisation scores assessments.
#[derive(Object, Serialize, Debug, Clone)]
pub struct ScoringSettings {
    /// Score thresholds of the decisions above `approve`.
    pub thresholds: ScoreThresholds,
    /// Weight overrides by signal code; codes not listed keep their default.
    pub weights: BTreeMap<String, i64>,
    /// Velocity limits of pay-ins (and of payouts without their own).
    pub velocity: VelocitySettings,
    /// Payout settings.
    pub payout: PayoutSettings,
    /// The whole signal catalogue with default and effective weights.
    pub signals: Vec<SignalSetting>,
}

impl ScoringSettings {
    /// The settings a policy gives.
    pub fn of(policy: &Policy) -> Self {
        let signals = signals::ALL
            .iter()
            .map(|s| SignalSetting {
                code: s.code.to_owned(),
                category: serde_json::to_value(s.category)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                description: s.description.to_owned(),
                default_weight: s.weight.into(),
                weight: policy.weights.weight(s.code, s.weight).into(),
            })
            .collect();
        ScoringSettings {
            thresholds: policy.thresholds.into(),
            weights: policy.weights.0.iter().map(|(k, v)| (k.clone(), i64::from(*v))).collect(),
            velocity: (&policy.velocity).into(),
            payout: (&policy.payout).into(),
            signals,
        }
    }
}

/// New thresholds, new weights, or both.
#[derive(Object, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ScoringUpdate {
    /// All three thresholds, strictly increasing, each 1–100. Absent: unchanged.
    #[serde(default)]
    pub thresholds: Option<ScoreThresholds>,
    /// The complete set of weight overrides (each −100–100) by signal code: codes left out
    /// return to their default weight, `{}` clears every override. Codes are those of the
    /// catalogue, plus `blocklist_<list_type>` (e.g. `blocklist_email`) to weigh flag and
    /// review hits of one list apart from the others. Absent: unchanged.
    #[serde(default)]
    pub weights: Option<BTreeMap<String, i64>>,
    /// The complete velocity limits (see `velocity` of the settings). Absent: unchanged.
    #[serde(default)]
    pub velocity: Option<VelocitySettings>,
    /// The complete payout settings: read them, change what you need, send
    /// them back. Absent: unchanged.
    #[serde(default)]
    pub payout: Option<PayoutSettings>,
}

impl ScoringUpdate {
    /// `before` with the update applied and checked as a whole.
    pub fn apply(self, before: &Policy) -> Result<Policy, ApiError> {
        if self.thresholds.is_none()
            && self.weights.is_none()
            && self.velocity.is_none()
            && self.payout.is_none()
        {
            return Err(ApiError::new(
                ErrorCode::ValidationError,
                "Send at least one of `thresholds`, `weights`, `velocity` and `payout`.",
            ));
        }
        let mut policy = before.clone();
        if let Some(t) = self.thresholds {
            policy.thresholds = thresholds(t)?;
        }
        if let Some(w) = self.weights {
            policy.weights.0 = weights(w)?;
        }
        if let Some(v) = self.velocity {
            policy.velocity = v.limits("velocity")?;
        }
        if let Some(p) = self.payout {
            policy.payout = p.policy()?;
        }
        policy.validate().map_err(|m| {
            // The core's messages start with the path of what is wrong.
            let field = match m.split_once(':') {
                Some((path, _)) if !path.contains(' ') => path.to_owned(),
                _ => "thresholds".to_owned(),
            };
            ApiError::field(&field, m)
        })?;
        Ok(policy)
    }
}

fn thresholds(t: ScoreThresholds) -> Result<Thresholds, ApiError> {
    let (min, max) = THRESHOLDS.into_inner();
    let one = |name: &str, v: i64| {
        u8::try_from(v).ok().filter(|v| THRESHOLDS.contains(v)).ok_or_else(|| {
            let field = format!("thresholds.{name}");
            ApiError::field(&field, format!("`{field}` must be between {min} and {max}"))
        })
    };
    Ok(Thresholds {
        review: one("review", t.review)?,
        challenge: one("challenge", t.challenge)?,
        decline: one("decline", t.decline)?,
    })
}

/// Whether `code` may carry a weight override.
pub fn is_weighable(code: &str) -> bool {
    signals::find(code).is_some() || ListType::ALL.iter().any(|t| blocklist_code(*t) == code)
}

fn weights(w: BTreeMap<String, i64>) -> Result<std::collections::HashMap<String, i32>, ApiError> {
    let unknown: Vec<String> =
        w.keys().filter(|c| !is_weighable(c)).map(|c| c.chars().take(64).collect()).collect();
    if !unknown.is_empty() {
        let shown = unknown.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
        return Err(ApiError::from_body(ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::ValidationError,
                message: format!(
                    "Unknown signal code(s) in `weights`: {shown}. \
                     GET /api/v1/settings/scoring lists the codes."
                ),
                details: Some(serde_json::json!({ "field": "weights", "unknown": unknown })),
            },
        }));
    }
    w.into_iter()
        .map(|(code, v)| match i32::try_from(v) {
            Ok(v) if WEIGHTS.contains(&v) => Ok((code, v)),
            _ => {
                let field = format!("weights.{code}");
                let (min, max) = WEIGHTS.into_inner();
                Err(ApiError::field(&field, format!("`{field}` must be between {min} and {max}")))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(v: serde_json::Value) -> Result<Policy, ApiError> {
        serde_json::from_value::<ScoringUpdate>(v).unwrap().apply(&Policy::default())
    }

    fn details(e: &ApiError) -> serde_json::Value {
        e.body().error.details.clone().unwrap_or_default()
    }

    #[test]
    fn thresholds_and_weights_are_checked() {
        let p = update(serde_json::json!({
            "thresholds": {"review": 10, "challenge": 20, "decline": 30},
            "weights": {"disposable_email": 90, "blocklist_email": 5}
        }))
        .unwrap();
        assert_eq!(p.thresholds, Thresholds { review: 10, challenge: 20, decline: 30 });
        assert_eq!(p.weights.weight("disposable_email", 0), 90);

        let e = update(
            serde_json::json!({"thresholds": {"review": 50, "challenge": 40, "decline": 90}}),
        )
        .unwrap_err();
        assert_eq!(details(&e)["field"], "thresholds");
        let e = update(
            serde_json::json!({"thresholds": {"review": 0, "challenge": 40, "decline": 90}}),
        )
        .unwrap_err();
        assert_eq!(details(&e)["field"], "thresholds.review");
        let e =
            update(serde_json::json!({"weights": {"nope": 1, "high_velocity": 1}})).unwrap_err();
        assert_eq!(details(&e)["unknown"], serde_json::json!(["nope"]));
        let e = update(serde_json::json!({"weights": {"high_velocity": 101}})).unwrap_err();
        assert_eq!(details(&e)["field"], "weights.high_velocity");
        assert!(update(serde_json::json!({})).is_err());
    }

    #[test]
    fn settings_list_the_whole_catalogue() {
        let mut p = Policy::default();
        p.weights.0.insert("high_velocity".into(), 70);
        let s = ScoringSettings::of(&p);
        assert_eq!(s.signals.len(), signals::ALL.len());
        let hv = s.signals.iter().find(|x| x.code == "high_velocity").unwrap();
        assert_eq!((hv.default_weight, hv.weight, hv.category.as_str()), (35, 70, "velocity"));
        assert_eq!(s.weights.get("high_velocity"), Some(&70));
    }
}
