//! `/api/v1/audit-log`: the append-only record of management changes —
//! who changed what, with the resource before and after.

use std::sync::Arc;

use clausum_core::roles::Action;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};

use super::{
    Tag,
    common::{Pagination, iso, page},
};
use crate::{
    auth::DashboardToken,
    error::ApiError,
    state::AppState,
    store::{AuditFilter, AuditRow},
};

/// Longest accepted filter value.
const MAX_FILTER: usize = 128;

/// One recorded change.
#[derive(Object, Debug, Clone)]
pub struct AuditEntry {
    /// `aud_…`.
    pub id: String,
    /// Who made it: `user:<id>` or `key:<id>`.
    pub actor: String,
    /// What was done, e.g. `rule.create`, `blocklist.delete`, `settings.scoring.update`.
    pub action: String,
    /// Kind of resource changed, e.g. `rule`, `blocklist_entry`, `scoring_settings`.
    pub resource_type: String,
    /// Its id, if it has one.
    pub resource_id: Option<String>,
    /// The resource before the change; `null` on creation.
    pub before: Option<serde_json::Value>,
    /// The resource after the change; `null` on deletion.
    pub after: Option<serde_json::Value>,
    /// When (RFC 3339).
    pub created_at: String,
}

impl From<&AuditRow> for AuditEntry {
    fn from(r: &AuditRow) -> Self {
        // Stored by the server as JSON; text that somehow is not JSON is
        // still shown rather than hidden.
        let json = |s: &Option<String>| {
            s.as_deref().map(|t| {
                serde_json::from_str(t).unwrap_or_else(|_| serde_json::Value::String(t.to_owned()))
            })
        };
        AuditEntry {
            id: r.id.clone(),
            actor: r.actor.clone(),
            action: r.action.clone(),
            resource_type: r.resource_type.clone(),
            resource_id: r.resource_id.clone(),
            before: json(&r.before_state),
            after: json(&r.after_state),
            created_at: iso(r.created_at),
        }
    }
}

/// A page of the audit log.
#[derive(Object, Debug)]
pub struct AuditPage {
    /// Entries, newest first.
    pub data: Vec<AuditEntry>,
    /// Totals and position.
    pub pagination: Pagination,
}

/// The audit log (dashboard token).
pub struct AuditApi;

#[OpenApi(prefix_path = "/api/v1/audit-log", tag = "Tag::Audit")]
impl AuditApi {
    /// List audit entries.
    ///
    /// The organisation's recorded management changes, newest first,
    /// optionally only those of one resource type or one resource. Entries
    /// are written in the same transaction as the change they record and are
    /// never edited or deleted. Roles: admin, compliance_officer.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// Only this resource type (`rule`, `blocklist_entry`, `scoring_settings`, …).
        resource_type: Query<Option<String>>,
        /// Only this resource id.
        resource_id: Query<Option<String>>,
        /// Page size (1–500, default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<AuditPage>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadAudit)?;
        let (limit, offset) = page(limit.0, offset.0)?;
        let filter = AuditFilter {
            resource_type: filter("resource_type", resource_type.0)?,
            resource_id: filter("resource_id", resource_id.0)?,
            limit,
            offset,
        };
        let found = state.store.audit_log(p.org(), &filter).await?;
        Ok(Json(AuditPage {
            data: found.rows.iter().map(AuditEntry::from).collect(),
            pagination: Pagination { total: found.total, limit, offset },
        }))
    }
}

/// A trimmed filter value; empty means no filter.
fn filter(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > MAX_FILTER {
        return Err(ApiError::field(
            field,
            format!("`{field}` has at most {MAX_FILTER} characters"),
        ));
    }
    Ok(Some(v))
}
