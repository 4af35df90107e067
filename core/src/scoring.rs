//! The scoring model: weights summed and capped, thresholds mapping the
//! score to a decision, hard blocks forcing a decline.

use std::{collections::HashMap, ops::RangeInclusive};

/// The weights a signal may carry: in the catalogue, in an organisation's
/// overrides and in a custom rule's `add`.
pub const WEIGHTS: RangeInclusive<i32> = -100..=100;

/// The values each decision threshold may take.
pub const THRESHOLDS: RangeInclusive<u8> = 1..=100;

use serde::{Deserialize, Serialize};

/// What the caller should do before money moves. Ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
pub enum Decision {
    /// Low risk: capture the payment / release the transfer.
    Approve,
    /// Medium risk: proceed but queue for manual review.
    Review,
    /// Elevated risk: step up (3DS, OTP) before proceeding.
    Challenge,
    /// High risk or hard block: do not move the money.
    Decline,
}

impl Decision {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Review => "review",
            Decision::Challenge => "challenge",
            Decision::Decline => "decline",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approve" => Some(Decision::Approve),
            "review" => Some(Decision::Review),
            "challenge" => Some(Decision::Challenge),
            "decline" => Some(Decision::Decline),
            _ => None,
        }
    }
}

/// Lowest score of each band above `approve`. Must be strictly increasing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Scores from here route to `review`.
    pub review: u8,
    /// Scores from here route to `challenge`.
    pub challenge: u8,
    /// Scores from here are declined.
    pub decline: u8,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { review: 30, challenge: 60, decline: 80 }
    }
}

impl Thresholds {
    /// Checks `0 < review < challenge < decline <= 100`.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.review < *THRESHOLDS.start() {
            return Err("review threshold must be above 0");
        }
        if !(self.review < self.challenge && self.challenge < self.decline) {
            return Err("thresholds must increase: review < challenge < decline");
        }
        if self.decline > *THRESHOLDS.end() {
            return Err("decline threshold must be at most 100");
        }
        Ok(())
    }

    /// The band a score falls in.
    pub fn decide(&self, score: u8) -> Decision {
        if score >= self.decline {
            Decision::Decline
        } else if score >= self.challenge {
            Decision::Challenge
        } else if score >= self.review {
            Decision::Review
        } else {
            Decision::Approve
        }
    }
}

/// Per-organisation weight overrides, by signal code. A code not listed
/// keeps its catalogue default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightOverrides(pub HashMap<String, i32>);

impl WeightOverrides {
    /// The weight for `code`: the override if any, else `default`.
    pub fn weight(&self, code: &str, default: i32) -> i32 {
        self.0.get(code).copied().unwrap_or(default)
    }
}

/// Sums weights, floors at 0 and caps at 100.
pub fn score(weights: impl IntoIterator<Item = i32>) -> u8 {
    let sum: i64 = weights.into_iter().map(i64::from).sum();
    sum.clamp(0, 100) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands() {
        let t = Thresholds::default();
        assert_eq!(t.decide(0), Decision::Approve);
        assert_eq!(t.decide(29), Decision::Approve);
        assert_eq!(t.decide(30), Decision::Review);
        assert_eq!(t.decide(60), Decision::Challenge);
        assert_eq!(t.decide(80), Decision::Decline);
        assert_eq!(t.decide(100), Decision::Decline);
    }

    #[test]
    fn score_is_capped_and_floored() {
        assert_eq!(score([60, 70]), 100);
        assert_eq!(score([10, -30]), 0);
        assert_eq!(score([]), 0);
        assert_eq!(score([i32::MAX, i32::MAX]), 100);
    }

    #[test]
    fn thresholds_must_increase() {
        assert!(Thresholds { review: 50, challenge: 40, decline: 90 }.validate().is_err());
        assert!(Thresholds { review: 10, challenge: 20, decline: 101 }.validate().is_err());
        assert!(Thresholds::default().validate().is_ok());
    }

    #[test]
    fn decisions_order_by_severity() {
        assert!(Decision::Approve < Decision::Review);
        assert!(Decision::Challenge < Decision::Decline);
    }
}
