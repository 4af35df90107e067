//! Outbound webhooks: endpoints, deliveries (one per event and endpoint),
//! and the log of every attempt.
//!
//! Deliveries are created in the same database transaction as their event
//! ([`fan_out`]), claimed by workers with a lease (`claimed_until`) so a
//! worker that dies mid-send only delays its claims, and on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED` so several origin processes never claim the
//! same delivery twice.

use async_trait::async_trait;

use super::{
    AuditRow, Page, PgStore, SqliteStore, StoreResult, audit::insert_audit, sql::on_unique,
};

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EndpointRow {
    /// `we_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Free text.
    pub description: Option<String>,
    /// JSON array of subscribed event types; `[]` means all.
    pub events: String,
    /// Disabled endpoints get no new deliveries.
    pub enabled: bool,
    /// Current signing secret (`whsec_…`).
    pub secret: String,
    /// The secret before the last rotation, still signing until it expires.
    pub previous_secret: Option<String>,
    /// Unix ms.
    pub previous_secret_expires_at: Option<i64>,
    /// Failed attempts in a row.
    pub consecutive_failures: i64,
    /// Unix ms of the first failure of the current run of failures.
    pub failing_since: Option<i64>,
    /// Why it was disabled automatically, if it was.
    pub disabled_reason: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A delivery: one event to one endpoint, retried until it succeeds or the
/// schedule runs out.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeliveryRow {
    /// `dlv_…`: the id receivers de-duplicate on.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// Destination.
    pub endpoint_id: String,
    /// What is delivered.
    pub event_id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Unix ms of the next attempt (pending only).
    pub next_attempt_at: i64,
    /// A worker holds it until then.
    pub claimed_until: Option<i64>,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Unix ms of the successful attempt.
    pub delivered_at: Option<i64>,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AttemptRow {
    /// `att_…`.
    pub id: String,
    /// The delivery.
    pub delivery_id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// 1-based.
    pub attempt: i64,
    /// Response status, if one came.
    pub status_code: Option<i64>,
    /// Transport error or refusal, if any.
    pub error: Option<String>,
    /// Time to the response (or failure).
    pub latency_ms: i64,
    /// The first bytes of the response body.
    pub response_excerpt: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// A claimed delivery with what sending it needs.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DueDelivery {
    /// The delivery id.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// Destination endpoint.
    pub endpoint_id: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// The event id.
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The event payload (JSON: the `data` of the body).
    pub payload: String,
    /// Unix ms of the event (the body's `timestamp`).
    pub event_created_at: i64,
    /// The API request that caused the event, if any.
    pub request_id: Option<String>,
}

/// What an attempt decided about its delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// 2xx: done.
    Succeeded,
    /// Failed; try again at this unix ms.
    Retry(i64),
    /// Failed and the schedule is exhausted.
    GaveUp,
}

