//! `GET /api/v1/health`: liveness and database reachability.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use super::{API_VERSION, Tag};
use crate::state::AppState;

/// Health of this node.
#[derive(Object, Debug)]
pub struct Health {
    /// `ok` when the database answers, `degraded` otherwise.
    pub status: String,
    /// API version.
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Whether the database answered a round trip.
    pub database_ok: bool,
}

/// Health answers.
#[derive(ApiResponse)]
pub enum HealthResponse {
    /// Healthy.
    #[oai(status = 200)]
    Ok(Json<Health>),
    /// The database is unreachable; assess cannot record decisions.
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
    /// assessments, `503` when its database is unreachable.
    #[oai(path = "/api/v1/health", method = "get", tag = "Tag::System", operation_id = "v1.health")]
    async fn health(&self, state: Data<&Arc<AppState>>) -> HealthResponse {
        let ok = state.store.ping().await.is_ok();
        let body = Health {
            status: if ok { "ok" } else { "degraded" }.into(),
            version: API_VERSION.into(),
            database: state.store.backend().into(),
            database_ok: ok,
        };
        if ok { HealthResponse::Ok(Json(body)) } else { HealthResponse::Degraded(Json(body)) }
    }
}
