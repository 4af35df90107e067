//! Simulation runs: what the live pipeline answered to a preset or custom
//! request from the dashboard. Their own table, so no reader of
//! `transactions` (velocity and history rebuilds, cases, metrics) can
//! mistake one for a real payment.

use async_trait::async_trait;

use super::{PgStore, SqliteStore, StoreResult};

/// One simulation run.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SimulationRow {
    /// `sim_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// `user:<id>` who ran it.
    pub actor: String,
    /// `payin` or `payout`.
    pub flow: String,
    /// The preset, when one was used.
    pub preset: Option<String>,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// Decision wire name.
    pub decision: String,
    /// 0–100.
    pub risk_score: i64,
    /// The normalised request (JSON).
    pub request: String,
    /// The answer (JSON).
    pub response: String,
    /// Unix ms.
    pub created_at: i64,
}

/// A recorded assessment as a backtest reads it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RecordedRow {
    /// `txn_…`.
    pub id: String,
    /// `payin` or `payout`.
    pub flow: String,
    /// The normalised request (JSON).
    #[sqlx(try_from = "super::packed::PackedText")]
    pub request: String,
    /// The answer (JSON).
    #[sqlx(try_from = "super::packed::PackedText")]
    pub response: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// Unix ms.
    pub created_at: i64,
}

/// Simulation storage.
#[async_trait]
pub trait SimulationStore {
    /// Records a run.
    async fn insert_simulation(&self, row: &SimulationRow) -> StoreResult<()>;
    /// The newest runs of an organisation, and how many there are.
    async fn list_simulations(
        &self,
        org_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<SimulationRow>, i64)>;
    /// Up to `limit` assessed transactions created in `[since, until)`, in
    /// `(created_at, id)` order after `after` (keyset paging); `flow`
    /// narrows to one flow.
    async fn recorded_page(
        &self,
        org_id: &str,
        since: i64,
        until: i64,
        flow: Option<&str>,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> StoreResult<Vec<RecordedRow>>;
}

const COLUMNS: &str = "id, organization_id, actor, flow, preset, amount_minor, currency, \
    decision, risk_score, request, response, created_at";

macro_rules! impl_simulation_store {
    ($store:ty) => {
        #[async_trait]
        impl SimulationStore for $store {
            async fn insert_simulation(&self, r: &SimulationRow) -> StoreResult<()> {
                sqlx::query(&format!(
                    "INSERT INTO simulations ({COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                ))
                .bind(&r.id)
                .bind(&r.organization_id)
                .bind(&r.actor)
                .bind(&r.flow)
                .bind(&r.preset)
                .bind(r.amount_minor)
                .bind(&r.currency)
                .bind(&r.decision)
                .bind(r.risk_score)
                .bind(&r.request)
                .bind(&r.response)
                .bind(r.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_simulations(
                &self,
                org_id: &str,
                limit: i64,
                offset: i64,
            ) -> StoreResult<(Vec<SimulationRow>, i64)> {
                let mut tx = self.begin_read().await?;
                let rows = sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM simulations WHERE organization_id = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
                ))
                .bind(org_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
                let total: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM simulations WHERE organization_id = $1",
                )
                .bind(org_id)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok((rows, total))
            }

            async fn recorded_page(
                &self,
                org_id: &str,
                since: i64,
                until: i64,
                flow: Option<&str>,
                after: Option<(i64, String)>,
                limit: i64,
            ) -> StoreResult<Vec<RecordedRow>> {
                let (after_at, after_id) = after.unwrap_or((i64::MIN, String::new()));
                Ok(sqlx::query_as(
                    "SELECT id, flow, request, response, amount_minor, currency, created_at \
                     FROM transactions WHERE organization_id = $1 AND created_at >= $2 \
                     AND created_at < $3 AND source = 'assess' AND response IS NOT NULL \
                     AND ($4 IS NULL OR flow = $4) \
                     AND (created_at > $5 OR (created_at = $5 AND id > $6)) \
                     ORDER BY created_at, id LIMIT $7",
                )
                .bind(org_id)
                .bind(since)
                .bind(until)
                .bind(flow)
                .bind(after_at)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

impl_simulation_store!(SqliteStore);
impl_simulation_store!(PgStore);
