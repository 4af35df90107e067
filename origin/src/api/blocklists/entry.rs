//! Blocklist entries on the wire, and turning requests into rows.

use clausum_core::{
    blocklist::{FlowScope, ListType, Severity, Source},
    wire::ErrorCode,
};
use poem_openapi::{Object, types::MaybeUndefined};
use serde::{Deserialize, Serialize};

use crate::{
    api::common::{PersonalData, clean_text, field_error, iso, iso_opt, new_id, parse_time},
    error::ApiError,
    store::BlocklistRow,
};

/// Longest `reason`.
const MAX_REASON: usize = 500;

/// A blocklist entry.
#[derive(Object, Serialize, Debug, Clone)]
pub struct BlocklistEntry {
    /// `bl_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// List type.
    pub list_type: String,
    /// The normalised value. For viewers, values that are personal data
    /// (emails, IPs, phones, ids, account numbers, fingerprints, hashes) are
    /// masked as the transaction monitor masks them.
    pub value: String,
    /// `block` (hard decline), `flag` (heavy weight) or `review` (moderate weight, routes to review).
    pub severity: String,
    /// `manual`, `rule`, `fraud_report`, `chargeback` or `api`.
    pub source: String,
    /// Why it was added.
    pub reason: Option<String>,
    /// `payin`, `payout` or `all`.
    pub flow_scope: String,
    /// Inactive entries are kept but never match.
    pub is_active: bool,
    /// When it stops matching (RFC 3339), if ever.
    pub expires_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// `user:<id>` or `key:<id>` of whoever added it.
    pub created_by: Option<String>,
}

impl From<&BlocklistRow> for BlocklistEntry {
    fn from(r: &BlocklistRow) -> Self {
        BlocklistEntry {
            id: r.id.clone(),
            organization_id: r.organization_id.clone(),
            list_type: r.list_type.clone(),
            value: r.value.clone(),
            severity: r.severity.clone(),
            source: r.source.clone(),
            reason: r.reason.clone(),
            flow_scope: r.flow_scope.clone(),
            is_active: r.is_active,
            expires_at: iso_opt(r.expires_at),
            created_at: iso(r.created_at),
            updated_at: iso(r.updated_at),
            created_by: r.created_by.clone(),
        }
    }
}

impl BlocklistEntry {
    /// The entry as a reader may see it: its value masked for roles that
    /// do not see personal data. Audit rows keep the entry as stored.
    pub fn for_reader(mut self, personal: PersonalData) -> BlocklistEntry {
        self.value = personal.listed(&self.list_type, &self.value);
        self
    }
}

/// A new entry.
#[derive(Object, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    /// One of: email, email_domain, ip_address, ip_range, device_fingerprint,
    /// card_bin, card_hash, country, phone, customer_id (pay-in) and clabe,
    /// iban, account_hash, swift_bic, beneficiary_id (payout).
    #[oai(validator(max_length = 64))]
    pub list_type: String,
    /// The value; normalised before it is stored.
    #[oai(validator(max_length = 512))]
    pub value: String,
    /// `block` (default), `flag` or `review`.
    pub severity: Option<String>,
    /// `manual` (default), `rule`, `fraud_report`, `chargeback` or `api`.
    pub source: Option<String>,
    /// Why (at most 500 characters).
    pub reason: Option<String>,
    /// `all` (default), `payin` or `payout`.
    pub flow_scope: Option<String>,
    /// RFC 3339 time after which the entry stops matching.
    pub expires_at: Option<String>,
}

impl NewEntry {
    /// The row to store, with the value normalised; errors name the field.
    pub fn into_row(self, org_id: &str, actor: &str, now: i64) -> Result<BlocklistRow, ApiError> {
        let list_type = parse_list_type(&self.list_type)?;
        let value = normalize_value(list_type, &self.value, "value")?;
        let severity = match self.severity {
            Some(s) => parse_severity(&s)?,
            None => Severity::Block,
        };
        let source = match self.source {
            Some(s) => Source::parse(&s)
                .ok_or_else(|| unknown("source", &s, &Source::ALL.map(Source::as_str)))?,
            None => Source::Manual,
        };
        let flow_scope = match self.flow_scope {
            Some(s) => parse_scope(&s)?,
            None => FlowScope::All,
        };
        let expires_at = self.expires_at.map(|t| parse_time("expires_at", &t)).transpose()?;
        Ok(BlocklistRow {
            id: new_id("bl"),
            organization_id: org_id.to_owned(),
            list_type: list_type.as_str().to_owned(),
            value,
            severity: severity.as_str().to_owned(),
            flow_scope: flow_scope.as_str().to_owned(),
            reason: clean_text("reason", self.reason, MAX_REASON)?,
            source: source.as_str().to_owned(),
            is_active: true,
            expires_at,
            created_at: now,
            created_by: Some(actor.to_owned()),
            updated_at: now,
        })
    }
}

