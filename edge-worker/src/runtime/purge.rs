//! `POST /__clausum/purge`: the origin says an organisation's blocklist (or
//! everything) changed. This isolate drops its copy and reloads it before
//! answering, the data centre's Cache API copy is deleted, and a marker in
//! KV tells every other isolate, which polls it every `PURGE_POLL_MS`.

use serde::{Deserialize, Serialize};
use worker::{Env, Request, Response};

use super::{cache, fetch, platform};
use crate::config::EdgeConfig;

/// The KV namespace binding (see `wrangler.toml`).
pub const KV_BINDING: &str = "EDGE_STATE";
const MARKER_KEY: &str = "purges";
/// Purges remembered in the marker; older ones have aged out of every copy.
const MARKER_LEN: usize = 64;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Marker {
    purges: Vec<Purge>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Purge {
    at: i64,
    organization_id: Option<String>,
}

#[derive(Deserialize)]
struct PurgeRequest {
    #[serde(default)]
    organization_id: Option<String>,
}

/// Applies purges other isolates recorded, at most every `PURGE_POLL_MS`.
pub async fn poll(env: &Env, cfg: &EdgeConfig) {
    let now = platform::now_ms();
    let (checked, seen) = cache::purge_clock();
    if now - checked < cfg.purge_poll_ms {
        return;
    }
    cache::set_purge_clock(now, seen);
    let marker = read(env).await;
    let newest = marker.purges.iter().map(|p| p.at).max().unwrap_or(0);
    for p in marker.purges.iter().filter(|p| p.at > seen) {
        cache::mark_purged(p.organization_id.as_deref(), Some(p.at));
    }
    cache::set_purge_clock(now, newest);
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
    let body: PurgeRequest = req.json().await.unwrap_or(PurgeRequest { organization_id: None });
    let org = body.organization_id.filter(|o| !o.is_empty());
    let now = platform::now_ms();
    let held = cache::mark_purged(org.as_deref(), None);
    let mut dropped = held.clone();
    if let Some(o) = &org {
        dropped.push(cache::Resource::Org(o.clone()));
    }
    for res in &dropped {
        fetch::drop_cached(res).await;
    }
    let mut marker = read(env).await;
    marker.purges.push(Purge { at: now, organization_id: org.clone() });
    let skip = marker.purges.len().saturating_sub(MARKER_LEN);
    marker.purges.drain(..skip);
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
    platform::json(
        200,
        &serde_json::json!({ "purged": org.unwrap_or_else(|| "*".into()), "refreshed": refreshed }),
    )
}
