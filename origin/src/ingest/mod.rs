//! Event ingestion: any JSON event sent with a `clm_wh_` key is stored at
//! once (`received`), answered, and then processed by the organisation's
//! ingestion rules — in priority order, first match wins — in a task of its
//! own. An event a process never finished (it died, or the database failed
//! mid-way) stays `received` and is picked up again: on start, and every
//! [`STUCK_AFTER_MS`] by any running process.

pub mod rules;

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use clausum_core::{
    cases::{FraudReason, IncidentType},
    normalize::redact_pans,
    wire::ErrorCode,
};
use serde_json::{Value, json};

use self::rules::{IngestAction, amount_of, first_match};
use crate::{
    api::common::new_id,
    auto_case::{self, AutoCase, REFERENCE_ATTEMPTS},
    error::ApiError,
    state::{AppState, KeyInfo},
    store::{
        AlertRow, IngestOutcome, Ingested, IngestedEventRow, IngestionRuleRow, OutboxEventRow,
        StoreError, StoreResult,
    },
    time::now_ms,
};

/// Longest event type, in characters.
pub const MAX_EVENT_TYPE: usize = 200;
/// Longest sender's event id, in characters.
pub const MAX_PROVIDER_EVENT_ID: usize = 255;
/// An event still `received` this long after it arrived is taken over by
/// whichever process looks next.
pub const STUCK_AFTER_MS: i64 = 60_000;
/// Events recovered per database round trip.
const RECOVERY_BATCH: i64 = 100;

/// An ingest body, validated.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// `event` (or `type`).
    pub event_type: String,
    /// `id` (or `event_id`): the sender's id, for idempotency.
    pub provider_event_id: Option<String>,
    /// The whole body, card numbers masked, as stored.
    pub payload: String,
}

/// Reads an ingest body: a JSON object with `event` (or `type`) and an
/// object `data`; `id` (or `event_id`) is the sender's event id.
pub fn parse(raw: &[u8]) -> Result<Incoming, ApiError> {
    crate::payload::refuse_nul_body(raw)?;
    let mut body: Value = serde_json::from_slice(raw)
        .map_err(|_| ApiError::new(ErrorCode::ValidationError, "The body is not valid JSON."))?;
    if !body.is_object() {
        return Err(ApiError::new(ErrorCode::ValidationError, "The body must be a JSON object."));
    }
    let (field, value) = match (&body["event"], &body["type"]) {
        (Value::Null, t) => ("type", t),
        (e, _) => ("event", e),
    };
    let event_type = match value.as_str().map(str::trim) {
        Some(t)
            if !t.is_empty()
                && t.chars().count() <= MAX_EVENT_TYPE
                && !t.chars().any(char::is_control) =>
        {
            t.to_owned()
        }
        _ => {
            return Err(ApiError::field(
                field,
                format!(
                    "`event` (or `type`) must be a non-empty string of at most {MAX_EVENT_TYPE} characters"
                ),
            ));
        }
    };
    if !body["data"].is_object() {
        return Err(ApiError::field("data", "`data` must be a JSON object"));
    }
    let (field, value) = match (&body["id"], &body["event_id"]) {
        (Value::Null, e) => ("event_id", e),
        (i, _) => ("id", i),
    };
    let provider_event_id = match value {
        Value::Null => None,
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => return Err(ApiError::field(field, format!("`{field}` must be a string or a number"))),
    };
    if provider_event_id.as_ref().is_some_and(|id| {
        id.chars().count() > MAX_PROVIDER_EVENT_ID || id.chars().any(char::is_control)
    }) {
        return Err(ApiError::field(
            field,
            format!("`{field}` has at most {MAX_PROVIDER_EVENT_ID} printable characters"),
        ));
    }
    redact(&mut body);
    Ok(Incoming {
        event_type: redact_pans(&event_type).into_owned(),
        // Not masked: it identifies the event for de-duplication, and one
        // numeric id in ten passes the card-number check.
        provider_event_id,
        payload: body.to_string(),
    })
}

