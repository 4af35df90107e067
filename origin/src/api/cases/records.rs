//! The case records: list, statistics, create, read, change, submit.

use std::sync::Arc;

use clausum_core::{cases::ReferenceNumber, roles::Action};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use rand::RngCore;
use serde_json::json;

use super::{
    CasePatch, NewCase, activity, lifecycle, load,
    query::ListQuery,
    save,
    stats::CaseStatistics,
    wire::{Case, CaseDetail, CasePage},
};
use crate::{
    api::{
        Tag,
        blocklists::BlocklistEntry,
        common::{Pagination, PersonalData, audit_row},
    },
    auth::DashboardToken,
    error::ApiError,
    payload::JsonBody,
    state::AppState,
    store::StoreError,
    time::now_ms,
};

/// Insert attempts before a reference-number collision is an error.
const REFERENCE_ATTEMPTS: usize = 3;

/// Created.
#[derive(ApiResponse)]
pub enum CaseCreated {
    /// The case was opened.
    #[oai(status = 201)]
    Created(Json<Case>),
}

/// The case records.
pub struct CaseRecordsApi;

#[OpenApi(prefix_path = "/api/v1/cases", tag = "Tag::Cases")]
impl CaseRecordsApi {
    /// List cases.
    ///
    /// The organisation's cases, filtered by status, priority, jurisdiction,
    /// incident type, text and creation time, sorted and paged. The
    /// victim's name and email are masked for viewers. Roles: every role.
    #[oai(path = "/", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// Only this status: `borrador`, `en_revision`, `enviado`, `resuelto` or `archivado`.
        status: Query<Option<String>>,
        /// Only this priority: `baja`, `media`, `alta` or `urgente`.
        priority: Query<Option<String>>,
        /// Only this jurisdiction: `CL`, `MX`, `BR`, `PE`, `CO`, `UY` or `AR` (any case).
        jurisdiction: Query<Option<String>>,
        /// Only this incident type: `phishing`, `ingenieria_social`, `transferencia_no_autorizada`,
        /// `robo_identidad`, `fraude_interno` or `otro`.
        incident_type: Query<Option<String>>,
        /// Case-insensitive text in the reference number, title, description
        /// or victim name (at most 200 characters).
        search: Query<Option<String>>,
        /// Created at or after: an RFC 3339 timestamp, or a day `YYYY-MM-DD`
        /// (from its midnight UTC).
        from_date: Query<Option<String>>,
        /// Created before: an RFC 3339 timestamp is an exclusive end; a day
        /// `YYYY-MM-DD` is included whole (up to the next midnight UTC).
        to_date: Query<Option<String>>,
        /// `created_at` (default), `updated_at`, `priority` (by urgency, not
        /// alphabetically), `status` or `amount_minor`.
        sort_by: Query<Option<String>>,
        /// `desc` (default) or `asc`.
        sort_order: Query<Option<String>>,
        /// Page size (1–500, default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<CasePage>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadCases)?;
        let filter = ListQuery {
            status: status.0,
            priority: priority.0,
            jurisdiction: jurisdiction.0,
            incident_type: incident_type.0,
            search: search.0,
            from_date: from_date.0,
            to_date: to_date.0,
            sort_by: sort_by.0,
            sort_order: sort_order.0,
            limit: limit.0,
            offset: offset.0,
        }
        .into_filter()?;
        let found = state.store.cases_page(p.org(), &filter).await?;
        let personal = PersonalData::for_user(&p);
        Ok(Json(CasePage {
            data: found.rows.iter().map(|r| Case::from(r).for_reader(personal)).collect(),
            pagination: Pagination {
                total: found.total,
                limit: filter.limit,
                offset: filter.offset,
            },
        }))
    }

    /// Case statistics.
    ///
    /// Counts for dashboards: per status, priority, jurisdiction and
    /// incident type (every known value present, 0 when none), and how many
    /// are open (neither `resuelto` nor `archivado`). Roles: every role.
    #[oai(path = "/statistics", method = "get")]
    async fn statistics(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
    ) -> Result<Json<CaseStatistics>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadCases)?;
        let stats = state.store.case_stats(p.org()).await?;
        Ok(Json(CaseStatistics::from(&stats)))
    }

    /// Open a case.
    ///
    /// The case starts as `borrador` with source `manual` and gets a
    /// reference number `CLM-XXXXXX`. Without `currency`, the
    /// jurisdiction's local currency is used. Roles: admin, analyst,
    /// compliance_officer.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<NewCase>,
    ) -> Result<CaseCreated, ApiError> {
        let p = auth.0;
        p.require(Action::WriteCases)?;
        let now = now_ms();
        let base = lifecycle::new_case(body.value, p.org(), &p.actor(), now)?;
        // A reference collision (about one in a billion per case) fails the
        // insert on the unique index; draw a fresh number and try again.
        let mut last = String::new();
        for _ in 0..REFERENCE_ATTEMPTS {
            let mut row = base.clone();
            row.reference_number = fresh_reference();
            let out = Case::from(&row);
            let details = json!({"reference_number": row.reference_number, "status": row.status});
            let line = activity(&p, &row.id, "created", details, now);
            let audit =
                audit_row(&p, "case.create", "case", Some(&row.id), None::<&()>, Some(&out), now);
            match state.store.insert_case(&row, &line, &audit).await {
                Ok(()) => return Ok(CaseCreated::Created(Json(out))),
                Err(StoreError::Duplicate(e)) => last = e,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::internal(&format!("case insert kept conflicting: {last}")))
    }

    /// One case.
    ///
    /// The case, with its linked blocklist entries and how much evidence
    /// and how many transactions it has. Personal data (the victim's name
    /// and email, listed values) is masked for viewers. Roles: every role.
    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The case's id (`case_…`).
        id: Path<String>,
    ) -> Result<Json<CaseDetail>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadCases)?;
        let case = load(&state, &p, &id.0).await?;
        let entries = state.store.case_entries(p.org(), &case.id).await?;
        let evidence = state.store.evidence(p.org(), &case.id).await?;
        let transactions = state.store.case_transactions(p.org(), &case.id).await?;
        let personal = PersonalData::for_user(&p);
        Ok(Json(CaseDetail {
            case: Case::from(&case).for_reader(personal),
            blocklist_entries: entries
                .iter()
                .map(|e| BlocklistEntry::from(e).for_reader(personal))
                .collect(),
            evidence_count: evidence.len() as i64,
            transaction_count: transactions.len() as i64,
        }))
    }

    /// Change a case.
    ///
    /// Changes the status and/or fields. A status change must be one
    /// the lifecycle allows (`borrador` → `en_revision` → `enviado` →
    /// `resuelto`, `en_revision` back to `borrador`, anything but
    /// `archivado` → `archivado`); otherwise 409
    /// `INVALID_STATUS_TRANSITION` with `details.allowed`. Archived cases
    /// are read-only (409). A change that loses a race with another one
    /// answers 409 too: reload and retry. A patch that changes nothing
    /// writes nothing. Roles: admin, analyst, compliance_officer.
    #[oai(path = "/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The case's id (`case_…`).
        id: Path<String>,
        body: JsonBody<CasePatch>,
    ) -> Result<Json<Case>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteCases)?;
        let before = load(&state, &p, &id.0).await?;
        let change = lifecycle::apply(&before, body.value, now_ms())?;
        if change.is_noop() {
            return Ok(Json(Case::from(&before)));
        }
        let (action, details) = match change.moved {
            Some((from, to)) if change.fields.is_empty() => {
                ("status_changed", json!({"from": from, "to": to}))
            }
            Some((from, to)) => {
                ("status_changed", json!({"from": from, "to": to, "fields": change.fields}))
            }
            None => ("updated", json!({"fields": change.fields})),
        };
        let out = save(&state, &p, &before, change, action, details, "case.update").await?;
        Ok(Json(out))
    }

    /// Submit a case to the regulator.
    ///
    /// Submits the case to its jurisdiction's regulator: `en_revision` →
    /// `enviado`, stamping `submitted_at`. A case already submitted
    /// (`enviado` or `resuelto`) answers 409 `ALREADY_SUBMITTED`; from any
    /// other status 409 `INVALID_STATUS_TRANSITION`. Without a jurisdiction
    /// the case cannot be submitted (400). Roles: admin, analyst,
    /// compliance_officer.
    #[oai(path = "/:id/submit", method = "post")]
    async fn submit(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The case's id (`case_…`).
        id: Path<String>,
    ) -> Result<Json<Case>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteCases)?;
        let before = load(&state, &p, &id.0).await?;
        let change = lifecycle::submit(&before, now_ms())?;
        let details = json!({
            "from": before.status,
            "to": change.after.status,
            "jurisdiction": change.after.jurisdiction,
        });
        let out = save(&state, &p, &before, change, "submitted", details, "case.submit").await?;
        Ok(Json(out))
    }
}

/// A new reference number from the operating system's RNG.
fn fresh_reference() -> String {
    let mut random = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut random);
    ReferenceNumber::from_random(random).as_str().to_owned()
}
