//! Changing a case: field edits, status transitions and submission, and
//! the 409s they answer when the lifecycle says no.

use clausum_core::{
    cases::{CaseStatus, IllegalTransition, Jurisdiction, Priority},
    wire::{ErrorBody, ErrorCode, ErrorDetail},
};
use poem_openapi::types::MaybeUndefined;
use serde_json::json;

use super::input::{self, CasePatch, MAX_DESCRIPTION, MAX_VICTIM_NAME, NewCase};
use crate::{
    api::common::{clean_text, new_id},
    error::ApiError,
    store::CaseRow,
};

/// The row of a new manual case, in `borrador`, without its reference
/// number (the caller draws one per insert attempt).
pub fn new_case(n: NewCase, org_id: &str, actor: &str, now: i64) -> Result<CaseRow, ApiError> {
    let title = input::title(n.title)?;
    let incident_date = n.incident_date.map(|d| input::date("incident_date", &d)).transpose()?;
    let amount_minor = n.amount.map(input::amount).transpose()?;
    let currency = match (n.currency, n.jurisdiction) {
        (Some(c), _) => Some(input::currency(&c)?),
        (None, Some(j)) => Some(j.currency().to_owned()),
        (None, None) => None,
    };
    if amount_minor.is_some() && currency.is_none() {
        return Err(ApiError::field(
            "currency",
            "An amount needs a `currency` (or a `jurisdiction`).",
        ));
    }
    let victim_email = n.victim_email.map(|e| input::email("victim_email", &e)).transpose()?;
    Ok(CaseRow {
        id: new_id("case"),
        organization_id: org_id.to_owned(),
        reference_number: String::new(),
        status: CaseStatus::Borrador.as_str().to_owned(),
        priority: n.priority.unwrap_or(Priority::Media).as_str().to_owned(),
        incident_type: n.incident_type.as_str().to_owned(),
        incident_date,
        jurisdiction: n.jurisdiction.map(|j| j.as_str().to_owned()),
        currency,
        amount_minor,
        victim_name: clean_text("victim_name", n.victim_name, MAX_VICTIM_NAME)?,
        victim_email,
        title,
        description: clean_text("description", n.description, MAX_DESCRIPTION)?,
        source: "manual".to_owned(),
        fraud_reason: None,
        source_transaction_id: None,
        notify: "{}".to_owned(),
        created_by: actor.to_owned(),
        created_at: now,
        updated_at: now,
        submitted_at: None,
        resolved_at: None,
    })
}

/// A validated change to a case.
#[derive(Debug)]
pub struct Change {
    /// The case as it will be saved.
    pub after: CaseRow,
    /// The status move, if any.
    pub moved: Option<(CaseStatus, CaseStatus)>,
    /// Names of the fields whose value changes, in request order.
    pub fields: Vec<&'static str>,
}

impl Change {
    /// Whether saving it would change anything.
    pub fn is_noop(&self) -> bool {
        self.moved.is_none() && self.fields.is_empty()
    }
}

/// The case's status, parsed.
pub fn status_of(case: &CaseRow) -> Result<CaseStatus, ApiError> {
    CaseStatus::parse(&case.status).ok_or_else(|| {
        ApiError::internal(&format!("case {} has status {:?}", case.id, case.status))
    })
}

fn conflict(code: ErrorCode, message: String, details: serde_json::Value) -> ApiError {
    ApiError::from_body(ErrorBody { error: ErrorDetail { code, message, details: Some(details) } })
}

/// 409 `INVALID_STATUS_TRANSITION` naming the allowed moves.
pub fn illegal(e: &IllegalTransition) -> ApiError {
    let text = e.to_string();
    let mut chars = text.chars();
    let message = chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>() + ".");
    conflict(
        ErrorCode::InvalidStatusTransition,
        message.unwrap_or_default(),
        json!({"from": e.from, "to": e.to, "allowed": e.allowed}),
    )
}

/// 409 for any change to an archived case.
pub fn read_only() -> ApiError {
    conflict(
        ErrorCode::InvalidStatusTransition,
        "The case is `archivado`: archived cases are read-only.".into(),
        json!({"from": CaseStatus::Archivado, "allowed": []}),
    )
}

/// 409 when the case changed status between our read and our write.
pub fn changed_meanwhile(expected: CaseStatus) -> ApiError {
    conflict(
        ErrorCode::InvalidStatusTransition,
        format!(
            "The case changed while this request was handled (it is no longer `{expected}`); \
             reload it and try again."
        ),
        json!({"expected": expected, "reload": true}),
    )
}

/// 409 `ALREADY_SUBMITTED`.
pub fn already_submitted(case: &CaseRow) -> ApiError {
    conflict(
        ErrorCode::AlreadySubmitted,
        format!("Case {} was already submitted to the regulator.", case.reference_number),
        json!({"status": case.status, "submitted_at": case.submitted_at.map(crate::api::common::iso)}),
    )
}

fn require_jurisdiction(case: &CaseRow) -> Result<(), ApiError> {
    if case.jurisdiction.is_none() {
        return Err(ApiError::field(
            "jurisdiction",
            "Set the case's `jurisdiction` first: a submission goes to that country's regulator.",
        ));
    }
    Ok(())
}

/// Moves `case` to `to` (stamping `submitted_at` / `resolved_at`).
fn move_to(case: &mut CaseRow, from: CaseStatus, to: CaseStatus, now: i64) -> Result<(), ApiError> {
    from.transition(to).map_err(|e| illegal(&e))?;
    if to == CaseStatus::Enviado {
        require_jurisdiction(case)?;
        case.submitted_at = Some(now);
    }
    if to == CaseStatus::Resuelto {
        case.resolved_at = Some(now);
    }
    case.status = to.as_str().to_owned();
    Ok(())
}

