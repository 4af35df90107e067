//! Per-organisation scoring settings on the wire: decision thresholds and
//! signal weight overrides, read from and written into the stored policy.

use std::collections::BTreeMap;

use clausum_core::{
    blocklist::ListType,
    engine::blocklist_code,
    policy::Policy,
    scoring::Thresholds,
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

/// How this organisation scores assessments.
#[derive(Object, Serialize, Debug, Clone)]
pub struct ScoringSettings {
    /// Score thresholds of the decisions above `approve`.
    pub thresholds: ScoreThresholds,
    /// Weight overrides by signal code; codes not listed keep their default.
    pub weights: BTreeMap<String, i64>,
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
}

impl ScoringUpdate {
    /// `before` with the update applied and checked as a whole.
    pub fn apply(self, before: &Policy) -> Result<Policy, ApiError> {
        if self.thresholds.is_none() && self.weights.is_none() {
            return Err(ApiError::new(
                ErrorCode::ValidationError,
                "Send `thresholds`, `weights` or both.",
            ));
        }
        let mut policy = before.clone();
        if let Some(t) = self.thresholds {
            policy.thresholds = thresholds(t)?;
        }
        if let Some(w) = self.weights {
            policy.weights.0 = weights(w)?;
        }
        policy.validate().map_err(|m| {
            let field = if m.starts_with("weights") { "weights" } else { "thresholds" };
            ApiError::field(field, m)
        })?;
        Ok(policy)
    }
}

fn thresholds(t: ScoreThresholds) -> Result<Thresholds, ApiError> {
    let one = |name: &str, v: i64| {
        u8::try_from(v).ok().filter(|v| (1..=100).contains(v)).ok_or_else(|| {
            let field = format!("thresholds.{name}");
            ApiError::field(&field, format!("`{field}` must be between 1 and 100"))
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
            Ok(v) if (-100..=100).contains(&v) => Ok((code, v)),
            _ => {
                let field = format!("weights.{code}");
                Err(ApiError::field(&field, format!("`{field}` must be between -100 and 100")))
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
