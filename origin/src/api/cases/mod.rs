//! Management API: cases (expedientes), their evidence, transactions and
//! activity, under `/api/v1/cases`.
//!
//! Every query is scoped to the caller's organisation: a case id of another
//! organisation answers 404 exactly like a missing one. Reads need the
//! `read_cases` action, changes `write_cases` (viewers are read-only).
//! Every change writes a line of the case's activity log in the same
//! database transaction; changes to the case itself also write an audit row.
//!
//! The operations are split over two poem-openapi services — the case
//! records ([`records`]) and what hangs off them ([`items`]) — joined here
//! into the one [`CasesApi`] the server registers.

mod input;
mod items;
mod lifecycle;
mod query;
mod records;
mod stats;
mod wire;

use std::collections::HashMap;

use poem::{endpoint::BoxEndpoint, http::Method};
use poem_openapi::{
    OpenApi,
    registry::{MetaApi, Registry},
};

pub use input::{CasePatch, EvidenceKind, LinkTransaction, NewCase, NewEvidence};
pub use stats::{CaseStatistics, PriorityCounts, StatusCounts};
pub use wire::{
    Activity, ActivityPage, Case, CaseDetail, CasePage, CaseTransaction, Evidence, EvidenceList,
    TransactionList,
};

use crate::{
    api::common::{audit_row, new_id, not_found},
    auth::Principal,
    error::ApiError,
    state::AppState,
    store::{ActivityRow, CaseRow},
};

/// Management of cases (expedientes), their evidence, transactions and activity (dashboard token).
pub struct CasesApi;

type Parts = (records::CaseRecordsApi, items::CaseItemsApi);

impl OpenApi for CasesApi {
    fn meta() -> Vec<MetaApi> {
        Parts::meta()
    }

    fn register(registry: &mut Registry) {
        Parts::register(registry);
    }

    fn add_routes(self, route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
        (records::CaseRecordsApi, items::CaseItemsApi).add_routes(route_table);
    }
}

/// The case `id` of the caller's organisation, or 404.
async fn load(state: &AppState, p: &Principal, id: &str) -> Result<CaseRow, ApiError> {
    state.store.case(p.org(), id.trim()).await?.ok_or_else(|| not_found("case"))
}

/// An activity line of `case_id` by `p`.
fn activity(
    p: &Principal,
    case_id: &str,
    action: &str,
    details: serde_json::Value,
    now: i64,
) -> ActivityRow {
    ActivityRow {
        id: new_id("act"),
        case_id: case_id.to_owned(),
        organization_id: p.org().to_owned(),
        actor: p.actor(),
        action: action.to_owned(),
        details: details.to_string(),
        created_at: now,
    }
}

/// Saves a change read from `before` — only if the case still has the
/// status it had then — with its activity line and an audit row
/// (`audit_action`, before and after). Returns the saved case.
async fn save(
    state: &AppState,
    p: &Principal,
    before: &CaseRow,
    change: lifecycle::Change,
    action: &str,
    details: serde_json::Value,
    audit_action: &str,
) -> Result<Case, ApiError> {
    let now = change.after.updated_at;
    let (b, a) = (Case::from(before), Case::from(&change.after));
    let audit = audit_row(p, audit_action, "case", Some(&before.id), Some(&b), Some(&a), now);
    let line = activity(p, &before.id, action, details, now);
    if !state.store.update_case(&change.after, &before.status, &line, &audit).await? {
        let expected = lifecycle::status_of(before)?;
        let current = state.store.case(p.org(), &before.id).await?;
        // Only `POST …/submit` upgrades a lost race to ALREADY_SUBMITTED; a
        // PATCH answers like any other transition that no longer applies.
        let submitting = action == "submitted";
        return Err(lifecycle::lost_race(current.as_ref(), expected, submitting));
    }
    Ok(a)
}
