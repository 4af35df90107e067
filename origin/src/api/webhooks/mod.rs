//! `/api/v1/webhooks`: endpoints, their secrets, and the delivery log.

mod wire;

use std::sync::Arc;

use clausum_core::{
    roles::Action,
    webhook::{EventType, WebhookSecret},
};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use rand::RngCore;

pub use wire::*;

use super::{
    Tag,
    common::{Pagination, audit_row, new_id, not_found, page},
};
use crate::{
    auth::{DashboardToken, Principal},
    error::ApiError,
    payload::JsonBody,
    state::AppState,
    store::EndpointRow,
    time::now_ms,
};

/// Longest rotation overlap, in hours.
pub const MAX_OVERLAP_HOURS: i64 = 7 * 24;

/// Created.
#[derive(ApiResponse)]
pub enum EndpointCreated {
    /// The endpoint, with its secret (shown this once).
    #[oai(status = 201)]
    Created(Json<EndpointWithSecret>),
}

/// Webhook management (dashboard token; admins change, admins and analysts read).
pub struct WebhooksApi;

#[OpenApi(prefix_path = "/api/v1/webhooks", tag = "Tag::Webhooks")]
impl WebhooksApi {
    /// List the event catalogue
    ///
    /// Every event an endpoint can subscribe to, with what it means.
    #[oai(path = "/events", method = "get")]
    async fn events(&self, auth: DashboardToken) -> Result<Json<Vec<EventInfo>>, ApiError> {
        auth.0.require(Action::ReadKeys)?;
        Ok(Json(
            EventType::ALL
                .iter()
                .map(|e| EventInfo { event: *e, description: e.description().to_owned() })
                .collect(),
        ))
    }

