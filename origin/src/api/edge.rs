//! `/api/v1/edge/*`: what the edge worker calls, authenticated by the edge
//! token (`X-Clausum-Edge-Token`, `CLAUSUM_EDGE_TOKEN`). Internal to an
//! edge deployment, so not part of the published Partner API spec.
//!
//! - `GET keys` — the key manifest ([`clausum_core::wire::edge::EdgeKeys`]);
//! - `GET snapshot/{org}` — an organisation's `block` entries as a binary
//!   snapshot ([`clausum_core::blocklist::snapshot`]);
//! - `POST record` — a decline the edge answered, recorded through the
//!   assess pipeline itself (velocity, history, metrics, webhooks), under the
//!   transaction and session ids the edge answered with.
//!
//! The two reads answer `304` to a matching `If-None-Match`.

use std::{sync::Arc, time::Instant};

use clausum_core::{
    keys::{self, KeyKind},
    wire::{
        AssessRequest, ErrorBody, ErrorCode, Flow, PayoutRequest,
        edge::{EdgeContext, EdgeKey, EdgeKeys, EdgeRecord},
    },
};
use poem::{
    Body, IntoResponse, Request, Response, Route, get, handler,
    http::{StatusCode, header},
    post,
    web::{Data, Path},
};

use crate::{
    assess,
    edge::{self, EDGE_ASSIGNED},
    error::json_error,
    state::AppState,
    time::now_ms,
};

/// Largest record body: an assess body and a little more.
const MAX_RECORD_BYTES: usize = 256 * 1024;

/// The edge routes, to nest under `/api/v1/edge`.
pub fn routes() -> Route {
    Route::new()
        .at("/keys", get(key_manifest))
        .at("/snapshot/:org", get(snapshot))
        .at("/record", post(record))
}

fn refused() -> Response {
    json_error(
        StatusCode::UNAUTHORIZED,
        &ErrorBody::new(ErrorCode::Unauthorized, "Edge token required."),
    )
}

fn versioned(req: &Request, etag: &str, content_type: &str, body: impl Into<Body>) -> Response {
    let builder =
        Response::builder().header(header::ETAG, etag).header(header::CACHE_CONTROL, "no-cache");
    if edge::not_modified(req.header(header::IF_NONE_MATCH), etag) {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    builder.content_type(content_type).body(body)
}

#[handler]
async fn key_manifest(req: &Request, state: Data<&Arc<AppState>>) -> Response {
    if !state.edge.authorized(req) {
        return refused();
    }
    let now = now_ms();
    let mut keys: Vec<EdgeKey> = state
        .keys
        .read()
        .expect("keys lock")
        .iter()
        .filter(|(_, k)| k.expires_at.is_none_or(|t| t > now))
        .map(|(hash, k)| EdgeKey {
            hash: hash.clone(),
            organization_id: k.organization_id.clone(),
            kind: k.kind,
            assess: keys::grants(&k.permissions, keys::PERM_ASSESS),
            expires_at: k.expires_at,
        })
        .collect();
    keys.sort_by(|a, b| a.hash.cmp(&b.hash));
    let body = serde_json::to_vec(&EdgeKeys { keys }).expect("serialises");
    versioned(req, &edge::etag(&body), "application/json", body)
}

#[handler]
async fn snapshot(req: &Request, state: Data<&Arc<AppState>>, Path(org): Path<String>) -> Response {
    if !state.edge.authorized(req) {
        return refused();
    }
    match state.edge.snapshot(&state, &org).await {
        Ok(Some(built)) => versioned(req, &built.etag, "application/octet-stream", built.bytes),
        Ok(None) => json_error(
            StatusCode::NOT_FOUND,
            &ErrorBody::new(ErrorCode::NotFound, "No such organisation."),
        ),
        Err(e) => {
            tracing::error!(error = %e, "building an edge snapshot failed");
            json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &ErrorBody::new(ErrorCode::AssessMaintenance, "The snapshot could not be built."),
            )
        }
    }
}

/// A record whose request does not parse as its flow's request.
fn bad_record(flow: &str) -> crate::error::ApiError {
    crate::error::ApiError::new(
        ErrorCode::ValidationError,
        format!("The recorded request is not a {flow} assess request."),
    )
}

fn bad(message: &str) -> Response {
    json_error(StatusCode::BAD_REQUEST, &ErrorBody::new(ErrorCode::ValidationError, message))
}

#[handler]
async fn record(req: &Request, state: Data<&Arc<AppState>>, body: Body) -> Response {
    if !state.edge.authorized(req) {
        return refused();
    }
    let started = Instant::now();
    let Ok(bytes) = body.into_bytes_limit(MAX_RECORD_BYTES).await else {
        return bad("The record is not readable or too large.");
    };
    let Ok(rec) = serde_json::from_slice::<EdgeRecord>(&bytes) else {
        return bad("The record is not an edge record.");
    };
    let id_ok = rec
        .transaction_id
        .strip_prefix("txn_")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if !id_ok {
        return bad("Only declines with a txn_ id can be recorded.");
    }
    let Some(key) = state.key(&rec.key_hash).filter(|k| k.kind == KeyKind::Secret) else {
        return refused_key();
    };
    // A record sent again (its first answer lost on the way, or kept by the
    // edge through an outage and sent later) is already history: say so.
    match state.store.transaction(&key.organization_id, &rec.transaction_id).await {
        Ok(Some(_)) => {
            let body = serde_json::json!({"recorded": false, "transaction_id": rec.transaction_id});
            return (StatusCode::ACCEPTED, poem::web::Json(body)).into_response();
        }
        Ok(None) => {}
        Err(e) => return crate::error::ApiError::unavailable(&e).into_response(),
    }
    let assigned =
        edge::Assigned { transaction_id: rec.transaction_id.clone(), session_id: rec.session_id };
    let work = async {
        match rec.flow {
            Flow::Payin => {
                let Ok(request) = serde_json::from_value::<AssessRequest>(rec.request) else {
                    return Err(bad_record("pay-in"));
                };
                // A backend's call (records are of secret keys): the edge's
                // view of its connection says nothing of the payer.
                assess::payin(&state, &key, request, rec.idempotency_key, started, None).await
            }
            Flow::Payout => {
                let Ok(request) = serde_json::from_value::<PayoutRequest>(rec.request) else {
                    return Err(bad_record("payout"));
                };
                assess::payout(&state, &key, request, rec.idempotency_key, started).await
            }
        }
    };
    match EDGE_ASSIGNED.scope(assigned, work).await {
        Ok(answer) => {
            log_context(&key.organization_id, &rec.blocked_by, &rec.context);
            let status = StatusCode::ACCEPTED;
            let body = serde_json::json!({
                "recorded": !answer.replayed,
                "transaction_id": rec.transaction_id,
            });
            (status, poem::web::Json(body)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

fn refused_key() -> Response {
    json_error(
        StatusCode::UNAUTHORIZED,
        &ErrorBody::new(ErrorCode::Unauthorized, "Unknown, revoked or non-secret API key."),
    )
}

fn log_context(org: &str, blocked_by: &str, ctx: &EdgeContext) {
    tracing::info!(
        org,
        blocked_by,
        country = ctx.country.as_deref().unwrap_or(""),
        colo = ctx.colo.as_deref().unwrap_or(""),
        asn = ctx.asn.unwrap_or(0),
        "recorded a decline made at the edge"
    );
}
