//! Ingested events, ingestion rules and alerts on the wire, and the checks
//! a rule passes before it is stored.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::{
    api::common::{Pagination, PersonalData, iso, iso_opt, new_id},
    error::ApiError,
    ingest::rules::{IngestAction, IngestConditions},
    store::{AlertRow, IngestedEventRow, IngestionRuleRow},
};

/// Longest rule name, in characters.
pub const MAX_NAME: usize = 100;
/// Most ingestion rules one organisation may hold.
pub const MAX_RULES: i64 = 500;
/// Priority of a rule created without one.
pub const DEFAULT_PRIORITY: i64 = 100;

/// An event to ingest: any JSON object with `event` (or `type`) and `data`.
#[derive(Object, Debug)]
pub struct IngestEvent {
    /// The event type, e.g. `chargeback.created` (at most 200 characters).
    pub event: Option<String>,
    /// Read when `event` is absent.
    #[oai(rename = "type")]
    pub event_type: Option<String>,
    /// Your id of the event: a second event with the same id from the same
    /// key is a duplicate and is not processed again.
    pub id: Option<String>,
    /// Read when `id` is absent.
    pub event_id: Option<String>,
    /// The details (a JSON object). Rules read `data.amount` (minor units);
    /// a case opened for the event takes `data.amount` with
    /// `data.currency` and links `data.transaction_id` (a Clausum `txn_…`
    /// of your organisation). Card numbers anywhere are masked before the
    /// event is stored.
    pub data: serde_json::Value,
}

/// The answer to an ingested event.
#[derive(Object, Serialize, Debug)]
pub struct IngestAccepted {
    /// Always `true`.
    pub success: bool,
    /// `iev_…`: the stored event (the original one for a duplicate).
    pub event_id: String,
    /// `Event received and queued for processing`, or for a duplicate
    /// `Event already received`.
    pub message: String,
    /// `true` when this key already sent an event with this id.
    pub duplicate: bool,
}

/// An ingested event.
#[derive(Object, Serialize, Debug)]
pub struct IngestedEvent {
    /// `iev_…`.
    pub id: String,
    /// The event type.
    pub event_type: String,
    /// The sender's id of the event, if it sent one.
    pub provider_event_id: Option<String>,
    /// `received` (not processed yet), `processed`, `ignored` (a rule said
    /// so) or `review` (flagged for a person).
    pub status: String,
    /// The rule that matched, if any.
    pub matched_rule_id: Option<String>,
    /// Its action.
    pub action: Option<String>,
    /// The case it opened (`create_expediente`).
    pub case_id: Option<String>,
    /// The alert it raised (`create_alert`).
    pub alert_id: Option<String>,
    /// The body as stored (card numbers masked; for viewers, personal data
    /// too, as in the transaction monitor); only on
    /// `GET /api/v1/ingested-events/{id}`.
    pub payload: Option<serde_json::Value>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 time it was processed.
    pub processed_at: Option<String>,
}

impl IngestedEvent {
    /// The event, with its payload when `with_payload`.
    pub fn new(r: &IngestedEventRow, with_payload: bool) -> IngestedEvent {
        IngestedEvent {
            id: r.id.clone(),
            event_type: r.event_type.clone(),
            provider_event_id: r.provider_event_id.clone(),
            status: r.status.clone(),
            matched_rule_id: r.matched_rule_id.clone(),
            action: r.action.clone(),
            case_id: r.case_id.clone(),
            alert_id: r.alert_id.clone(),
            payload: with_payload.then(|| serde_json::from_str(&r.payload).unwrap_or_default()),
            created_at: iso(r.created_at),
            processed_at: iso_opt(r.processed_at),
        }
    }

    /// The event as a reader may see it: personal data in its payload
    /// masked, field by field, for roles that do not see it.
    pub fn for_reader(mut self, personal: PersonalData) -> IngestedEvent {
        if let Some(payload) = self.payload.as_mut() {
            personal.document(payload);
        }
        self
    }
}

/// A page of ingested events.
#[derive(Object, Debug)]
pub struct IngestedEventPage {
    /// Newest first, without payloads.
    pub data: Vec<IngestedEvent>,
    /// Totals.
    pub pagination: Pagination,
}

