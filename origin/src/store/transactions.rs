//! Reading recorded assessments back: the dashboard's transaction monitor.
//! (Writing them is the assess path's group-commit writer, in `sql`.)

use async_trait::async_trait;

use super::{PgStore, SqliteStore, StoreResult, TransactionRow, sql::TX_COLUMNS};

/// Filters of the transaction listing; every one is optional.
#[derive(Debug, Clone, Default)]
pub struct TransactionFilter {
    /// Decision wire name.
    pub decision: Option<String>,
    /// `payin` or `payout`.
    pub flow: Option<String>,
    /// Lowest risk score, inclusive.
    pub min_score: Option<i64>,
    /// Highest risk score, inclusive.
    pub max_score: Option<i64>,
    /// From this unix ms, inclusive.
    pub from: Option<i64>,
    /// Before this unix ms.
    pub to: Option<i64>,
    /// Normalised payer email, exact.
    pub email: Option<String>,
    /// Card BIN digits: matches BINs starting with them.
    pub card_bin: Option<String>,
    /// Normalised IP, exact.
    pub ip: Option<String>,
    /// PSP submerchant, exact.
    pub submerchant_id: Option<String>,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// The transaction monitor's reads.
#[async_trait]
pub trait TransactionStore {
    /// A page of an organisation's transactions, newest first, and the
    /// number matching the filters.
    async fn list_transactions(
        &self,
        org_id: &str,
        filter: &TransactionFilter,
    ) -> StoreResult<(Vec<TransactionRow>, i64)>;
}

const WHERE: &str = "organization_id = $1 AND ($2 IS NULL OR decision = $2) \
    AND ($3 IS NULL OR flow = $3) AND ($4 IS NULL OR risk_score >= $4) \
    AND ($5 IS NULL OR risk_score <= $5) AND ($6 IS NULL OR created_at >= $6) \
    AND ($7 IS NULL OR created_at < $7) AND ($8 IS NULL OR email = $8) \
    AND ($9 IS NULL OR card_bin LIKE $9) AND ($10 IS NULL OR ip = $10) \
    AND ($11 IS NULL OR submerchant_id = $11)";

macro_rules! impl_transaction_store {
    ($store:ty) => {
        #[async_trait]
        impl TransactionStore for $store {
            async fn list_transactions(
                &self,
                org_id: &str,
                f: &TransactionFilter,
            ) -> StoreResult<(Vec<TransactionRow>, i64)> {
                // Digits only (checked by the API), so no LIKE escaping is needed.
                let bin = f.card_bin.as_deref().map(|b| format!("{b}%"));
                macro_rules! bind_filters {
                    ($q:expr) => {
                        $q.bind(org_id)
                            .bind(&f.decision)
                            .bind(&f.flow)
                            .bind(f.min_score)
                            .bind(f.max_score)
                            .bind(f.from)
                            .bind(f.to)
                            .bind(&f.email)
                            .bind(&bin)
                            .bind(&f.ip)
                            .bind(&f.submerchant_id)
                    };
                }
                let mut tx = self.begin_read().await?;
                let rows = bind_filters!(sqlx::query_as::<_, TransactionRow>(&format!(
                    "SELECT {TX_COLUMNS} FROM transactions WHERE {WHERE} \
                     ORDER BY created_at DESC, id DESC LIMIT $12 OFFSET $13"
                )))
                .bind(f.limit)
                .bind(f.offset)
                .fetch_all(&mut *tx)
                .await?;
                let total: i64 = bind_filters!(sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM transactions WHERE {WHERE}"
                )))
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok((rows, total))
            }
        }
    };
}

impl_transaction_store!(SqliteStore);
impl_transaction_store!(PgStore);
