//! Pieces every management resource shares: ids, timestamps, pagination,
//! audit rows, field errors, and the masking of personal data for roles
//! that may not see it.

use clausum_core::{
    blocklist::ListType,
    mask,
    roles::Role,
    wire::{ErrorBody, ErrorCode},
};
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
    date_bound(field, text, false).unwrap_or_else(|| parse_time(field, text))
}

/// Parses the exclusive end of a period: a timestamp is taken as is; a
/// plain date (`2026-11-21`) includes that whole day, so the end is the
/// next midnight UTC.
pub fn parse_time_or_end_of_date(field: &str, text: &str) -> Result<i64, ApiError> {
    date_bound(field, text, true).unwrap_or_else(|| parse_time(field, text))
}

/// `None` unless `text` is a plain date `YYYY-MM-DD`; then the unix ms of
/// its midnight UTC, or with `end` of the next midnight (the end of that
/// day, exclusive). The error names the field. Only the plain form counts:
/// jiff reads a date out of any text that holds one, and a timestamp with
/// an offset (`2026-11-21T10:00:00-06:00`) must stay a timestamp.
pub fn date_bound(field: &str, text: &str, end: bool) -> Option<Result<i64, ApiError>> {
    let text = text.trim();
    let plain = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !plain {
        return None;
    }
    let day = text.parse::<jiff::civil::Date>().ok()?;
    let day = if end { day.tomorrow() } else { Ok(day) };
    Some(
        day.and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|_| ApiError::field(field, format!("`{field}` is out of range"))),
    )
}

/// Whether an answer shows personal data (emails, IPs, phones, names,
/// account numbers) as stored or masked, decided once per request from the
/// caller's role ([`Role::sees_personal_data`]): the transaction monitor,
/// cases, blocklists, simulation runs and ingested events all mask with it,
/// by the same rules ([`clausum_core::mask`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalData {
    /// As stored: roles that work cases, and secret keys (which read what
    /// their own organisation sent).
    Shown,
    /// Masked: roles that may read but not learn whose data it is (viewers).
    Masked,
}

impl PersonalData {
    /// For a caller with `role`; `None` is a secret API key.
    pub fn for_role(role: Option<Role>) -> PersonalData {
        if role.is_some_and(|r| !r.sees_personal_data()) {
            PersonalData::Masked
        } else {
            PersonalData::Shown
        }
    }

    /// For a signed-in dashboard user.
    pub fn for_user(p: &Principal) -> PersonalData {
        PersonalData::for_role(Some(p.role))
    }

    /// Whether personal data is masked.
    pub fn is_masked(self) -> bool {
        self == PersonalData::Masked
    }

    /// A stored value of the field `field` (its JSON name, e.g. `email`,
    /// `victim_name`) as this reader may see it ([`mask::value`]).
    pub fn value(self, field: &str, value: Option<&str>) -> Option<String> {
        value.map(|v| if self.is_masked() { mask::value(field, v) } else { v.to_owned() })
    }

    /// A stored JSON document (a request, an event's payload, an activity
    /// line's details) as this reader may see it: masked in place, field by
    /// field at any depth ([`mask::request`]).
    pub fn document(self, document: &mut serde_json::Value) {
        if self.is_masked() {
            mask::request(document);
        }
    }

    /// A blocklist entry's value of `list_type` (wire name) as this reader
    /// may see it ([`mask::listed`]); a value of an unknown type is masked
    /// whole.
    pub fn listed(self, list_type: &str, value: &str) -> String {
        match (self, ListType::parse(list_type)) {
            (PersonalData::Shown, _) => value.to_owned(),
            (PersonalData::Masked, Some(t)) => mask::listed(t, value),
            (PersonalData::Masked, None) => mask::tail(value, 0),
        }
    }
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

/// Longest `search` text of a listing.
pub const MAX_SEARCH: usize = 200;

/// A listing's `search` text: trimmed, at most [`MAX_SEARCH`] characters,
/// no control characters; empty text is no search. Not PAN-redacted, so an
/// account number (CLABE, IBAN) can be searched for.
pub fn search_text(value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > MAX_SEARCH {
        return Err(ApiError::field(
            "search",
            format!("`search` has at most {MAX_SEARCH} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(ApiError::field("search", "`search` contains control characters"));
    }
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_bounded() {
        assert_eq!(search_text(Some("  ".into())).unwrap(), None);
        assert_eq!(search_text(Some(" 032180 ".into())).unwrap().as_deref(), Some("032180"));
        assert!(search_text(Some("x".repeat(MAX_SEARCH))).is_ok());
        assert!(search_text(Some("x".repeat(MAX_SEARCH + 1))).is_err());
        assert!(search_text(Some("a\tb".into())).is_err());
    }

    #[test]
    fn a_plain_date_as_an_end_includes_that_whole_day() {
        let start = parse_time_or_date("from", "2026-11-21").unwrap();
        let end = parse_time_or_end_of_date("to", " 2026-11-21 ").unwrap();
        assert_eq!(start, parse_time("from", "2026-11-21T00:00:00Z").unwrap());
        assert_eq!(end, parse_time("to", "2026-11-22T00:00:00Z").unwrap());
        // A timestamp is an end as it is.
        for at in ["2026-11-21T10:00:00Z", "2026-11-21T10:00:00-06:00"] {
            assert_eq!(parse_time_or_end_of_date("to", at).unwrap(), parse_time("to", at).unwrap());
            assert_eq!(parse_time_or_date("from", at).unwrap(), parse_time("from", at).unwrap());
        }
        assert!(parse_time_or_end_of_date("to", "9999-12-31").is_err());
        assert!(parse_time_or_end_of_date("to", "tomorrow").is_err());
    }

    #[test]
    fn personal_data_is_masked_for_viewers_only() {
        assert_eq!(PersonalData::for_role(None), PersonalData::Shown);
        for role in Role::ALL {
            assert_eq!(PersonalData::for_role(Some(role)).is_masked(), !role.sees_personal_data());
        }
        let viewer = PersonalData::for_role(Some(Role::Viewer));
        assert_eq!(viewer.value("email", Some("ana@example.com")).unwrap(), "a***@example.com");
        assert_eq!(viewer.value("title", Some("Ana")).unwrap(), "Ana");
        assert_eq!(viewer.listed("ip_address", "198.51.100.4"), "198.51.100.*");
        assert_eq!(viewer.listed("card_bin", "424242"), "424242");
        assert_eq!(viewer.listed("no_such_type", "secret"), "******");
        let admin = PersonalData::for_role(Some(Role::Admin));
        assert_eq!(admin.listed("email", "ana@example.com"), "ana@example.com");
        let mut doc = serde_json::json!({"email": "ana@example.com", "amount": 1});
        admin.document(&mut doc);
        assert_eq!(doc["email"], "ana@example.com");
        viewer.document(&mut doc);
        assert_eq!(doc["email"], "a***@example.com");
        assert_eq!(doc["amount"], 1);
    }
}
