//! The event outbox: what must be announced (webhooks, email alerts),
//! written in the same database transaction as the change it describes,
//! so an event exists if and only if its change committed.

use async_trait::async_trait;

use super::{PgStore, SqliteStore, StoreResult};

/// One event to announce.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutboxEventRow {
    /// `evt_…`; also the de-duplication id receivers see.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// E.g. `fraud.detected`.
    pub event_type: String,
    /// The event body (JSON).
    pub payload: String,
    /// Unix ms.
    pub created_at: i64,
    /// The API request that caused it (`X-Request-Id`), if any.
    pub request_id: Option<String>,
}

/// Reading the outbox.
#[async_trait]
pub trait OutboxStore {
    /// Events of an organisation, oldest first.
    async fn outbox_events(&self, org_id: &str) -> StoreResult<Vec<OutboxEventRow>>;
}

/// Inserts one outbox event: `$1` id, `$2` organisation, `$3` type, `$4`
/// payload, `$5` created at, `$6` request id.
pub(crate) const INSERT_EVENT_SQL: &str = "INSERT INTO outbox_events \
    (id, organization_id, event_type, payload, created_at, request_id) \
    VALUES ($1, $2, $3, $4, $5, $6)";

/// Inserts an event on a transaction of either backend.
macro_rules! insert_event {
    ($exec:expr, $e:expr) => {{
        let e: &$crate::store::OutboxEventRow = $e;
        sqlx::query($crate::store::outbox::INSERT_EVENT_SQL)
            .bind(&e.id)
            .bind(&e.organization_id)
            .bind(&e.event_type)
            .bind(&e.payload)
            .bind(e.created_at)
            .bind(&e.request_id)
            .execute($exec)
            .await?;
    }};
}
pub(crate) use insert_event;

macro_rules! impl_outbox_store {
    ($store:ty) => {
        #[async_trait]
        impl OutboxStore for $store {
            async fn outbox_events(&self, org_id: &str) -> StoreResult<Vec<OutboxEventRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, organization_id, event_type, payload, created_at, request_id FROM outbox_events \
                     WHERE organization_id = $1 ORDER BY created_at, id",
                )
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

impl_outbox_store!(SqliteStore);
impl_outbox_store!(PgStore);
