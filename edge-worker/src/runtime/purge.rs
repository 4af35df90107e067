//! `POST /__clausum/purge`: the origin says the key manifest changed
//! (`{"keys": true}`: an API key was created or revoked), an
//! organisation's blocklist changed (`{"organization_id": …}`), or — when
//! it names neither — everything did ([`Scope`]). This isolate drops the
//! copies named and reloads those it held before answering, the data
//! centre's Cache API copies are deleted, and a marker in KV tells every
//! other isolate, which polls it every `PURGE_POLL_MS`.

use worker::{Env, Request, Response};

use super::{cache, fetch, platform};
use crate::{
    config::EdgeConfig,
    resources::{Marker, Scope},
};

/// The KV namespace binding (see `wrangler.toml`).
pub const KV_BINDING: &str = "EDGE_STATE";
const MARKER_KEY: &str = "purges";

/// Applies purges other isolates recorded, at most every `PURGE_POLL_MS`.
pub async fn poll(env: &Env, cfg: &EdgeConfig) {
    let now = platform::now_ms();
    let (checked, seen) = cache::purge_clock();
    if now - checked < cfg.purge_poll_ms {
        return;
    }
    cache::set_purge_clock(now, seen);
    let marker = read(env).await;
    for p in marker.after(seen) {
        cache::mark_purged(&p.scope, Some(p.at));
    }
    cache::set_purge_clock(now, marker.newest());
}

async fn read(env: &Env) -> Marker {
    let Ok(kv) = env.kv(KV_BINDING) else { return Marker::default() };
    match kv.get(MARKER_KEY).text().await {
        Ok(Some(text)) => serde_json::from_str(&text).unwrap_or_default(),
        _ => Marker::default(),
    }
}

/// Handles the origin's purge call.
pub async fn handle(mut req: Request, env: &Env, cfg: &EdgeConfig) -> worker::Result<Response> {
    if !super::authorized(&req, cfg) {
        return platform::error(
            clausum_core::wire::ErrorCode::Unauthorized,
            "Edge token required.",
        );
    }
    let scope = Scope::from_request(&req.bytes().await.unwrap_or_default());
    let now = platform::now_ms();
    let held = cache::mark_purged(&scope, None);
    let mut dropped = held.clone();
    dropped.extend(scope.named().into_iter().filter(|res| !held.contains(res)));
    for res in &dropped {
        fetch::drop_cached(res).await;
    }
    let mut marker = read(env).await;
    marker.push(now, scope.clone());
    if let Ok(kv) = env.kv(KV_BINDING)
        && let Ok(put) = kv.put(MARKER_KEY, serde_json::to_string(&marker).unwrap_or_default())
        && let Err(e) = put.execute().await
    {
        platform::log(&format!("clausum-edge: writing the purge marker failed: {e}"));
    }
    // This isolate has seen its own purge; reload what it held.
    let (_, seen) = cache::purge_clock();
    cache::set_purge_clock(now, seen.max(now));
    let mut refreshed = Vec::new();
    for res in held {
        if cache::refresh_now(cfg, &res).await {
            refreshed.push(format!("{res:?}"));
        }
    }
    platform::json(200, &serde_json::json!({ "purged": scope.to_string(), "refreshed": refreshed }))
}