/// An alert raised by an ingestion rule.
#[derive(Object, Serialize, Debug)]
pub struct Alert {
    /// `alert_…`.
    pub id: String,
    /// `ingest`.
    pub source: String,
    /// The ingested event that raised it.
    pub source_id: Option<String>,
    /// The rule that raised it.
    pub rule_id: Option<String>,
    /// `<rule name>: <event type>`.
    pub title: String,
    /// Event id and type, the sender's id, amount and currency.
    pub details: serde_json::Value,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&AlertRow> for Alert {
    fn from(r: &AlertRow) -> Self {
        Alert {
            id: r.id.clone(),
            source: r.source.clone(),
            source_id: r.source_id.clone(),
            rule_id: r.rule_id.clone(),
            title: r.title.clone(),
            details: serde_json::from_str(&r.details).unwrap_or_default(),
            created_at: iso(r.created_at),
        }
    }
}

/// A page of alerts.
#[derive(Object, Debug)]
pub struct AlertPage {
    /// Newest first.
    pub data: Vec<Alert>,
    /// Totals.
    pub pagination: Pagination,
}

/// An ingestion rule.
#[derive(Object, Serialize, Debug, Clone)]
pub struct IngestionRule {
    /// `irule_…`.
    pub id: String,
    /// Label.
    pub name: String,
    /// Evaluation order, lower first (0–1,000,000); the first matching rule wins.
    pub priority: i64,
    /// Disabled rules never match.
    pub enabled: bool,
    /// When it matches.
    pub conditions: IngestConditions,
    /// What it does.
    pub action: IngestAction,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<&IngestionRuleRow> for IngestionRule {
    fn from(r: &IngestionRuleRow) -> Self {
        IngestionRule {
            id: r.id.clone(),
            name: r.name.clone(),
            priority: r.priority,
            enabled: r.enabled,
            conditions: serde_json::from_str(&r.conditions).unwrap_or_default(),
            action: IngestAction::parse(&r.action).unwrap_or(IngestAction::Ignore),
            created_at: iso(r.created_at),
            updated_at: iso(r.updated_at),
        }
    }
}

/// Every ingestion rule of the organisation.
#[derive(Object, Debug)]
pub struct IngestionRuleList {
    /// In evaluation order: priority, then age.
    pub data: Vec<IngestionRule>,
}

/// A new ingestion rule.
#[derive(Object, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewIngestionRule {
    /// Label, 1–100 characters.
    pub name: String,
    /// Evaluation order, lower first (0–1,000,000; default 100).
    #[serde(default)]
    pub priority: Option<i64>,
    /// Whether it is evaluated (default `true`).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// When it matches (absent: every event). Unknown conditions answer 400.
    #[serde(default)]
    pub conditions: Option<IngestConditions>,
    /// `create_expediente`, `create_alert`, `flag_review` or `ignore`.
    pub action: IngestAction,
}

impl NewIngestionRule {
    /// The row to store, checked.
    pub fn into_row(self, org: &str, now: i64) -> Result<IngestionRuleRow, ApiError> {
        let conditions = self.conditions.unwrap_or_default();
        Ok(IngestionRuleRow {
            id: new_id("irule"),
            organization_id: org.to_owned(),
            name: name(&self.name)?,
            priority: priority(self.priority.unwrap_or(DEFAULT_PRIORITY))?,
            enabled: self.enabled.unwrap_or(true),
            conditions: checked(conditions)?,
            action: self.action.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        })
    }
}

/// Changes to an ingestion rule; absent fields stay as they are.
#[derive(Object, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct IngestionRulePatch {
    /// New label.
    #[serde(default)]
    pub name: Option<String>,
    /// New evaluation order.
    #[serde(default)]
    pub priority: Option<i64>,
    /// Enable or disable it.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// New conditions (replacing the old ones whole).
    #[serde(default)]
    pub conditions: Option<IngestConditions>,
    /// New action.
    #[serde(default)]
    pub action: Option<IngestAction>,
}

impl IngestionRulePatch {
    /// `before` with the patch applied, checked.
    pub fn apply(self, before: &IngestionRuleRow, now: i64) -> Result<IngestionRuleRow, ApiError> {
        let mut r = before.clone();
        let mut changed = false;
        if let Some(n) = self.name {
            r.name = name(&n)?;
            changed = true;
        }
        if let Some(p) = self.priority {
            r.priority = priority(p)?;
            changed = true;
        }
        if let Some(e) = self.enabled {
            r.enabled = e;
            changed = true;
        }
        if let Some(c) = self.conditions {
            r.conditions = checked(c)?;
            changed = true;
        }
        if let Some(a) = self.action {
            r.action = a.as_str().to_owned();
            changed = true;
        }
        if !changed {
            return Err(ApiError::field(
                "name",
                "Send at least one of `name`, `priority`, `enabled`, `conditions`, `action`.",
            ));
        }
        r.updated_at = now;
        Ok(r)
    }
}

fn name(raw: &str) -> Result<String, ApiError> {
    let n = raw.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME || n.chars().any(char::is_control) {
        return Err(ApiError::field(
            "name",
            format!("`name` must be 1–{MAX_NAME} printable characters"),
        ));
    }
    Ok(n.to_owned())
}

fn priority(p: i64) -> Result<i64, ApiError> {
    if !(0..=1_000_000).contains(&p) {
        return Err(ApiError::field("priority", "`priority` must be between 0 and 1000000"));
    }
    Ok(p)
}

/// The conditions, checked, as stored JSON.
fn checked(mut c: IngestConditions) -> Result<String, ApiError> {
    if let Some(t) = &c.event_type {
        let t = t.trim();
        if t.is_empty()
            || t.chars().count() > crate::ingest::MAX_EVENT_TYPE
            || t.chars().any(char::is_control)
        {
            return Err(ApiError::field(
                "conditions.event_type",
                "`conditions.event_type` must be an event type of at most 200 characters, or `*`",
            ));
        }
        c.event_type = Some(t.to_owned());
    }
    for (field, v) in [("amount_gte", c.amount_gte), ("amount_lte", c.amount_lte)] {
        if v.is_some_and(|v| v < 0) {
            return Err(ApiError::field(
                &format!("conditions.{field}"),
                format!("`conditions.{field}` must be 0 or more (minor units)"),
            ));
        }
    }
    if let (Some(lo), Some(hi)) = (c.amount_gte, c.amount_lte)
        && lo > hi
    {
        return Err(ApiError::field(
            "conditions.amount_lte",
            "`conditions.amount_lte` must not be below `conditions.amount_gte`",
        ));
    }
    Ok(serde_json::to_string(&c).expect("serialises"))
}
