//! Pieces every management resource shares: ids, timestamps, pagination,
//! audit rows, field errors.

use clausum_core::wire::{ErrorBody, ErrorCode};
use poem_openapi::Object;
use serde::Serialize;

use crate::{auth::Principal, error::ApiError, store::AuditRow};

/// Default page size of listings.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size of listings.
pub const MAX_LIMIT: i64 = 500;

/// A new id: `<prefix>_` and a UUIDv7 (time-ordered, so new rows land at
/// the end of the primary-key index).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// RFC 3339 text (UTC, milliseconds) of a unix-ms timestamp.
pub fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| format!("{t:.3}"))
}

/// [`iso`] of an optional timestamp.
pub fn iso_opt(ms: Option<i64>) -> Option<String> {
    ms.map(iso)
}

/// Parses an RFC 3339 timestamp (`2026-11-21T10:00:00Z`) into unix ms; the
/// error names the field.
pub fn parse_time(field: &str, text: &str) -> Result<i64, ApiError> {
    text.trim().parse::<jiff::Timestamp>().map(|t| t.as_millisecond()).map_err(|_| {
        ApiError::field(
            field,
            format!("`{field}` must be an RFC 3339 timestamp such as 2026-11-21T10:00:00Z"),
        )
    })
}

/// Parses a timestamp or a plain date (`2026-11-21`, taken as midnight UTC).
pub fn parse_time_or_date(field: &str, text: &str) -> Result<i64, ApiError> {
    if let Ok(d) = text.trim().parse::<jiff::civil::Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|_| ApiError::field(field, format!("`{field}` is out of range")));
    }
    parse_time(field, text)
}

/// Validated `limit` / `offset`.
pub fn page(limit: Option<i64>, offset: Option<i64>) -> Result<(i64, i64), ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field("limit", format!("`limit` must be between 1 and {MAX_LIMIT}")));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::field("offset", "`offset` must be 0 or more"));
    }
    Ok((limit, offset))
}

/// Pagination facts returned with every listing.
#[derive(Object, Debug, Clone)]
pub struct Pagination {
    /// Rows matching the filters across all pages.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// An audit row for a change `principal` makes now.
pub fn audit_row(
    principal: &Principal,
    action: &str,
    resource_type: &str,
    resource_id: Option<&str>,
    before: Option<&impl Serialize>,
    after: Option<&impl Serialize>,
    now: i64,
) -> AuditRow {
    audit_row_by(
        principal.org(),
        principal.actor(),
        action,
        resource_type,
        resource_id,
        before,
        after,
        now,
    )
}

/// An audit row for a change `actor` (`user:…`, `api_key:…`) of `org` makes now.
#[allow(clippy::too_many_arguments)]
pub fn audit_row_by(
    org: &str,
    actor: String,
    action: &str,
    resource_type: &str,
    resource_id: Option<&str>,
    before: Option<&impl Serialize>,
    after: Option<&impl Serialize>,
    now: i64,
) -> AuditRow {
    AuditRow {
        id: new_id("aud"),
        organization_id: org.to_owned(),
        actor,
        action: action.to_owned(),
        resource_type: resource_type.to_owned(),
        resource_id: resource_id.map(str::to_owned),
        before_state: before.map(|b| serde_json::to_string(b).expect("serialises")),
        after_state: after.map(|a| serde_json::to_string(a).expect("serialises")),
        created_at: now,
    }
}

/// 404 `NOT_FOUND` for a resource that does not exist — or belongs to
/// another organisation: the two are indistinguishable on purpose.
pub fn not_found(what: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("No such {what}."))
}

/// A validation error with a code other than `VALIDATION_ERROR`.
pub fn field_error(code: ErrorCode, field: &str, message: impl Into<String>) -> ApiError {
    ApiError::from_body(ErrorBody::for_field(code, field, message))
}

/// Trims optional text, refusing control characters and overlong values;
/// empty text becomes `None`.
pub fn clean_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err(ApiError::field(field, format!("`{field}` has at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ApiError::field(field, format!("`{field}` contains control characters")));
    }
    Ok(Some(clausum_core::normalize::redact_pans(v).into_owned()))
}
