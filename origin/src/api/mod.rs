//! The HTTP API: one poem-openapi service per resource, composed here.

pub mod assess;
pub mod audit;
pub mod auth;
pub mod blocklists;
pub mod browser;
pub mod cases;
pub mod common;
pub mod dashboard;
pub mod edge;
pub mod health;
pub mod ingest;
pub mod keys;
pub mod notifications;
pub mod providers;
pub mod raw_body;
pub mod report;
pub mod rules;
pub mod sessions;
pub mod simulation;
pub mod submerchants;
pub mod team;
pub mod transactions;
pub mod ui;
pub mod webhooks;

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
    /// Real-time pay-in risk assessment (Partner API, API keys).
    Risk,
    /// Payout (disbursement) risk assessment before funds are released (Partner API, secret keys).
    Payout,
    /// Fraud reports (Partner API, secret keys).
    Fraud,
    /// Blocklist management (dashboard token).
    Blocklists,
    /// Dashboard sign-in.
    Auth,
    /// Team members, roles and invitations (dashboard token).
    Team,
    /// Cases (expedientes): lifecycle, evidence, transactions, activity (dashboard token).
    Cases,
    /// Custom rules, signal weights and decision thresholds (dashboard token).
    Rules,
    /// Dashboard overview figures (dashboard token).
    Dashboard,
    /// The append-only audit log of management changes (dashboard token).
    Audit,
    /// Outbound webhook endpoints and their delivery log (dashboard token).
    Webhooks,
    /// Email alert recipients and the alert emails sent (dashboard token).
    Notifications,
    /// Events in: payment-provider webhooks and event ingestion (provider signatures, event-ingest keys).
    Events,
    /// Simulation and backtests: the live pipeline with nothing moved (dashboard token).
    Simulation,
    /// PSP submerchant registry (secret key or dashboard token).
    Submerchants,
    /// Provider integrations, ingestion rules, ingested events and alerts (dashboard token).
    Integrations,
    /// The transaction monitor: recorded assessments (dashboard token or secret key).
    Transactions,
    /// Service health.
    System,
}

/// Every operation group.
pub type Apis = (
    assess::AssessApi,
    sessions::SessionsApi,
    report::ReportApi,
    auth::AuthApi,
    team::TeamApi,
    blocklists::BlocklistApi,
    cases::CasesApi,
    rules::RulesApi,
    dashboard::DashboardApi,
    audit::AuditApi,
    webhooks::WebhooksApi,
    notifications::NotificationsApi,
    providers::ProvidersApi,
    ingest::IngestApi,
    // poem-openapi composes tuples of up to 16: the rest nest.
    (
        submerchants::SubmerchantsApi,
        simulation::SimulationApi,
        transactions::TransactionsApi,
        keys::KeysApi,
        health::HealthApi,
    ),
);

/// The OpenAPI service of every operation.
pub fn service() -> OpenApiService<Apis, ()> {
    let apis = (
        assess::AssessApi,
        sessions::SessionsApi,
        report::ReportApi,
        auth::AuthApi,
        team::TeamApi,
        blocklists::BlocklistApi,
        cases::CasesApi,
        rules::RulesApi,
        dashboard::DashboardApi,
        audit::AuditApi,
        webhooks::WebhooksApi,
        notifications::NotificationsApi,
        providers::ProvidersApi,
        ingest::IngestApi,
        (
            submerchants::SubmerchantsApi,
            simulation::SimulationApi,
            transactions::TransactionsApi,
            keys::KeysApi,
            health::HealthApi,
        ),
    );
    OpenApiService::new(apis, "Clausum API", API_VERSION)
        .description(
            "Real-time payment fraud prevention. Send a transaction before money moves; \
             get a decision (`approve`, `review`, `challenge`, `decline`) and a 0–100 risk score. \
             Every error answers `{\"error\": {\"code\", \"message\", \"details\"}}`.",
        )
        .server("http://127.0.0.1:8080")
}

/// The OpenAPI document as pretty JSON, exactly as committed in `openapi/`.
///
/// Optional properties are marked `nullable`: the API sends `null` for an
/// absent optional value (poem-openapi documents them as plain types,
/// which OpenAPI 3.0 validators then reject).
pub fn spec_json() -> String {
    static SPEC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| {
        let mut doc: serde_json::Value =
            serde_json::from_str(&service().spec()).expect("poem-openapi emits JSON");
        if let Some(schemas) =
            doc.pointer_mut("/components/schemas").and_then(|v| v.as_object_mut())
        {
            for schema in schemas.values_mut() {
                mark_optional_nullable(schema);
            }
        }
        let mut s = serde_json::to_string_pretty(&doc).expect("serialises");
        s.push('\n');
        s
    })
    .clone()
}

fn mark_optional_nullable(schema: &mut serde_json::Value) {
    let required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        for (name, prop) in props.iter_mut() {
            if !required.contains(name)
                && let Some(p) = prop.as_object_mut()
            {
                p.insert("nullable".into(), serde_json::Value::Bool(true));
            }
        }
    }
}

