//! `/api/v1/submerchants`: the registry of the merchants a PSP processes
//! for. Once a `psp` organisation has an active submerchant, every assess
//! must name one (`submerchant_id`); answers carry its name.
//!
//! The guides disagree on who calls these (a secret key, or a dashboard
//! user), so both are accepted: a secret key with `submerchants:read` /
//! `submerchants:write` (or `*`), or a dashboard token whose role may read /
//! change settings.

use std::sync::Arc;

use clausum_core::{
    normalize::{Country, text::clean_token},
    roles::Action,
    transaction::clean_metadata,
    wire::{ErrorCode, Metadata},
};
use poem::web::Data;
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::MaybeUndefined,
};
use serde::{Deserialize, Serialize};

use crate::{
    api::{
        Tag,
        common::{MAX_SEARCH, Pagination, audit_row_by, clean_text, iso, not_found, page},
    },
    auth::Caller,
    error::ApiError,
    payload::JsonBody,
    state::AppState,
    store::{AuditRow, StoreError, SubmerchantFilter, SubmerchantRow},
    time::now_ms,
};

/// Permission of a secret key to list submerchants.
pub const PERM_READ: &str = "submerchants:read";
/// Permission of a secret key to create, change and deactivate submerchants.
pub const PERM_WRITE: &str = "submerchants:write";

/// The caller's organisation once it may read (`write: false`) or change
/// submerchants.
fn authorize(caller: &Caller, write: bool) -> Result<&str, ApiError> {
    let (action, permission) =
        if write { (Action::WriteSettings, PERM_WRITE) } else { (Action::ReadSettings, PERM_READ) };
    Ok(caller.authorize(action, permission, "Submerchants are managed")?.0)
}

/// `active` or `inactive`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum SubmerchantStatus {
    /// Assess calls may name it.
    Active,
    /// Deactivated: assess calls naming it are refused.
    Inactive,
}

impl SubmerchantStatus {
    fn as_str(self) -> &'static str {
        match self {
            SubmerchantStatus::Active => "active",
            SubmerchantStatus::Inactive => "inactive",
        }
    }
}

/// A submerchant.
#[derive(Object, Serialize, Debug, Clone)]
pub struct Submerchant {
    /// Your id for the submerchant: what assess calls send as `submerchant_id`.
    pub id: String,
    /// Display name; echoed in assess answers as `submerchant_name`.
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// ISO 18245 merchant category code (four digits).
    pub mcc: Option<String>,
    /// `active` or `inactive`.
    pub status: SubmerchantStatus,
    /// Your key/value context.
    pub metadata: Metadata,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl From<&SubmerchantRow> for Submerchant {
    fn from(r: &SubmerchantRow) -> Self {
        Submerchant {
            id: r.id.clone(),
            name: r.name.clone(),
            country: r.country.clone(),
            mcc: r.mcc.clone(),
            status: if r.status == "active" {
                SubmerchantStatus::Active
            } else {
                SubmerchantStatus::Inactive
            },
            metadata: serde_json::from_str(&r.metadata).unwrap_or_default(),
            created_at: iso(r.created_at),
            updated_at: iso(r.updated_at),
        }
    }
}

/// A new submerchant.
#[derive(Object, Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct NewSubmerchant {
    /// Your id for it (letters, digits and `-_.:`; no whitespace; ≤ 128 characters).
    pub id: String,
    /// Display name (≤ 200 characters).
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// ISO 18245 merchant category code (four digits).
    pub mcc: Option<String>,
    /// Key/value context (≤ 50 keys, ≤ 8 KB).
    pub metadata: Option<Metadata>,
}

