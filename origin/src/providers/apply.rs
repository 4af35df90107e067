//! Applying a provider's event, whoever the provider: find the Clausum
//! transaction it is about, plan every write, and commit them in one
//! database transaction keyed by the provider's event id.

use clausum_core::{
    cases::{FraudReason, IncidentType},
    webhook::EventType,
};
use serde_json::{Map, Value, json};

use super::{Dispute, Effect, PaymentRef, Provider, ProviderEvent};
use crate::{
    auto_case::{self, AutoCase, REFERENCE_ATTEMPTS},
    error::ApiError,
    events::new_event,
    state::AppState,
    store::{
        ActivityRow, DisputeRow, ProviderEventPlan, ProviderEventRow, StoreError, TransactionLink,
        TransactionRow,
    },
    time::now_ms,
};

/// What receiving an event did.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// Applied now, with its outcome (`applied`, `unmatched`, `ignored`).
    New(String),
    /// The event id was applied before (with this outcome): nothing changed.
    Duplicate(String),
}

/// Applies a verified event of `provider` to organisation `org`.
pub async fn receive(
    state: &AppState,
    provider: &dyn Provider,
    org: &str,
    event: &ProviderEvent,
) -> Result<Received, ApiError> {
    let seen = |row: Option<ProviderEventRow>| {
        Received::Duplicate(row.map_or_else(|| "applied".to_owned(), |r| r.outcome))
    };
    let name = provider.name();
    if let Some(row) = state.store.provider_event(org, name, &event.id).await? {
        return Ok(seen(Some(row)));
    }
    // Only a case's reference number can collide (one in a billion): draw
    // a fresh one and try again.
    let mut last = String::new();
    for _ in 0..REFERENCE_ATTEMPTS {
        let plan = plan(state, provider, org, event, now_ms()).await?;
        match state.store.record_provider_event(&plan).await {
            Ok(true) => {
                if !plan.events.is_empty() || plan.case.is_some() {
                    state.deliveries_queued.notify_one();
                }
                return Ok(Received::New(plan.event.outcome));
            }
            // A concurrent delivery of the same event won.
            Ok(false) => return Ok(seen(state.store.provider_event(org, name, &event.id).await?)),
            Err(StoreError::Duplicate(e)) => last = e,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::internal(&format!("provider event kept conflicting: {last}")))
}

/// Every write of one event.
async fn plan(
    state: &AppState,
    provider: &dyn Provider,
    org: &str,
    event: &ProviderEvent,
    now: i64,
) -> Result<ProviderEventPlan, ApiError> {
    let name = provider.name();
    let mut plan = ProviderEventPlan {
        event: ProviderEventRow {
            organization_id: org.to_owned(),
            provider: name.to_owned(),
            provider_event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            outcome: "applied".into(),
            received_at: now,
        },
        case: None,
        activity: None,
        dispute: None,
        link: None,
        events: Vec::new(),
    };
    let base = |ids: &[(&'static str, String)]| {
        let mut data = Map::new();
        data.insert("provider".into(), name.into());
        data.insert("provider_event_id".into(), event.id.clone().into());
        for (k, v) in ids {
            data.insert((*k).into(), v.clone().into());
        }
        data
    };
    let link = |txn: &TransactionRow, payment: &PaymentRef| {
        payment.ids.first().map(|id| TransactionLink {
            transaction_id: txn.id.clone(),
            provider: name.to_owned(),
            external_id: id.clone(),
        })
    };
    match &event.effect {
        Effect::Ignored => plan.event.outcome = "ignored".into(),
        Effect::Payment(p) => {
            let Some(txn) = find(state, org, name, &p.payment).await? else {
                // Not a payment Clausum assessed: nothing to announce.
                plan.event.outcome = "unmatched".into();
                return Ok(plan);
            };
            let mut data = base(&p.provider_ids);
            data.insert("transaction_id".into(), txn.id.clone().into());
            data.insert("session_id".into(), txn.session_id.clone().into());
            data.insert("external_transaction_id".into(), p.payment.ids.first().cloned().into());
            data.insert("amount".into(), p.amount_minor.unwrap_or(txn.amount_minor).into());
            data.insert(
                "currency".into(),
                p.currency.clone().unwrap_or(txn.currency.clone()).into(),
            );
            let kind = if p.succeeded {
                EventType::TransactionSucceeded
            } else {
                data.insert("failure_code".into(), p.failure_code.clone().into());
                EventType::TransactionFailed
            };
            plan.link = link(&txn, &p.payment);
            plan.events.push(new_event(org, kind, &Value::Object(data), now));
        }
        Effect::DisputeOpened(d) => {
            let known = state.store.provider_dispute(org, name, &d.id).await?;
            let txn = find(state, org, name, &d.payment).await?;
            let mut case_ref = known.as_ref().and_then(|k| k.case_id.clone()).map(|id| (id, None));
            if case_ref.is_none() {
                let opening = auto_case::opening(
                    &AutoCase {
                        org: org.to_owned(),
                        source: "provider",
                        actor: format!("provider:{name}"),
                        reason: FraudReason::Chargeback,
                        incident_type: IncidentType::TransferenciaNoAutorizada,
                        title: format!("{} dispute {}", provider.label(), d.id),
                        description: Some(describe(provider, d)),
                        amount_minor: d.amount_minor,
                        currency: d.currency.clone(),
                        transaction_id: txn.as_ref().map(|t| t.id.clone()),
                        activity_action: "opened_by_provider",
                        details: Value::Object(dispute_data(&base(&d.provider_ids), d)),
                    },
                    now,
                );
                case_ref =
                    Some((opening.case.id.clone(), Some(opening.case.reference_number.clone())));
                plan.case = Some(opening);
            }
            let (case_id, reference) = case_ref.unzip();
            let mut data = dispute_data(&base(&d.provider_ids), d);
            data.insert("case_id".into(), case_id.clone().into());
            data.insert("reference_number".into(), reference.flatten().into());
            data.insert("transaction_id".into(), txn.as_ref().map(|t| t.id.clone()).into());
            plan.dispute = Some(dispute_row(org, name, d, case_id, txn.as_ref(), now));
            plan.link = txn.as_ref().and_then(|t| link(t, &d.payment));
            plan.events.push(new_event(org, EventType::DisputeCreated, &Value::Object(data), now));
        }
        Effect::DisputeChanged { dispute: d, closed } => {
            let known = state.store.provider_dispute(org, name, &d.id).await?;
            let case_id = known.as_ref().and_then(|k| k.case_id.clone());
            let txn_id = match known.as_ref().and_then(|k| k.transaction_id.clone()) {
                Some(id) => Some(id),
                None => find(state, org, name, &d.payment).await?.map(|t| t.id),
            };
            let mut data = dispute_data(&base(&d.provider_ids), d);
            data.insert("case_id".into(), case_id.clone().into());
            data.insert("transaction_id".into(), txn_id.clone().into());
            if let Some(case) = &case_id {
                // The dispute's course is part of the case's story.
                plan.activity = Some(ActivityRow {
                    id: crate::api::common::new_id("act"),
                    case_id: case.clone(),
                    organization_id: org.to_owned(),
                    actor: format!("provider:{name}"),
                    action: if *closed {
                        "provider_dispute_closed"
                    } else {
                        "provider_dispute_updated"
                    }
                    .into(),
                    details: json!({"dispute_id": d.id, "status": d.status}).to_string(),
                    created_at: now,
                });
            }
            let mut row = dispute_row(org, name, d, case_id, None, now);
            row.transaction_id = txn_id;
            plan.dispute = Some(row);
            let kind = if *closed { EventType::DisputeResolved } else { EventType::DisputeUpdated };
            plan.events.push(new_event(org, kind, &Value::Object(data), now));
        }
        Effect::FraudWarning(w) => {
            let txn = find(state, org, name, &w.payment).await?;
            let mut details = base(&w.provider_ids);
            details.insert("warning_id".into(), w.id.clone().into());
            details.insert("fraud_type".into(), w.fraud_type.clone().into());
            plan.case = Some(auto_case::opening(
                &AutoCase {
                    org: org.to_owned(),
                    source: "provider",
                    actor: format!("provider:{name}"),
                    reason: w.reason,
                    incident_type: w.reason.incident_type(),
                    title: format!("{} early fraud warning {}", provider.label(), w.id),
                    description: Some(format!(
                        "{} warned of fraud ({}) on this payment.",
                        provider.label(),
                        w.fraud_type
                    )),
                    amount_minor: txn.as_ref().map(|t| t.amount_minor),
                    currency: txn.as_ref().map(|t| t.currency.clone()),
                    transaction_id: txn.as_ref().map(|t| t.id.clone()),
                    activity_action: "opened_by_provider",
                    details: Value::Object(details),
                },
                now,
            ));
            plan.link = txn.as_ref().and_then(|t| link(t, &w.payment));
        }
    }
    Ok(plan)
}

/// The transaction a provider's payment is: by the assess session id the
/// merchant passed along, else by the provider's payment ids as sent to
/// assess in `payment_id` (or recorded by a fraud report).
async fn find(
    state: &AppState,
    org: &str,
    provider: &str,
    payment: &PaymentRef,
) -> Result<Option<TransactionRow>, ApiError> {
    if let Some(session) = &payment.session_id
        && let Some(txn) = state.store.transaction_by_session(org, session).await?
    {
        return Ok(Some(txn));
    }
    for id in &payment.ids {
        if let Some(txn) = state.store.transaction_by_external_id(org, id, Some(provider)).await? {
            return Ok(Some(txn));
        }
    }
    Ok(None)
}

fn dispute_data(base: &Map<String, Value>, d: &Dispute) -> Map<String, Value> {
    let mut data = base.clone();
    data.insert("dispute_id".into(), d.id.clone().into());
    data.insert("status".into(), d.status.clone().into());
    data.insert("reason".into(), d.reason.clone().into());
    data.insert("amount".into(), d.amount_minor.into());
    data.insert("currency".into(), d.currency.clone().into());
    data
}

fn dispute_row(
    org: &str,
    provider: &str,
    d: &Dispute,
    case_id: Option<String>,
    txn: Option<&TransactionRow>,
    now: i64,
) -> DisputeRow {
    DisputeRow {
        organization_id: org.to_owned(),
        provider: provider.to_owned(),
        dispute_id: d.id.clone(),
        case_id,
        transaction_id: txn.map(|t| t.id.clone()),
        status: d.status.clone(),
        created_at: now,
        updated_at: now,
    }
}

fn describe(provider: &dyn Provider, d: &Dispute) -> String {
    let reason = d.reason.as_deref().unwrap_or("unknown");
    format!(
        "{} opened dispute {} (reason: {reason}, status: {}).",
        provider.label(),
        d.id,
        d.status
    )
}