/// The whole HTTP application: API routes, docs, error normalisation.
pub fn app(state: Arc<AppState>, max_body_bytes: usize) -> impl Endpoint {
    let api = service();
    let docs = api.swagger_ui();
    let spec = poem::endpoint::make_sync(|_| {
        poem::Response::builder().content_type("application/json").body(spec_json())
    });
    let routes = Route::new()
        .nest("/", api)
        .nest("/docs", docs)
        .at("/openapi.json", spec)
        .at("/metrics", poem::get(metrics_text))
        .at("/sdk/:file", poem::get(browser::sdk_file))
        .nest("/api/v1/edge", edge::routes())
        .at("/invite/:token", poem::get(ui::page))
        .at("/dashboard", poem::get(ui::page))
        .at("/dashboard/*rest", poem::get(ui::page));
    normalize_errors(
        crate::metrics::measured(routes.with(CatchPanic::new().with_handler(panic_response)))
            .around(refuse_nul)
            .around(refuse_query_keys)
            .data(state)
            .data(BodyLimit(max_body_bytes)),
    )
    .around(browser::cors)
    .around(ui::home)
}

/// Refuses a path or query holding an encoded NUL (`%00`) before any route
/// sees it: no identifier, search or parameter has a use for one, and
/// PostgreSQL refuses NUL in text (which would otherwise be a 500).
async fn refuse_nul<E: Endpoint>(next: E, req: poem::Request) -> poem::Result<poem::Response> {
    let has_nul = |s: &str| s.as_bytes().windows(3).any(|w| w == b"%00");
    if has_nul(req.uri().path()) || req.uri().query().is_some_and(has_nul) {
        return Err(crate::error::ApiError::new(
            clausum_core::wire::ErrorCode::ValidationError,
            "The path or query holds a NUL character (%00); no parameter accepts it.",
        )
        .into());
    }
    next.call(req).await.map(poem::IntoResponse::into_response)
}

/// Refuses an API key sent as the `api_key` query parameter, saying where
/// it goes: query strings end up in proxies' and servers' logs, so keys are
/// read from `Authorization: Bearer` only. (Without this the caller would
/// only hear that no key was sent.)
async fn refuse_query_keys<E: Endpoint>(
    next: E,
    req: poem::Request,
) -> poem::Result<poem::Response> {
    let in_query = req.uri().query().is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.split('=').next().is_some_and(|k| k.eq_ignore_ascii_case("api_key")))
    });
    if in_query && !req.headers().contains_key(poem::http::header::AUTHORIZATION) {
        return Err(crate::error::ApiError::new(
            clausum_core::wire::ErrorCode::Unauthorized,
            "Send the API key in the `Authorization: Bearer` header; keys in the query string \
             (`api_key`) are not accepted, because query strings are logged. Revoke and replace a \
             key that was sent this way.",
        )
        .into());
    }
    next.call(req).await.map(poem::IntoResponse::into_response)
}

/// `GET /metrics`: Prometheus text. Aggregates only — no request data, no
/// organisation names; keep it on an internal network all the same.
#[poem::handler]
async fn metrics_text(state: poem::web::Data<&Arc<AppState>>) -> poem::Response {
    let (open, idle, max) = state.store.pool_state();
    let mut extra = vec![
        (
            "clausum_db_pool_connections",
            "Database pool connections by state.",
            vec![
                ("state=\"open\"".to_owned(), f64::from(open)),
                ("state=\"idle\"".to_owned(), f64::from(idle)),
                ("state=\"max\"".to_owned(), f64::from(max)),
            ],
        ),
        (
            "clausum_assess_inflight",
            "Assessments in flight on this node, and the shedding threshold.",
            vec![
                (
                    "kind=\"now\"".to_owned(),
                    state.inflight_assess.load(std::sync::atomic::Ordering::Relaxed) as f64,
                ),
                ("kind=\"max\"".to_owned(), state.max_inflight_assess as f64),
            ],
        ),
    ];
    if let Ok((pending, succeeded, failed)) = state.store.delivery_backlog().await {
        extra.push((
            "clausum_webhook_deliveries",
            "Webhook deliveries by status (the outbox depth is `pending`).",
            vec![
                ("status=\"pending\"".to_owned(), pending as f64),
                ("status=\"succeeded\"".to_owned(), succeeded as f64),
                ("status=\"failed\"".to_owned(), failed as f64),
            ],
        ));
    }
    let entries: usize = state
        .orgs
        .read()
        .expect("orgs lock")
        .values()
        .map(|o| o.blocklist.read().expect("blocklist lock").len())
        .sum();
    extra.push((
        "clausum_blocklist_entries",
        "Blocklist entries in this node's memory.",
        vec![(String::new(), entries as f64)],
    ));
    poem::Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(&extra))
}
