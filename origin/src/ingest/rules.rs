//! Ingestion rules: conditions on an event, an action, first match wins.

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::IngestionRuleRow;

/// What a matching rule does with an event.
#[derive(Enum, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum IngestAction {
    /// Open a case (expediente), source `ingest`; the event is `processed`.
    CreateExpediente,
    /// Record an alert (`GET /api/v1/alerts`); the event is `processed`.
    CreateAlert,
    /// Hold the event for a person: status `review`.
    FlagReview,
    /// Drop it: status `ignored`.
    Ignore,
}

impl IngestAction {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            IngestAction::CreateExpediente => "create_expediente",
            IngestAction::CreateAlert => "create_alert",
            IngestAction::FlagReview => "flag_review",
            IngestAction::Ignore => "ignore",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<IngestAction> {
        [Self::CreateExpediente, Self::CreateAlert, Self::FlagReview, Self::Ignore]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// When a rule matches. Every condition given must hold; a rule without
/// conditions matches every event.
#[derive(Object, Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IngestConditions {
    /// The event type, exactly (case-sensitive), or `*` for any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub event_type: Option<String>,
    /// `data.amount` (minor units) at least this. An event without a
    /// numeric `data.amount` never matches an amount condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub amount_gte: Option<i64>,
    /// `data.amount` (minor units) at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub amount_lte: Option<i64>,
}

impl IngestConditions {
    /// Whether an event of `event_type` with `data.amount` = `amount` matches.
    pub fn matches(&self, event_type: &str, amount: Option<f64>) -> bool {
        if let Some(t) = &self.event_type
            && t != "*"
            && t != event_type
        {
            return false;
        }
        let bound = |limit: Option<i64>, holds: fn(f64, f64) -> bool| match limit {
            None => true,
            Some(l) => amount.is_some_and(|a| holds(a, l as f64)),
        };
        bound(self.amount_gte, |a, l| a >= l) && bound(self.amount_lte, |a, l| a <= l)
    }
}

/// `data.amount` of an event body, if it is a number.
pub fn amount_of(body: &Value) -> Option<f64> {
    body["data"]["amount"].as_f64()
}

/// The first enabled rule (in the order given: priority, then age) that
/// matches, if any. Rules whose stored conditions or action no longer
/// parse are skipped.
pub fn first_match<'a>(
    rules: &'a [IngestionRuleRow],
    event_type: &str,
    amount: Option<f64>,
) -> Option<(&'a IngestionRuleRow, IngestAction)> {
    rules.iter().filter(|r| r.enabled).find_map(|r| {
        let conditions: IngestConditions = serde_json::from_str(&r.conditions).ok()?;
        let action = IngestAction::parse(&r.action)?;
        conditions.matches(event_type, amount).then_some((r, action))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(id: &str, priority: i64, conditions: Value, action: &str) -> IngestionRuleRow {
        IngestionRuleRow {
            id: id.into(),
            organization_id: "org".into(),
            name: id.into(),
            priority,
            enabled: true,
            conditions: conditions.to_string(),
            action: action.into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn conditions_combine() {
        let c: IngestConditions =
            serde_json::from_value(json!({"event_type": "chargeback", "amount_gte": 100})).unwrap();
        assert!(c.matches("chargeback", Some(100.0)));
        assert!(!c.matches("chargeback", Some(99.0)));
        assert!(!c.matches("chargeback", None));
        assert!(!c.matches("Chargeback", Some(500.0)));
        let any: IngestConditions = serde_json::from_value(json!({"event_type": "*"})).unwrap();
        assert!(any.matches("whatever", None));
        assert!(IngestConditions::default().matches("x", None));
        let range: IngestConditions =
            serde_json::from_value(json!({"amount_gte": 10, "amount_lte": 20})).unwrap();
        assert!(range.matches("x", Some(20.0)) && !range.matches("x", Some(20.5)));
    }

    #[test]
    fn unknown_conditions_are_refused() {
        assert!(serde_json::from_value::<IngestConditions>(json!({"amount_gt": 1})).is_err());
        assert!(serde_json::from_value::<IngestAction>(json!("delete_everything")).is_err());
    }

    #[test]
    fn the_first_enabled_match_in_order_wins() {
        let mut off = rule("off", 0, json!({}), "ignore");
        off.enabled = false;
        let rules = vec![
            off,
            rule("big", 1, json!({"amount_gte": 1000}), "create_expediente"),
            rule("any", 2, json!({"event_type": "*"}), "flag_review"),
        ];
        assert_eq!(first_match(&rules, "x", Some(5000.0)).map(|(r, _)| r.id.as_str()), Some("big"));
        let (r, a) = first_match(&rules, "x", Some(5.0)).unwrap();
        assert_eq!((r.id.as_str(), a), ("any", IngestAction::FlagReview));
        assert!(first_match(&rules[..2], "x", None).is_none());
        assert_eq!(amount_of(&json!({"data": {"amount": 12}})), Some(12.0));
        assert_eq!(amount_of(&json!({"data": {"amount": "12"}})), None);
    }
}
