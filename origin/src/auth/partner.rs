//! Partner API authentication: `Authorization: Bearer clm_…`.
//!
//! The key's checksum is verified before anything else, so a mistyped or
//! truncated key is refused without a lookup; the lookup itself is a hash
//! map read of the SHA-256 of the key (keys are stored only as hashes).

use std::sync::Arc;

use clausum_core::{keys::ApiKey, wire::ErrorCode};
use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};

use crate::{
    error::ApiError,
    state::{AppState, KeyInfo},
    time::now_ms,
};

/// An API key (`clm_sk_…`, `clm_pub_…` or `clm_wh_…`) in `Authorization: Bearer`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", key_name = "Authorization", checker = "check_partner_key")]
pub struct PartnerKey(pub Arc<KeyInfo>);

async fn check_partner_key(req: &Request, bearer: Bearer) -> poem::Result<Arc<KeyInfo>> {
    let state = req.data::<Arc<AppState>>().expect("state is installed");
    let key = ApiKey::parse(bearer.token.trim())
        .map_err(|e| ApiError::new(ErrorCode::Unauthorized, e.to_string()))?;
    let info = state.key(&key.hash()).ok_or_else(|| {
        ApiError::new(ErrorCode::Unauthorized, "Unknown, revoked or expired API key.")
    })?;
    if info.expires_at.is_some_and(|t| t <= now_ms()) {
        return Err(ApiError::new(ErrorCode::Unauthorized, "This API key has expired.").into());
    }
    Ok(info)
}
