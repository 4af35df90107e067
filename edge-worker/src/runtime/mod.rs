//! The Workers entry point and routing (wasm32 only).
//!
//! | route | what happens |
//! |---|---|
//! | `POST /api/v1/assess`, `POST /api/v1/assess/payout` | key checked, request pre-screened, declined here or forwarded with a deadline |
//! | `POST /api/v1/sessions` | key checked, forwarded with the edge's connection data |
//! | `POST /__clausum/purge` | the origin's purge call (edge token) |
//! | `GET /__clausum/status` | what this isolate holds (edge token) |
//! | `/__clausum/bench/*` | benchmark probes, only with `BENCH_ROUTES=on` |
//! | anything else | passed through to the origin untouched (CORS preflights included) |
//!
//! The answers the edge gives itself on the browser paths
//! ([`cors::BROWSER_PATHS`]: declines, 401s, 503/504) carry the origin's
//! CORS headers, so a checkout page can read them.

mod admin;
mod assess;
mod cache;
mod fetch;
mod origin;
mod platform;
mod purge;

use std::{future::Future, time::Duration};

use clausum_core::wire::{ErrorCode, Flow, cors, edge::EDGE_TOKEN_HEADER, request_id};
use futures_util::future::{Either, select};
use worker::{Context, Delay, Env, Method, Request, Response, event};

use crate::config::EdgeConfig;

/// Every request the worker receives.
#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let started = platform::now_ms();
    // One id for the caller, the edge's logs and the origin's (forwarded),
    // and the webhooks the request causes: the caller's if sane, else ours.
    let id = req
        .headers()
        .get(request_id::HEADER)
        .ok()
        .flatten()
        .filter(|v| request_id::is_acceptable(v))
        .unwrap_or_else(|| crate::ids::request_id(started, platform::random()));
    let path = req.path();
    let mut resp = match platform::config(&env) {
        Ok(cfg) => {
            // Records an earlier origin outage left waiting, sent in the
            // background of whichever request comes along.
            if origin::flush_due(started) {
                ctx.wait_until(origin::flush_pending(env.clone(), cfg.clone()));
            }
            route(req, &env, &ctx, &cfg, started, &id).await?
        }
        Err(e) => {
            platform::log(&format!("clausum-edge: misconfigured: {e}"));
            platform::error(ErrorCode::AssessMaintenance, "The edge is not configured.")?
        }
    };
    // The edge's own answers carry the id and, on the browser paths, the
    // origin's CORS headers; the origin's answers already do (it got the
    // id and echoes it), and their headers are immutable anyway.
    let headers = resp.headers_mut();
    if headers.get(request_id::HEADER).ok().flatten().is_none() {
        let _ = headers.set(request_id::HEADER, &id);
    }
    if cors::is_browser_path(&path)
        && headers.get(cors::ALLOW_ORIGIN_HEADER).ok().flatten().is_none()
    {
        for (name, value) in cors::ANSWER_HEADERS {
            let _ = headers.set(name, value);
        }
    }
    Ok(resp)
}

async fn route(
    req: Request,
    env: &Env,
    ctx: &Context,
    cfg: &EdgeConfig,
    started: i64,
    id: &str,
) -> worker::Result<Response> {
    match (req.method(), req.path().as_str()) {
        (Method::Post, "/api/v1/assess") => {
            assess::assess(req, env, ctx, cfg, Flow::Payin, started, id).await
        }
        (Method::Post, "/api/v1/assess/payout") => {
            assess::assess(req, env, ctx, cfg, Flow::Payout, started, id).await
        }
        (Method::Post, "/api/v1/sessions") => {
            assess::sessions(req, env, ctx, cfg, started, id).await
        }
        (Method::Post, "/__clausum/purge") => purge::handle(req, env, cfg).await,
        (Method::Get, "/__clausum/status") => admin::status(&req, cfg),
        (_, p) if p.starts_with("/__clausum/bench/") && cfg.bench_routes => {
            admin::bench(req, env, ctx, cfg).await
        }
        // Preflights (`OPTIONS`) included: the origin answers them.
        _ => pass_through(req, cfg, id).await,
    }
}

/// Any other route, untouched (stream in, stream out).
async fn pass_through(
    req: Request,
    cfg: &EdgeConfig,
    request_id: &str,
) -> worker::Result<Response> {
    let url = req.url()?;
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let method = req.method();
    let body = match method {
        Method::Get | Method::Head => None,
        _ => req.inner().body().map(Into::into),
    };
    let out = origin::Outgoing {
        method,
        path_and_query,
        headers: req.headers(),
        request_id,
        body,
        context: None,
    };
    // Not an assess call: a generous bound, only so that nothing hangs.
    origin::forward(cfg, out, 30_000).await
}

/// Resolves `fut`, or `None` once `ms` have passed.
pub async fn with_deadline<T>(fut: impl Future<Output = T>, ms: i64) -> Option<T> {
    let delay = Delay::from(Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0)));
    match select(Box::pin(fut), Box::pin(delay)).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(_) => None,
    }
}

/// Whether `req` carries the edge token (compared in constant time).
fn authorized(req: &Request, cfg: &EdgeConfig) -> bool {
    let presented = req.headers().get(EDGE_TOKEN_HEADER).ok().flatten().unwrap_or_default();
    let (a, b) = (presented.as_bytes(), cfg.edge_token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
