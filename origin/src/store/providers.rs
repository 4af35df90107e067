//! Payment-provider webhooks in: the endpoint secrets organisations store,
//! the provider events already applied, and the disputes seen.
//!
//! One provider event is applied by [`ProviderStore::record_provider_event`]
//! in one database transaction: its `provider_events` row first — the
//! primary key makes a replay (or a concurrent duplicate delivery) a no-op —
//! then the case it opens, the dispute it records, the transaction it links
//! and the outbox events it announces.

use async_trait::async_trait;

use super::{
    ActivityRow, AuditRow, CaseRow, OutboxEventRow, PgStore, SqliteStore, StoreResult,
    TransactionRow,
    audit::insert_audit,
    cases::{CASE_COLUMNS, insert_activity, insert_case_row},
    sql::{TX_COLUMNS, on_unique},
    webhooks::emit,
};

/// An organisation's secret for one provider's webhooks.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProviderSecretRow {
    /// Owning organisation.
    pub organization_id: String,
    /// `stripe`, …
    pub provider: String,
    /// The secret as the provider issued it (Stripe: `whsec_…`).
    pub secret: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A provider event as recorded.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProviderEventRow {
    /// Owning organisation.
    pub organization_id: String,
    /// `stripe`, …
    pub provider: String,
    /// The provider's event id (Stripe: `evt_…`).
    pub provider_event_id: String,
    /// The provider's event type (`charge.dispute.created`, …).
    pub event_type: String,
    /// `applied`, `unmatched` or `ignored`.
    pub outcome: String,
    /// Unix ms.
    pub received_at: i64,
}

/// A dispute a provider reported, with the case opened for it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DisputeRow {
    /// Owning organisation.
    pub organization_id: String,
    /// `stripe`, …
    pub provider: String,
    /// The provider's dispute id (Stripe: `dp_…`).
    pub dispute_id: String,
    /// The case opened for it, if one was.
    pub case_id: Option<String>,
    /// The Clausum transaction disputed, if known.
    pub transaction_id: Option<String>,
    /// The provider's status of the dispute.
    pub status: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A case to open with its first activity line and its audit row — whose
/// action `case.create` announces `case.created` — and the transaction to
/// link to it, if any.
#[derive(Debug, Clone)]
pub struct CaseOpening {
    /// The case.
    pub case: CaseRow,
    /// Its first activity line.
    pub activity: ActivityRow,
    /// The audit row (`case.create`).
    pub audit: AuditRow,
    /// A transaction of the same organisation to link.
    pub transaction_id: Option<String>,
}

/// The provider id a transaction gets linked to.
#[derive(Debug, Clone)]
pub struct TransactionLink {
    /// `txn_…`.
    pub transaction_id: String,
    /// `stripe`, …
    pub provider: String,
    /// The provider's id of the payment (set only where none is recorded).
    pub external_id: String,
}

/// Everything one provider event writes.
#[derive(Debug, Clone)]
pub struct ProviderEventPlan {
    /// The event's row; its key makes the plan idempotent.
    pub event: ProviderEventRow,
    /// A case to open.
    pub case: Option<CaseOpening>,
    /// An activity line on an existing case (a dispute update).
    pub activity: Option<ActivityRow>,
    /// The dispute to insert or update (status, and the case when opened).
    pub dispute: Option<DisputeRow>,
    /// Provider ids to record on a transaction.
    pub link: Option<TransactionLink>,
    /// Outbox events to announce.
    pub events: Vec<OutboxEventRow>,
}

/// Provider webhook storage.
#[async_trait]
pub trait ProviderStore {
    /// An organisation's secret for `provider`.
    async fn provider_secret(
        &self,
        org_id: &str,
        provider: &str,
    ) -> StoreResult<Option<ProviderSecretRow>>;
    /// Stores (or replaces) a secret, with its audit row.
    async fn save_provider_secret(
        &self,
        row: &ProviderSecretRow,
        audit: &AuditRow,
    ) -> StoreResult<()>;
    /// Deletes a secret; `false` if there was none.
    async fn delete_provider_secret(
        &self,
        org_id: &str,
        provider: &str,
        audit: &AuditRow,
    ) -> StoreResult<bool>;
    /// The recorded event, if this provider event id was applied before.
    async fn provider_event(
        &self,
        org_id: &str,
        provider: &str,
        event_id: &str,
    ) -> StoreResult<Option<ProviderEventRow>>;
    /// A dispute seen before.
    async fn provider_dispute(
        &self,
        org_id: &str,
        provider: &str,
        dispute_id: &str,
    ) -> StoreResult<Option<DisputeRow>>;
    /// The newest transaction of an organisation with this assess session id.
    async fn transaction_by_session(
        &self,
        org_id: &str,
        session_id: &str,
    ) -> StoreResult<Option<TransactionRow>>;
    /// Applies a provider event atomically; `false` (and nothing written)
    /// when its event id was applied before.
    async fn record_provider_event(&self, plan: &ProviderEventPlan) -> StoreResult<bool>;
}

