//! `/api/v1/blocklists`: list, add, change, delete and bulk-import
//! blocklist entries. Every change is audited and reaches the live index
//! before the answer is sent, so the next assess on this node sees it.

mod entry;
mod import;

use std::sync::Arc;

use clausum_core::roles::Action;
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Query, payload::Json};

pub use entry::{BlocklistEntry, EntryPatch, NewEntry};
pub use import::{ImportBody, ImportReport, RejectedRow};

use super::{
    Tag,
    common::{Pagination, PersonalData, audit_row, not_found, page},
};
use crate::{
    auth::DashboardToken, error::ApiError, payload::JsonBody, state::AppState,
    store::BlocklistFilter, time::now_ms,
};

/// A page of entries.
#[derive(Object, Debug)]
pub struct BlocklistPage {
    /// The entries, newest first.
    pub data: Vec<BlocklistEntry>,
    /// Totals and position.
    pub pagination: Pagination,
}

/// Created.
#[derive(ApiResponse)]
pub enum Created {
    /// The entry was added.
    #[oai(status = 201)]
    Created(Json<BlocklistEntry>),
}

/// Deleted.
#[derive(Object, Debug)]
pub struct Deleted {
    /// Always `true`.
    pub deleted: bool,
    /// The deleted entry's id.
    pub id: String,
}

/// Blocklist management (dashboard token).
pub struct BlocklistApi;

