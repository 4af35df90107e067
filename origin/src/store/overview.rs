//! Aggregates for the dashboard overview.

use async_trait::async_trait;

use super::{PgStore, SqliteStore, StoreResult};

/// Assessments of one decision and currency within one time slot.
#[derive(Debug, Clone, PartialEq)]
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

/// A slot as queried: the amount summed in two halves, so that no sum can
/// overflow a BIGINT (SQLite's `SUM` fails on overflow, PostgreSQL's cast
/// too) however many maximal amounts one slot holds.
#[derive(sqlx::FromRow)]
struct SlotRow {
    slot_start: i64,
    decision: String,
    currency: String,
    count: i64,
    /// Sum of `amount_minor >> 32`.
    amount_hi: i64,
    /// Sum of `amount_minor & 0xFFFF_FFFF` (amounts are never negative).
    amount_lo: i64,
}

impl From<SlotRow> for DecisionSlot {
    fn from(r: SlotRow) -> Self {
        let total = (i128::from(r.amount_hi) << 32) + i128::from(r.amount_lo);
        DecisionSlot {
            slot_start: r.slot_start,
            decision: r.decision,
            currency: r.currency,
            count: r.count,
            amount_minor: i64::try_from(total).unwrap_or(i64::MAX),
        }
    }
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
                let rows: Vec<SlotRow> = sqlx::query_as(&format!(
                    "SELECT (created_at / $4) * $4 AS slot_start, decision, currency, \
                     COUNT(*) AS count, CAST(SUM(amount_minor / 4294967296) AS BIGINT) AS amount_hi, \
                     CAST(SUM(amount_minor % 4294967296) AS BIGINT) AS amount_lo \
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
                .await?;
                Ok(rows.into_iter().map(DecisionSlot::from).collect())
            }
        }
    };
}

impl_overview_store!(SqliteStore);
impl_overview_store!(PgStore);

#[cfg(test)]
mod tests {
    use super::*;

    fn row(amounts: &[i64]) -> DecisionSlot {
        SlotRow {
            slot_start: 0,
            decision: "approve".into(),
            currency: "MXN".into(),
            count: amounts.len() as i64,
            amount_hi: amounts.iter().map(|a| a >> 32).sum(),
            amount_lo: amounts.iter().map(|a| a & 0xFFFF_FFFF).sum(),
        }
        .into()
    }

    #[test]
    fn halves_add_up_exactly_and_saturate_past_the_bigint() {
        let max = clausum_core::normalize::MAX_AMOUNT_MINOR;
        assert_eq!(row(&[1, 4_294_967_295, 4_294_967_296, max]).amount_minor, 8_589_934_592 + max);
        assert_eq!(row(&vec![max; 9_000]).amount_minor, 9_000 * max);
        // 10,000 maximal amounts sum past i64::MAX: shown as the maximum.
        assert_eq!(row(&vec![max; 10_000]).amount_minor, i64::MAX);
    }
}
