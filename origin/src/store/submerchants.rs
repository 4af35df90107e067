//! PSP submerchants: the registry a PSP keeps of the merchants it processes
//! for. Deleting one deactivates it; rows are never removed, so the
//! transactions that name a submerchant keep their meaning.

use async_trait::async_trait;

use super::{
    AuditRow, PgStore, SqliteStore, StoreError, StoreResult, audit::insert_audit,
    blocklists::like_pattern,
};

/// One submerchant.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SubmerchantRow {
    /// Owning organisation (the PSP).
    pub organization_id: String,
    /// The PSP's own id: what assess calls send as `submerchant_id`.
    pub id: String,
    /// Display name, echoed in assess answers as `submerchant_name`.
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// ISO 18245 merchant category code (four digits).
    pub mcc: Option<String>,
    /// `active` or `inactive`.
    pub status: String,
    /// Free-form JSON object.
    pub metadata: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// Listing filters.
#[derive(Debug, Clone, Default)]
pub struct SubmerchantFilter {
    /// `active` or `inactive`.
    pub status: Option<String>,
    /// Case-insensitive substring of the id or the name.
    pub search: Option<String>,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// Submerchant storage.
#[async_trait]
pub trait SubmerchantStore {
    /// A page of an organisation's submerchants (by id) and the total matching.
    async fn list_submerchants(
        &self,
        org_id: &str,
        filter: &SubmerchantFilter,
    ) -> StoreResult<(Vec<SubmerchantRow>, i64)>;
    /// Every active submerchant of an organisation (for the live state).
    async fn active_submerchants(&self, org_id: &str) -> StoreResult<Vec<SubmerchantRow>>;
    /// One submerchant.
    async fn submerchant(&self, org_id: &str, id: &str) -> StoreResult<Option<SubmerchantRow>>;
    /// Inserts a new submerchant with its audit row;
    /// [`StoreError::Duplicate`] when the id is taken.
    async fn insert_submerchant(&self, row: &SubmerchantRow, audit: &AuditRow) -> StoreResult<()>;
    /// Replaces a submerchant's fields with its audit row; `false` when it does not exist.
    async fn update_submerchant(&self, row: &SubmerchantRow, audit: &AuditRow)
    -> StoreResult<bool>;
}

const COLUMNS: &str =
    "organization_id, id, name, country, mcc, status, metadata, created_at, updated_at";

macro_rules! impl_submerchant_store {
    ($store:ty) => {
        #[async_trait]
        impl SubmerchantStore for $store {
            async fn list_submerchants(
                &self,
                org_id: &str,
                f: &SubmerchantFilter,
            ) -> StoreResult<(Vec<SubmerchantRow>, i64)> {
                let pattern = f.search.as_deref().map(like_pattern);
                let filter = "organization_id = $1 AND ($2 IS NULL OR status = $2) \
                     AND ($3 IS NULL OR LOWER(id) LIKE $3 ESCAPE '\\' OR LOWER(name) LIKE $3 ESCAPE '\\')";
                let mut tx = self.begin_read().await?;
                let rows = sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM submerchants WHERE {filter} ORDER BY id LIMIT $4 OFFSET $5"
                ))
                .bind(org_id)
                .bind(&f.status)
                .bind(&pattern)
                .bind(f.limit)
                .bind(f.offset)
                .fetch_all(&mut *tx)
                .await?;
                let total: i64 =
                    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM submerchants WHERE {filter}"))
                        .bind(org_id)
                        .bind(&f.status)
                        .bind(&pattern)
                        .fetch_one(&mut *tx)
                        .await?;
                tx.commit().await?;
                Ok((rows, total))
            }

            async fn active_submerchants(&self, org_id: &str) -> StoreResult<Vec<SubmerchantRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM submerchants WHERE organization_id = $1 AND status = 'active'"
                ))
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn submerchant(
                &self,
                org_id: &str,
                id: &str,
            ) -> StoreResult<Option<SubmerchantRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM submerchants WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn insert_submerchant(
                &self,
                r: &SubmerchantRow,
                audit: &AuditRow,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let inserted = sqlx::query(&format!(
                    "INSERT INTO submerchants ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (organization_id, id) DO NOTHING"
                ))
                .bind(&r.organization_id)
                .bind(&r.id)
                .bind(&r.name)
                .bind(&r.country)
                .bind(&r.mcc)
                .bind(&r.status)
                .bind(&r.metadata)
                .bind(r.created_at)
                .bind(r.updated_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    return Err(StoreError::Duplicate(format!("submerchant {}", r.id)));
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn update_submerchant(
                &self,
                r: &SubmerchantRow,
                audit: &AuditRow,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query(
                    "UPDATE submerchants SET name = $3, country = $4, mcc = $5, status = $6, \
                     metadata = $7, updated_at = $8 WHERE organization_id = $1 AND id = $2",
                )
                .bind(&r.organization_id)
                .bind(&r.id)
                .bind(&r.name)
                .bind(&r.country)
                .bind(&r.mcc)
                .bind(&r.status)
                .bind(&r.metadata)
                .bind(r.updated_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if updated == 0 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}

impl_submerchant_store!(SqliteStore);
impl_submerchant_store!(PgStore);
