//! Cases opened by machines rather than people: a provider's dispute or
//! early fraud warning, an ingestion rule's `create_expediente`.
//!
//! They are built like a manual case (status `borrador`, a fresh reference
//! number) with a priority derived as a fraud report's is — from a reason
//! and the amount — and an audit row with action `case.create`, so the
//! same `case.created` event announces them.

use clausum_core::cases::{CaseStatus, FraudReason, IncidentType, Priority, ReferenceNumber};
use rand::RngCore;

use crate::{
    api::{cases::Case, common::new_id},
    store::{ActivityRow, AuditRow, CaseOpening, CaseRow},
};

/// How many fresh reference numbers an automatic case tries before giving
/// up (a collision is about one in a billion).
pub const REFERENCE_ATTEMPTS: usize = 3;

/// What an automatic case is about.
#[derive(Debug, Clone)]
pub struct AutoCase {
    /// Owning organisation.
    pub org: String,
    /// `provider` or `ingest`.
    pub source: &'static str,
    /// Who opened it, for the case, its activity and the audit log
    /// (`provider:stripe`, `key:<id>`).
    pub actor: String,
    /// The reason the priority derives from.
    pub reason: FraudReason,
    /// The regulators' incident type.
    pub incident_type: IncidentType,
    /// Short title.
    pub title: String,
    /// Free text.
    pub description: Option<String>,
    /// Amount involved, minor units of `currency`.
    pub amount_minor: Option<i64>,
    /// ISO 4217, validated.
    pub currency: Option<String>,
    /// A transaction of the organisation to link.
    pub transaction_id: Option<String>,
    /// The first activity line's action, e.g. `opened_by_provider`.
    pub activity_action: &'static str,
    /// Its details.
    pub details: serde_json::Value,
}

/// The case, its first activity line and its audit row; a fresh reference
/// number on every call.
pub fn opening(spec: &AutoCase, now: i64) -> CaseOpening {
    let mut random = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let reference = ReferenceNumber::from_random(random);
    let priority = match (spec.amount_minor, &spec.currency) {
        (Some(amount), Some(currency)) => Priority::derive(spec.reason, amount, currency),
        _ => Priority::for_reason(spec.reason),
    };
    let case = CaseRow {
        id: new_id("case"),
        organization_id: spec.org.clone(),
        reference_number: reference.as_str().to_owned(),
        status: CaseStatus::Borrador.as_str().into(),
        priority: priority.as_str().into(),
        incident_type: spec.incident_type.as_str().into(),
        incident_date: None,
        jurisdiction: None,
        currency: spec.currency.clone(),
        amount_minor: spec.amount_minor,
        victim_name: None,
        victim_email: None,
        title: spec.title.chars().take(200).collect(),
        description: spec.description.clone(),
        source: spec.source.into(),
        fraud_reason: Some(spec.reason.as_str().into()),
        source_transaction_id: None,
        notify: "{}".into(),
        created_by: spec.actor.clone(),
        created_at: now,
        updated_at: now,
        submitted_at: None,
        resolved_at: None,
    };
    let activity = ActivityRow {
        id: new_id("act"),
        case_id: case.id.clone(),
        organization_id: spec.org.clone(),
        actor: spec.actor.clone(),
        action: spec.activity_action.into(),
        details: spec.details.to_string(),
        created_at: now,
    };
    let audit = AuditRow {
        id: new_id("aud"),
        organization_id: spec.org.clone(),
        actor: spec.actor.clone(),
        action: "case.create".into(),
        resource_type: "case".into(),
        resource_id: Some(case.id.clone()),
        before_state: None,
        after_state: Some(serde_json::to_string(&Case::from(&case)).expect("serialises")),
        created_at: now,
    };
    CaseOpening { case, activity, audit, transaction_id: spec.transaction_id.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(amount: Option<i64>) -> AutoCase {
        AutoCase {
            org: "org_1".into(),
            source: "provider",
            actor: "provider:stripe".into(),
            reason: FraudReason::Chargeback,
            incident_type: FraudReason::Chargeback.incident_type(),
            title: "Stripe dispute".into(),
            description: None,
            amount_minor: amount,
            currency: amount.map(|_| "USD".into()),
            transaction_id: None,
            activity_action: "opened_by_provider",
            details: serde_json::json!({}),
        }
    }

    #[test]
    fn priority_follows_the_amount_and_the_audit_announces_the_case() {
        assert_eq!(opening(&spec(None), 1).case.priority, "media");
        assert_eq!(opening(&spec(Some(5_000)), 1).case.priority, "media");
        assert_eq!(opening(&spec(Some(200_000)), 1).case.priority, "alta");
        assert_eq!(opening(&spec(Some(2_000_000)), 1).case.priority, "urgente");
        let o = opening(&spec(None), 7);
        assert_eq!(o.case.incident_type, "transferencia_no_autorizada");
        assert_eq!(o.case.status, "borrador");
        let events = crate::events::from_audit(&o.audit);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "case.created");
        assert_ne!(opening(&spec(None), 7).case.reference_number, o.case.reference_number);
    }
}
