//! What browsers reach directly: the SDK's files under `/sdk/`, and CORS for
//! the two endpoints a checkout page calls (`POST /api/v1/sessions` and the
//! publishable-key pre-check `POST /api/v1/assess`).
//!
//! The CORS policy (any origin, which methods and headers, what a page may
//! read) is [`clausum_core::wire::cors`]'s: the edge worker applies the same
//! constants to the answers it gives itself on those paths.

use std::path::PathBuf;

use clausum_core::wire::{ErrorBody, ErrorCode, cors};
use poem::{
    Endpoint, IntoResponse, Request, Response, Result, handler,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    web::Path,
};
use sha2::{Digest, Sha256};

/// Files served under `/sdk/`, with their content types.
const SDK_FILES: [(&str, &str); 3] = [
    ("clausum.js", "text/javascript; charset=utf-8"),
    ("clausum.mjs", "text/javascript; charset=utf-8"),
    ("clausum.wasm", "application/wasm"),
];

/// The unversioned script URL must pick up new releases within minutes,
/// and may serve a stale copy while it revalidates (by `ETag`).
const CACHE_CONTROL: &str = "public, max-age=300, stale-while-revalidate=86400";

/// Where the built SDK is: `CLAUSUM_SDK_DIR`, else the npm package's
/// `dist/` next to this crate (what `scripts/build-sdk.sh` writes).
pub fn sdk_dir() -> PathBuf {
    std::env::var_os("CLAUSUM_SDK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../npm/dist")))
}

/// `GET /sdk/{file}`: the browser SDK's script (`clausum.js` for a script
/// tag, `clausum.mjs` as an ES module) and its WebAssembly.
#[handler]
pub async fn sdk_file(req: &Request, Path(file): Path<String>) -> Response {
    let Some(&(name, content_type)) = SDK_FILES.iter().find(|(n, _)| *n == file) else {
        return not_found(&format!("No SDK file {file:?}; the SDK is /sdk/clausum.js."));
    };
    let path = sdk_dir().join(name);
    let Ok(bytes) = tokio::fs::read(&path).await else {
        tracing::warn!(path = %path.display(), "SDK file missing: run scripts/build-sdk.sh or set CLAUSUM_SDK_DIR");
        return not_found("The browser SDK is not built on this server (scripts/build-sdk.sh).");
    };
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..12]));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let builder = Response::builder()
        .header(header::CACHE_CONTROL, CACHE_CONTROL)
        .header(header::ETAG, etag)
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header("Cross-Origin-Resource-Policy", "cross-origin")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if fresh {
        builder.status(StatusCode::NOT_MODIFIED).finish()
    } else {
        builder.content_type(content_type).body(bytes)
    }
}

fn not_found(message: &str) -> Response {
    let body =
        serde_json::to_vec(&ErrorBody::new(ErrorCode::NotFound, message)).expect("serialises");
    Response::builder().status(StatusCode::NOT_FOUND).content_type("application/json").body(body)
}

/// Middleware: answers CORS preflights for [`cors::BROWSER_PATHS`] and adds
/// [`cors::ANSWER_HEADERS`] to their answers (errors included, so the SDK
/// can read why a call failed).
pub async fn cors<E: Endpoint>(ep: E, req: Request) -> Result<Response> {
    if !cors::is_browser_path(req.uri().path()) {
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    if req.method() == Method::OPTIONS {
        let preflight = cors::PREFLIGHT_HEADERS
            .iter()
            .fold(Response::builder().status(StatusCode::NO_CONTENT), |b, &(name, value)| {
                b.header(name, value)
            });
        return Ok(preflight.finish());
    }
    let mut res = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let h = res.headers_mut();
    for &(name, value) in &cors::ANSWER_HEADERS {
        h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    Ok(res)
}