/// Masks card numbers wherever they appear: in strings, and as bare numbers
/// (which become masked strings).
fn redact(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(masked) = redact_pans(s) {
                *s = masked;
            }
        }
        Value::Number(n) => {
            if let std::borrow::Cow::Owned(masked) = redact_pans(&n.to_string()) {
                *v = Value::String(masked);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::Object(fields) => {
            // A card number used as a key is masked too.
            let keys: Vec<String> = fields
                .keys()
                .filter(|k| matches!(redact_pans(k), std::borrow::Cow::Owned(_)))
                .cloned()
                .collect();
            for key in keys {
                if let Some(value) = fields.remove(&key) {
                    fields.insert(redact_pans(&key).into_owned(), value);
                }
            }
            fields.values_mut().for_each(redact);
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// What storing an event did.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// `iev_…`: the new event, or the original for a duplicate.
    pub event_id: String,
    /// The key had already sent this event id; nothing was queued again.
    pub duplicate: bool,
}

/// Stores the event (durably, before the caller answers) and schedules its
/// processing.
pub async fn accept(
    state: &Arc<AppState>,
    key: &KeyInfo,
    incoming: Incoming,
) -> Result<Accepted, ApiError> {
    let row = IngestedEventRow {
        id: new_id("iev"),
        organization_id: key.organization_id.clone(),
        api_key_id: key.id.clone(),
        event_type: incoming.event_type,
        provider_event_id: incoming.provider_event_id,
        payload: incoming.payload,
        status: "received".into(),
        matched_rule_id: None,
        action: None,
        case_id: None,
        alert_id: None,
        created_at: now_ms(),
        processed_at: None,
    };
    match state.store.insert_ingested_event(&row).await? {
        Ingested::Duplicate(original) => Ok(Accepted { event_id: original.id, duplicate: true }),
        Ingested::New => {
            let (state, org, id) = (Arc::downgrade(state), row.organization_id, row.id.clone());
            tokio::spawn(async move {
                if let Some(state) = state.upgrade() {
                    run(&state, &org, &id).await;
                }
            });
            Ok(Accepted { event_id: row.id, duplicate: false })
        }
    }
}

/// Processes one event, logging (ids only) instead of failing: an event
/// that could not be finished stays `received` for the recovery.
async fn run(state: &AppState, org: &str, id: &str) {
    if let Err(e) = process(state, org, id).await {
        tracing::warn!(event_id = %id, error = %e, "ingested event left for a retry");
    }
}

/// Applies the organisation's first matching rule to a `received` event;
/// `false` when the event was not (or no longer) `received`.
pub async fn process(state: &AppState, org: &str, id: &str) -> StoreResult<bool> {
    let Some(event) = state.store.ingested_event(org, id).await? else { return Ok(false) };
    if event.status != "received" {
        return Ok(false);
    }
    let body: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
    let rules = state.store.ingestion_rules(org).await?;
    let matched = first_match(&rules, &event.event_type, amount_of(&body));
    let mut last = None;
    for _ in 0..REFERENCE_ATTEMPTS {
        let o = outcome(&event, &body, matched, now_ms());
        match state.store.finish_ingested_event(&o).await {
            Ok(done) => {
                if done && o.case.is_some() {
                    state.deliveries_queued.notify_one();
                }
                return Ok(done);
            }
            // A case reference number collided: draw another.
            Err(StoreError::Duplicate(e)) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Duplicate(last.unwrap_or_default()))
}

/// What the matched rule (if any) does to `event`.
fn outcome(
    event: &IngestedEventRow,
    body: &Value,
    matched: Option<(&IngestionRuleRow, IngestAction)>,
    now: i64,
) -> IngestOutcome {
    let mut o = IngestOutcome {
        organization_id: event.organization_id.clone(),
        event_id: event.id.clone(),
        status: "processed".into(),
        matched_rule_id: matched.map(|(r, _)| r.id.clone()),
        action: matched.map(|(_, a)| a.as_str().to_owned()),
        case: None,
        alert: None,
        processed_at: now,
    };
    let Some((rule, action)) = matched else { return o };
    let data = &body["data"];
    let currency = crate::providers::currency(data["currency"].as_str());
    // An amount means something only with its currency.
    let amount = currency.as_ref().and(data["amount"].as_i64());
    let facts = json!({
        "event_id": event.id, "event_type": event.event_type,
        "provider_event_id": event.provider_event_id, "rule_id": rule.id, "rule_name": rule.name,
        "amount": data["amount"], "currency": currency,
    });
    match action {
        IngestAction::FlagReview => o.status = "review".into(),
        IngestAction::Ignore => o.status = "ignored".into(),
        IngestAction::CreateExpediente => {
            o.case = Some(auto_case::opening(
                &AutoCase {
                    org: event.organization_id.clone(),
                    source: "ingest",
                    actor: format!("key:{}", event.api_key_id),
                    reason: FraudReason::Other,
                    incident_type: IncidentType::Otro,
                    title: format!("Ingested event: {}", event.event_type),
                    description: Some(format!(
                        "Opened by the ingestion rule \"{}\" for event {}.",
                        rule.name, event.id
                    )),
                    amount_minor: amount,
                    currency: amount.and(currency),
                    // Linked only if it is a transaction of this organisation.
                    transaction_id: data["transaction_id"].as_str().map(str::to_owned),
                    activity_action: "opened_by_ingest",
                    details: facts,
                },
                now,
            ));
        }
        IngestAction::CreateAlert => {
            let alert = AlertRow {
                id: new_id("alert"),
                organization_id: event.organization_id.clone(),
                source: "ingest".into(),
                source_id: Some(event.id.clone()),
                rule_id: Some(rule.id.clone()),
                title: format!("{}: {}", rule.name, event.event_type).chars().take(300).collect(),
                details: facts.to_string(),
                created_at: now,
            };
            let announced = OutboxEventRow {
                id: new_id("evt"),
                organization_id: event.organization_id.clone(),
                event_type: "alert.created".into(),
                payload: json!({"alert_id": alert.id, "title": alert.title, "details": facts})
                    .to_string(),
                created_at: now,
                // The ingest request that carried the event, when processed inline.
                request_id: crate::metrics::current_request_id(),
            };
            o.alert = Some((alert, announced));
        }
    }
    o
}

/// Processes, now and then every [`STUCK_AFTER_MS`], the events left
/// `received`: on start, those a previous process accepted but never
/// finished; later, those another process dropped. Ends with the state.
pub fn spawn_recovery(state: &Arc<AppState>) {
    let state: Weak<AppState> = Arc::downgrade(state);
    tokio::spawn(async move {
        let mut cutoff = now_ms();
        loop {
            let Some(live) = state.upgrade() else { return };
            let full = match live.store.unprocessed_events(cutoff, RECOVERY_BATCH).await {
                Ok(batch) => {
                    let mut progressed = false;
                    for (org, id) in &batch {
                        match process(&live, org, id).await {
                            Ok(done) => progressed |= done,
                            Err(e) => {
                                tracing::warn!(event_id = %id, error = %e, "ingested event left for a retry")
                            }
                        }
                    }
                    batch.len() as i64 == RECOVERY_BATCH && progressed
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not look for unprocessed ingested events");
                    false
                }
            };
            drop(live);
            if !full {
                tokio::time::sleep(Duration::from_millis(STUCK_AFTER_MS as u64 / 2)).await;
                cutoff = now_ms() - STUCK_AFTER_MS;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_need_an_event_type_and_data() {
        let ok = parse(br#"{"type": "chargeback", "id": 42, "data": {"amount": 10}}"#).unwrap();
        assert_eq!(
            (ok.event_type.as_str(), ok.provider_event_id.as_deref()),
            ("chargeback", Some("42"))
        );
        let ok = parse(br#"{"event": "a", "type": "b", "event_id": "e1", "data": {}}"#).unwrap();
        assert_eq!((ok.event_type.as_str(), ok.provider_event_id.as_deref()), ("a", Some("e1")));
        for bad in [
            &br#"{"data": {}}"#[..],
            br#"{"event": "", "data": {}}"#,
            br#"{"event": 5, "data": {}}"#,
            br#"{"event": "x"}"#,
            br#"{"event": "x", "data": []}"#,
            br#"{"event": "x", "data": {}, "id": {}}"#,
            br#"[1]"#,
            br#"{"event": "x", "data": {"#,
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn card_numbers_are_masked_before_storage() {
        let got = parse(
            br#"{"event": "x", "data": {"pan": "4111 1111 1111 1111", "n": 4111111111111111, "amount": 1500}}"#,
        )
        .unwrap();
        assert!(!got.payload.contains("4111111111111111"), "{}", got.payload);
        assert!(!got.payload.contains("4111 1111 1111 1111"), "{}", got.payload);
        assert!(got.payload.contains("\"amount\":1500"), "{}", got.payload);
        // As a key or in the event type too (the event id is kept: it de-duplicates).
        let got = parse(
            br#"{"event": "card 4111111111111111", "id": 4111111111111111, "data": {"4111111111111111": true}}"#,
        )
        .unwrap();
        assert!(!got.payload.contains("4111111111111111"), "{}", got.payload);
        assert!(!got.event_type.contains("4111111111111111"), "{}", got.event_type);
    }

    #[test]
    fn nul_characters_are_refused() {
        assert!(parse(br#"{"event": "x", "data": {"transaction_id": "\u0000"}}"#).is_err());
        assert!(parse(br#"{"event": "x", "data": {"note": "\\u0000"}}"#).is_ok());
    }
}
