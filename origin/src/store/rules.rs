//! Custom rules and the organisation policy (weights, thresholds), as the
//! management API changes them.

use async_trait::async_trait;

use super::{
    AuditRow, PgStore, RuleRow, SqliteStore, StoreResult, audit::insert_audit, sql::on_unique,
};

/// Rule and policy management.
#[async_trait]
pub trait RuleStore {
    /// Every rule of an organisation, enabled or not, by priority.
    async fn rules(&self, org_id: &str) -> StoreResult<Vec<RuleRow>>;
    /// Number of rules (enabled or not) of an organisation.
    async fn count_rules(&self, org_id: &str) -> StoreResult<i64>;
    /// One rule.
    async fn rule(&self, org_id: &str, id: &str) -> StoreResult<Option<RuleRow>>;
    /// Adds a rule; `Duplicate` when the name is taken.
    async fn create_rule(&self, rule: &RuleRow, audit: &AuditRow) -> StoreResult<()>;
    /// Saves a changed rule; `false` when it does not exist.
    async fn update_rule(&self, rule: &RuleRow, audit: &AuditRow) -> StoreResult<bool>;
    /// Deletes a rule; `false` when it does not exist.
    async fn delete_rule(&self, org_id: &str, id: &str, audit: &AuditRow) -> StoreResult<bool>;
    /// Replaces the policy document, with its audit row.
    async fn save_policy(&self, org_id: &str, policy: &str, audit: &AuditRow) -> StoreResult<bool>;
}

const RULE_COLUMNS: &str =
    "id, organization_id, name, source, priority, enabled, created_at, updated_at";

macro_rules! impl_rule_store {
    ($store:ty) => {
        #[async_trait]
        impl RuleStore for $store {
            async fn rules(&self, org_id: &str) -> StoreResult<Vec<RuleRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {RULE_COLUMNS} FROM rules WHERE organization_id = $1 ORDER BY priority, name"
                ))
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn count_rules(&self, org_id: &str) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM rules WHERE organization_id = $1")
                    .bind(org_id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn rule(&self, org_id: &str, id: &str) -> StoreResult<Option<RuleRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {RULE_COLUMNS} FROM rules WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn create_rule(&self, r: &RuleRow, audit: &AuditRow) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(&format!(
                    "INSERT INTO rules ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ))
                .bind(&r.id)
                .bind(&r.organization_id)
                .bind(&r.name)
                .bind(&r.source)
                .bind(r.priority)
                .bind(r.enabled)
                .bind(r.created_at)
                .bind(r.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(on_unique)?;
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn update_rule(&self, r: &RuleRow, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE rules SET name = $1, source = $2, priority = $3, enabled = $4, updated_at = $5 \
                     WHERE organization_id = $6 AND id = $7",
                )
                .bind(&r.name)
                .bind(&r.source)
                .bind(r.priority)
                .bind(r.enabled)
                .bind(r.updated_at)
                .bind(&r.organization_id)
                .bind(&r.id)
                .execute(&mut *tx)
                .await
                .map_err(on_unique)?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn delete_rule(&self, org_id: &str, id: &str, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM rules WHERE organization_id = $1 AND id = $2")
                    .bind(org_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn save_policy(&self, org_id: &str, policy: &str, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE organizations SET policy = $1 WHERE id = $2")
                    .bind(policy)
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}

impl_rule_store!(SqliteStore);
impl_rule_store!(PgStore);
