//! `/api/v1/api-keys`: the organisation's API keys. A new key's text is
//! answered once and never again (only its SHA-256 is stored); revoking
//! one takes effect on this node at once and on the others through the
//! change notification. Admins manage keys; analysts may list them.

use std::sync::Arc;

use clausum_core::{keys::KeyKind, roles::Action};
use poem::web::Data;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Path, payload::Json};
use serde::{Deserialize, Serialize};

use super::{
    Tag,
    common::{audit_row, clean_text, iso, iso_opt, not_found, parse_time},
};
use crate::{
    auth::DashboardToken,
    bootstrap::{DEFAULT_RATE_LIMIT_PER_MINUTE, new_key},
    error::ApiError,
    payload::JsonBody,
    state::AppState,
    store::ApiKeyRow,
    sync::Change,
    time::now_ms,
};

/// Largest per-minute limit a key may be given.
const MAX_PER_MINUTE: i64 = 1_000_000;

/// Whether a key works now.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Accepted.
    Active,
    /// Revoked: refused with 401.
    Revoked,
    /// Past `expires_at`: refused with 401.
    Expired,
}

/// An API key as listed: its non-secret prefix, never its text.
#[derive(Object, Serialize, Debug, Clone)]
pub struct ApiKeyInfo {
    /// `key_…`.
    pub id: String,
    /// `secret` (`clm_sk_`), `publishable` (`clm_pub_`) or `ingest` (`clm_wh_`).
    pub kind: KeyKind,
    /// Label.
    pub name: String,
    /// Recognisable, non-secret start and end of the key (`clm_sk_AbCd…wxyz`).
    pub display_prefix: String,
    /// What it may do (`assess`, `fraud:report`, `transactions:read`, `*`, …).
    pub permissions: Vec<String>,
    /// Requests admitted per sliding minute.
    pub rate_limit_per_minute: i64,
    /// Requests admitted per sliding day, if limited.
    pub rate_limit_per_day: Option<i64>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, if it expires.
    pub expires_at: Option<String>,
    /// RFC 3339, if revoked.
    pub revoked_at: Option<String>,
    /// `active`, `revoked` or `expired`.
    pub status: KeyStatus,
}

impl ApiKeyInfo {
    fn of(r: &ApiKeyRow, now: i64) -> ApiKeyInfo {
        let status = if r.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if r.expires_at.is_some_and(|e| e <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        };
        ApiKeyInfo {
            id: r.id.clone(),
            kind: KeyKind::parse(&r.kind).unwrap_or(KeyKind::Secret),
            name: r.name.clone(),
            display_prefix: r.display_prefix.clone(),
            permissions: serde_json::from_str(&r.permissions).unwrap_or_default(),
            rate_limit_per_minute: r.rate_limit_per_minute,
            rate_limit_per_day: r.rate_limit_per_day,
            created_at: iso(r.created_at),
            expires_at: iso_opt(r.expires_at),
            revoked_at: iso_opt(r.revoked_at),
            status,
        }
    }
}

/// Every key of the organisation.
#[derive(Object, Debug)]
pub struct ApiKeyList {
    /// Newest first, revoked and expired ones included.
    pub data: Vec<ApiKeyInfo>,
}

/// A key to create.
#[derive(Object, Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// `secret`, `publishable` or `ingest`.
    pub kind: KeyKind,
    /// Label, 1–100 characters (e.g. "Checkout producción").
    pub name: String,
    /// Permissions. A publishable key may only `assess`, an ingest key only
    /// `ingest`; a secret key any of `assess`, `fraud:report`,
    /// `transactions:read`, `submerchants:read`, `submerchants:write`,
    /// `<resource>:*` or `*`. Absent or empty: the kind's defaults
    /// (`*`, `assess`, `ingest`).
    pub permissions: Option<Vec<String>>,
    /// Requests per sliding minute (default 100).
    pub rate_limit_per_minute: Option<i64>,
    /// Requests per sliding day (default: unlimited).
    pub rate_limit_per_day: Option<i64>,
    /// When it stops working (RFC 3339, in the future).
    pub expires_at: Option<String>,
}

/// A created key: its text, shown this once.
#[derive(Object, Debug)]
pub struct CreatedApiKey {
    /// The key. Store it now: it is never shown again.
    pub key: String,
    /// The key as listed.
    pub api_key: ApiKeyInfo,
}

#[derive(ApiResponse)]
enum Created {
    /// Created; `key` is shown this once.
    #[oai(status = 201)]
    Ok(Json<CreatedApiKey>),
}

