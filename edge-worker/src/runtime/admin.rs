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
    cache::{self, Value},
    platform,
};
use crate::{config::EdgeConfig, resources::Resource};

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
/// - `POST parse?org=…&n=…` parses the body as that organisation's
///   snapshot, `n` times (default 1), each time from a fresh copy;
/// - `POST sink?n=…` reads the body and copies it `n` times (the baseline
///   of `parse`: the difference is the parsing alone);
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
            let copies = (0..times(&param)).map(|_| body.clone().len()).sum::<usize>();
            platform::json(200, &serde_json::json!({ "bytes": body.len(), "copied": copies }))
        }
        "parse" => {
            let body = req.bytes().await?;
            let key = edge_digest_key(cfg.edge_token.as_bytes(), &org);
            let mut entries = 0;
            for _ in 0..times(&param) {
                match Snapshot::parse(body.clone(), key.clone()) {
                    Ok(s) => entries = s.len(),
                    Err(e) => return platform::error(ErrorCode::ValidationError, &e.to_string()),
                }
            }
            platform::json(200, &serde_json::json!({ "bytes": body.len(), "entries": entries }))
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

/// The `n` query parameter of a bench route: 1 to 100, default 1.
fn times(param: &impl Fn(&str) -> Option<String>) -> usize {
    param("n").and_then(|n| n.parse().ok()).unwrap_or(1).clamp(1, 100)
}
