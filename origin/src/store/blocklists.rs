//! Blocklist entries: listing, single changes with their audit row, bulk
//! imports.

use async_trait::async_trait;

use super::{
    AuditRow, BlocklistRow, Page, PgStore, SqliteStore, StoreResult,
    audit::insert_audit,
    sql::{Placeholders, on_unique, values_sql},
};

/// Filters of the blocklist listing; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct BlocklistFilter {
    /// Only this list type.
    pub list_type: Option<String>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Only this source.
    pub source: Option<String>,
    /// Only this flow scope.
    pub flow_scope: Option<String>,
    /// Only active (or only inactive) entries.
    pub is_active: Option<bool>,
    /// Case-insensitive substring of the value.
    pub search: Option<String>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Blocklist storage.
#[async_trait]
pub trait BlocklistStore {
    /// Active, unexpired entries of one organisation (to build its index).
    async fn active_blocklist(&self, org_id: &str, now: i64) -> StoreResult<Vec<BlocklistRow>>;
    /// A page of entries, newest first.
    async fn blocklist_page(
        &self,
        org_id: &str,
        filter: &BlocklistFilter,
    ) -> StoreResult<Page<BlocklistRow>>;
    /// One entry of an organisation.
    async fn blocklist_entry(&self, org_id: &str, id: &str) -> StoreResult<Option<BlocklistRow>>;
    /// Adds one entry; `Duplicate` when the organisation already lists the
    /// same type and value.
    async fn create_blocklist_entry(&self, row: &BlocklistRow, audit: &AuditRow)
    -> StoreResult<()>;
    /// Replaces the mutable fields of an entry; `false` when it does not exist.
    async fn update_blocklist_entry(
        &self,
        row: &BlocklistRow,
        audit: &AuditRow,
    ) -> StoreResult<bool>;
    /// Deletes an entry (and its links to cases); `false` when it does not exist.
    async fn delete_blocklist_entry(
        &self,
        org_id: &str,
        id: &str,
        audit: &AuditRow,
    ) -> StoreResult<bool>;
    /// Adds many entries in one transaction, skipping those whose type and
    /// value are already listed; returns the ids actually inserted.
    async fn import_blocklist_entries(
        &self,
        rows: &[BlocklistRow],
        audit: &AuditRow,
    ) -> StoreResult<Vec<String>>;
    /// Bulk insert without audit (CLI, benchmarks); returns rows inserted.
    async fn insert_blocklist_entries(&self, rows: &[BlocklistRow]) -> StoreResult<u64>;
}

/// Blocklist columns, in bind order.
pub(super) const BLOCKLIST_COLUMNS: &str = "id, organization_id, list_type, value, severity, \
    flow_scope, reason, source, is_active, expires_at, created_at, created_by, updated_at";

/// Rows per bulk-insert statement (13 parameters each, well under both
/// backends' limits).
const CHUNK: usize = 500;

const FILTER: &str = "WHERE organization_id = $1 AND ($2 IS NULL OR list_type = $2) \
    AND ($3 IS NULL OR severity = $3) AND ($4 IS NULL OR source = $4) \
    AND ($5 IS NULL OR flow_scope = $5) AND ($6 IS NULL OR is_active = $6) \
    AND ($7 IS NULL OR LOWER(value) LIKE $7 ESCAPE '\\')";

