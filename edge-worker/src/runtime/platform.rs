//! Small bridges to the Workers platform: clock, randomness, settings,
//! what Cloudflare knows about the connection, and JSON answers.

use clausum_core::wire::{ErrorBody, ErrorCode, edge::EdgeContext};
use wasm_bindgen::JsCast;
use worker::{Env, Request, Response};

use crate::config::EdgeConfig;

/// Unix milliseconds. (On Workers the clock advances between I/O, not
/// during computation; that is precise enough for ages and latencies.)
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// `N` bytes from the platform's CSPRNG (`crypto.getRandomValues`).
pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    if let Ok(crypto) = scope.crypto() {
        // Only fails for more than 65,536 bytes.
        let _ = crypto.get_random_values_with_u8_array(&mut out);
    }
    out
}

/// The settings, from `wrangler.toml` variables and secrets.
pub fn config(env: &Env) -> Result<EdgeConfig, String> {
    EdgeConfig::from_lookup(|name| {
        env.secret(name)
            .map(|s| s.to_string())
            .or_else(|_| env.var(name).map(|v| v.to_string()))
            .ok()
    })
}

/// What Cloudflare knows about the connection that the origin cannot.
pub fn edge_context(req: &Request) -> EdgeContext {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let Some(cf) = req.cf() else {
        return EdgeContext { client_ip: header("cf-connecting-ip"), ..Default::default() };
    };
    let nonempty = |s: String| (!s.is_empty()).then_some(s);
    EdgeContext {
        country: cf.country(),
        asn: cf.asn(),
        as_organization: cf.as_organization(),
        colo: nonempty(cf.colo()),
        tls_version: nonempty(cf.tls_version()),
        tls_cipher: nonempty(cf.tls_cipher()),
        bot_score: cf.bot_management().and_then(|b| u8::try_from(b.score()).ok()),
        client_ip: header("cf-connecting-ip"),
    }
}

/// A JSON answer with `status`.
pub fn json(status: u16, body: &impl serde::Serialize) -> worker::Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

/// The documented error body for `code`, with its fixed status.
pub fn error(code: ErrorCode, message: &str) -> worker::Result<Response> {
    json(code.status(), &ErrorBody::new(code, message))
}

/// Logs to the worker's console (`wrangler tail`, Miniflare's output).
pub fn log(message: &str) {
    web_sys::console::log_1(&message.into());
}
