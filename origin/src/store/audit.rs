//! The append-only audit log of management changes.
//!
//! Every change made through the management API writes one row — who,
//! what, the state before and after — in the same database transaction as
//! the change itself, so the log can never miss a committed change nor
//! record one that rolled back. Both schemas refuse UPDATE and DELETE on
//! the table.

use async_trait::async_trait;

use super::{Page, PgStore, SqliteStore, StoreResult};

/// One audit entry.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditRow {
    /// `aud_…`.
    pub id: String,
    /// Organisation the change belongs to.
    pub organization_id: String,
    /// Who: `user:<id>` or `key:<id>`.
    pub actor: String,
    /// What, e.g. `blocklist.create`.
    pub action: String,
    /// Kind of resource changed, e.g. `blocklist_entry`.
    pub resource_type: String,
    /// Its id.
    pub resource_id: Option<String>,
    /// JSON of the resource before the change (`None` on creation).
    pub before_state: Option<String>,
    /// JSON of the resource after the change (`None` on deletion).
    pub after_state: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// Filters of the audit log listing.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only this resource.
    pub resource_id: Option<String>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Reading the audit log (writing happens inside each change's transaction).
#[async_trait]
pub trait AuditStore {
    /// Entries of an organisation, newest first.
    async fn audit_log(&self, org_id: &str, filter: &AuditFilter) -> StoreResult<Page<AuditRow>>;
}

/// Inserts an audit row on a transaction of either backend.
macro_rules! insert_audit {
    ($exec:expr, $a:expr) => {{
        let a: &$crate::store::AuditRow = $a;
        sqlx::query(
            "INSERT INTO audit_log (id, organization_id, actor, action, resource_type, resource_id, \
             before_state, after_state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&a.id)
        .bind(&a.organization_id)
        .bind(&a.actor)
        .bind(&a.action)
        .bind(&a.resource_type)
        .bind(&a.resource_id)
        .bind(&a.before_state)
        .bind(&a.after_state)
        .bind(a.created_at)
        .execute($exec)
        .await?;
        for event in $crate::events::from_audit(a) {
            $crate::store::webhooks::emit!($exec, &event);
        }
    }};
}
pub(crate) use insert_audit;

const WHERE: &str = "WHERE organization_id = $1 AND ($2 IS NULL OR resource_type = $2) \
    AND ($3 IS NULL OR resource_id = $3)";

macro_rules! impl_audit_store {
    ($store:ty) => {
        #[async_trait]
        impl AuditStore for $store {
            async fn audit_log(
                &self,
                org_id: &str,
                f: &AuditFilter,
            ) -> StoreResult<Page<AuditRow>> {
                let mut tx = self.begin_read().await?;
                let total: i64 =
                    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_log {WHERE}"))
                        .bind(org_id)
                        .bind(&f.resource_type)
                        .bind(&f.resource_id)
                        .fetch_one(&mut *tx)
                        .await?;
                let rows = sqlx::query_as(&format!(
                    "SELECT id, organization_id, actor, action, resource_type, resource_id, \
                     before_state, after_state, created_at FROM audit_log {WHERE} \
                     ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
                ))
                .bind(org_id)
                .bind(&f.resource_type)
                .bind(&f.resource_id)
                .bind(f.limit)
                .bind(f.offset)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Page { rows, total })
            }
        }
    };
}

impl_audit_store!(SqliteStore);
impl_audit_store!(PgStore);
