//! `POST /api/v1/sessions` (the browser SDK registers a checkout session's
//! signals with a publishable key) and `GET /api/v1/sessions/{session_id}`
//! (a backend reads them back with its secret key).
//!
//! A later server-side assess naming the session merges the stored signals
//! (`crate::sessions`); the SDK's own pre-check never replaces that decision.

use std::sync::Arc;

use clausum_core::{
    keys::{self, KeyKind},
    normalize::Country,
    sdk::{self, BehaviorSignals, DeviceSignals, SessionSignals},
    transaction::Transaction,
    wire::{AssessRequest, ErrorCode, edge::EdgeContext},
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use super::{Tag, common};
use crate::{
    auth::PartnerKey,
    error::ApiError,
    payload::JsonBody,
    state::{AppState, KeyInfo},
    store::SdkSessionRow,
    time::now_ms,
};

/// A stored session.
#[derive(Object, Debug)]
pub struct SessionOut {
    /// `ps_<milliseconds>_<random>`.
    pub session_id: String,
    /// Device fingerprint (`fp_…`).
    pub fingerprint: String,
    /// Automation tells seen in the browser (`webdriver`, `headless_user_agent`, …).
    pub automation: Vec<String>,
    /// The device signals.
    pub device: DeviceSignals,
    /// The behaviour signals as of the latest registration.
    pub behavior: BehaviorSignals,
    /// What the edge worker saw of the browser's connection, when the
    /// registration came through it. Its `client_ip` is the payer's
    /// `device.ip` in a later assess that names this session and sends none.
    pub connection: Option<EdgeContext>,
    /// First registration (RFC 3339).
    pub created_at: String,
    /// Latest registration (RFC 3339).
    pub updated_at: String,
}

/// Registration answer.
#[derive(ApiResponse)]
pub enum RegisterResponse {
    /// A new session was stored.
    #[oai(status = 201)]
    Created(Json<SessionOut>),
    /// The session's signals were updated.
    #[oai(status = 200)]
    Updated(Json<SessionOut>),
}

/// Read answer.
#[derive(ApiResponse)]
pub enum SessionResponse {
    /// The session.
    #[oai(status = 200)]
    Ok(Json<SessionOut>),
}

/// Browser SDK sessions.
pub struct SessionsApi;

#[OpenApi]
impl SessionsApi {
    /// Register a browser session
    ///
    /// Called by the browser SDK with the **publishable** key (`clm_pub_…`):
    /// stores the device and behaviour signals of a checkout session under
    /// the session id the SDK issued. Registering the same id again updates
    /// the signals. Secret keys are refused here: they must never be shipped
    /// to a browser. Never contains anything the user typed.
    #[oai(
        path = "/api/v1/sessions",
        method = "post",
        tag = "Tag::Risk",
        operation_id = "v1.session.register"
    )]
    async fn register_session(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        auth: PartnerKey,
        body: JsonBody<SessionSignals>,
    ) -> Result<RegisterResponse, ApiError> {
        let key = auth.0;
        match key.kind {
            KeyKind::Publishable => {}
            KeyKind::Secret => {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "Secret keys (clm_sk_) are refused here: this endpoint is called from browsers. \
                     Never ship a secret key to a browser; use your publishable key (clm_pub_) in \
                     the page, and revoke this secret key if it was ever exposed.",
                ));
            }
            KeyKind::Ingest => {
                return Err(ApiError::new(
                    ErrorCode::Unauthorized,
                    "Event-ingest keys (clm_wh_) can only call the event ingest endpoint; the \
                     browser SDK uses the publishable key (clm_pub_).",
                ));
            }
        }
        require_assess(&key)?;
        let now = now_ms();
        let admission = state.admit_key(&key, now).await?;
        if !admission.allowed {
            return Err(ApiError::rate_limited(ErrorCode::RateLimitExceeded, &admission));
        }
        let mut signals = body.value;
        // Only the edge may say what it saw of the browser's connection.
        signals.connection = state.edge.context(req);
        signals.validate().map_err(|(field, message)| ApiError::field(field, message))?;
        let row = SdkSessionRow {
            organization_id: key.organization_id.clone(),
            id: signals.session_id.clone(),
            api_key_id: key.id.clone(),
            fingerprint: Some(signals.device.fingerprint.clone()).filter(|f| !f.is_empty()),
            signals: serde_json::to_string(&signals).expect("signals serialise"),
            created_at: now,
            updated_at: now,
        };
        let stored = state.store.upsert_sdk_session(&row).await?;
        let out = session_out(&stored)?;
        // The upsert keeps the first `created_at`: equal times mean a new row.
        Ok(if stored.created_at == stored.updated_at {
            RegisterResponse::Created(Json(out))
        } else {
            RegisterResponse::Updated(Json(out))
        })
    }

    /// Read a browser session
    ///
    /// With a **secret** key: the device and behaviour signals the browser
    /// SDK registered for this session, to store with the order or to check
    /// before the server-side assess (which merges them by itself).
    #[oai(
        path = "/api/v1/sessions/:session_id",
        method = "get",
        tag = "Tag::Risk",
        operation_id = "v1.session.get"
    )]
    async fn get_session(
        &self,
        state: Data<&Arc<AppState>>,
        auth: PartnerKey,
        /// The id the SDK issued (`ps_…`).
        session_id: Path<String>,
    ) -> Result<SessionResponse, ApiError> {
        let key = auth.0;
        match key.kind {
            KeyKind::Secret => {}
            KeyKind::Publishable => {
                return Err(ApiError::new(
                    ErrorCode::SecretKeyRequired,
                    "Reading a session needs your secret key (clm_sk_), from your backend.",
                ));
            }
            KeyKind::Ingest => {
                return Err(ApiError::new(
                    ErrorCode::Unauthorized,
                    "Event-ingest keys (clm_wh_) can only call the event ingest endpoint.",
                ));
            }
        }
        require_assess(&key)?;
        let row = state
            .store
            .sdk_session(&key.organization_id, &session_id.0)
            .await?
            .ok_or_else(|| common::not_found("session"))?;
        Ok(SessionResponse::Ok(Json(session_out(&row)?)))
    }
}

