//! Aggregates for the dashboard overview.

use async_trait::async_trait;

use super::{PgStore, SqliteStore, StoreResult};

/// Assessments of one decision and currency within one time slot.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DecisionSlot {
    /// Start of the slot (unix ms, a multiple of the slot width).
    pub slot_start: i64,
    /// Decision wire name.
    pub decision: String,
    /// ISO currency.
    pub currency: String,
    /// Number of assessments.
    pub count: i64,
    /// Sum of their amounts (minor units).
    pub amount_minor: i64,
}

/// Which assessments the overview counts.
#[derive(Debug, Clone, Default)]
pub struct OverviewFilter {
    /// `payin` or `payout`; both when `None`.
    pub flow: Option<String>,
    /// One PSP submerchant's assessments only.
    pub submerchant_id: Option<String>,
    /// Also count the dashboard's simulation runs.
    pub include_simulated: bool,
}

/// Dashboard aggregates.
#[async_trait]
pub trait OverviewStore {
    /// Assessments (not reported-only transactions) created in
    /// `[since, until)`, counted per `slot_ms`-wide slot, decision and
    /// currency. The caller folds slots into buckets of its time zone, so
    /// the slot must divide every UTC offset in use (15 minutes does).
    async fn decision_slots(
        &self,
        org_id: &str,
        since: i64,
        until: i64,
        slot_ms: i64,
        filter: &OverviewFilter,
    ) -> StoreResult<Vec<DecisionSlot>>;
}

macro_rules! impl_overview_store {
    ($store:ty) => {
        #[async_trait]
        impl OverviewStore for $store {
            async fn decision_slots(
                &self,
                org_id: &str,
                since: i64,
                until: i64,
                slot_ms: i64,
                filter: &OverviewFilter,
            ) -> StoreResult<Vec<DecisionSlot>> {
                // Integer division on BIGINT is exact on both backends.
                // Simulations (never submerchant-scoped) join only when asked.
                let simulated = if filter.include_simulated && filter.submerchant_id.is_none() {
                    " UNION ALL SELECT created_at, decision, currency, amount_minor FROM simulations \
                     WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3 \
                     AND ($5 IS NULL OR flow = $5)"
                } else {
                    ""
                };
                Ok(sqlx::query_as(&format!(
                    "SELECT (created_at / $4) * $4 AS slot_start, decision, currency, \
                     COUNT(*) AS count, CAST(SUM(amount_minor) AS BIGINT) AS amount_minor \
                     FROM (SELECT created_at, decision, currency, amount_minor FROM transactions \
                     WHERE organization_id = $1 AND created_at >= $2 \
                     AND created_at < $3 AND decision IS NOT NULL \
                     AND ($5 IS NULL OR flow = $5) AND ($6 IS NULL OR submerchant_id = $6){simulated}) AS t \
                     GROUP BY 1, 2, 3 ORDER BY 1",
                ))
                .bind(org_id)
                .bind(since)
                .bind(until)
                .bind(slot_ms)
                .bind(&filter.flow)
                .bind(&filter.submerchant_id)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

impl_overview_store!(SqliteStore);
impl_overview_store!(PgStore);
