//! The delivery worker: claims due deliveries, signs and sends them,
//! records every attempt, schedules retries, disables endpoints that keep
//! failing.
//!
//! Delivery is at least once. A worker that dies mid-send leaves its claims
//! to expire (the lease), after which any worker sends them again with the
//! same delivery id, which receivers use to drop duplicates.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use clausum_core::webhook::{self, EventType};
use rand::Rng;

use super::sender::{SendResult, Sender};
use crate::background::{Running, Stop, uncancelled, until_stopped};
use crate::{
    api::common::{iso, new_id},
    events,
    state::AppState,
    store::{AttemptOutcome, AttemptRow, DueDelivery, EndpointRow},
    time::now_ms,
};

/// Deliveries claimed per round.
const BATCH: i64 = 32;
/// Sends in flight at once.
const PARALLEL: usize = 16;

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How long a claim lasts before another worker may take it over.
    pub lease_ms: i64,
    /// Multiplies the retry schedule (1.0 in production; tests shrink it).
    pub retry_scale: f64,
    /// Failed attempts in a row before an endpoint may be disabled…
    pub disable_after_failures: i64,
    /// …provided it has been failing at least this long.
    pub disable_after_ms: i64,
    /// Sleep between polls when idle (a local enqueue wakes it earlier).
    pub idle_poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            lease_ms: 60_000,
            retry_scale: 1.0,
            disable_after_failures: 50,
            disable_after_ms: 5 * 24 * 60 * 60 * 1000,
            idle_poll: Duration::from_millis(500),
        }
    }
}

/// Starts the worker on the current runtime.
pub fn spawn(state: Arc<AppState>, sender: Sender, config: WorkerConfig) -> Running {
    let stop = Arc::new(Stop::default());
    let handle = tokio::spawn(run(state, sender, config, stop.clone()));
    Running { handle, stop }
}

async fn run(state: Arc<AppState>, sender: Sender, config: WorkerConfig, stop: Arc<Stop>) {
    while !stop.requested() {
        let now = now_ms();
        // Every database write of the worker is `uncancelled`.
        let (store, lease_until) = (state.store.clone(), now + config.lease_ms);
        let claim =
            uncancelled(async move { store.claim_deliveries(now, lease_until, BATCH).await });
        let due = match claim.await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "claiming webhook deliveries failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if due.is_empty() {
            tokio::select! {
                _ = state.deliveries_queued.notified() => {}
                _ = tokio::time::sleep(config.idle_poll) => {}
                _ = stop.wait() => {}
            }
            continue;
        }
        // Once a stop is asked no new send starts; the ones under way finish.
        let unsent =
            until_stopped(due, PARALLEL, &stop, |d| deliver(&state, &sender, &config, d)).await;
        let unsent: Vec<String> = unsent.into_iter().map(|d| d.id).collect();
        if !unsent.is_empty() {
            let store = state.store.clone();
            let release =
                uncancelled(async move { store.release_deliveries(&unsent, lease_until).await });
            match release.await {
                Ok(n) => tracing::info!(released = n, "gave back unsent webhook claims"),
                Err(e) => {
                    tracing::warn!(error = %e, "releasing webhook claims failed; their leases will expire")
                }
            }
        }
    }
}

/// The request body: `{event, timestamp, data}`, byte-identical on every
/// attempt of the same delivery.
pub fn body(d: &DueDelivery) -> Bytes {
    Bytes::from(format!(
        "{{\"event\":\"{}\",\"timestamp\":\"{}\",\"data\":{}}}",
        d.event_type,
        iso(d.event_created_at),
        d.payload
    ))
}

/// The secrets that sign now: the current one, and the previous one while
/// its rotation overlap lasts.
fn signing_secrets(e: &EndpointRow, now: i64) -> Vec<&[u8]> {
    let mut keys = vec![e.secret.as_bytes()];
    if let (Some(old), Some(until)) = (&e.previous_secret, e.previous_secret_expires_at)
        && until > now
    {
        keys.push(old.as_bytes());
    }
    keys
}

