//! The key manifest and the organisations' snapshots, cached three ways:
//! in this isolate's memory (probed in place), in the data centre's Cache
//! API (so a new isolate starts warm: a 29 MB snapshot is too big for KV's
//! 25 MiB values), and at the origin, revalidated by ETag (304 when
//! unchanged). A purge from the origin drops a copy here, in the Cache API,
//! and — through a marker in KV that every isolate polls — everywhere else.
//!
//! One download per resource at a time: the request that starts a refresh
//! runs it in its own background (`wait_until`), and every request —
//! that one included — waits for the result by watching this isolate's
//! copy, each for at most its own deadline. Nobody awaits another
//! request's download: Workers forbid touching one request's I/O (the
//! response stream) from another request's handler.

use std::{cell::RefCell, collections::HashMap, rc::Rc, time::Duration};

use clausum_core::blocklist::snapshot::{Snapshot, edge_digest_key};
use worker::{Context, Delay, Env};

use super::{fetch, platform};
use crate::{
    config::EdgeConfig,
    freshness::Freshness,
    keys::KeyTable,
    resources::{Resource, Scope},
};

/// A parsed copy.
#[derive(Clone)]
pub enum Value {
    /// The key manifest.
    Keys(Rc<KeyTable>),
    /// A snapshot.
    Snapshot(Rc<Snapshot>),
}

struct Entry {
    value: Value,
    etag: String,
    validated_at: i64,
    purged: bool,
}

/// A refresh older than this is presumed lost (its request was torn
/// down): the next request starts another.
const REFRESH_LOST_MS: i64 = 30_000;
/// How often a waiting request looks at the copy.
const WATCH_EVERY_MS: u64 = 5;

#[derive(Default)]
struct Isolate {
    entries: HashMap<Resource, Entry>,
    /// Refreshes under way, by when they started.
    inflight: HashMap<Resource, i64>,
    purge_checked_at: i64,
    purge_seen: i64,
}

thread_local! {
    static ISOLATE: RefCell<Isolate> = RefCell::default();
}

/// The copy of `res` the edge may decide on now, refreshing as needed:
/// fresh → used; due → used, refreshed in the background; stale or
/// missing → refreshed within `deadline_ms`, else `None` (forward).
pub async fn obtain(
    env: &Env,
    cfg: &EdgeConfig,
    ctx: &Context,
    res: Resource,
    deadline_ms: i64,
) -> Option<Value> {
    super::purge::poll(env, cfg).await;
    let now = platform::now_ms();
    match current(&res, cfg, now) {
        (Freshness::Fresh, v) => v,
        (Freshness::Due, v) => {
            start_refresh(ctx, cfg, &res);
            v
        }
        (Freshness::Stale, _) => {
            start_refresh(ctx, cfg, &res);
            watch(&res, now, deadline_ms).await;
            let (fresh, v) = current(&res, cfg, platform::now_ms());
            v.filter(|_| fresh.usable())
        }
    }
}

fn current(res: &Resource, cfg: &EdgeConfig, now: i64) -> (Freshness, Option<Value>) {
    ISOLATE.with_borrow(|s| match s.entries.get(res) {
        Some(e) => (Freshness::of(Some(e.validated_at), now, e.purged, cfg), Some(e.value.clone())),
        None => (Freshness::Stale, None),
    })
}

/// Starts a refresh of `res` in this request's background, unless one is
/// under way already.
fn start_refresh(ctx: &Context, cfg: &EdgeConfig, res: &Resource) {
    let now = platform::now_ms();
    let started = ISOLATE.with_borrow_mut(|s| {
        if s.inflight.get(res).is_some_and(|&t| now - t < REFRESH_LOST_MS) {
            return false;
        }
        s.inflight.insert(res.clone(), now);
        true
    });
    if !started {
        return;
    }
    let (cfg, key) = (cfg.clone(), res.clone());
    ctx.wait_until(async move {
        refresh_now(&cfg, &key).await;
        ISOLATE.with_borrow_mut(|s| s.inflight.remove(&key));
    });
}