#[OpenApi(prefix_path = "/api/v1/blocklists", tag = "Tag::Blocklists")]
impl BlocklistApi {
    /// List entries
    ///
    /// Newest first, filtered by list type, severity, source, flow scope,
    /// activity and a case-insensitive part of the value; paginated.
    /// Values that are personal data are masked for viewers.
    #[oai(path = "/", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// Only this list type.
        list_type: Query<Option<String>>,
        /// Only this severity (`block`, `flag`, `review`).
        severity: Query<Option<String>>,
        /// Only this source (`manual`, `rule`, `fraud_report`, `chargeback`, `api`).
        source: Query<Option<String>>,
        /// Only this flow scope (`payin`, `payout`, `all`).
        flow_scope: Query<Option<String>>,
        /// Only active (`true`) or inactive (`false`) entries.
        is_active: Query<Option<bool>>,
        /// Case-insensitive part of the value.
        search: Query<Option<String>>,
        /// Page size (1–500, default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<BlocklistPage>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadBlocklists)?;
        let (limit, offset) = page(limit.0, offset.0)?;
        let filter = BlocklistFilter {
            list_type: entry::known_list_type(list_type.0)?,
            severity: entry::known_severity(severity.0)?,
            source: entry::known_source(source.0)?,
            flow_scope: entry::known_scope(flow_scope.0)?,
            is_active: is_active.0,
            search: crate::api::common::search_text(search.0)?,
            limit,
            offset,
        };
        let found = state.store.blocklist_page(p.org(), &filter).await?;
        let personal = PersonalData::for_user(&p);
        Ok(Json(BlocklistPage {
            data: found.rows.iter().map(|r| BlocklistEntry::from(r).for_reader(personal)).collect(),
            pagination: Pagination { total: found.total, limit, offset },
        }))
    }

    /// Get an entry
    ///
    /// One entry of the caller's organisation (404 for any other). A value
    /// that is personal data is masked for viewers.
    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The entry's id (`bl_…`).
        id: poem_openapi::param::Path<String>,
    ) -> Result<Json<BlocklistEntry>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadBlocklists)?;
        let row = state
            .store
            .blocklist_entry(p.org(), &id.0)
            .await?
            .ok_or_else(|| not_found("blocklist entry"))?;
        Ok(Json(BlocklistEntry::from(&row).for_reader(PersonalData::for_user(&p))))
    }

    /// Add an entry
    ///
    /// The value is normalised as assess normalises the matching field
    /// (emails and domains lower-cased, countries upper-cased, IPs and CIDRs
    /// canonical, CLABE and IBAN check digits verified); an invalid value is
    /// refused with the reason. The same type and value twice answers 409
    /// `DUPLICATE`. The next assess sees the entry. Roles: admin, analyst,
    /// compliance_officer.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<NewEntry>,
    ) -> Result<Created, ApiError> {
        let p = auth.0;
        p.require(Action::WriteBlocklists)?;
        let now = now_ms();
        let row = body.value.into_row(p.org(), &p.actor(), now)?;
        let out = BlocklistEntry::from(&row);
        let audit = audit_row(
            &p,
            "blocklist.create",
            "blocklist_entry",
            Some(&row.id),
            None::<&()>,
            Some(&out),
            now,
        );
        state.store.create_blocklist_entry(&row, &audit).await.map_err(|e| match e {
            crate::store::StoreError::Duplicate(_) => entry::duplicate(&row),
            other => other.into(),
        })?;
        state.apply_blocklist_rows(std::slice::from_ref(&row));
        Ok(Created::Created(Json(out)))
    }

    /// Change an entry
    ///
    /// Changes severity, reason, flow scope, activity or expiry; the entry's
    /// `id` goes in the body. The next assess sees the change. Roles: admin,
    /// analyst, compliance_officer.
    #[oai(path = "/", method = "patch")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<EntryPatch>,
    ) -> Result<Json<BlocklistEntry>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteBlocklists)?;
        let patch = body.value;
        let before = state
            .store
            .blocklist_entry(p.org(), &patch.id)
            .await?
            .ok_or_else(|| not_found("blocklist entry"))?;
        let now = now_ms();
        let after = patch.apply(&before, now)?;
        let (b, a) = (BlocklistEntry::from(&before), BlocklistEntry::from(&after));
        let audit = audit_row(
            &p,
            "blocklist.update",
            "blocklist_entry",
            Some(&after.id),
            Some(&b),
            Some(&a),
            now,
        );
        if !state.store.update_blocklist_entry(&after, &audit).await? {
            return Err(not_found("blocklist entry"));
        }
        state.remove_blocklist_row(&before);
        state.apply_blocklist_rows(std::slice::from_ref(&after));
        Ok(Json(a))
    }

    /// Delete an entry
    ///
    /// Admins only. The entry stops matching at once; its audit record keeps
    /// what it was.
    #[oai(path = "/", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The entry's id.
        id: Query<String>,
    ) -> Result<Json<Deleted>, ApiError> {
        let p = auth.0;
        p.require(Action::DeleteBlocklists)?;
        let before = state
            .store
            .blocklist_entry(p.org(), &id.0)
            .await?
            .ok_or_else(|| not_found("blocklist entry"))?;
        let now = now_ms();
        let b = BlocklistEntry::from(&before);
        let audit = audit_row(
            &p,
            "blocklist.delete",
            "blocklist_entry",
            Some(&before.id),
            Some(&b),
            None::<&()>,
            now,
        );
        if !state.store.delete_blocklist_entry(p.org(), &before.id, &audit).await? {
            return Err(not_found("blocklist entry"));
        }
        state.remove_blocklist_row(&before);
        Ok(Json(Deleted { deleted: true, id: before.id }))
    }

    /// Import entries in bulk
    ///
    /// CSV (`Content-Type: text/csv`, header row
    /// `list_type,value,severity,reason,flow_scope,expires_at`; only the
    /// first two columns are required) or JSON lines
    /// (`application/x-ndjson`, one entry object per line). Good rows are
    /// added in one transaction; each rejected row is reported with its line
    /// number and reason; rows already listed are counted as duplicates.
    #[oai(path = "/import", method = "post")]
    async fn import(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: ImportBody,
    ) -> Result<Json<ImportReport>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteBlocklists)?;
        import::run(&state, &p, body).await.map(Json)
    }
}