async fn deliver(state: &AppState, sender: &Sender, config: &WorkerConfig, d: DueDelivery) {
    let endpoint = match state.store.endpoint(&d.endpoint_id).await {
        Ok(Some(e)) => e,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, delivery = %d.id, "loading the endpoint failed; the lease will expire");
            return;
        }
    };
    let now = now_ms();
    let body = body(&d);
    let t = now / 1000;
    let mut headers = vec![
        ("x-clausum-signature", webhook::header(&signing_secrets(&endpoint, now), t, &body)),
        ("x-clausum-event", d.event_type.clone()),
        ("x-clausum-timestamp", iso(now)),
        ("x-clausum-delivery", d.id.clone()),
    ];
    // The API request that caused the event: the receiver's logs meet ours.
    if let Some(id) = &d.request_id {
        headers.push(("x-clausum-request-id", id.clone()));
    }
    let result = sender.send(&endpoint.url, body, &headers).await;
    let attempt = d.attempts + 1;
    let done = now_ms();
    let outcome = outcome(&result, attempt, done, config);
    let row = AttemptRow {
        id: new_id("att"),
        delivery_id: d.id.clone(),
        organization_id: d.organization_id.clone(),
        attempt,
        status_code: result.status.map(i64::from),
        error: result.error.clone(),
        latency_ms: result.latency_ms,
        response_excerpt: result.excerpt.clone(),
        created_at: done,
    };
    let (store, recorded) = (state.store.clone(), outcome.clone());
    let record = uncancelled(async move { store.record_attempt(&row, &recorded).await });
    match record.await {
        Ok(Some(after)) if outcome != AttemptOutcome::Succeeded => {
            maybe_disable(state, &after, config, done).await;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, delivery = %d.id, "recording a webhook attempt failed")
        }
    }
}

/// Success, a retry time, or giving up — honouring `Retry-After` when the
/// receiver asks for more time than the schedule gives.
fn outcome(r: &SendResult, attempt: i64, now: i64, config: &WorkerConfig) -> AttemptOutcome {
    if r.succeeded() {
        return AttemptOutcome::Succeeded;
    }
    let jitter: u32 = rand::thread_rng().r#gen();
    let Some(scheduled) =
        webhook::next_attempt_delay_ms(u32::try_from(attempt).unwrap_or(u32::MAX), jitter)
    else {
        return AttemptOutcome::GaveUp;
    };
    let scheduled = (scheduled as f64 * config.retry_scale) as i64;
    // The receiver's own request is honoured as asked (never scaled).
    let asked = r
        .retry_after
        .as_deref()
        .and_then(|h| webhook::retry_after_ms(h, now / 1000))
        .map_or(0, |ms| i64::try_from(ms).unwrap_or(i64::MAX));
    AttemptOutcome::Retry(now + scheduled.max(asked))
}

/// Disables an endpoint after sustained failure and announces it to the
/// organisation's other endpoints.
async fn maybe_disable(state: &AppState, e: &EndpointRow, config: &WorkerConfig, now: i64) {
    let failing_for = e.failing_since.map_or(0, |since| now - since);
    if !e.enabled
        || e.consecutive_failures < config.disable_after_failures
        || failing_for < config.disable_after_ms
    {
        return;
    }
    let reason = format!(
        "{} failed attempts in a row over {} hours",
        e.consecutive_failures,
        failing_for / 3_600_000
    );
    // The URL without its query or fragment: a token there is the disabled
    // endpoint's secret, not for the organisation's other endpoints.
    let url = e.url.split(['?', '#']).next().unwrap_or_default();
    let data = serde_json::json!({"endpoint_id": e.id, "url": url, "reason": reason});
    let event = events::new_event(&e.organization_id, EventType::EndpointDisabled, &data, now);
    match state.store.auto_disable(&e.id, &reason, &event, now).await {
        Ok(true) => {
            tracing::warn!(endpoint = %e.id, "webhook endpoint disabled after sustained failure");
            let _ = state.reload_subscriptions().await;
        }
        Ok(false) => {}
        Err(err) => {
            tracing::warn!(error = %err, endpoint = %e.id, "disabling a failing endpoint failed")
        }
    }
}
