//! The case listing's query parameters, checked and turned into a filter.

use clausum_core::cases::{CaseStatus, IncidentType, Jurisdiction, Priority};

use super::input::query_enum;
use crate::{
    api::common::{date_bound, page, parse_time},
    error::ApiError,
    store::{CASE_SORTABLE, CaseFilter},
};

/// The raw query parameters of `GET /api/v1/cases`.
#[derive(Debug, Default)]
pub struct ListQuery {
    /// `status`.
    pub status: Option<String>,
    /// `priority`.
    pub priority: Option<String>,
    /// `jurisdiction`.
    pub jurisdiction: Option<String>,
    /// `incident_type`.
    pub incident_type: Option<String>,
    /// `search`.
    pub search: Option<String>,
    /// `from_date`.
    pub from_date: Option<String>,
    /// `to_date`.
    pub to_date: Option<String>,
    /// `sort_by`.
    pub sort_by: Option<String>,
    /// `sort_order`.
    pub sort_order: Option<String>,
    /// `limit`.
    pub limit: Option<i64>,
    /// `offset`.
    pub offset: Option<i64>,
}

impl ListQuery {
    /// The store filter; 400 naming the parameter on any bad value.
    pub fn into_filter(self) -> Result<CaseFilter, ApiError> {
        let (limit, offset) = page(self.limit, self.offset)?;
        let search = crate::api::common::search_text(self.search)?;
        let from_ms =
            nonempty(self.from_date).map(|t| bound("from_date", &t, false)).transpose()?;
        let to_ms = nonempty(self.to_date).map(|t| bound("to_date", &t, true)).transpose()?;
        if let (Some(from), Some(to)) = (from_ms, to_ms)
            && to <= from
        {
            return Err(ApiError::field("to_date", "`to_date` must be later than `from_date`"));
        }
        Ok(CaseFilter {
            status: query_enum::<CaseStatus>("status", self.status)?.map(|s| s.as_str().to_owned()),
            priority: query_enum::<Priority>("priority", self.priority)?
                .map(|p| p.as_str().to_owned()),
            jurisdiction: query_enum::<Jurisdiction>("jurisdiction", self.jurisdiction)?
                .map(|j| j.as_str().to_owned()),
            incident_type: query_enum::<IncidentType>("incident_type", self.incident_type)?
                .map(|i| i.as_str().to_owned()),
            search,
            from_ms,
            to_ms,
            sort_by: sort_column(self.sort_by)?,
            descending: descending(self.sort_order)?,
            limit,
            offset,
        })
    }
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// A time bound in unix ms. An RFC 3339 timestamp is taken as is (for
/// `to_date` it is an exclusive end); a plain `YYYY-MM-DD` day starts at
/// midnight UTC, and as `to_date` it includes that whole day (the bound
/// is the next midnight).
fn bound(field: &str, text: &str, end: bool) -> Result<i64, ApiError> {
    let text = text.trim();
    date_bound(field, text, end).unwrap_or_else(|| {
        parse_time(field, text).map_err(|_| {
            ApiError::field(
                field,
                format!("`{field}` must be a date (2026-11-21) or an RFC 3339 timestamp (2026-11-21T10:00:00Z)"),
            )
        })
    })
}

/// One of the sortable columns (`created_at` by default).
fn sort_column(s: Option<String>) -> Result<&'static str, ApiError> {
    let Some(s) = nonempty(s) else { return Ok("created_at") };
    CASE_SORTABLE.iter().copied().find(|c| *c == s.trim()).ok_or_else(|| {
        ApiError::field(
            "sort_by",
            format!("`sort_by` must be one of: {}", CASE_SORTABLE.join(", ")),
        )
    })
}

/// `desc` (default) or `asc`, any case.
fn descending(s: Option<String>) -> Result<bool, ApiError> {
    match nonempty(s).map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("desc") => Ok(true),
        Some("asc") => Ok(false),
        Some(_) => Err(ApiError::field("sort_order", "`sort_order` must be `asc` or `desc`")),
    }
}