/// Opens a case on a transaction: the case, its activity line, the linked
/// transaction and the audit row (which announces `case.created`).
macro_rules! open_case {
    ($exec:expr, $o:expr) => {{
        let o: &$crate::store::providers::CaseOpening = $o;
        insert_case_row!($exec, &o.case);
        if let Some(txn) = &o.transaction_id {
            sqlx::query(
                "INSERT INTO case_transactions (case_id, transaction_id, organization_id, added_by, created_at) \
                 SELECT $1, t.id, t.organization_id, $2, $3 FROM transactions t \
                 WHERE t.organization_id = $4 AND t.id = $5 ON CONFLICT DO NOTHING",
            )
            .bind(&o.case.id)
            .bind(&o.case.created_by)
            .bind(o.case.created_at)
            .bind(&o.case.organization_id)
            .bind(txn)
            .execute($exec)
            .await?;
        }
        insert_activity!($exec, &o.activity);
        insert_audit!($exec, &o.audit);
    }};
}
pub(super) use open_case;

const DISPUTE_COLUMNS: &str = "organization_id, provider, dispute_id, case_id, transaction_id, \
    status, created_at, updated_at";

macro_rules! impl_provider_store {
    ($store:ty) => {
        #[async_trait]
        impl ProviderStore for $store {
            async fn provider_secret(&self, org_id: &str, provider: &str) -> StoreResult<Option<ProviderSecretRow>> {
                Ok(sqlx::query_as(
                    "SELECT organization_id, provider, secret, created_at, updated_at FROM provider_secrets \
                     WHERE organization_id = $1 AND provider = $2",
                )
                .bind(org_id)
                .bind(provider)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn save_provider_secret(&self, r: &ProviderSecretRow, audit: &AuditRow) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO provider_secrets (organization_id, provider, secret, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organization_id, provider) \
                     DO UPDATE SET secret = excluded.secret, updated_at = excluded.updated_at",
                )
                .bind(&r.organization_id)
                .bind(&r.provider)
                .bind(&r.secret)
                .bind(r.created_at)
                .bind(r.updated_at)
                .execute(&mut *tx)
                .await?;
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn delete_provider_secret(&self, org_id: &str, provider: &str, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM provider_secrets WHERE organization_id = $1 AND provider = $2")
                    .bind(org_id)
                    .bind(provider)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn provider_event(&self, org_id: &str, provider: &str, event_id: &str) -> StoreResult<Option<ProviderEventRow>> {
                Ok(sqlx::query_as(
                    "SELECT organization_id, provider, provider_event_id, event_type, outcome, received_at \
                     FROM provider_events WHERE organization_id = $1 AND provider = $2 AND provider_event_id = $3",
                )
                .bind(org_id)
                .bind(provider)
                .bind(event_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn provider_dispute(&self, org_id: &str, provider: &str, dispute_id: &str) -> StoreResult<Option<DisputeRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {DISPUTE_COLUMNS} FROM provider_disputes \
                     WHERE organization_id = $1 AND provider = $2 AND dispute_id = $3"
                ))
                .bind(org_id)
                .bind(provider)
                .bind(dispute_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn transaction_by_session(&self, org_id: &str, session_id: &str) -> StoreResult<Option<TransactionRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {TX_COLUMNS} FROM transactions WHERE organization_id = $1 AND session_id = $2 \
                     ORDER BY created_at DESC, id DESC LIMIT 1"
                ))
                .bind(org_id)
                .bind(session_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn record_provider_event(&self, plan: &ProviderEventPlan) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let e = &plan.event;
                // First: on PostgreSQL a concurrent delivery of the same event
                // waits here for ours to commit, then finds the row taken.
                let fresh = sqlx::query(
                    "INSERT INTO provider_events (organization_id, provider, provider_event_id, event_type, \
                     outcome, received_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(&e.organization_id)
                .bind(&e.provider)
                .bind(&e.provider_event_id)
                .bind(&e.event_type)
                .bind(&e.outcome)
                .bind(e.received_at)
                .execute(&mut *tx)
                .await?;
                if fresh.rows_affected() != 1 {
                    return Ok(false);
                }
                if let Some(opening) = &plan.case {
                    open_case!(&mut *tx, opening);
                }
                if let Some(line) = &plan.activity {
                    insert_activity!(&mut *tx, line);
                }
                if let Some(d) = &plan.dispute {
                    sqlx::query(&format!(
                        "INSERT INTO provider_disputes ({DISPUTE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (organization_id, provider, dispute_id) DO UPDATE SET \
                         status = excluded.status, updated_at = excluded.updated_at, \
                         case_id = COALESCE(provider_disputes.case_id, excluded.case_id), \
                         transaction_id = COALESCE(provider_disputes.transaction_id, excluded.transaction_id)"
                    ))
                    .bind(&d.organization_id)
                    .bind(&d.provider)
                    .bind(&d.dispute_id)
                    .bind(&d.case_id)
                    .bind(&d.transaction_id)
                    .bind(&d.status)
                    .bind(d.created_at)
                    .bind(d.updated_at)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(l) = &plan.link {
                    sqlx::query(
                        "UPDATE transactions SET provider = COALESCE(provider, $1), \
                         external_id = COALESCE(external_id, $2) WHERE organization_id = $3 AND id = $4",
                    )
                    .bind(&l.provider)
                    .bind(&l.external_id)
                    .bind(&e.organization_id)
                    .bind(&l.transaction_id)
                    .execute(&mut *tx)
                    .await?;
                }
                for event in &plan.events {
                    emit!(&mut *tx, event);
                }
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}

impl_provider_store!(SqliteStore);
impl_provider_store!(PgStore);
