//! The HTTP API: one poem-openapi service per resource, composed here.

pub mod assess;
pub mod health;

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, Route, middleware::CatchPanic};
use poem_openapi::{OpenApiService, Tags};

use crate::{
    error::{normalize_errors, panic_response},
    payload::BodyLimit,
    state::AppState,
};

/// API version published in the spec and the assess catalogue.
pub const API_VERSION: &str = "1.3.0";

/// Operation groups in the spec.
#[derive(Tags)]
pub enum Tag {
    /// Real-time pay-in risk assessment.
    Risk,
    /// Service health.
    System,
}

/// The OpenAPI service of every operation.
pub fn service() -> OpenApiService<(assess::AssessApi, health::HealthApi), ()> {
    OpenApiService::new((assess::AssessApi, health::HealthApi), "Clausum API", API_VERSION)
        .description(
            "Real-time payment fraud prevention. Send a transaction before money moves; \
             get a decision (`approve`, `review`, `challenge`, `decline`) and a 0–100 risk score. \
             Every error answers `{\"error\": {\"code\", \"message\", \"details\"}}`.",
        )
        .server("http://127.0.0.1:8080")
}

/// The OpenAPI document as pretty JSON, exactly as committed in `openapi/`.
pub fn spec_json() -> String {
    let mut s = service().spec();
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The whole HTTP application: API routes, docs, error normalisation.
pub fn app(state: Arc<AppState>, max_body_bytes: usize) -> impl Endpoint {
    let api = service();
    let docs = api.swagger_ui();
    let spec = api.spec_endpoint();
    let routes = Route::new().nest("/", api).nest("/docs", docs).at("/openapi.json", spec);
    normalize_errors(
        routes
            .with(CatchPanic::new().with_handler(panic_response))
            .data(state)
            .data(BodyLimit(max_body_bytes)),
    )
}
