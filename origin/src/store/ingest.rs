//! Event ingestion: the organisation's ingestion rules, the events sent
//! with `clm_wh_` keys, and the alerts rules raise.
//!
//! An event is stored as `received` before it is answered, and finished by
//! [`IngestStore::finish_ingested_event`] in one database transaction with
//! whatever its rule does (a case, an alert). The finish only applies to an
//! event still `received`, so two processes that pick up the same event
//! (a restart's recovery and a live task) cannot both act on it.

use async_trait::async_trait;

use super::{
    ActivityRow, AuditRow, CaseRow, OutboxEventRow, Page, PgStore, SqliteStore, StoreResult,
    audit::insert_audit,
    cases::{CASE_COLUMNS, insert_activity, insert_case_row},
    outbox::insert_event,
    providers::{CaseOpening, open_case},
    sql::on_unique,
};

/// An ingestion rule.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct IngestionRuleRow {
    /// `irule_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// Label.
    pub name: String,
    /// Lower runs first.
    pub priority: i64,
    /// Disabled rules never match.
    pub enabled: bool,
    /// JSON object of conditions.
    pub conditions: String,
    /// `create_expediente`, `create_alert`, `flag_review` or `ignore`.
    pub action: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// An ingested event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct IngestedEventRow {
    /// `iev_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// The ingest key that sent it.
    pub api_key_id: String,
    /// `event` (or `type`) of the body.
    pub event_type: String,
    /// The sender's id of the event (`id` or `event_id` of the body).
    pub provider_event_id: Option<String>,
    /// The body as stored (JSON, card numbers masked).
    pub payload: String,
    /// `received`, `processed`, `ignored` or `review`.
    pub status: String,
    /// The rule that matched.
    pub matched_rule_id: Option<String>,
    /// What the rule did.
    pub action: Option<String>,
    /// The case it opened.
    pub case_id: Option<String>,
    /// The alert it raised.
    pub alert_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub processed_at: Option<i64>,
}

/// An alert.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AlertRow {
    /// `alert_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// `ingest`.
    pub source: String,
    /// The ingested event that raised it.
    pub source_id: Option<String>,
    /// The rule that raised it.
    pub rule_id: Option<String>,
    /// Short text.
    pub title: String,
    /// JSON details.
    pub details: String,
    /// Unix ms.
    pub created_at: i64,
}

/// The result of storing an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// Stored now.
    New,
    /// The same key already sent an event with this id: the original.
    Duplicate(Box<IngestedEventRow>),
}

/// How an event was processed, and what that writes.
#[derive(Debug, Clone)]
pub struct IngestOutcome {
    /// Owning organisation.
    pub organization_id: String,
    /// The event.
    pub event_id: String,
    /// `processed`, `ignored` or `review`.
    pub status: String,
    /// The rule that matched, if any.
    pub matched_rule_id: Option<String>,
    /// Its action.
    pub action: Option<String>,
    /// A case to open.
    pub case: Option<CaseOpening>,
    /// An alert to record, with its outbox event.
    pub alert: Option<(AlertRow, OutboxEventRow)>,
    /// Unix ms.
    pub processed_at: i64,
}

