//! `GET /api/v1/health`: liveness and database reachability.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{API_VERSION, Tag};
use crate::state::AppState;

/// Health of this node.
#[derive(Object, Debug)]
pub struct Health {
    /// `ok` when the database answers and the transaction writer is
    /// running, `degraded` otherwise.
    pub status: String,
    /// API version.
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Whether the database answered a round trip.
    pub database_ok: bool,
    /// Whether the transaction writer is taking rows (every assessment is
    /// recorded through it before it is answered).
    pub writer_ok: bool,
}

/// Health answers.
#[derive(ApiResponse)]
pub enum HealthResponse {
    /// Healthy.
    #[oai(status = 200)]
    Ok(Json<Health>),
    /// The database is unreachable or the writer has stopped; assess
    /// cannot record decisions.
    #[oai(status = 503)]
    Degraded(Json<Health>),
}

/// Health endpoints.
pub struct HealthApi;

#[OpenApi]
impl HealthApi {
    /// Service health
    ///
    /// No authentication. `200` when the node can serve and record
    /// assessments, `503` when its database is unreachable or its
    /// transaction writer has stopped.
    #[oai(path = "/api/v1/health", method = "get", tag = "Tag::System", operation_id = "v1.health")]
    async fn health(&self, state: Data<&Arc<AppState>>) -> HealthResponse {
        let database_ok = state.store.ping().await.is_ok();
        let writer_ok = state.writer.is_running();
        let ok = database_ok && writer_ok;
        let body = Health {
            status: if ok { "ok" } else { "degraded" }.into(),
            version: API_VERSION.into(),
            database: state.store.backend().into(),
            database_ok,
            writer_ok,
        };
        if ok { HealthResponse::Ok(Json(body)) } else { HealthResponse::Degraded(Json(body)) }
    }
}
