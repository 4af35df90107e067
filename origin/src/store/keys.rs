//! API keys as the management API sees them: listing (hashes never leave
//! the store), creation and revocation, each audited in its transaction.
//! (The key cache of the partner API reads `Store::active_api_keys`.)

use async_trait::async_trait;

use super::{
    ApiKeyRow, AuditRow, PgStore, SqliteStore, StoreResult,
    audit::insert_audit,
    sql::{insert_key, on_unique},
};

/// Key management.
#[async_trait]
pub trait KeyStore {
    /// Every key of an organisation, revoked and expired ones included, newest first.
    async fn api_keys(&self, org_id: &str) -> StoreResult<Vec<ApiKeyRow>>;
    /// One key of an organisation.
    async fn api_key(&self, org_id: &str, id: &str) -> StoreResult<Option<ApiKeyRow>>;
    /// Adds a key with its audit row.
    async fn create_api_key(&self, key: &ApiKeyRow, audit: &AuditRow) -> StoreResult<()>;
    /// Revokes a key at `at` with its audit row; `false` when the
    /// organisation has no such key or it was already revoked.
    async fn revoke_api_key(
        &self,
        org_id: &str,
        id: &str,
        at: i64,
        audit: &AuditRow,
    ) -> StoreResult<bool>;
}

const COLUMNS: &str = "id, organization_id, kind, name, key_hash, display_prefix, permissions, \
    rate_limit_per_minute, rate_limit_per_day, created_at, expires_at, revoked_at";

macro_rules! impl_key_store {
    ($store:ty) => {
        #[async_trait]
        impl KeyStore for $store {
            async fn api_keys(&self, org_id: &str) -> StoreResult<Vec<ApiKeyRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM api_keys WHERE organization_id = $1 \
                     ORDER BY created_at DESC, id DESC"
                ))
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn api_key(&self, org_id: &str, id: &str) -> StoreResult<Option<ApiKeyRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM api_keys WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn create_api_key(&self, key: &ApiKeyRow, audit: &AuditRow) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                insert_key!(&mut *tx, key);
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn revoke_api_key(
                &self,
                org_id: &str,
                id: &str,
                at: i64,
                audit: &AuditRow,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let changed = sqlx::query(
                    "UPDATE api_keys SET revoked_at = $3 \
                     WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL",
                )
                .bind(org_id)
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}

impl_key_store!(SqliteStore);
impl_key_store!(PgStore);