/// Ingestion storage.
#[async_trait]
pub trait IngestStore {
    /// Rules of an organisation, in evaluation order (priority, then age).
    async fn ingestion_rules(&self, org_id: &str) -> StoreResult<Vec<IngestionRuleRow>>;
    /// One rule.
    async fn ingestion_rule(&self, org_id: &str, id: &str)
    -> StoreResult<Option<IngestionRuleRow>>;
    /// Number of rules of an organisation.
    async fn count_ingestion_rules(&self, org_id: &str) -> StoreResult<i64>;
    /// Adds a rule.
    async fn create_ingestion_rule(
        &self,
        r: &IngestionRuleRow,
        audit: &AuditRow,
    ) -> StoreResult<()>;
    /// Saves a changed rule; `false` if absent.
    async fn update_ingestion_rule(
        &self,
        r: &IngestionRuleRow,
        audit: &AuditRow,
    ) -> StoreResult<bool>;
    /// Deletes a rule; `false` if absent.
    async fn delete_ingestion_rule(
        &self,
        org_id: &str,
        id: &str,
        audit: &AuditRow,
    ) -> StoreResult<bool>;
    /// Stores a `received` event, unless its key already sent one with the
    /// same provider event id.
    async fn insert_ingested_event(&self, e: &IngestedEventRow) -> StoreResult<Ingested>;
    /// One event.
    async fn ingested_event(&self, org_id: &str, id: &str)
    -> StoreResult<Option<IngestedEventRow>>;
    /// A page of an organisation's events, newest first, optionally of one status.
    async fn ingested_events_page(
        &self,
        org_id: &str,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<IngestedEventRow>>;
    /// `(organisation, id)` of events still `received` since before
    /// `before` (unix ms), oldest first.
    async fn unprocessed_events(
        &self,
        before: i64,
        limit: i64,
    ) -> StoreResult<Vec<(String, String)>>;
    /// Finishes a `received` event with its effects; `false` (nothing
    /// written) when it was no longer `received`.
    async fn finish_ingested_event(&self, o: &IngestOutcome) -> StoreResult<bool>;
    /// A page of an organisation's alerts, newest first.
    async fn alerts_page(
        &self,
        org_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<AlertRow>>;
}

const RULE_COLUMNS: &str =
    "id, organization_id, name, priority, enabled, conditions, action, created_at, updated_at";
const EVENT_COLUMNS: &str = "id, organization_id, api_key_id, event_type, provider_event_id, \
    payload, status, matched_rule_id, action, case_id, alert_id, created_at, processed_at";
const ALERT_COLUMNS: &str =
    "id, organization_id, source, source_id, rule_id, title, details, created_at";

macro_rules! impl_ingest_store {
    ($store:ty) => {
        #[async_trait]
        impl IngestStore for $store {
            async fn ingestion_rules(&self, org_id: &str) -> StoreResult<Vec<IngestionRuleRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {RULE_COLUMNS} FROM ingestion_rules WHERE organization_id = $1 \
                     ORDER BY priority, created_at, id"
                ))
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn ingestion_rule(&self, org_id: &str, id: &str) -> StoreResult<Option<IngestionRuleRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {RULE_COLUMNS} FROM ingestion_rules WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn count_ingestion_rules(&self, org_id: &str) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM ingestion_rules WHERE organization_id = $1")
                    .bind(org_id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn create_ingestion_rule(&self, r: &IngestionRuleRow, audit: &AuditRow) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(&format!(
                    "INSERT INTO ingestion_rules ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                ))
                .bind(&r.id)
                .bind(&r.organization_id)
                .bind(&r.name)
                .bind(r.priority)
                .bind(r.enabled)
                .bind(&r.conditions)
                .bind(&r.action)
                .bind(r.created_at)
                .bind(r.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(on_unique)?;
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn update_ingestion_rule(&self, r: &IngestionRuleRow, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE ingestion_rules SET name = $1, priority = $2, enabled = $3, conditions = $4, \
                     action = $5, updated_at = $6 WHERE organization_id = $7 AND id = $8",
                )
                .bind(&r.name)
                .bind(r.priority)
                .bind(r.enabled)
                .bind(&r.conditions)
                .bind(&r.action)
                .bind(r.updated_at)
                .bind(&r.organization_id)
                .bind(&r.id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn delete_ingestion_rule(&self, org_id: &str, id: &str, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM ingestion_rules WHERE organization_id = $1 AND id = $2")
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

            async fn insert_ingested_event(&self, e: &IngestedEventRow) -> StoreResult<Ingested> {
                let written = sqlx::query(&format!(
                    "INSERT INTO ingested_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                     $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING"
                ))
                .bind(&e.id)
                .bind(&e.organization_id)
                .bind(&e.api_key_id)
                .bind(&e.event_type)
                .bind(&e.provider_event_id)
                .bind(&e.payload)
                .bind(&e.status)
                .bind(&e.matched_rule_id)
                .bind(&e.action)
                .bind(&e.case_id)
                .bind(&e.alert_id)
                .bind(e.created_at)
                .bind(e.processed_at)
                .execute(&self.pool)
                .await?
                .rows_affected();
                if written == 1 {
                    return Ok(Ingested::New);
                }
                let original: Option<IngestedEventRow> = sqlx::query_as(&format!(
                    "SELECT {EVENT_COLUMNS} FROM ingested_events WHERE organization_id = $1 \
                     AND api_key_id = $2 AND provider_event_id = $3"
                ))
                .bind(&e.organization_id)
                .bind(&e.api_key_id)
                .bind(&e.provider_event_id)
                .fetch_optional(&self.pool)
                .await?;
                original
                    .map(|o| Ingested::Duplicate(Box::new(o)))
                    .ok_or_else(|| super::StoreError::Duplicate(format!("ingested event {}", e.id)))
            }

            async fn ingested_event(&self, org_id: &str, id: &str) -> StoreResult<Option<IngestedEventRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {EVENT_COLUMNS} FROM ingested_events WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn ingested_events_page(
                &self,
                org_id: &str,
                status: Option<&str>,
                limit: i64,
                offset: i64,
            ) -> StoreResult<Page<IngestedEventRow>> {
                const WHERE: &str = "WHERE organization_id = $1 AND ($2 IS NULL OR status = $2)";
                let mut tx = self.begin_read().await?;
                let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM ingested_events {WHERE}"))
                    .bind(org_id)
                    .bind(status)
                    .fetch_one(&mut *tx)
                    .await?;
                let rows = sqlx::query_as(&format!(
                    "SELECT {EVENT_COLUMNS} FROM ingested_events {WHERE} \
                     ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
                ))
                .bind(org_id)
                .bind(status)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Page { rows, total })
            }

            async fn unprocessed_events(&self, before: i64, limit: i64) -> StoreResult<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT organization_id, id FROM ingested_events WHERE status = 'received' \
                     AND created_at < $1 ORDER BY created_at, id LIMIT $2",
                )
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn finish_ingested_event(&self, o: &IngestOutcome) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE ingested_events SET status = $1, matched_rule_id = $2, action = $3, case_id = $4, \
                     alert_id = $5, processed_at = $6 WHERE organization_id = $7 AND id = $8 AND status = 'received'",
                )
                .bind(&o.status)
                .bind(&o.matched_rule_id)
                .bind(&o.action)
                .bind(o.case.as_ref().map(|c| &c.case.id))
                .bind(o.alert.as_ref().map(|(a, _)| &a.id))
                .bind(o.processed_at)
                .bind(&o.organization_id)
                .bind(&o.event_id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                if let Some(opening) = &o.case {
                    open_case!(&mut *tx, opening);
                }
                if let Some((a, event)) = &o.alert {
                    sqlx::query(&format!(
                        "INSERT INTO alerts ({ALERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    ))
                    .bind(&a.id)
                    .bind(&a.organization_id)
                    .bind(&a.source)
                    .bind(&a.source_id)
                    .bind(&a.rule_id)
                    .bind(&a.title)
                    .bind(&a.details)
                    .bind(a.created_at)
                    .execute(&mut *tx)
                    .await?;
                    // Outbox only: `alert.created` is not in the webhook
                    // catalogue, so it is never fanned out to endpoints.
                    insert_event!(&mut *tx, event);
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn alerts_page(&self, org_id: &str, limit: i64, offset: i64) -> StoreResult<Page<AlertRow>> {
                let mut tx = self.begin_read().await?;
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE organization_id = $1")
                    .bind(org_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let rows = sqlx::query_as(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE organization_id = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
                ))
                .bind(org_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Page { rows, total })
            }
        }
    };
}

impl_ingest_store!(SqliteStore);
impl_ingest_store!(PgStore);