/// `%text%` for LIKE, with the wildcards of `text` escaped.
pub(super) fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Multi-row insert of `chunk` on `$exec`, with `$suffix` appended (for
/// `RETURNING id`).
macro_rules! insert_rows {
    ($exec:expr, $chunk:expr, $style:expr, $suffix:expr) => {{
        let chunk: &[BlocklistRow] = $chunk;
        let sql = values_sql("blocklist_entries", BLOCKLIST_COLUMNS, chunk.len(), $style) + $suffix;
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for r in chunk {
            q = q
                .bind(&r.id)
                .bind(&r.organization_id)
                .bind(&r.list_type)
                .bind(&r.value)
                .bind(&r.severity)
                .bind(&r.flow_scope)
                .bind(&r.reason)
                .bind(&r.source)
                .bind(r.is_active)
                .bind(r.expires_at)
                .bind(r.created_at)
                .bind(&r.created_by)
                .bind(r.updated_at);
        }
        q.fetch_all($exec).await?
    }};
}

macro_rules! impl_blocklist_store {
    ($store:ty, $style:expr) => {
        #[async_trait]
        impl BlocklistStore for $store {
            async fn active_blocklist(&self, org_id: &str, now: i64) -> StoreResult<Vec<BlocklistRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {BLOCKLIST_COLUMNS} FROM blocklist_entries WHERE organization_id = $1 \
                     AND is_active AND (expires_at IS NULL OR expires_at > $2)"
                ))
                .bind(org_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn blocklist_page(
                &self,
                org_id: &str,
                f: &BlocklistFilter,
            ) -> StoreResult<Page<BlocklistRow>> {
                let search = f.search.as_deref().map(like_pattern);
                let mut tx = self.begin_read().await?;
                let total: i64 =
                    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM blocklist_entries {FILTER}"))
                        .bind(org_id)
                        .bind(&f.list_type)
                        .bind(&f.severity)
                        .bind(&f.source)
                        .bind(&f.flow_scope)
                        .bind(f.is_active)
                        .bind(&search)
                        .fetch_one(&mut *tx)
                        .await?;
                let rows = sqlx::query_as(&format!(
                    "SELECT {BLOCKLIST_COLUMNS} FROM blocklist_entries {FILTER} \
                     ORDER BY created_at DESC, id DESC LIMIT $8 OFFSET $9"
                ))
                .bind(org_id)
                .bind(&f.list_type)
                .bind(&f.severity)
                .bind(&f.source)
                .bind(&f.flow_scope)
                .bind(f.is_active)
                .bind(&search)
                .bind(f.limit)
                .bind(f.offset)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Page { rows, total })
            }

            async fn blocklist_entry(&self, org_id: &str, id: &str) -> StoreResult<Option<BlocklistRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {BLOCKLIST_COLUMNS} FROM blocklist_entries WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn create_blocklist_entry(&self, row: &BlocklistRow, audit: &AuditRow) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let sql = values_sql("blocklist_entries", BLOCKLIST_COLUMNS, 1, $style)
                    .replace(" ON CONFLICT DO NOTHING", "");
                sqlx::query(&sql)
                    .bind(&row.id)
                    .bind(&row.organization_id)
                    .bind(&row.list_type)
                    .bind(&row.value)
                    .bind(&row.severity)
                    .bind(&row.flow_scope)
                    .bind(&row.reason)
                    .bind(&row.source)
                    .bind(row.is_active)
                    .bind(row.expires_at)
                    .bind(row.created_at)
                    .bind(&row.created_by)
                    .bind(row.updated_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(on_unique)?;
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn update_blocklist_entry(&self, row: &BlocklistRow, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE blocklist_entries SET severity = $1, flow_scope = $2, reason = $3, \
                     is_active = $4, expires_at = $5, updated_at = $6 \
                     WHERE organization_id = $7 AND id = $8",
                )
                .bind(&row.severity)
                .bind(&row.flow_scope)
                .bind(&row.reason)
                .bind(row.is_active)
                .bind(row.expires_at)
                .bind(row.updated_at)
                .bind(&row.organization_id)
                .bind(&row.id)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn delete_blocklist_entry(&self, org_id: &str, id: &str, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "DELETE FROM case_blocklist_entries WHERE entry_id IN \
                     (SELECT id FROM blocklist_entries WHERE organization_id = $1 AND id = $2)",
                )
                .bind(org_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let r = sqlx::query("DELETE FROM blocklist_entries WHERE organization_id = $1 AND id = $2")
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

            async fn import_blocklist_entries(
                &self,
                rows: &[BlocklistRow],
                audit: &AuditRow,
            ) -> StoreResult<Vec<String>> {
                let mut tx = self.begin_write().await?;
                let mut inserted = Vec::with_capacity(rows.len());
                for chunk in rows.chunks(CHUNK) {
                    inserted.extend(insert_rows!(&mut *tx, chunk, $style, " RETURNING id"));
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(inserted)
            }

            async fn insert_blocklist_entries(&self, rows: &[BlocklistRow]) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                let mut added = 0;
                for chunk in rows.chunks(CHUNK) {
                    added += insert_rows!(&mut *tx, chunk, $style, " RETURNING id").len() as u64;
                }
                tx.commit().await?;
                Ok(added)
            }
        }
    };
}

impl_blocklist_store!(SqliteStore, Placeholders::Anonymous);
impl_blocklist_store!(PgStore, Placeholders::Numbered);

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Ab%_\\"), "%ab\\%\\_\\\\%");
    }
}
