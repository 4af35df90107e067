//! [`WebhookStore`] for both backends.

use async_trait::async_trait;

use super::{
    AttemptOutcome, AttemptRow, AuditRow, DELIVERY_COLUMNS, DeliveryRow, DueDelivery,
    ENDPOINT_COLUMNS, EndpointRow, Page, PgStore, SqliteStore, StoreResult, WebhookStore,
    claim::{PG_CLAIM, SQLITE_CLAIM, due_sql},
    insert_audit, on_unique,
};

macro_rules! impl_webhook_store {
    ($store:ty, $claim:expr) => {
        #[async_trait]
        impl WebhookStore for $store {
            async fn endpoints(&self, org_id: &str) -> StoreResult<Vec<EndpointRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE organization_id = $1 \
                     ORDER BY created_at, id"
                ))
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn endpoint(&self, id: &str) -> StoreResult<Option<EndpointRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn create_endpoint(&self, e: &EndpointRow, audit: &AuditRow) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(&format!(
                    "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES \
                     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ))
                .bind(&e.id)
                .bind(&e.organization_id)
                .bind(&e.url)
                .bind(&e.description)
                .bind(&e.events)
                .bind(e.enabled)
                .bind(&e.secret)
                .bind(&e.previous_secret)
                .bind(e.previous_secret_expires_at)
                .bind(e.consecutive_failures)
                .bind(e.failing_since)
                .bind(&e.disabled_reason)
                .bind(e.created_at)
                .bind(e.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(on_unique)?;
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn update_endpoint(&self, e: &EndpointRow, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE webhook_endpoints SET url = $1, description = $2, events = $3, enabled = $4, \
                     secret = $5, previous_secret = $6, previous_secret_expires_at = $7, \
                     consecutive_failures = $8, failing_since = $9, disabled_reason = $10, updated_at = $11 \
                     WHERE id = $12 AND organization_id = $13",
                )
                .bind(&e.url)
                .bind(&e.description)
                .bind(&e.events)
                .bind(e.enabled)
                .bind(&e.secret)
                .bind(&e.previous_secret)
                .bind(e.previous_secret_expires_at)
                .bind(e.consecutive_failures)
                .bind(e.failing_since)
                .bind(&e.disabled_reason)
                .bind(e.updated_at)
                .bind(&e.id)
                .bind(&e.organization_id)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn delete_endpoint(&self, org_id: &str, id: &str, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "DELETE FROM webhook_attempts WHERE delivery_id IN \
                     (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND organization_id = $2)",
                )
                .bind(id)
                .bind(org_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1 AND organization_id = $2")
                    .bind(id)
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await?;
                let r = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1 AND organization_id = $2")
                    .bind(id)
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await?;
                if r.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn claim_deliveries(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<DueDelivery>> {
                let mut tx = self.begin_write().await?;
                let ids: Vec<String> = sqlx::query_scalar($claim)
                    .bind(now)
                    .bind(lease_until)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                if ids.is_empty() {
                    tx.commit().await?;
                    return Ok(Vec::new());
                }
                let sql = due_sql(ids.len());
                let mut q = sqlx::query_as::<_, DueDelivery>(&sql);
                for id in &ids {
                    q = q.bind(id);
                }
                let due = q.fetch_all(&mut *tx).await?;
                tx.commit().await?;
                Ok(due)
            }

            async fn release_deliveries(&self, ids: &[String], lease_until: i64) -> StoreResult<u64> {
                super::super::sql::release_claims!(self, "webhook_deliveries", "'pending'", ids, lease_until)
            }

            async fn record_attempt(&self, a: &AttemptRow, outcome: &AttemptOutcome) -> StoreResult<Option<EndpointRow>> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO webhook_attempts (id, delivery_id, organization_id, attempt, status_code, \
                     error, latency_ms, response_excerpt, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&a.id)
                .bind(&a.delivery_id)
                .bind(&a.organization_id)
                .bind(a.attempt)
                .bind(a.status_code)
                .bind(&a.error)
                .bind(a.latency_ms)
                .bind(&a.response_excerpt)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await?;
                let (status, next, delivered) = match outcome {
                    AttemptOutcome::Succeeded => ("succeeded", a.created_at, Some(a.created_at)),
                    AttemptOutcome::Retry(at) => ("pending", *at, None),
                    AttemptOutcome::GaveUp => ("failed", a.created_at, None),
                };
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, \
                     claimed_until = NULL, last_status = $4, last_error = $5, updated_at = $6, delivered_at = $7 \
                     WHERE id = $8",
                )
                .bind(status)
                .bind(a.attempt)
                .bind(next)
                .bind(a.status_code)
                .bind(&a.error)
                .bind(a.created_at)
                .bind(delivered)
                .bind(&a.delivery_id)
                .execute(&mut *tx)
                .await?;
                if matches!(outcome, AttemptOutcome::Succeeded) {
                    sqlx::query(
                        "UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL \
                         WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1)",
                    )
                    .bind(&a.delivery_id)
                    .execute(&mut *tx)
                    .await?;
                } else {
                    sqlx::query(
                        "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, \
                         failing_since = COALESCE(failing_since, $2) \
                         WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1)",
                    )
                    .bind(&a.delivery_id)
                    .bind(a.created_at)
                    .execute(&mut *tx)
                    .await?;
                }
                let endpoint = sqlx::query_as(&format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
                     WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1)"
                ))
                .bind(&a.delivery_id)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(endpoint)
            }

            async fn auto_disable(
                &self,
                endpoint_id: &str,
                reason: &str,
                event: &crate::store::OutboxEventRow,
                now: i64,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $1, updated_at = $2 \
                     WHERE id = $3 AND enabled",
                )
                .bind(reason)
                .bind(now)
                .bind(endpoint_id)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() != 1 {
                    return Ok(false);
                }
                emit!(&mut *tx, event);
                tx.commit().await?;
                Ok(true)
            }

            async fn deliveries(&self, org_id: &str, endpoint_id: &str, limit: i64, offset: i64) -> StoreResult<Page<DeliveryRow>> {
                let mut tx = self.begin_read().await?;
                let total: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM webhook_deliveries WHERE organization_id = $1 AND endpoint_id = $2",
                )
                .bind(org_id)
                .bind(endpoint_id)
                .fetch_one(&mut *tx)
                .await?;
                let rows = sqlx::query_as(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE organization_id = $1 \
                     AND endpoint_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
                ))
                .bind(org_id)
                .bind(endpoint_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Page { rows, total })
            }

            async fn delivery(&self, org_id: &str, id: &str) -> StoreResult<Option<DeliveryRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn attempts(&self, org_id: &str, delivery_id: &str) -> StoreResult<Vec<AttemptRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, delivery_id, organization_id, attempt, status_code, error, latency_ms, \
                     response_excerpt, created_at FROM webhook_attempts \
                     WHERE organization_id = $1 AND delivery_id = $2 ORDER BY created_at, attempt",
                )
                .bind(org_id)
                .bind(delivery_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn resend(&self, org_id: &str, id: &str, now: i64, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, \
                     claimed_until = NULL, updated_at = $1 WHERE organization_id = $2 AND id = $3",
                )
                .bind(now)
                .bind(org_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn subscriptions(&self) -> StoreResult<Vec<(String, String)>> {
                Ok(sqlx::query_as("SELECT organization_id, events FROM webhook_endpoints WHERE enabled")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn delivery_backlog(&self) -> StoreResult<(i64, i64, i64)> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as("SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status")
                        .fetch_all(&self.pool)
                        .await?;
                let get = |s: &str| rows.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
                Ok((get("pending"), get("succeeded"), get("failed")))
            }

            async fn delivery_counts(&self, org_id: &str) -> StoreResult<(i64, i64, i64)> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT status, COUNT(*) FROM webhook_deliveries WHERE organization_id = $1 GROUP BY status",
                )
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?;
                let get = |s: &str| rows.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
                Ok((get("pending"), get("succeeded"), get("failed")))
            }
        }
    };
}

impl_webhook_store!(SqliteStore, SQLITE_CLAIM);
impl_webhook_store!(PgStore, PG_CLAIM);