    /// List endpoints
    ///
    /// The organisation's webhook endpoints, oldest first. Secrets are
    /// never shown again after creation or rotation; `secret_hint` tells
    /// them apart.
    #[oai(path = "/endpoints", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
    ) -> Result<Json<Vec<Endpoint>>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadKeys)?;
        Ok(Json(state.store.endpoints(p.org()).await?.iter().map(Endpoint::from).collect()))
    }

    /// Add an endpoint
    ///
    /// The URL must be public `https` (plain `http` only for loopback when
    /// the server allows it for development); a URL whose host is, or
    /// resolves to, a loopback, private, link-local or metadata address is
    /// refused — and checked again on every send. `events` empty (or
    /// absent) subscribes to every event. The answer carries the signing
    /// secret once. Admins only.
    #[oai(path = "/endpoints", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<NewEndpoint>,
    ) -> Result<EndpointCreated, ApiError> {
        let p = auth.0;
        p.require(Action::ManageKeys)?;
        let req = body.value;
        vet_url(&state, &req.url).await?;
        let now = now_ms();
        let secret = new_secret();
        let row = EndpointRow {
            id: new_id("we"),
            organization_id: p.org().to_owned(),
            url: req.url.trim().to_owned(),
            description: super::common::clean_text("description", req.description, 500)?,
            events: events_json(req.events.as_deref()),
            enabled: req.enabled.unwrap_or(true),
            secret: secret.clone(),
            previous_secret: None,
            previous_secret_expires_at: None,
            consecutive_failures: 0,
            failing_since: None,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        let out = Endpoint::from(&row);
        let audit = audit_row(
            &p,
            "webhook.create",
            "webhook_endpoint",
            Some(&row.id),
            None::<&()>,
            Some(&out),
            now,
        );
        state.store.create_endpoint(&row, &audit).await?;
        state.after_commit(crate::state::Reload::Subscriptions).await;
        Ok(EndpointCreated::Created(Json(EndpointWithSecret { endpoint: out, secret })))
    }

    /// Get an endpoint
    ///
    /// One endpoint of the caller's organisation (404 for any other).
    #[oai(path = "/endpoints/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The endpoint's id (`we_…`).
        id: Path<String>,
    ) -> Result<Json<Endpoint>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadKeys)?;
        Ok(Json(Endpoint::from(&load(&state, &p, &id.0).await?)))
    }

    /// Change an endpoint
    ///
    /// URL, description, subscribed events, enabled flag. Re-enabling an
    /// endpoint that was disabled for failing clears its failure count.
    /// Admins only.
    #[oai(path = "/endpoints/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The endpoint's id (`we_…`).
        id: Path<String>,
        body: JsonBody<EndpointPatch>,
    ) -> Result<Json<Endpoint>, ApiError> {
        let p = auth.0;
        p.require(Action::ManageKeys)?;
        let before = load(&state, &p, &id.0).await?;
        let patch = body.value;
        let mut after = before.clone();
        if let Some(url) = patch.url {
            vet_url(&state, &url).await?;
            after.url = url.trim().to_owned();
        }
        if let Some(d) = patch.description {
            after.description = super::common::clean_text("description", Some(d), 500)?;
        }
        if let Some(events) = patch.events {
            after.events = events_json(Some(&events));
        }
        if let Some(enabled) = patch.enabled {
            if enabled && !before.enabled {
                after.consecutive_failures = 0;
                after.failing_since = None;
                after.disabled_reason = None;
            }
            after.enabled = enabled;
        }
        let now = now_ms();
        after.updated_at = now;
        let (b, a) = (Endpoint::from(&before), Endpoint::from(&after));
        let audit = audit_row(
            &p,
            "webhook.update",
            "webhook_endpoint",
            Some(&after.id),
            Some(&b),
            Some(&a),
            now,
        );
        if !state.store.update_endpoint(&after, &audit).await? {
            return Err(not_found("webhook endpoint"));
        }
        state.after_commit(crate::state::Reload::Subscriptions).await;
        Ok(Json(a))
    }

    /// Delete an endpoint
    ///
    /// Removes the endpoint with its deliveries and their log. Admins only.
    #[oai(path = "/endpoints/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The endpoint's id (`we_…`).
        id: Path<String>,
    ) -> Result<Json<Endpoint>, ApiError> {
        let p = auth.0;
        p.require(Action::ManageKeys)?;
        let before = load(&state, &p, &id.0).await?;
        let b = Endpoint::from(&before);
        let now = now_ms();
        let audit = audit_row(
            &p,
            "webhook.delete",
            "webhook_endpoint",
            Some(&before.id),
            Some(&b),
            None::<&()>,
            now,
        );
        if !state.store.delete_endpoint(p.org(), &before.id, &audit).await? {
            return Err(not_found("webhook endpoint"));
        }
        state.after_commit(crate::state::Reload::Subscriptions).await;
        Ok(Json(b))
    }

    /// Rotate the signing secret
    ///
    /// Issues a new secret (shown this once). For `overlap_hours` (default
    /// 24, at most 168) deliveries carry two `v1` signatures — new and old —
    /// so receivers can switch without dropping events. Admins only.
    #[oai(path = "/endpoints/:id/rotate-secret", method = "post")]
    async fn rotate(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The endpoint's id (`we_…`).
        id: Path<String>,
        /// Hours the old secret keeps signing (0–168, default 24).
        overlap_hours: Query<Option<i64>>,
    ) -> Result<Json<EndpointWithSecret>, ApiError> {
        let p = auth.0;
        p.require(Action::ManageKeys)?;
        let overlap = overlap_hours.0.unwrap_or(24);
        if !(0..=MAX_OVERLAP_HOURS).contains(&overlap) {
            return Err(ApiError::field(
                "overlap_hours",
                format!("`overlap_hours` must be between 0 and {MAX_OVERLAP_HOURS}"),
            ));
        }
        let before = load(&state, &p, &id.0).await?;
        let now = now_ms();
        let secret = new_secret();
        let mut after = before.clone();
        after.previous_secret = Some(before.secret.clone());
        after.previous_secret_expires_at = Some(now + overlap * 3_600_000);
        after.secret = secret.clone();
        after.updated_at = now;
        let (b, a) = (Endpoint::from(&before), Endpoint::from(&after));
        let audit = audit_row(
            &p,
            "webhook.rotate_secret",
            "webhook_endpoint",
            Some(&after.id),
            Some(&b),
            Some(&a),
            now,
        );
        if !state.store.update_endpoint(&after, &audit).await? {
            return Err(not_found("webhook endpoint"));
        }
        Ok(Json(EndpointWithSecret { endpoint: a, secret }))
    }

    /// List an endpoint's deliveries
    ///
    /// Newest first, with status, attempts and the last result.
    #[oai(path = "/endpoints/:id/deliveries", method = "get")]
    async fn deliveries(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The endpoint's id (`we_…`).
        id: Path<String>,
        /// Page size (1–500, default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<DeliveryPage>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadKeys)?;
        let (limit, offset) = page(limit.0, offset.0)?;
        let endpoint = load(&state, &p, &id.0).await?;
        let found = state.store.deliveries(p.org(), &endpoint.id, limit, offset).await?;
        Ok(Json(DeliveryPage {
            data: found.rows.iter().map(Delivery::from).collect(),
            pagination: Pagination { total: found.total, limit, offset },
        }))
    }

    /// Get a delivery
    ///
    /// One delivery with every attempt: status code, error, latency and the
    /// first bytes of the response.
    #[oai(path = "/deliveries/:id", method = "get")]
    async fn delivery(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The delivery's id (`dlv_…`).
        id: Path<String>,
    ) -> Result<Json<DeliveryDetail>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadKeys)?;
        let d = state.store.delivery(p.org(), &id.0).await?.ok_or_else(|| not_found("delivery"))?;
        let attempts = state.store.attempts(p.org(), &d.id).await?;
        Ok(Json(DeliveryDetail {
            delivery: Delivery::from(&d),
            attempts: attempts.iter().map(Attempt::from).collect(),
        }))
    }

    /// Re-send a delivery
    ///
    /// Queues the delivery again now, with the same delivery id (receivers
    /// that already processed it can drop it). Admins only.
    #[oai(path = "/deliveries/:id/resend", method = "post")]
    async fn resend(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The delivery's id (`dlv_…`).
        id: Path<String>,
    ) -> Result<Json<Delivery>, ApiError> {
        let p = auth.0;
        p.require(Action::ManageKeys)?;
        let d = state.store.delivery(p.org(), &id.0).await?.ok_or_else(|| not_found("delivery"))?;
        let now = now_ms();
        let audit = audit_row(
            &p,
            "webhook.resend",
            "webhook_delivery",
            Some(&d.id),
            None::<&()>,
            None::<&()>,
            now,
        );
        if !state.store.resend(p.org(), &d.id, now, &audit).await? {
            return Err(not_found("delivery"));
        }
        state.deliveries_queued.notify_one();
        let d = state.store.delivery(p.org(), &d.id).await?.ok_or_else(|| not_found("delivery"))?;
        Ok(Json(Delivery::from(&d)))
    }
}

