//! Talking to the origin on a request's behalf: forwarding with a deadline
//! (the documented 503/504 instead of a hang), passing other routes
//! through, and recording edge declines afterwards — durably: a record the
//! origin cannot take waits in KV until it can.

use clausum_core::wire::{
    ErrorCode,
    edge::{EDGE_TOKEN_HEADER, EdgeContext, EdgeRecord},
    request_id,
};
use wasm_bindgen::JsValue;
use worker::{Delay, Env, Fetch, Headers, Method, Request, RequestInit, Response};

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

/// Where records the origin could not take wait, in the KV namespace.
const PENDING_PREFIX: &str = "record:";
/// Present while records may be waiting: isolates read this one key
/// (cheap, cached) rather than listing the namespace on every flush.
const WAITING_MARKER: &str = "records-waiting";
/// How long a waiting record is kept: an origin outage must end by then.
const PENDING_TTL_SECS: u64 = 7 * 24 * 60 * 60;
/// Waiting records re-sent per flush (one flush at a time per isolate).
const FLUSH_BATCH: u64 = 25;
/// An isolate looks for waiting records at most this often.
pub const FLUSH_EVERY_MS: i64 = 2_000;

std::thread_local! {
    /// When this isolate last looked for waiting records.
    static LAST_FLUSH: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// A record waiting in KV, with the id of the request that caused it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Pending {
    request_id: String,
    body: String,
}

/// How sending a record ended.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    /// Recorded (or recorded already).
    Taken,
    /// Refused for good (a key revoked meanwhile, a body it rejects).
    Refused,
    /// Not reachable, or not now: try again later.
    Failed,
}

/// Sends a decline the edge answered to the origin, retrying twice on
/// failure (within the platform's `wait_until` budget), under the
/// request's id: the origin's logs and the events it announces carry it.
/// If the origin still cannot take it, the record waits in KV (its request
/// with any card number redacted) and [`flush_pending`] sends it once the
/// origin is back: an outage loses no declined transaction from history.
pub async fn record(env: Env, cfg: EdgeConfig, mut record: EdgeRecord, request_id: String) {
    let Ok(body) = serde_json::to_string(&record) else { return };
    for attempt in 0..3u32 {
        if attempt > 0 {
            Delay::from(std::time::Duration::from_millis(500 * 4u64.pow(attempt - 1))).await;
        }
        if send_once(&cfg, &body, &request_id).await != Sent::Failed {
            return;
        }
    }
    clausum_core::normalize::redact_json(&mut record.request);
    let Ok(body) = serde_json::to_string(&record) else { return };
    let pending = Pending { request_id, body };
    let kept = match env.kv(super::purge::KV_BINDING) {
        Ok(kv) => match kv.put(
            &format!("{PENDING_PREFIX}{}", record.transaction_id),
            serde_json::to_string(&pending).unwrap_or_default(),
        ) {
            Ok(put) => put.expiration_ttl(PENDING_TTL_SECS).execute().await.is_ok(),
            Err(_) => false,
        },
        Err(_) => false,
    };
    let marked = kept
        && match env.kv(super::purge::KV_BINDING).map(|kv| kv.put(WAITING_MARKER, "1")) {
            Ok(Ok(put)) => put.expiration_ttl(PENDING_TTL_SECS).execute().await.is_ok(),
            _ => false,
        };
    if marked {
        platform::log("clausum-edge: the origin cannot take a record now; it waits in KV");
    } else {
        platform::log("clausum-edge: a record could neither be sent nor kept; it is lost");
    }
}

/// Whether this isolate should look for waiting records now (at most every
/// [`FLUSH_EVERY_MS`]); marks the time when it says yes.
pub fn flush_due(now_ms: i64) -> bool {
    LAST_FLUSH.with(|last| {
        if now_ms - last.get() < FLUSH_EVERY_MS {
            return false;
        }
        last.set(now_ms);
        true
    })
}

/// Sends the records waiting in KV, oldest key first, and deletes each the
/// origin took or refused for good; stops at the first failure (the origin
/// is still away).
pub async fn flush_pending(env: Env, cfg: EdgeConfig) {
    let Ok(kv) = env.kv(super::purge::KV_BINDING) else { return };
    if !matches!(kv.get(WAITING_MARKER).text().await, Ok(Some(_))) {
        return;
    }
    let Ok(list) = kv.list().prefix(PENDING_PREFIX.to_owned()).limit(FLUSH_BATCH).execute().await
    else {
        return;
    };
    if list.keys.is_empty() {
        // All sent. (A record kept this very moment re-sets the marker
        // after its own write, so at worst it waits for the next one.)
        let _ = kv.delete(WAITING_MARKER).await;
        return;
    }
    for key in list.keys {
        let pending = match kv.get(&key.name).text().await {
            Ok(Some(text)) => serde_json::from_str::<Pending>(&text).ok(),
            // Gone meanwhile (another isolate sent it).
            Ok(None) => continue,
            Err(_) => return,
        };
        let sent = match &pending {
            Some(p) => send_once(&cfg, &p.body, &p.request_id).await,
            None => Sent::Refused,
        };
        if sent == Sent::Failed {
            return;
        }
        if let Err(e) = kv.delete(&key.name).await {
            platform::log(&format!("clausum-edge: deleting a sent record failed: {e}"));
        }
    }
}

async fn send_once(cfg: &EdgeConfig, body: &str, request_id: &str) -> Sent {
    match send_record(cfg, body, request_id).await {
        Ok(status) if (200..300).contains(&status) => Sent::Taken,
        Ok(status) if (400..500).contains(&status) && status != 429 => {
            platform::log(&format!("clausum-edge: the origin refused a record ({status})"));
            Sent::Refused
        }
        Ok(status) => {
            platform::log(&format!("clausum-edge: recording failed ({status})"));
            Sent::Failed
        }
        Err(e) => {
            platform::log(&format!("clausum-edge: recording failed: {e}"));
            Sent::Failed
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