/// Changes to an entry; absent fields stay as they are.
#[derive(Object, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct EntryPatch {
    /// The entry to change.
    pub id: String,
    /// New severity.
    #[serde(default)]
    pub severity: Option<String>,
    /// New reason; `null` clears it.
    #[serde(default)]
    pub reason: MaybeUndefined<String>,
    /// New flow scope.
    #[serde(default)]
    pub flow_scope: Option<String>,
    /// Activate or deactivate.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// New expiry (RFC 3339); `null` clears it.
    #[serde(default)]
    pub expires_at: MaybeUndefined<String>,
}

impl EntryPatch {
    /// `before` with the patch applied.
    pub fn apply(self, before: &BlocklistRow, now: i64) -> Result<BlocklistRow, ApiError> {
        let mut row = before.clone();
        if let Some(s) = self.severity {
            row.severity = parse_severity(&s)?.as_str().to_owned();
        }
        if let Some(s) = self.flow_scope {
            row.flow_scope = parse_scope(&s)?.as_str().to_owned();
        }
        match self.reason {
            MaybeUndefined::Value(r) => row.reason = clean_text("reason", Some(r), MAX_REASON)?,
            MaybeUndefined::Null => row.reason = None,
            MaybeUndefined::Undefined => {}
        }
        if let Some(a) = self.is_active {
            row.is_active = a;
        }
        match self.expires_at {
            MaybeUndefined::Value(t) => row.expires_at = Some(parse_time("expires_at", &t)?),
            MaybeUndefined::Null => row.expires_at = None,
            MaybeUndefined::Undefined => {}
        }
        row.updated_at = now;
        Ok(row)
    }
}

fn unknown(field: &str, got: &str, allowed: &[&str]) -> ApiError {
    let code = match field {
        "list_type" => ErrorCode::InvalidType,
        "severity" => ErrorCode::InvalidSeverity,
        _ => ErrorCode::ValidationError,
    };
    let shown: String = got.chars().take(40).collect();
    field_error(
        code,
        field,
        format!("unknown {field} `{shown}`; expected one of: {}", allowed.join(", ")),
    )
}

/// Parses a list type; unknown ones answer `INVALID_TYPE`.
pub fn parse_list_type(s: &str) -> Result<ListType, ApiError> {
    ListType::parse(s.trim())
        .ok_or_else(|| unknown("list_type", s, &ListType::ALL.map(ListType::as_str)))
}

/// Parses a severity; unknown ones answer `INVALID_SEVERITY`.
pub fn parse_severity(s: &str) -> Result<Severity, ApiError> {
    Severity::parse(s.trim()).ok_or_else(|| unknown("severity", s, &["block", "flag", "review"]))
}

/// Parses a flow scope.
pub fn parse_scope(s: &str) -> Result<FlowScope, ApiError> {
    FlowScope::parse(s.trim()).ok_or_else(|| unknown("flow_scope", s, &["payin", "payout", "all"]))
}

/// Normalises a value for its list, refusing invalid ones with the reason
/// (never echoing the value: it may be personal data).
pub fn normalize_value(list_type: ListType, raw: &str, field: &str) -> Result<String, ApiError> {
    list_type
        .normalize(raw)
        .map_err(|e| ApiError::field(field, format!("invalid {} value: {e}", list_type.as_str())))
}

/// 409 `DUPLICATE` for an entry whose type and value are already listed.
pub fn duplicate(row: &BlocklistRow) -> ApiError {
    ApiError::new(
        ErrorCode::Duplicate,
        format!("This organisation already lists that {} value.", row.list_type),
    )
}

/// Validates an optional list-type filter.
pub fn known_list_type(s: Option<String>) -> Result<Option<String>, ApiError> {
    s.map(|s| parse_list_type(&s).map(|t| t.as_str().to_owned())).transpose()
}

/// Validates an optional severity filter.
pub fn known_severity(s: Option<String>) -> Result<Option<String>, ApiError> {
    s.map(|s| parse_severity(&s).map(|t| t.as_str().to_owned())).transpose()
}

/// Validates an optional source filter.
pub fn known_source(s: Option<String>) -> Result<Option<String>, ApiError> {
    s.map(|s| {
        Source::parse(s.trim())
            .map(|t| t.as_str().to_owned())
            .ok_or_else(|| unknown("source", &s, &Source::ALL.map(Source::as_str)))
    })
    .transpose()
}

/// Validates an optional flow-scope filter.
pub fn known_scope(s: Option<String>) -> Result<Option<String>, ApiError> {
    s.map(|s| parse_scope(&s).map(|t| t.as_str().to_owned())).transpose()
}
