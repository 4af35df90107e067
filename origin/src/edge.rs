//! The origin's side of edge deployments (`edge-worker/`): what the worker
//! downloads, how its declines are recorded, and the purge call that makes
//! a blocklist change reach it in seconds.
//!
//! Everything here is off unless `CLAUSUM_EDGE_TOKEN` is set; the worker
//! holds the same token (its `EDGE_TOKEN` secret), and every call either
//! way carries it in `X-Clausum-Edge-Token`.
//!
//! - **Snapshots** (`GET /api/v1/edge/snapshot/{org}`): the organisation's
//!   active `block` entries, normalised as the engine normalises and hashed
//!   under a key derived from the token
//!   ([`clausum_core::blocklist::snapshot`]). Built from the database and
//!   kept until the organisation's in-memory index changes (its
//!   generation), so an unchanged snapshot costs a hash comparison and a 304.
//! - **Keys** (`GET /api/v1/edge/keys`): SHA-256 of every active key with
//!   its organisation and type.
//! - **Records** (`POST /api/v1/edge/record`): see [`crate::api::edge`].
//! - **Purges**: after a blocklist change on this node, the organisation is
//!   purged at `CLAUSUM_EDGE_PURGE_URL`; after an API key is created or
//!   revoked, the key manifest is (`{"keys": true}`), so the edge refuses an
//!   unknown key without asking the origin and still learns new keys at
//!   once. Changes in quick succession are sent as one call.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use bytes::Bytes;
use clausum_core::{
    blocklist::{
        FlowScope, ListType, Severity, entry_key,
        snapshot::{SnapshotBuilder, edge_digest_key},
    },
    wire::edge::{EDGE_TOKEN_HEADER, EdgeContext, EdgePurge, MIN_EDGE_TOKEN_LEN},
};
use sha2::{Digest, Sha256};

use crate::{
    state::{AppState, OrgRuntime},
    store::StoreResult,
    time::now_ms,
};

/// The ids an edge decline was answered with.
#[derive(Debug, Clone)]
pub struct Assigned {
    /// `txn_…`.
    pub transaction_id: String,
    /// `ps_…`.
    pub session_id: String,
}

tokio::task_local! {
    /// The ids an edge decline was answered with, while its record runs
    /// through the assess pipeline: the pipeline stores the transaction
    /// under them instead of issuing new ones, so the ids the integrator
    /// holds are the ones the origin has.
    pub static EDGE_ASSIGNED: Assigned;
}

/// The ids the edge assigned to the assessment being recorded.
pub fn assigned() -> Option<Assigned> {
    EDGE_ASSIGNED.try_with(Clone::clone).ok()
}

/// Changes closer together than this are purged in one call.
const PURGE_COALESCE: Duration = Duration::from_millis(100);

/// A built snapshot and what it was built from.
#[derive(Clone)]
pub struct Built {
    /// The organisation's live state it was built against.
    org: Weak<OrgRuntime>,
    /// That index's generation at the time.
    generation: u64,
    /// Strong ETag: a hash of the bytes.
    pub etag: String,
    /// The snapshot.
    pub bytes: Bytes,
}

/// Edge settings and caches of one origin process.
pub struct EdgeHub {
    token: Option<String>,
    built: Mutex<HashMap<String, Built>>,
    /// One build per organisation at a time.
    building: tokio::sync::Mutex<()>,
    purges: Option<tokio::sync::mpsc::UnboundedSender<EdgePurge>>,
}

impl std::fmt::Debug for EdgeHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeHub").field("enabled", &self.token.is_some()).finish_non_exhaustive()
    }
}