fn require_assess(key: &KeyInfo) -> Result<(), ApiError> {
    if keys::grants(&key.permissions, keys::PERM_ASSESS) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Forbidden, "This API key lacks the `assess` permission."))
    }
}

fn session_out(row: &SdkSessionRow) -> Result<SessionOut, ApiError> {
    let s: SessionSignals = serde_json::from_str(&row.signals).map_err(|e| {
        ApiError::internal(&format!("stored session {} does not parse: {e}", row.id))
    })?;
    Ok(SessionOut {
        session_id: row.id.clone(),
        fingerprint: s.device.fingerprint.clone(),
        automation: s.device.automation.clone(),
        device: s.device,
        behavior: s.behavior,
        connection: s.connection,
        created_at: common::iso(row.created_at),
        updated_at: common::iso(row.updated_at),
    })
}

/// An assess request with its browser session merged in.
#[derive(Debug)]
pub struct Merged {
    /// The request with the session's signals, validated as a whole.
    pub tx: Transaction,
    /// The country the edge saw the browser connect from, when the payer's
    /// address is the one the edge saw (it stands in where the GeoIP
    /// database has no answer).
    pub connection_country: Option<Country>,
}

/// The request with the stored signals of the browser session it names
/// merged in (`clausum_core::sdk::merge_into`), validated as a whole; `None`
/// when it names no session, the session is unknown to this organisation,
/// or it adds nothing.
pub async fn merged(
    state: &AppState,
    org_id: &str,
    req: &AssessRequest,
) -> Result<Option<Merged>, ApiError> {
    let Some(id) = req.session_id.as_deref() else { return Ok(None) };
    let Some(row) = state.store.sdk_session(org_id, id).await? else { return Ok(None) };
    let Ok(signals) = serde_json::from_str::<SessionSignals>(&row.signals) else {
        tracing::warn!(session = id, "a stored session does not parse; assessing without it");
        return Ok(None);
    };
    let mut merged = req.clone();
    if !sdk::merge_into(&mut merged, &signals) {
        return Ok(None);
    }
    let tx =
        Transaction::from_wire(&merged).map_err(|e| ApiError::field(&e.field, e.to_string()))?;
    let connection_country =
        signals.connection.as_ref().and_then(|c| c.payer_country(tx.device.ip.as_ref()));
    Ok(Some(Merged { tx, connection_country }))
}