/// Sets `slot` to `value`, recording `name` if it differs.
fn set<T: PartialEq>(slot: &mut T, value: T, name: &'static str, fields: &mut Vec<&'static str>) {
    if *slot != value {
        *slot = value;
        fields.push(name);
    }
}

/// Validates a nullable field: `Undefined` → keep, `Null` → clear.
fn maybe<T, U>(
    v: MaybeUndefined<T>,
    f: impl FnOnce(T) -> Result<Option<U>, ApiError>,
) -> Result<Option<Option<U>>, ApiError> {
    match v {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(x) => f(x).map(Some),
    }
}

/// `before` with `patch` applied; 400 on invalid values, 409 when the
/// lifecycle refuses. Fields are validated before the status is looked at.
pub fn apply(before: &CaseRow, patch: CasePatch, now: i64) -> Result<Change, ApiError> {
    let from = status_of(before)?;
    let mut c = before.clone();
    let mut fields = Vec::new();
    let touched = patch.title.is_some()
        || patch.priority.is_some()
        || patch.incident_type.is_some()
        || !patch.description.is_undefined()
        || !patch.incident_date.is_undefined()
        || !patch.jurisdiction.is_undefined()
        || !patch.currency.is_undefined()
        || !patch.amount.is_undefined()
        || !patch.victim_name.is_undefined()
        || !patch.victim_email.is_undefined();
    if !touched && patch.status.is_none() {
        return Err(ApiError::new(
            ErrorCode::ValidationError,
            "Nothing to change: send a status or a field.",
        ));
    }
    if let Some(t) = patch.title {
        set(&mut c.title, input::title(t)?, "title", &mut fields);
    }
    if let Some(d) =
        maybe(patch.description, |d| clean_text("description", Some(d), MAX_DESCRIPTION))?
    {
        set(&mut c.description, d, "description", &mut fields);
    }
    if let Some(p) = patch.priority {
        set(&mut c.priority, p.as_str().to_owned(), "priority", &mut fields);
    }
    if let Some(t) = patch.incident_type {
        set(&mut c.incident_type, t.as_str().to_owned(), "incident_type", &mut fields);
    }
    if let Some(d) = maybe(patch.incident_date, |d| input::date("incident_date", &d).map(Some))? {
        set(&mut c.incident_date, d, "incident_date", &mut fields);
    }
    let jurisdiction = maybe(patch.jurisdiction, |j: Jurisdiction| Ok(Some(j)))?;
    if let Some(j) = jurisdiction {
        set(&mut c.jurisdiction, j.map(|j| j.as_str().to_owned()), "jurisdiction", &mut fields);
    }
    let currency_given = !patch.currency.is_undefined();
    if let Some(cur) = maybe(patch.currency, |cur| input::currency(&cur).map(Some))? {
        set(&mut c.currency, cur, "currency", &mut fields);
    }
    if let (Some(Some(j)), false, None) = (jurisdiction, currency_given, &c.currency) {
        set(&mut c.currency, Some(j.currency().to_owned()), "currency", &mut fields);
    }
    if let Some(a) = maybe(patch.amount, |a| input::amount(a).map(Some))? {
        set(&mut c.amount_minor, a, "amount", &mut fields);
    }
    if let Some(n) =
        maybe(patch.victim_name, |n| clean_text("victim_name", Some(n), MAX_VICTIM_NAME))?
    {
        set(&mut c.victim_name, n, "victim_name", &mut fields);
    }
    if let Some(e) = maybe(patch.victim_email, |e| input::email("victim_email", &e).map(Some))? {
        set(&mut c.victim_email, e, "victim_email", &mut fields);
    }
    if c.amount_minor.is_some() && c.currency.is_none() {
        return Err(ApiError::field(
            "currency",
            "An amount needs a `currency` (or a `jurisdiction`).",
        ));
    }
    if from == CaseStatus::Archivado {
        return Err(match patch.status.map(|to| from.transition(to)) {
            Some(Err(e)) => illegal(&e),
            _ => read_only(),
        });
    }
    let moved = match patch.status {
        Some(to) => {
            move_to(&mut c, from, to, now)?;
            Some((from, to))
        }
        None => None,
    };
    if moved.is_some() || !fields.is_empty() {
        c.updated_at = now;
    }
    Ok(Change { after: c, moved, fields })
}

/// `before` submitted to the regulator: only from `en_revision`, once,
/// with a jurisdiction.
pub fn submit(before: &CaseRow, now: i64) -> Result<Change, ApiError> {
    let from = status_of(before)?;
    if from.is_submitted() {
        return Err(already_submitted(before));
    }
    let mut c = before.clone();
    move_to(&mut c, from, CaseStatus::Enviado, now)?;
    c.updated_at = now;
    Ok(Change { after: c, moved: Some((from, CaseStatus::Enviado)), fields: Vec::new() })
}

/// Answers a lost optimistic update: `ALREADY_SUBMITTED` when a concurrent
/// request submitted the case first, otherwise "reload".
pub fn lost_race(now_stored: Option<&CaseRow>, expected: CaseStatus, submitting: bool) -> ApiError {
    match now_stored {
        Some(c) if submitting && status_of(c).is_ok_and(CaseStatus::is_submitted) => {
            already_submitted(c)
        }
        _ => changed_meanwhile(expected),
    }
}