impl EdgeHub {
    /// Edge support for `token` (`None`: off), purging at `purge_url`.
    /// Must be called inside the runtime when a purge URL is given. A
    /// token shorter than [`MIN_EDGE_TOKEN_LEN`] is refused.
    pub fn new(token: Option<String>, purge_url: Option<String>) -> anyhow::Result<Self> {
        let token = token.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        if let Some(t) = &token
            && t.chars().count() < MIN_EDGE_TOKEN_LEN
        {
            anyhow::bail!(
                "CLAUSUM_EDGE_TOKEN must be at least {MIN_EDGE_TOKEN_LEN} characters (it is {}); generate one with `openssl rand -hex 32`",
                t.chars().count()
            );
        }
        let purges = match (&token, purge_url) {
            (Some(t), Some(url)) if !url.trim().is_empty() => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                tokio::spawn(purge_loop(rx, url.trim().to_owned(), t.clone()));
                Some(tx)
            }
            _ => None,
        };
        Ok(EdgeHub {
            token,
            built: Mutex::default(),
            building: tokio::sync::Mutex::new(()),
            purges,
        })
    }

    /// Edge support off.
    pub fn disabled() -> Self {
        EdgeHub {
            token: None,
            built: Mutex::default(),
            building: tokio::sync::Mutex::new(()),
            purges: None,
        }
    }

    /// Whether `presented` is the edge token (constant-time comparison).
    /// Always false when edge support is off.
    pub fn accepts(&self, presented: Option<&str>) -> bool {
        let (Some(token), Some(p)) = (&self.token, presented) else { return false };
        let (a, b) = (token.as_bytes(), p.trim().as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// Whether `req` carries the edge token.
    pub fn authorized(&self, req: &poem::Request) -> bool {
        self.accepts(req.header(EDGE_TOKEN_HEADER))
    }

    /// An organisation's blocklist changed on this node: purge it at the edge.
    pub fn blocklist_changed(&self, org: &str) {
        if let Some(tx) = &self.purges {
            let _ = tx.send(EdgePurge::organization(org));
        }
    }

    /// An API key was created or revoked on this node: purge the edge's key manifest.
    pub fn keys_changed(&self) {
        if let Some(tx) = &self.purges {
            let _ = tx.send(EdgePurge::keys());
        }
    }

    /// What the edge saw of a request it forwarded (`X-Clausum-Edge-*`),
    /// trusted only when the request carries the edge token; `None` for a
    /// request that did not come through the edge.
    pub fn context(&self, req: &poem::Request) -> Option<EdgeContext> {
        if !self.authorized(req) {
            return None;
        }
        let ctx = EdgeContext::from_headers(|name| req.header(name));
        (!ctx.is_empty()).then_some(ctx)
    }

    /// The current snapshot of `org`, built if the cached one is out of date.
    pub async fn snapshot(&self, state: &AppState, org: &str) -> StoreResult<Option<Built>> {
        let Some(token) = &self.token else { return Ok(None) };
        let Some(runtime) = state.org(org) else { return Ok(None) };
        if let Some(b) = self.current(&runtime) {
            return Ok(Some(b));
        }
        let _one_at_a_time = self.building.lock().await;
        if let Some(b) = self.current(&runtime) {
            return Ok(Some(b));
        }
        // Read the generation first: a change racing the read makes the
        // next request rebuild, never serves a change as absent.
        let generation = runtime.blocklist.read().expect("blocklist lock").generation();
        let rows = state.store.active_blocklist(org, now_ms()).await?;
        let bytes = tokio::task::spawn_blocking({
            let key = edge_digest_key(token.as_bytes(), org);
            move || {
                let mut b = SnapshotBuilder::new(key);
                b.reserve(rows.len());
                for row in
                    rows.iter().filter(|r| r.is_active && r.severity == Severity::Block.as_str())
                {
                    if let (Some(t), Some(scope)) =
                        (ListType::parse(&row.list_type), FlowScope::parse(&row.flow_scope))
                    {
                        b.push(t, &row.value, scope, row.expires_at, entry_key(&row.id));
                    }
                }
                b.finish()
            }
        })
        .await
        .expect("snapshot build does not panic");
        let built = Built {
            org: Arc::downgrade(&runtime),
            generation,
            etag: etag(&bytes),
            bytes: bytes.into(),
        };
        self.built.lock().expect("edge lock").insert(org.to_owned(), built.clone());
        Ok(Some(built))
    }

    fn current(&self, runtime: &Arc<OrgRuntime>) -> Option<Built> {
        let built = self.built.lock().expect("edge lock").get(&runtime.id).cloned()?;
        let generation = runtime.blocklist.read().expect("blocklist lock").generation();
        (built.org.upgrade().is_some_and(|o| Arc::ptr_eq(&o, runtime))
            && built.generation == generation)
            .then_some(built)
    }
}

/// A strong ETag for `bytes`: `"` + 32 hex digits of their SHA-256 + `"`.
pub fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16]))
}

/// Whether an `If-None-Match` header names `etag` (or is `*`).
pub fn not_modified(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|h| {
        h.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        })
    })
}

async fn purge_loop(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<EdgePurge>,
    url: String,
    token: String,
) {
    let client =
        reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("HTTP client");
    while let Some(first) = rx.recv().await {
        tokio::time::sleep(PURGE_COALESCE).await;
        let mut purges = HashSet::from([first]);
        while let Ok(more) = rx.try_recv() {
            purges.insert(more);
        }
        for purge in purges {
            for attempt in 0..3u64 {
                let sent =
                    client.post(&url).header(EDGE_TOKEN_HEADER, &token).json(&purge).send().await;
                match sent {
                    Ok(r) if r.status().is_success() => break,
                    Ok(r) => tracing::warn!(status = %r.status(), %purge, "edge purge refused"),
                    // Without the URL: a token in its query must not reach the log.
                    Err(e) => tracing::warn!(error = %e.without_url(), %purge, "edge purge failed"),
                }
                tokio::time::sleep(Duration::from_millis(250 * (attempt + 1))).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_and_etags() {
        let hub = EdgeHub::new(Some("t".repeat(32)), None).unwrap();
        assert!(EdgeHub::new(Some("t".repeat(31)), None).is_err());
        assert!(EdgeHub::new(Some("  ".into()), None).unwrap().token.is_none());
        assert!(hub.accepts(Some(&"t".repeat(32))));
        assert!(!hub.accepts(Some("t")));
        assert!(!hub.accepts(None));
        assert!(!EdgeHub::disabled().accepts(Some("")));
        let e = etag(b"abc");
        assert!(not_modified(Some(&e), &e));
        assert!(not_modified(Some(&format!("W/{e}, \"x\"")), &e));
        assert!(!not_modified(Some("\"x\""), &e));
        assert!(!not_modified(None, &e));
    }
}
