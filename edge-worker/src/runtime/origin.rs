//! Talking to the origin on a request's behalf: forwarding with a deadline
//! (the documented 503/504 instead of a hang), passing other routes
//! through, and recording edge declines afterwards.

use clausum_core::wire::{
    ErrorCode,
    edge::{EDGE_TOKEN_HEADER, EdgeContext, EdgeRecord},
    request_id,
};
use wasm_bindgen::JsValue;
use worker::{Delay, Fetch, Headers, Method, Request, RequestInit, Response};

use super::platform;
use crate::config::EdgeConfig;

/// A request to send on.
pub struct Outgoing<'a> {
    /// Method.
    pub method: Method,
    /// Path and query, from the incoming URL.
    pub path_and_query: String,
    /// The incoming headers.
    pub headers: &'a Headers,
    /// The request's id (`X-Request-Id`), the caller's or the edge's.
    pub request_id: &'a str,
    /// The body (a `Uint8Array` or the incoming stream), if any.
    pub body: Option<JsValue>,
    /// What only the edge knows, for routes the origin reads it on.
    pub context: Option<&'a EdgeContext>,
}

/// Sends `out` to the origin and returns its answer as is. Past
/// `deadline_ms` the answer is `504 ASSESS_TIMEOUT`; when the origin cannot
/// be reached, `503 ASSESS_MAINTENANCE` — so integrators can fail open or
/// closed by policy, and nothing waits forever.
pub async fn forward(
    cfg: &EdgeConfig,
    out: Outgoing<'_>,
    deadline_ms: i64,
) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in out.headers.entries() {
        // The client cannot speak for the edge, and the host is the origin's.
        if name.starts_with("x-clausum-edge-") || name == "host" {
            continue;
        }
        headers.set(&name, &value)?;
    }
    headers.set(request_id::HEADER, out.request_id)?;
    if let Some(ctx) = out.context {
        headers.set(EDGE_TOKEN_HEADER, &cfg.edge_token)?;
        for (name, value) in ctx.headers() {
            headers.set(name, &value)?;
        }
    }
    let mut init = RequestInit::new();
    init.with_method(out.method).with_headers(headers).with_body(out.body);
    let url = format!("{}{}", cfg.origin_url, out.path_and_query);
    let req = Request::new_with_init(&url, &init)?;
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    match super::with_deadline(Fetch::Request(req).send_with_signal(&signal), deadline_ms).await {
        Some(Ok(resp)) => Ok(resp),
        Some(Err(e)) => {
            platform::log(&format!("clausum-edge: origin unreachable: {e}"));
            platform::error(
                ErrorCode::AssessMaintenance,
                "The Clausum origin is unreachable from the edge. Retry shortly, or apply your fail-open or fail-closed policy.",
            )
        }
        None => {
            controller.abort();
            platform::error(
                ErrorCode::AssessTimeout,
                "The assessment did not finish in time. Retry with the same idempotency key.",
            )
        }
    }
}

/// Sends a decline the edge answered to the origin, retrying twice on
/// failure (within the platform's `wait_until` budget), under the
/// request's id: the origin's logs and the events it announces carry it.
pub async fn record(cfg: EdgeConfig, record: EdgeRecord, request_id: String) {
    let Ok(body) = serde_json::to_string(&record) else { return };
    for attempt in 0..3u32 {
        if attempt > 0 {
            Delay::from(std::time::Duration::from_millis(500 * 4u64.pow(attempt - 1))).await;
        }
        match send_record(&cfg, &body, &request_id).await {
            Ok(status) if (200..300).contains(&status) => return,
            // Refused for good (a key revoked meanwhile, a body it rejects).
            Ok(status) if (400..500).contains(&status) && status != 429 => {
                platform::log(&format!("clausum-edge: the origin refused a record ({status})"));
                return;
            }
            Ok(status) => platform::log(&format!("clausum-edge: recording failed ({status})")),
            Err(e) => platform::log(&format!("clausum-edge: recording failed: {e}")),
        }
    }
}

async fn send_record(cfg: &EdgeConfig, body: &str, id: &str) -> worker::Result<u16> {
    let headers = Headers::new();
    headers.set(EDGE_TOKEN_HEADER, &cfg.edge_token)?;
    headers.set(request_id::HEADER, id)?;
    headers.set("content-type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(JsValue::from_str(body)));
    let req = Request::new_with_init(&format!("{}/api/v1/edge/record", cfg.origin_url), &init)?;
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    match super::with_deadline(Fetch::Request(req).send_with_signal(&signal), 10_000).await {
        Some(resp) => Ok(resp?.status_code()),
        None => {
            controller.abort();
            Err(worker::Error::RustError("timed out".into()))
        }
    }
}