/// API keys (dashboard token).
pub struct KeysApi;

#[OpenApi(prefix_path = "/api/v1/api-keys", tag = "Tag::Integrations")]
impl KeysApi {
    /// List API keys
    ///
    /// Every key of the organisation with its prefix, permissions, limits
    /// and status; never a key's text. Roles: admin, analyst.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
    ) -> Result<Json<ApiKeyList>, ApiError> {
        auth.0.require(Action::ReadKeys)?;
        let now = now_ms();
        let rows = state.store.api_keys(auth.0.org()).await?;
        Ok(Json(ApiKeyList { data: rows.iter().map(|r| ApiKeyInfo::of(r, now)).collect() }))
    }

    /// Create an API key
    ///
    /// 201 with the key's text, shown this once (only its SHA-256 is
    /// stored). It works at once on every node. Audited. Role: admin.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<NewApiKey>,
    ) -> Result<Created, ApiError> {
        let p = auth.0;
        p.require(Action::ManageKeys)?;
        let new = body.value;
        let now = now_ms();
        let name = clean_text("name", Some(new.name), 100)?
            .ok_or_else(|| ApiError::field("name", "`name` must not be empty"))?;
        let permissions = clausum_core::keys::permissions_for(new.kind, new.permissions.as_deref())
            .map_err(|e| ApiError::field("permissions", e))?;
        let per_minute = new.rate_limit_per_minute.unwrap_or(DEFAULT_RATE_LIMIT_PER_MINUTE);
        if !(1..=MAX_PER_MINUTE).contains(&per_minute) {
            return Err(ApiError::field(
                "rate_limit_per_minute",
                format!("`rate_limit_per_minute` must be between 1 and {MAX_PER_MINUTE}"),
            ));
        }
        if new.rate_limit_per_day.is_some_and(|d| d < per_minute) {
            return Err(ApiError::field(
                "rate_limit_per_day",
                "`rate_limit_per_day` must be at least `rate_limit_per_minute`",
            ));
        }
        let expires_at =
            new.expires_at.as_deref().map(|t| parse_time("expires_at", t)).transpose()?;
        if expires_at.is_some_and(|e| e <= now) {
            return Err(ApiError::field("expires_at", "`expires_at` must be in the future"));
        }
        let (mut row, key) = new_key(p.org(), new.kind, per_minute, now);
        row.name = name;
        row.permissions = serde_json::to_string(&permissions).expect("serialises");
        row.rate_limit_per_day = new.rate_limit_per_day;
        row.expires_at = expires_at;
        let info = ApiKeyInfo::of(&row, now);
        let audit = audit_row(
            &p,
            "api_key.create",
            "api_key",
            Some(&row.id),
            None::<&()>,
            Some(&info),
            now,
        );
        state.store.create_api_key(&row, &audit).await?;
        state.after_commit(crate::state::Reload::Keys).await;
        state.publish(Change::Keys);
        Ok(Created::Ok(Json(CreatedApiKey { key: key.expose().to_owned(), api_key: info })))
    }

    /// Revoke an API key
    ///
    /// The key stops working at once on this node and within moments on the
    /// others; it stays listed as `revoked`. Revoking a revoked key answers
    /// it unchanged. Audited. Role: admin.
    #[oai(path = "/:id", method = "delete")]
    async fn revoke(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// `key_…`.
        id: Path<String>,
    ) -> Result<Json<ApiKeyInfo>, ApiError> {
        let p = auth.0;
        p.require(Action::ManageKeys)?;
        let now = now_ms();
        let before =
            state.store.api_key(p.org(), &id.0).await?.ok_or_else(|| not_found("API key"))?;
        if before.revoked_at.is_none() {
            let mut after = before.clone();
            after.revoked_at = Some(now);
            let audit = audit_row(
                &p,
                "api_key.revoke",
                "api_key",
                Some(&before.id),
                Some(&ApiKeyInfo::of(&before, now)),
                Some(&ApiKeyInfo::of(&after, now)),
                now,
            );
            state.store.revoke_api_key(p.org(), &before.id, now, &audit).await?;
            state.after_commit(crate::state::Reload::Keys).await;
            state.publish(Change::Keys);
        }
        let row = state.store.api_key(p.org(), &id.0).await?.ok_or_else(|| not_found("API key"))?;
        Ok(Json(ApiKeyInfo::of(&row, now)))
    }
}
