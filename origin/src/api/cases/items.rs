//! What hangs off a case: evidence, linked transactions, activity.

use std::sync::Arc;

use clausum_core::{cases::CaseStatus, roles::Action, wire::ErrorCode};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde_json::json;

use super::{
    EvidenceKind, LinkTransaction, NewEvidence, activity,
    input::{self, MAX_EVIDENCE_DESCRIPTION},
    lifecycle, load,
    wire::{Activity, ActivityPage, CaseTransaction, Evidence, EvidenceList, TransactionList},
};
use crate::{
    api::{
        Tag,
        common::{Pagination, PersonalData, audit_row, clean_text, new_id, not_found, page},
    },
    auth::DashboardToken,
    error::ApiError,
    payload::JsonBody,
    state::AppState,
    store::{CaseRow, EvidenceRow},
    time::now_ms,
};

/// Evidence added.
#[derive(ApiResponse)]
pub enum EvidenceAdded {
    /// The evidence was stored.
    #[oai(status = 201)]
    Created(Json<Evidence>),
}

/// Transaction linked.
#[derive(ApiResponse)]
pub enum TransactionLinked {
    /// The transaction is now linked to the case.
    #[oai(status = 201)]
    Created(Json<CaseTransaction>),
}

/// A case's evidence, transactions and activity.
pub struct CaseItemsApi;

#[OpenApi(prefix_path = "/api/v1/cases", tag = "Tag::Cases")]
impl CaseItemsApi {
    /// List a case's evidence.
    ///
    /// Links and notes, oldest first. Roles: every role.
    #[oai(path = "/:id/evidence", method = "get")]
    async fn evidence(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The case's id (`case_…`).
        id: Path<String>,
    ) -> Result<Json<EvidenceList>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadCases)?;
        let case = load(&state, &p, &id.0).await?;
        let rows = state.store.evidence(p.org(), &case.id).await?;
        Ok(Json(EvidenceList { data: rows.iter().map(Evidence::from).collect() }))
    }

    /// Add evidence to a case.
    ///
    /// A link (`kind: url`, absolute http(s) URL, stored and
    /// never fetched) or a note (`kind: note`, with `description`).
    /// Archived cases are read-only (409 `INVALID_STATUS_TRANSITION`).
    /// Roles: admin, analyst, compliance_officer.
    #[oai(path = "/:id/evidence", method = "post")]
    async fn add_evidence(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The case's id (`case_…`).
        id: Path<String>,
        body: JsonBody<NewEvidence>,
    ) -> Result<EvidenceAdded, ApiError> {
        let p = auth.0;
        p.require(Action::WriteCases)?;
        let case = load(&state, &p, &id.0).await?;
        let now = now_ms();
        let row = evidence_row(body.value, &case, &p.actor(), now)?;
        writable(&case)?;
        let details = json!({"evidence_id": row.id, "kind": row.kind});
        let line = activity(&p, &case.id, "evidence_added", details, now);
        let out = Evidence::from(&row);
        let audit = audit_row(
            &p,
            "case.evidence.add",
            "case",
            Some(&case.id),
            None::<&()>,
            Some(&out),
            now,
        );
        state.store.insert_evidence(&row, &line, &audit).await?;
        Ok(EvidenceAdded::Created(Json(out)))
    }

    /// List a case's transactions.
    ///
    /// The transactions linked to the case, in the order they were linked
    /// (a fraud report links the reported one). The payer's email is masked
    /// for viewers, as in the transaction monitor. Roles: every role.
    #[oai(path = "/:id/transactions", method = "get")]
    async fn transactions(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The case's id (`case_…`).
        id: Path<String>,
    ) -> Result<Json<TransactionList>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadCases)?;
        let case = load(&state, &p, &id.0).await?;
        let rows = state.store.case_transactions(p.org(), &case.id).await?;
        let personal = PersonalData::for_user(&p);
        Ok(Json(TransactionList {
            data: rows.iter().map(|r| CaseTransaction::from(r).for_reader(personal)).collect(),
        }))
    }

    /// Link a transaction to a case.
    ///
    /// The transaction must be the organisation's: one of another
    /// organisation answers 404 like a missing one. Linking the same one
    /// twice is 409 `DUPLICATE`; archived cases are read-only (409
    /// `INVALID_STATUS_TRANSITION`). Roles: admin, analyst,
    /// compliance_officer.
    #[oai(path = "/:id/transactions", method = "post")]
    async fn link_transaction(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The case's id (`case_…`).
        id: Path<String>,
        body: JsonBody<LinkTransaction>,
    ) -> Result<TransactionLinked, ApiError> {
        let p = auth.0;
        p.require(Action::WriteCases)?;
        let txn_id = body.value.transaction_id.trim().to_owned();
        if txn_id.is_empty() || txn_id.chars().count() > 64 {
            return Err(ApiError::field("transaction_id", "`transaction_id` must be a `txn_…` id"));
        }
        let case = load(&state, &p, &id.0).await?;
        writable(&case)?;
        let txn = state
            .store
            .transaction(p.org(), &txn_id)
            .await?
            .ok_or_else(|| not_found("transaction"))?;
        let now = now_ms();
        let details = json!({"transaction_id": txn.id});
        let line = activity(&p, &case.id, "transaction_linked", details.clone(), now);
        let audit = audit_row(
            &p,
            "case.transaction.link",
            "case",
            Some(&case.id),
            None::<&()>,
            Some(&details),
            now,
        );
        if !state.store.link_transaction(&case.id, &txn.id, &line, &audit).await? {
            return Err(ApiError::new(
                ErrorCode::Duplicate,
                "That transaction is already linked to this case.",
            ));
        }
        Ok(TransactionLinked::Created(Json(CaseTransaction::from(&txn))))
    }

    /// List a case's activity.
    ///
    /// The case's activity log, newest first: who opened, changed,
    /// submitted it, added evidence or linked transactions, and when.
    /// Personal data in the details is masked for viewers. Roles: every
    /// role.
    #[oai(path = "/:id/activity", method = "get")]
    async fn activity(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The case's id (`case_…`).
        id: Path<String>,
        /// Page size (1–500, default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<ActivityPage>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadCases)?;
        let (limit, offset) = page(limit.0, offset.0)?;
        let case = load(&state, &p, &id.0).await?;
        let found = state.store.activity_page(p.org(), &case.id, limit, offset).await?;
        let personal = PersonalData::for_user(&p);
        Ok(Json(ActivityPage {
            data: found.rows.iter().map(|r| Activity::from(r).for_reader(personal)).collect(),
            pagination: Pagination { total: found.total, limit, offset },
        }))
    }
}