/// Waits, in the caller's own context, until `res` has been validated at
/// or after `since`, no refresh of it is under way, or `deadline_ms` passed.
async fn watch(res: &Resource, since: i64, deadline_ms: i64) {
    let until = platform::now_ms() + deadline_ms.max(0);
    loop {
        let (validated, busy) = ISOLATE.with_borrow(|s| {
            (
                s.entries.get(res).is_some_and(|e| e.validated_at >= since && !e.purged),
                s.inflight.contains_key(res),
            )
        });
        if validated || !busy || platform::now_ms() >= until {
            return;
        }
        Delay::from(Duration::from_millis(WATCH_EVERY_MS)).await;
    }
}

/// Loads `res` now, in the caller's context; whether a usable copy is held
/// afterwards.
pub async fn refresh_now(cfg: &EdgeConfig, res: &Resource) -> bool {
    load(cfg, res).await.unwrap_or_else(|e| {
        platform::log(&format!("clausum-edge: refreshing {res:?} failed: {e}"));
        false
    })
}

async fn load(cfg: &EdgeConfig, res: &Resource) -> Result<bool, String> {
    let known = ISOLATE.with_borrow(|s| s.entries.get(res).map(|e| e.etag.clone()));
    if known.is_none()
        && let Some((etag, validated_at, bytes)) = fetch::from_cache(res).await
    {
        store(cfg, res, etag, validated_at, bytes)?;
        if current(res, cfg, platform::now_ms()).0 == Freshness::Fresh {
            return Ok(true);
        }
    }
    let known = ISOLATE.with_borrow(|s| s.entries.get(res).map(|e| e.etag.clone()));
    match fetch::from_origin(cfg, &res.path(), known.as_deref()).await? {
        fetch::Fetched::NotModified => {
            ISOLATE.with_borrow_mut(|s| {
                if let Some(e) = s.entries.get_mut(res) {
                    e.validated_at = platform::now_ms();
                    e.purged = false;
                }
            });
        }
        fetch::Fetched::Body { etag, bytes } => {
            let now = platform::now_ms();
            fetch::to_cache(res, &etag, now, &bytes).await;
            store(cfg, res, etag, now, bytes)?;
        }
    }
    Ok(current(res, cfg, platform::now_ms()).0.usable())
}

fn store(
    cfg: &EdgeConfig,
    res: &Resource,
    etag: String,
    validated_at: i64,
    bytes: Vec<u8>,
) -> Result<(), String> {
    let value = match res {
        Resource::Keys => Value::Keys(Rc::new(KeyTable::new(
            serde_json::from_slice(&bytes).map_err(|e| format!("key manifest: {e}"))?,
        ))),
        Resource::Org(org) => {
            let key = edge_digest_key(cfg.edge_token.as_bytes(), org);
            Value::Snapshot(Rc::new(Snapshot::parse(bytes, key).map_err(|e| e.to_string())?))
        }
    };
    let entry = Entry { value, etag, validated_at, purged: false };
    ISOLATE.with_borrow_mut(|s| s.entries.insert(res.clone(), entry));
    Ok(())
}

/// Marks the copies `scope` covers purged that were validated before
/// `before` (any time when `None`); returns those held.
pub fn mark_purged(scope: &Scope, before: Option<i64>) -> Vec<Resource> {
    ISOLATE.with_borrow_mut(|s| {
        let mut hit = Vec::new();
        for (res, e) in s.entries.iter_mut() {
            if scope.covers(res) && before.is_none_or(|t| e.validated_at < t) {
                e.purged = true;
                hit.push(res.clone());
            }
        }
        hit
    })
}

/// When this isolate last read the purge marker, and the newest purge applied.
pub fn purge_clock() -> (i64, i64) {
    ISOLATE.with_borrow(|s| (s.purge_checked_at, s.purge_seen))
}

/// Records a read of the purge marker.
pub fn set_purge_clock(checked_at: i64, seen: i64) {
    ISOLATE.with_borrow_mut(|s| {
        s.purge_checked_at = checked_at;
        s.purge_seen = s.purge_seen.max(seen);
    });
}

/// What is cached here: `(resource, etag, validated at, purged, entries, bytes)`.
pub fn describe() -> Vec<(Resource, String, i64, bool, usize, usize)> {
    ISOLATE.with_borrow(|s| {
        s.entries
            .iter()
            .map(|(r, e)| {
                let (n, b) = match &e.value {
                    Value::Keys(k) => (k.len(), 0),
                    Value::Snapshot(s) => (s.len(), s.byte_len()),
                };
                (r.clone(), e.etag.clone(), e.validated_at, e.purged, n, b)
            })
            .collect()
    })
}