/// Changes to a submerchant; absent fields stay as they are, `null` clears
/// `country` and `mcc`.
#[derive(Object, Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct SubmerchantPatch {
    /// Display name (≤ 200 characters).
    pub name: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[serde(default)]
    pub country: MaybeUndefined<String>,
    /// ISO 18245 merchant category code (four digits).
    #[serde(default)]
    pub mcc: MaybeUndefined<String>,
    /// `active` or `inactive` (reactivates a deleted submerchant).
    pub status: Option<SubmerchantStatus>,
    /// Replaces the key/value context.
    pub metadata: Option<Metadata>,
}

/// A page of submerchants.
#[derive(Object, Debug)]
pub struct SubmerchantPage {
    /// The submerchants, by id.
    pub data: Vec<Submerchant>,
    /// Totals and paging.
    pub pagination: Pagination,
}

/// PSP submerchants (secret key or dashboard token).
pub struct SubmerchantsApi;

#[OpenApi(prefix_path = "/api/v1/submerchants", tag = "Tag::Submerchants")]
impl SubmerchantsApi {
    /// List submerchants
    ///
    /// The organisation's submerchants, by id. Secret key with
    /// `submerchants:read`, or a dashboard role that reads settings.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        /// `active` or `inactive`.
        status: Query<Option<SubmerchantStatus>>,
        /// Case-insensitive part of the id or the name.
        search: Query<Option<String>>,
        /// Page size, 1–500 (default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<SubmerchantPage>, ApiError> {
        let org = authorize(&auth, false)?;
        let (limit, offset) = page(limit.0, offset.0)?;
        let filter = SubmerchantFilter {
            status: status.0.map(|s| s.as_str().to_owned()),
            search: clean_text("search", search.0, MAX_SEARCH)?,
            limit,
            offset,
        };
        let (rows, total) = state.store.list_submerchants(org, &filter).await?;
        Ok(Json(SubmerchantPage {
            data: rows.iter().map(Submerchant::from).collect(),
            pagination: Pagination { total, limit, offset },
        }))
    }

    /// Register a submerchant
    ///
    /// 201 with the submerchant; 409 `DUPLICATE` when the id is taken
    /// (including by a deactivated one: reactivate it with PATCH). From now
    /// on a `psp` organisation's assess calls must name an active
    /// submerchant. Audited. Secret key with `submerchants:write`, or a
    /// dashboard role that changes settings.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        body: JsonBody<NewSubmerchant>,
    ) -> Result<Created, ApiError> {
        let org = authorize(&auth, true)?.to_owned();
        let new = body.value;
        let id = clean_token(&new.id, 128).map_err(|e| ApiError::field("id", e.to_string()))?;
        let now = now_ms();
        let row = SubmerchantRow {
            organization_id: org.clone(),
            id,
            name: name(Some(new.name))?,
            country: country(new.country)?,
            mcc: mcc(new.mcc)?,
            status: SubmerchantStatus::Active.as_str().to_owned(),
            metadata: metadata(new.metadata.as_ref())?,
            created_at: now,
            updated_at: now,
        };
        let after = Submerchant::from(&row);
        let audit = audit(&auth, &org, "submerchant.create", &row.id, None, Some(&after), now);
        match state.store.insert_submerchant(&row, &audit).await {
            Ok(()) => {}
            Err(StoreError::Duplicate(_)) => {
                return Err(ApiError::new(
                    ErrorCode::Duplicate,
                    format!("A submerchant with id `{}` already exists.", row.id),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        state.after_commit(crate::state::Reload::Settings(org.clone())).await;
        Ok(Created::Ok(Json(after)))
    }

    /// Update a submerchant
    ///
    /// Changes its name, country, MCC, metadata or status. Audited.
    #[oai(path = "/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        /// The submerchant's id.
        id: Path<String>,
        body: JsonBody<SubmerchantPatch>,
    ) -> Result<Json<Submerchant>, ApiError> {
        let org = authorize(&auth, true)?.to_owned();
        let patch = body.value;
        let Some(before) = state.store.submerchant(&org, &id.0).await? else {
            return Err(not_found("submerchant"));
        };
        let mut row = before.clone();
        if let Some(n) = patch.name {
            row.name = name(Some(n))?;
        }
        match patch.country {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => row.country = None,
            MaybeUndefined::Value(c) => row.country = country(Some(c))?,
        }
        match patch.mcc {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => row.mcc = None,
            MaybeUndefined::Value(m) => row.mcc = mcc(Some(m))?,
        }
        if let Some(s) = patch.status {
            row.status = s.as_str().to_owned();
        }
        if let Some(m) = patch.metadata.as_ref() {
            row.metadata = metadata(Some(m))?;
        }
        self::save(&state, &auth, &org, "submerchant.update", &before, row).await.map(Json)
    }

    /// Deactivate a submerchant
    ///
    /// Sets its status to `inactive`: assess calls naming it are refused from
    /// now on, its transactions keep naming it. Idempotent. Audited.
    #[oai(path = "/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        /// The submerchant's id.
        id: Path<String>,
    ) -> Result<Json<Submerchant>, ApiError> {
        let org = authorize(&auth, true)?.to_owned();
        let Some(before) = state.store.submerchant(&org, &id.0).await? else {
            return Err(not_found("submerchant"));
        };
        if before.status == SubmerchantStatus::Inactive.as_str() {
            return Ok(Json(Submerchant::from(&before)));
        }
        let row = SubmerchantRow {
            status: SubmerchantStatus::Inactive.as_str().to_owned(),
            ..before.clone()
        };
        self::save(&state, &auth, &org, "submerchant.deactivate", &before, row).await.map(Json)
    }
}

/// 201 with the new submerchant.
#[derive(poem_openapi::ApiResponse)]
pub enum Created {
    /// Registered.
    #[oai(status = 201)]
    Ok(Json<Submerchant>),
}

async fn save(
    state: &Arc<AppState>,
    auth: &Caller,
    org: &str,
    action: &str,
    before: &SubmerchantRow,
    mut row: SubmerchantRow,
) -> Result<Submerchant, ApiError> {
    let now = now_ms();
    row.updated_at = now;
    let (b, a) = (Submerchant::from(before), Submerchant::from(&row));
    let audit = audit(auth, org, action, &row.id, Some(&b), Some(&a), now);
    if !state.store.update_submerchant(&row, &audit).await? {
        return Err(not_found("submerchant"));
    }
    state.after_commit(crate::state::Reload::Settings(org.to_owned())).await;
    Ok(a)
}

fn audit(
    auth: &Caller,
    org: &str,
    action: &str,
    id: &str,
    before: Option<&Submerchant>,
    after: Option<&Submerchant>,
    now: i64,
) -> AuditRow {
    audit_row_by(org, auth.actor(), action, "submerchant", Some(id), before, after, now)
}

fn name(value: Option<String>) -> Result<String, ApiError> {
    clean_text("name", value, 200)?.ok_or_else(|| ApiError::field("name", "`name` is required"))
}

fn country(value: Option<String>) -> Result<Option<String>, ApiError> {
    value
        .map(|c| {
            Country::parse(&c)
                .map(|c| c.as_str().to_owned())
                .map_err(|e| ApiError::field("country", format!("country: {e}")))
        })
        .transpose()
}

fn mcc(value: Option<String>) -> Result<Option<String>, ApiError> {
    value
        .map(|m| {
            let m = m.trim();
            if m.len() == 4 && m.bytes().all(|b| b.is_ascii_digit()) {
                Ok(m.to_owned())
            } else {
                Err(ApiError::field("mcc", "`mcc` must be a four-digit merchant category code"))
            }
        })
        .transpose()
}

fn metadata(value: Option<&Metadata>) -> Result<String, ApiError> {
    let clean = clean_metadata(value).map_err(|e| ApiError::field("metadata", e.to_string()))?;
    Ok(serde_json::to_string(&clean).expect("serialises"))
}
