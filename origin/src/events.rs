//! Domain events for webhooks: what each change announces.
//!
//! Events are rows of `outbox_events`, written in the same database
//! transaction as the change (see `store::webhooks::emit!`). Most
//! management changes are announced from their audit row ([`from_audit`]),
//! so a change cannot be audited without being announced or the reverse;
//! assess and fraud reports build theirs explicitly.

use clausum_core::webhook::EventType;
use serde_json::Value;

use crate::store::{AuditRow, OutboxEventRow};

/// A new event of `org`.
pub fn new_event(org: &str, event_type: EventType, data: &Value, now: i64) -> OutboxEventRow {
    OutboxEventRow {
        id: crate::api::common::new_id("evt"),
        organization_id: org.to_owned(),
        event_type: event_type.as_str().to_owned(),
        payload: data.to_string(),
        created_at: now,
        request_id: crate::metrics::current_request_id(),
    }
}

/// An event whose data is already serialised JSON (the assess response).
pub fn new_event_raw(org: &str, event_type: EventType, json: String, now: i64) -> OutboxEventRow {
    OutboxEventRow {
        id: crate::api::common::new_id("evt"),
        organization_id: org.to_owned(),
        event_type: event_type.as_str().to_owned(),
        payload: json,
        created_at: now,
        request_id: crate::metrics::current_request_id(),
    }
}

/// The events a management change announces, from its audit row:
/// - a case created → `case.created` (data: the case);
/// - any other change of a case → `case.updated` (data: the case after);
/// - a case entering `enviado` (submitted to the regulator) → also
///   `fraud.confirmed` (data: `{case}`): the organisation has confirmed the
///   fraud formally.
///
/// Cases opened by fraud reports are announced by the report itself.
pub fn from_audit(a: &AuditRow) -> Vec<OutboxEventRow> {
    if a.resource_type != "case" || !a.action.starts_with("case.") {
        return Vec::new();
    }
    let parse =
        |s: &Option<String>| s.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok());
    let (before, after) = (parse(&a.before_state), parse(&a.after_state));
    let mut out = Vec::new();
    if a.action == "case.create" {
        if let Some(case) = &after {
            out.push(new_event(&a.organization_id, EventType::CaseCreated, case, a.created_at));
        }
        return out;
    }
    let status =
        |v: &Option<Value>| v.as_ref().and_then(|c| c["status"].as_str().map(str::to_owned));
    let data = after.clone().unwrap_or_else(|| serde_json::json!({"id": a.resource_id}));
    out.push(new_event(&a.organization_id, EventType::CaseUpdated, &data, a.created_at));
    if status(&after).as_deref() == Some("enviado") && status(&before).as_deref() != Some("enviado")
    {
        let confirmed = serde_json::json!({ "case": data });
        out.push(new_event(
            &a.organization_id,
            EventType::FraudConfirmed,
            &confirmed,
            a.created_at,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(action: &str, before: Option<&str>, after: Option<&str>) -> AuditRow {
        AuditRow {
            id: "aud_1".into(),
            organization_id: "org_1".into(),
            actor: "user:1".into(),
            action: action.into(),
            resource_type: "case".into(),
            resource_id: Some("case_1".into()),
            before_state: before.map(Into::into),
            after_state: after.map(Into::into),
            created_at: 5,
        }
    }

    fn types(events: &[OutboxEventRow]) -> Vec<&str> {
        events.iter().map(|e| e.event_type.as_str()).collect()
    }

    #[test]
    fn case_changes_announce_themselves() {
        assert_eq!(
            types(&from_audit(&audit("case.create", None, Some(r#"{"status":"borrador"}"#)))),
            ["case.created"]
        );
        let upd = from_audit(&audit(
            "case.update",
            Some(r#"{"status":"borrador"}"#),
            Some(r#"{"status":"en_revision"}"#),
        ));
        assert_eq!(types(&upd), ["case.updated"]);
        let sub = from_audit(&audit(
            "case.submit",
            Some(r#"{"status":"en_revision"}"#),
            Some(r#"{"status":"enviado"}"#),
        ));
        assert_eq!(types(&sub), ["case.updated", "fraud.confirmed"]);
        let again = from_audit(&audit(
            "case.update",
            Some(r#"{"status":"enviado"}"#),
            Some(r#"{"status":"enviado"}"#),
        ));
        assert_eq!(types(&again), ["case.updated"]);
    }

    #[test]
    fn other_changes_announce_nothing() {
        let mut a = audit("blocklist.create", None, Some("{}"));
        a.resource_type = "blocklist_entry".into();
        assert!(from_audit(&a).is_empty());
        assert!(from_audit(&audit("fraud.report", None, Some("{}"))).is_empty());
    }
}
