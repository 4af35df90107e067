//! The operator dashboard's files, served under `/dashboard`.
//!
//! The dashboard is a small client-side application (plain ES modules, no
//! build step) talking to the management API with the token of
//! `POST /api/v1/auth/login`. Its files live in `origin/dashboard/` and are
//! compiled into the binary by `build.rs`, so one binary serves everything.
//! `CLAUSUM_DASHBOARD_DIR` serves them from a folder instead (editing the
//! front end without rebuilding).
//!
//! Every path under `/dashboard` that is not a file under `assets/` answers
//! `index.html`: the application routes in the browser (`/dashboard/cases/…`
//! can be bookmarked and reloaded).

use std::path::PathBuf;

use clausum_core::wire::{ErrorBody, ErrorCode};
use poem::{
    Endpoint, IntoResponse, Request, Response, handler,
    http::{Method, StatusCode, header},
};

include!(concat!(env!("OUT_DIR"), "/dashboard_files.rs"));

/// Scripts, styles, images and API calls only from this origin; the
/// dashboard is never framed (click-jacking).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Middleware: `GET /` redirects to the dashboard, what a person opening
/// the server's address wants. (The API service owns `/`'s routing table.)
pub async fn home<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    if req.uri().path() == "/" && req.method() == Method::GET {
        return Ok(Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/dashboard")
            .finish());
    }
    ep.call(req).await.map(IntoResponse::into_response)
}

/// `GET /dashboard` and everything under it.
#[handler]
pub async fn page(req: &Request) -> Response {
    let rest = req.uri().path().trim_start_matches("/dashboard").trim_start_matches('/');
    let file = if rest.starts_with("assets/") { rest } else { "index.html" };
    match read(file).await {
        Some(bytes) => answer(req, file, bytes),
        None => {
            let body = ErrorBody::new(ErrorCode::NotFound, format!("No dashboard file {rest:?}."));
            Response::builder()
                .status(StatusCode::NOT_FOUND)
                .content_type("application/json")
                .body(serde_json::to_vec(&body).expect("serialises"))
        }
    }
}

/// The file's bytes: from `CLAUSUM_DASHBOARD_DIR` when set, else embedded.
/// Paths with `..` or a backslash never reach the disk.
async fn read(file: &str) -> Option<Vec<u8>> {
    if file.split('/').any(|part| part.is_empty() || part == ".." || part.contains('\\')) {
        return None;
    }
    match std::env::var_os("CLAUSUM_DASHBOARD_DIR") {
        Some(dir) => tokio::fs::read(PathBuf::from(dir).join(file)).await.ok(),
        None => DASHBOARD_FILES.iter().find(|(name, _)| *name == file).map(|(_, b)| b.to_vec()),
    }
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The file with its security headers, revalidated by `ETag` (a new binary
/// or a changed folder is picked up on the next load).
fn answer(req: &Request, file: &str, bytes: Vec<u8>) -> Response {
    let etag = crate::edge::etag(&bytes);
    let fresh = crate::edge::not_modified(req.header(header::IF_NONE_MATCH), &etag);
    let builder = Response::builder()
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::ETAG, etag)
        .header(header::CONTENT_SECURITY_POLICY, CSP)
        .header(header::X_FRAME_OPTIONS, "DENY")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::REFERRER_POLICY, "no-referrer");
    if fresh {
        builder.status(StatusCode::NOT_MODIFIED).finish()
    } else {
        builder.content_type(content_type(file)).body(bytes)
    }
}