/// Webhook storage.
#[async_trait]
pub trait WebhookStore {
    /// Endpoints of an organisation, oldest first.
    async fn endpoints(&self, org_id: &str) -> StoreResult<Vec<EndpointRow>>;
    /// One endpoint (any organisation; callers scope by organisation).
    async fn endpoint(&self, id: &str) -> StoreResult<Option<EndpointRow>>;
    /// Adds an endpoint.
    async fn create_endpoint(&self, e: &EndpointRow, audit: &AuditRow) -> StoreResult<()>;
    /// Saves an endpoint's editable fields and secrets; `false` if absent.
    async fn update_endpoint(&self, e: &EndpointRow, audit: &AuditRow) -> StoreResult<bool>;
    /// Deletes an endpoint with its deliveries and attempts; `false` if absent.
    async fn delete_endpoint(&self, org_id: &str, id: &str, audit: &AuditRow) -> StoreResult<bool>;
    /// Claims up to `limit` due deliveries of enabled endpoints until `lease_until`.
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<DueDelivery>>;
    /// Gives back claims a worker will not send (it is shutting down): the
    /// deliveries among `ids` still pending under this worker's lease
    /// (`lease_until`) become claimable at once by any worker, instead of
    /// when the lease runs out. Returns how many were released.
    async fn release_deliveries(&self, ids: &[String], lease_until: i64) -> StoreResult<u64>;
    /// Records an attempt and its outcome; updates the endpoint's failure
    /// run. Returns the endpoint as it is after the update.
    async fn record_attempt(
        &self,
        attempt: &AttemptRow,
        outcome: &AttemptOutcome,
    ) -> StoreResult<Option<EndpointRow>>;
    /// Disables an endpoint automatically, with its reason and the
    /// `endpoint.disabled` event; `false` if it was already disabled.
    async fn auto_disable(
        &self,
        endpoint_id: &str,
        reason: &str,
        event: &super::OutboxEventRow,
        now: i64,
    ) -> StoreResult<bool>;
    /// A page of an endpoint's deliveries, newest first.
    async fn deliveries(
        &self,
        org_id: &str,
        endpoint_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<DeliveryRow>>;
    /// One delivery.
    async fn delivery(&self, org_id: &str, id: &str) -> StoreResult<Option<DeliveryRow>>;
    /// The attempts of a delivery, oldest first.
    async fn attempts(&self, org_id: &str, delivery_id: &str) -> StoreResult<Vec<AttemptRow>>;
    /// Queues a delivery again now (manual re-send), keeping its id.
    async fn resend(&self, org_id: &str, id: &str, now: i64, audit: &AuditRow)
    -> StoreResult<bool>;
    /// `(organization, events JSON)` of every enabled endpoint: which
    /// organisations want which events (the assess path checks it in memory).
    async fn subscriptions(&self) -> StoreResult<Vec<(String, String)>>;
    /// Deliveries of every organisation by status (metrics): `(pending, succeeded, failed)`.
    async fn delivery_backlog(&self) -> StoreResult<(i64, i64, i64)>;
    /// Deliveries by status, for tests and health: `(pending, succeeded, failed)`.
    async fn delivery_counts(&self, org_id: &str) -> StoreResult<(i64, i64, i64)>;
}

/// Queues one delivery of event `$1` (created at `$2`, of organisation
/// `$3`) to each enabled endpoint subscribed to it: every event, or the
/// event's type (`$4`, a [`fan_out_pattern`]).
pub(crate) const FAN_OUT_SQL: &str = "INSERT INTO webhook_deliveries (id, organization_id, \
    endpoint_id, event_id, status, attempts, next_attempt_at, created_at, updated_at) \
    SELECT 'dlv_' || SUBSTR($1, 5) || '_' || SUBSTR(w.id, 4), w.organization_id, w.id, $1, \
    'pending', 0, $2, $2, $2 FROM webhook_endpoints w \
    WHERE w.organization_id = $3 AND w.enabled AND (w.events = '[]' OR w.events LIKE $4) \
    ON CONFLICT DO NOTHING";

/// The `LIKE` pattern that finds `event_type` in an endpoint's JSON list
/// of event types.
pub(crate) fn fan_out_pattern(event_type: &str) -> String {
    format!("%\"{event_type}\"%")
}

/// Creates the deliveries of event `$e` to every enabled endpoint of its
/// organisation subscribed to its type, on a transaction of either backend.
/// Delivery ids derive from the event and endpoint ids, so they are stable.
macro_rules! fan_out {
    ($exec:expr, $e:expr) => {{
        let e: &$crate::store::OutboxEventRow = $e;
        sqlx::query($crate::store::webhooks::FAN_OUT_SQL)
            .bind(&e.id)
            .bind(e.created_at)
            .bind(&e.organization_id)
            .bind($crate::store::webhooks::fan_out_pattern(&e.event_type))
            .execute($exec)
            .await?;
    }};
}
pub(crate) use fan_out;

/// Inserts an outbox event and fans it out to the subscribed endpoints
/// (and, for `fraud.detected`, to the alerted parties' email recipients).
macro_rules! emit {
    ($exec:expr, $e:expr) => {{
        let e: &$crate::store::OutboxEventRow = $e;
        $crate::store::outbox::insert_event!($exec, e);
        $crate::store::webhooks::fan_out!($exec, e);
        $crate::store::notifications::email_fan_out!($exec, e);
    }};
}
pub(crate) use emit;

const ENDPOINT_COLUMNS: &str = "id, organization_id, url, description, events, enabled, secret, \
    previous_secret, previous_secret_expires_at, consecutive_failures, failing_since, \
    disabled_reason, created_at, updated_at";
const DELIVERY_COLUMNS: &str = "id, organization_id, endpoint_id, event_id, status, attempts, \
    next_attempt_at, claimed_until, last_status, last_error, created_at, updated_at, delivered_at";

mod claim;
mod sql;
