//! Webhook resources on the wire.

use clausum_core::webhook::EventType;
use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::{
    api::common::{Pagination, iso, iso_opt},
    store::{AttemptRow, DeliveryRow, EndpointRow},
};

/// An event of the catalogue.
#[derive(Object, Debug)]
pub struct EventInfo {
    /// The event type.
    pub event: EventType,
    /// When it is sent.
    pub description: String,
}

/// A webhook endpoint (its secret is never shown again).
#[derive(Object, Serialize, Debug, Clone)]
pub struct Endpoint {
    /// `we_…`.
    pub id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Free text.
    pub description: Option<String>,
    /// Subscribed event types; empty means every event.
    pub events: Vec<String>,
    /// Disabled endpoints receive nothing.
    pub enabled: bool,
    /// Why it was disabled automatically (sustained failure), if it was.
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: i64,
    /// When the current run of failures began (RFC 3339).
    pub failing_since: Option<String>,
    /// The first characters of the current secret, to tell secrets apart.
    pub secret_hint: String,
    /// Until when the previous secret also signs (RFC 3339), during a rotation.
    pub previous_secret_expires_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<&EndpointRow> for Endpoint {
    fn from(e: &EndpointRow) -> Self {
        Endpoint {
            id: e.id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            events: serde_json::from_str(&e.events).unwrap_or_default(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            consecutive_failures: e.consecutive_failures,
            failing_since: iso_opt(e.failing_since),
            secret_hint: format!("{}…", e.secret.chars().take(10).collect::<String>()),
            previous_secret_expires_at: iso_opt(e.previous_secret_expires_at),
            created_at: iso(e.created_at),
            updated_at: iso(e.updated_at),
        }
    }
}

/// An endpoint with its signing secret, shown once.
#[derive(Object, Debug)]
pub struct EndpointWithSecret {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// `whsec_…`: the HMAC-SHA256 key of `X-Clausum-Signature` (the whole
    /// string, as bytes). Store it now; it is not shown again.
    pub secret: String,
}

/// A new endpoint.
#[derive(Object, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Public `https` URL.
    #[oai(validator(max_length = 2048))]
    pub url: String,
    /// Free text (at most 500 characters).
    pub description: Option<String>,
    /// Event types to receive; empty or absent means every event.
    pub events: Option<Vec<EventType>>,
    /// Default `true`.
    pub enabled: Option<bool>,
}

/// Changes to an endpoint; absent fields stay.
#[derive(Object, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    /// New URL (same rules as on creation).
    pub url: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New subscription; empty means every event.
    pub events: Option<Vec<EventType>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// A delivery of one event to one endpoint.
#[derive(Object, Debug)]
pub struct Delivery {
    /// `dlv_…`: sent as `X-Clausum-Delivery`; the same on every attempt.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event (`evt_…`).
    pub event_id: String,
    /// `pending`, `succeeded` or `failed` (the retry schedule ran out).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt (RFC 3339), while pending.
    pub next_attempt_at: Option<String>,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// When it succeeded (RFC 3339).
    pub delivered_at: Option<String>,
}

impl From<&DeliveryRow> for Delivery {
    fn from(d: &DeliveryRow) -> Self {
        Delivery {
            id: d.id.clone(),
            endpoint_id: d.endpoint_id.clone(),
            event_id: d.event_id.clone(),
            status: d.status.clone(),
            attempts: d.attempts,
            next_attempt_at: (d.status == "pending").then(|| iso(d.next_attempt_at)),
            last_status: d.last_status,
            last_error: d.last_error.clone(),
            created_at: iso(d.created_at),
            delivered_at: iso_opt(d.delivered_at),
        }
    }
}

/// A page of deliveries.
#[derive(Object, Debug)]
pub struct DeliveryPage {
    /// Newest first.
    pub data: Vec<Delivery>,
    /// Totals and position.
    pub pagination: Pagination,
}

/// One attempt.
#[derive(Object, Debug)]
pub struct Attempt {
    /// 1-based.
    pub attempt: i64,
    /// Response status, if a response came.
    pub status_code: Option<i64>,
    /// Transport error or refusal.
    pub error: Option<String>,
    /// Milliseconds to the response.
    pub latency_ms: i64,
    /// The first bytes of the response body.
    pub response_excerpt: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&AttemptRow> for Attempt {
    fn from(a: &AttemptRow) -> Self {
        Attempt {
            attempt: a.attempt,
            status_code: a.status_code,
            error: a.error.clone(),
            latency_ms: a.latency_ms,
            response_excerpt: a.response_excerpt.clone(),
            created_at: iso(a.created_at),
        }
    }
}

/// A delivery with its attempts.
#[derive(Object, Debug)]
pub struct DeliveryDetail {
    /// The delivery.
    pub delivery: Delivery,
    /// Every attempt, oldest first.
    pub attempts: Vec<Attempt>,
}
