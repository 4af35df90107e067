//! Event ingestion: `POST /api/webhooks/ingest` (event-ingest keys), the
//! events and alerts it produced (`/api/v1/ingested-events`,
//! `/api/v1/alerts`), and the rules that process them
//! (`/api/v1/ingestion-rules`, in [`rules`]).

mod rules;
mod wire;

use std::{collections::HashMap, sync::Arc};

use clausum_core::{
    keys::{self, KeyKind},
    roles::Action,
    wire::ErrorCode,
};
use poem::{endpoint::BoxEndpoint, http::Method, web::Data};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
    registry::{MetaApi, Registry},
};

pub use rules::IngestionRulesApi;
pub use wire::*;

use super::{
    Tag,
    common::{Pagination, PersonalData, not_found, page},
    raw_body::RawJson,
};
use crate::{
    auth::{DashboardToken, PartnerKey},
    error::ApiError,
    ingest,
    state::{AppState, KeyInfo},
    time::now_ms,
};

/// Event ingestion and what it produced, with the rules that process it.
pub struct IngestApi;

type Parts = (IngestEventsApi, IngestionRulesApi);

impl OpenApi for IngestApi {
    fn meta() -> Vec<MetaApi> {
        Parts::meta()
    }

    fn register(registry: &mut Registry) {
        Parts::register(registry);
    }

    fn add_routes(self, route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
        (IngestEventsApi, IngestionRulesApi).add_routes(route_table);
    }
}

/// Answers of the ingest endpoint.
#[derive(ApiResponse)]
pub enum IngestReply {
    /// Stored; it is processed by the ingestion rules right after this answer.
    #[oai(status = 202)]
    Accepted(Json<IngestAccepted>),
    /// This key already sent an event with this id: the original's id,
    /// nothing queued again.
    #[oai(status = 200)]
    Duplicate(Json<IngestAccepted>),
}

/// Statuses an ingested event can have.
const STATUSES: [&str; 4] = ["received", "processed", "ignored", "review"];

/// Ingested events and alerts.
pub struct IngestEventsApi;

#[OpenApi]
impl IngestEventsApi {
    /// Ingest an event
    ///
    /// Send any JSON object with `event` (or `type`) and a `data` object,
    /// with an event-ingest key (`clm_wh_…`): publishable keys answer 403
    /// `PUBLIC_KEY_NOT_ALLOWED`, secret keys 403 `FORBIDDEN`. The event is
    /// stored before the answer (202 `{success, event_id, message}`) and
    /// then processed by the organisation's ingestion rules, in priority
    /// order, first match wins; an event no rule matches is stored as
    /// `processed`. With an `id` (or `event_id`), a second event with the
    /// same id from the same key answers 200 with the original `event_id`
    /// and `duplicate: true`. Bodies over 256 KiB answer 413; malformed JSON
    /// 400.
    #[oai(path = "/api/webhooks/ingest", method = "post", tag = "Tag::Events")]
    async fn ingest(
        &self,
        state: Data<&Arc<AppState>>,
        auth: PartnerKey,
        body: RawJson<IngestEvent>,
    ) -> Result<IngestReply, ApiError> {
        let key = auth.0;
        authorize(&state, &key)?;
        let incoming = ingest::parse(&body.bytes)?;
        let accepted = ingest::accept(&state, &key, incoming).await?;
        let reply = |message: &str| IngestAccepted {
            success: true,
            event_id: accepted.event_id.clone(),
            message: message.to_owned(),
            duplicate: accepted.duplicate,
        };
        Ok(if accepted.duplicate {
            IngestReply::Duplicate(Json(reply("Event already received")))
        } else {
            IngestReply::Accepted(Json(reply("Event received and queued for processing")))
        })
    }

    /// List ingested events
    ///
    /// Newest first, without their payloads, optionally of one `status`
    /// (`received`, `processed`, `ignored`, `review`). Roles: every role.
    #[oai(path = "/api/v1/ingested-events", method = "get", tag = "Tag::Integrations")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// Only events with this status.
        status: Query<Option<String>>,
        /// Page size (1–500, default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<IngestedEventPage>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadTransactions)?;
        let (limit, offset) = page(limit.0, offset.0)?;
        let status = status.0.map(|s| s.trim().to_owned());
        if let Some(s) = &status
            && !STATUSES.contains(&s.as_str())
        {
            return Err(ApiError::field(
                "status",
                "`status` must be one of received, processed, ignored, review",
            ));
        }
        let found =
            state.store.ingested_events_page(p.org(), status.as_deref(), limit, offset).await?;
        Ok(Json(IngestedEventPage {
            data: found.rows.iter().map(|r| IngestedEvent::new(r, false)).collect(),
            pagination: Pagination { total: found.total, limit, offset },
        }))
    }

    /// Get an ingested event
    ///
    /// One event of the caller's organisation with its stored payload and
    /// what processing did (404 for any other organisation's). Personal
    /// data in the payload is masked for viewers. Roles: every role.
    #[oai(path = "/api/v1/ingested-events/:id", method = "get", tag = "Tag::Integrations")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The event's id (`iev_…`).
        id: Path<String>,
    ) -> Result<Json<IngestedEvent>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadTransactions)?;
        let row = state
            .store
            .ingested_event(p.org(), &id.0)
            .await?
            .ok_or_else(|| not_found("ingested event"))?;
        Ok(Json(IngestedEvent::new(&row, true).for_reader(PersonalData::for_user(&p))))
    }

    /// List alerts
    ///
    /// Alerts raised by ingestion rules with the `create_alert` action,
    /// newest first. Roles: every role.
    #[oai(path = "/api/v1/alerts", method = "get", tag = "Tag::Integrations")]
    async fn alerts(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// Page size (1–500, default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<AlertPage>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadTransactions)?;
        let (limit, offset) = page(limit.0, offset.0)?;
        let found = state.store.alerts_page(p.org(), limit, offset).await?;
        Ok(Json(AlertPage {
            data: found.rows.iter().map(Alert::from).collect(),
            pagination: Pagination { total: found.total, limit, offset },
        }))
    }
}

/// Only event-ingest keys ingest; each key kind is told which one to use.
fn authorize(state: &AppState, key: &KeyInfo) -> Result<(), ApiError> {
    match key.kind {
        KeyKind::Ingest => {}
        KeyKind::Publishable => {
            return Err(ApiError::new(
                ErrorCode::PublicKeyNotAllowed,
                "Publishable keys (clm_pub_) cannot ingest events; use an event-ingest key (clm_wh_).",
            ));
        }
        KeyKind::Secret => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only event-ingest keys (clm_wh_) ingest events; secret keys (clm_sk_) are for assess and fraud reports.",
            ));
        }
    }
    if !keys::grants(&key.permissions, keys::PERM_INGEST) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "This API key lacks the `ingest` permission.",
        ));
    }
    let admission = state.limiter.check(key, now_ms());
    if !admission.allowed {
        return Err(ApiError::rate_limited(ErrorCode::RateLimitExceeded, &admission));
    }
    Ok(())
}