/// 409 unless the case may still change (archived cases are read-only).
fn writable(case: &CaseRow) -> Result<(), ApiError> {
    match lifecycle::status_of(case)? {
        CaseStatus::Archivado => Err(lifecycle::read_only()),
        _ => Ok(()),
    }
}

/// The evidence row of a request; 400 naming the field when it is incomplete.
fn evidence_row(
    e: NewEvidence,
    case: &CaseRow,
    actor: &str,
    now: i64,
) -> Result<EvidenceRow, ApiError> {
    let url = e.url.filter(|u| !u.trim().is_empty()).map(|u| input::url(&u)).transpose()?;
    let description = clean_text("description", e.description, MAX_EVIDENCE_DESCRIPTION)?;
    match e.kind {
        EvidenceKind::Url if url.is_none() => {
            return Err(ApiError::field("url", "`url` is required for evidence of kind `url`"));
        }
        EvidenceKind::Note if description.is_none() => {
            return Err(ApiError::field(
                "description",
                "`description` is required for evidence of kind `note`",
            ));
        }
        _ => {}
    }
    Ok(EvidenceRow {
        id: new_id("ev"),
        case_id: case.id.clone(),
        organization_id: case.organization_id.clone(),
        kind: e.kind.as_str().to_owned(),
        url,
        description,
        added_by: actor.to_owned(),
        created_at: now,
    })
}
