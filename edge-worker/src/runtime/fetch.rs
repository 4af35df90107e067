//! Reading the origin's edge endpoints, and the Cache API copies of what
//! they answered.

use clausum_core::wire::edge::EDGE_TOKEN_HEADER;
use worker::{Cache, Fetch, Headers, Method, Request, RequestInit, Response};

use super::platform;
use crate::{config::EdgeConfig, resources::Resource};

/// A download never holds its refresh slot longer than this, even when the
/// origin accepts the connection and then says nothing.
const DOWNLOAD_LIMIT_MS: i64 = 30_000;
const VALIDATED_AT: &str = "x-clausum-validated-at";

/// What the origin answered.
pub enum Fetched {
    /// 304: the copy we hold is current.
    NotModified,
    /// 200: a new version.
    Body {
        /// Its ETag.
        etag: String,
        /// The body.
        bytes: Vec<u8>,
    },
}

/// Conditional `GET` of an edge endpoint, authenticated with the token.
pub async fn from_origin(
    cfg: &EdgeConfig,
    path: &str,
    etag: Option<&str>,
) -> Result<Fetched, String> {
    let headers = Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
    set(EDGE_TOKEN_HEADER, &cfg.edge_token)?;
    if let Some(etag) = etag {
        set("if-none-match", etag)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let url = format!("{}{path}", cfg.origin_url);
    let req = Request::new_with_init(&url, &init).map_err(|e| e.to_string())?;
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let sent = async {
        let mut resp =
            Fetch::Request(req).send_with_signal(&signal).await.map_err(|e| e.to_string())?;
        match resp.status_code() {
            304 => Ok(Fetched::NotModified),
            200 => {
                let etag = resp.headers().get("etag").ok().flatten().unwrap_or_default();
                let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
                Ok(Fetched::Body { etag, bytes })
            }
            s => Err(format!("origin answered {s} for {path}")),
        }
    };
    match super::with_deadline(sent, DOWNLOAD_LIMIT_MS).await {
        Some(r) => r,
        None => {
            controller.abort();
            Err(format!("origin did not answer {path} within {DOWNLOAD_LIMIT_MS} ms"))
        }
    }
}

/// The data centre's copy: `(etag, validated at, bytes)`.
pub async fn from_cache(res: &Resource) -> Option<(String, i64, Vec<u8>)> {
    let mut resp = Cache::default().get(crate::resources::cache_url(res), true).await.ok()??;
    let etag = resp.headers().get("etag").ok()??;
    let at = resp.headers().get(VALIDATED_AT).ok()??.parse().ok()?;
    Some((etag, at, resp.bytes().await.ok()?))
}

/// Stores a copy for the other isolates of this data centre.
pub async fn to_cache(res: &Resource, etag: &str, validated_at: i64, bytes: &[u8]) {
    let headers = Headers::new();
    let _ = headers.set("etag", etag);
    let _ = headers.set(VALIDATED_AT, &validated_at.to_string());
    // Kept a day at most; whether it may be used is decided by its age.
    let _ = headers.set("cache-control", "public, max-age=86400");
    let _ = headers.set("content-type", "application/octet-stream");
    let Ok(resp) = Response::from_bytes(bytes.to_vec()) else { return };
    if let Err(e) =
        Cache::default().put(crate::resources::cache_url(res), resp.with_headers(headers)).await
    {
        platform::log(&format!("clausum-edge: caching {res:?} failed: {e}"));
    }
}

/// Drops the data centre's copy.
pub async fn drop_cached(res: &Resource) {
    let _ = Cache::default().delete(crate::resources::cache_url(res), true).await;
}