fn new_secret() -> String {
    let mut random = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut random);
    WebhookSecret::from_random(random).as_str().to_owned()
}

fn events_json(events: Option<&[EventType]>) -> String {
    let mut names: Vec<&str> = events.unwrap_or_default().iter().map(|e| e.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    serde_json::to_string(&names).expect("serialises")
}

async fn load(state: &AppState, p: &Principal, id: &str) -> Result<EndpointRow, ApiError> {
    state
        .store
        .endpoint(id)
        .await?
        .filter(|e| e.organization_id == p.org())
        .ok_or_else(|| not_found("webhook endpoint"))
}

/// The URL rules, and for a hostname: every address it resolves to now
/// must be allowed (the sender checks again when it connects).
async fn vet_url(state: &AppState, url: &str) -> Result<(), ApiError> {
    let url = url.trim();
    state
        .webhook_sender
        .check(url)
        .map_err(|m| ApiError::field("url", format!("refused URL: {m}")))?;
    let target = clausum_core::webhook::check_url(url, true)
        .map_err(|e| ApiError::field("url", format!("refused URL: {e}")))?;
    if target.is_ip_literal() {
        return Ok(());
    }
    let addrs = state
        .webhook_sender
        .resolve(&target.host, target.port)
        .await
        .map_err(|_| ApiError::field("url", "refused URL: the host name does not resolve"))?;
    for a in &addrs {
        if let Some(why) = clausum_core::webhook::forbidden_ip(a.ip())
            && !(target.allowed_loopback && a.ip().is_loopback())
        {
            return Err(ApiError::field(
                "url",
                format!("refused URL: the host resolves to a {why} address"),
            ));
        }
    }
    Ok(())
}
