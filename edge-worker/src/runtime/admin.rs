//! Operator and benchmark routes, all behind the edge token.
//!
//! The benchmark routes exist because the Workers clock stands still while
//! code runs: costs inside the worker are measured from outside, as the
//! difference between a route that does the work and one that does not.

use clausum_core::{
    blocklist::{
        BlocklistLookup, ListType,
        snapshot::{Snapshot, edge_digest_key},
    },
    wire::{ErrorCode, Flow},
};
use worker::{Context, Env, Request, Response};

use super::{
    cache::{self, Resource, Value},
    platform,
};
use crate::config::EdgeConfig;

/// `GET /__clausum/status`: what this isolate holds.
pub fn status(req: &Request, cfg: &EdgeConfig) -> worker::Result<Response> {
    if !super::authorized(req, cfg) {
        return platform::error(ErrorCode::Unauthorized, "Edge token required.");
    }
    let now = platform::now_ms();
    let held: Vec<_> = cache::describe()
        .into_iter()
        .map(|(res, etag, validated_at, purged, entries, bytes)| {
            serde_json::json!({
                "resource": match res { Resource::Keys => "keys".to_owned(), Resource::Org(o) => o },
                "etag": etag,
                "age_ms": now - validated_at,
                "purged": purged,
                "entries": entries,
                "bytes": bytes,
            })
        })
        .collect();
    platform::json(200, &serde_json::json!({ "held": held }))
}

/// `/__clausum/bench/*` (only with `BENCH_ROUTES=on`):
/// - `POST parse?org=…` parses the body as that organisation's snapshot;
/// - `POST sink` reads the body and does nothing (the baseline of `parse`);
/// - `GET lookups?org=…&n=…` probes the cached snapshot `n` times with
///   emails that miss (the worst case: a full search every time).
pub async fn bench(
    mut req: Request,
    env: &Env,
    ctx: &Context,
    cfg: &EdgeConfig,
) -> worker::Result<Response> {
    if !super::authorized(&req, cfg) {
        return platform::error(ErrorCode::Unauthorized, "Edge token required.");
    }
    let url = req.url()?;
    let param =
        |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let org = param("org").unwrap_or_default();
    match url.path().trim_start_matches("/__clausum/bench/") {
        "sink" => {
            let body = req.bytes().await?;
            platform::json(200, &serde_json::json!({ "bytes": body.len() }))
        }
        "parse" => {
            let body = req.bytes().await?;
            let bytes = body.len();
            match Snapshot::parse(body, edge_digest_key(cfg.edge_token.as_bytes(), &org)) {
                Ok(s) => {
                    platform::json(200, &serde_json::json!({ "bytes": bytes, "entries": s.len() }))
                }
                Err(e) => platform::error(ErrorCode::ValidationError, &e.to_string()),
            }
        }
        "lookups" => {
            let n: usize = param("n").and_then(|n| n.parse().ok()).unwrap_or(0);
            let Some(Value::Snapshot(s)) =
                cache::obtain(env, cfg, ctx, Resource::Org(org), 30_000).await
            else {
                return platform::error(
                    ErrorCode::NotFound,
                    "No usable snapshot for that organisation.",
                );
            };
            let now = platform::now_ms();
            let hits = (0..n)
                .filter(|i| {
                    let email = format!("bench-miss-{i}@example.com");
                    s.lookup(ListType::Email, &email, Flow::Payin, now).is_some()
                })
                .count();
            platform::json(
                200,
                &serde_json::json!({ "n": n, "hits": hits, "entries": s.len(), "bytes": s.byte_len() }),
            )
        }
        _ => platform::error(ErrorCode::NotFound, "No such route."),
    }
}
