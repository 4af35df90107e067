//! The last two steps of an assessment, shared by live assess and the
//! backtest: custom rules on top of the built-in signals, then score and
//! decision.

use std::borrow::Cow;

use super::{Fired, RequestFacts};
use crate::policy::Policy;
use crate::rules::{Action, RuleSet};
use crate::scoring::{self, Decision};

/// The outcome of the decision stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    /// The decision.
    pub decision: Decision,
    /// 0–100.
    pub risk_score: u8,
    /// What forced a decline, if anything did.
    pub blocked_by: Option<String>,
}

/// Runs `rules` on `facts` (which see the built-in signals `builtin`) and
/// decides. Returns the decision and the signals the rules fired. `floor`
/// is the least decision the built-in stage requires (a `review`
/// blocklist hit); `blocked_by` a hard block it found.
pub fn apply_rules(
    policy: &Policy,
    rules: &RuleSet,
    facts: &RequestFacts<'_>,
    builtin: &[Fired],
    mut floor: Decision,
    mut blocked_by: Option<String>,
) -> (Decided, Vec<Fired>) {
    let mut fired = Vec::new();
    for rule in rules.evaluate(facts) {
        match rule.action {
            Action::AddWeight { weight, code } => fired.push(Fired {
                code: Cow::Owned(code.clone()),
                weight: *weight,
                description: format!("Custom rule `{}`", rule.name),
            }),
            Action::Force { decision, code } => {
                floor = floor.max(*decision);
                if *decision == Decision::Decline {
                    blocked_by.get_or_insert_with(|| format!("rule:{}", rule.name));
                }
                fired.push(Fired {
                    code: Cow::Owned(code.clone().unwrap_or_else(|| rule.name.to_owned())),
                    weight: 0,
                    description: format!(
                        "Custom rule `{}` requires {}",
                        rule.name,
                        decision.as_str()
                    ),
                });
            }
        }
    }
    // A hard block always declines at 100.
    let (risk_score, decision) = if blocked_by.is_some() {
        (100, Decision::Decline)
    } else {
        let score = scoring::score(builtin.iter().chain(&fired).map(|f| f.weight));
        (score, policy.thresholds.decide(score).max(floor))
    };
    (Decided { decision, risk_score, blocked_by }, fired)
}
