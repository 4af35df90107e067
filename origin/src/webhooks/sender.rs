//! The HTTP side of webhook delivery, hardened against server-side request
//! forgery: the URL must pass `clausum_core::webhook::check_url`, every
//! address a hostname resolves to must pass `forbidden_ip` (checked when
//! connecting, so DNS rebinding between registration and sending cannot
//! sneak a private address in), redirects are never followed (a 3xx is a
//! failed attempt), and only the first bytes of a response are read.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use clausum_core::webhook::{check_url, forbidden_ip};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Bytes of a response body kept in the delivery log.
pub const EXCERPT_BYTES: usize = 1_024;
/// Whole-request deadline.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What one attempt got.
#[derive(Debug, Clone, Default)]
pub struct SendResult {
    /// The response status, if a response came.
    pub status: Option<u16>,
    /// Why no (successful) response, if so.
    pub error: Option<String>,
    /// Milliseconds to the response (or failure).
    pub latency_ms: i64,
    /// The first bytes of the body (lossy UTF-8).
    pub excerpt: Option<String>,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

impl SendResult {
    /// 2xx.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Fixed answers for some host names, like curl's `--resolve` (split-horizon
/// setups, and tests that need a name resolving to a given address).
pub type ResolveOverrides = std::collections::HashMap<String, Vec<std::net::IpAddr>>;

/// Parses `host=ip[,host=ip…]`.
pub fn parse_overrides(spec: &str) -> Result<ResolveOverrides, String> {
    let mut map = ResolveOverrides::new();
    for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (host, ip) = pair.split_once('=').ok_or_else(|| format!("`{pair}` is not host=ip"))?;
        let ip = ip.trim().parse().map_err(|_| format!("`{ip}` is not an IP address"))?;
        map.entry(host.trim().to_ascii_lowercase()).or_default().push(ip);
    }
    Ok(map)
}

/// Every address `host` resolves to (overrides first).
pub async fn resolve(
    overrides: &ResolveOverrides,
    host: &str,
    port: u16,
) -> std::io::Result<Vec<SocketAddr>> {
    if let Some(ips) = overrides.get(&host.to_ascii_lowercase()) {
        return Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect());
    }
    Ok(tokio::net::lookup_host((host, port)).await?.collect())
}

/// Resolves hostnames, dropping every address webhooks must never reach.
struct GuardedResolver {
    allow_loopback: bool,
    overrides: Arc<ResolveOverrides>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        let overrides = self.overrides.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = resolve(&overrides, &host, 0).await?;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| {
                    forbidden_ip(a.ip()).is_none() || (allow_loopback && a.ip().is_loopback())
                })
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves only to forbidden addresses").into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Sends webhook requests.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_http_loopback: bool,
    overrides: Arc<ResolveOverrides>,
}

impl Sender {
    /// A sender; `allow_http_loopback` admits `http://localhost`-style
    /// URLs for local development and tests, nothing else.
    pub fn new(allow_http_loopback: bool, overrides: ResolveOverrides) -> Sender {
        let overrides = Arc::new(overrides);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .dns_resolver(Arc::new(GuardedResolver {
                allow_loopback: allow_http_loopback,
                overrides: overrides.clone(),
            }))
            .user_agent("Clausum-Webhooks/1")
            .build()
            .expect("HTTP client");
        Sender { client, allow_http_loopback, overrides }
    }

    /// Every address `host` resolves to now, as sending would see it.
    pub async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        resolve(&self.overrides, host, port).await
    }

    /// Whether `url` may be registered (the same rule applies again at send time).
    pub fn check(&self, url: &str) -> Result<(), String> {
        check_url(url, self.allow_http_loopback).map(|_| ()).map_err(|e| e.to_string())
    }

    /// POSTs `body` with `headers` to `url`.
    pub async fn send(&self, url: &str, body: Bytes, headers: &[(&str, String)]) -> SendResult {
        let started = Instant::now();
        let elapsed = |s: Instant| i64::try_from(s.elapsed().as_millis()).unwrap_or(i64::MAX);
        if let Err(e) = self.check(url) {
            return SendResult {
                error: Some(format!("refused destination: {e}")),
                ..Default::default()
            };
        }
        let mut req = self.client.post(url).header("content-type", "application/json").body(body);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return SendResult {
                    error: Some(describe(&e)),
                    latency_ms: elapsed(started),
                    ..Default::default()
                };
            }
        };
        let status = resp.status().as_u16();
        let retry_after =
            resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let latency_ms = elapsed(started);
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT_BYTES {
            match tokio::time::timeout(Duration::from_secs(2), resp.chunk()).await {
                Ok(Ok(Some(chunk))) => excerpt.extend_from_slice(&chunk),
                _ => break,
            }
        }
        excerpt.truncate(EXCERPT_BYTES);
        let error = (!(200..300).contains(&status)).then(|| format!("HTTP {status}"));
        SendResult {
            status: Some(status),
            error,
            latency_ms,
            excerpt: (!excerpt.is_empty()).then(|| excerpt_text(&excerpt)),
            retry_after,
        }
    }
}

/// A receiver's answer as stored text: invalid UTF-8 and NUL characters
/// (which PostgreSQL refuses in text, failing the attempt's record and so
/// redelivering forever) become U+FFFD.
fn excerpt_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\0', "\u{FFFD}")
}

/// A transport error in a few words (never the URL's query).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() { kind.to_owned() } else { format!("{kind}: {detail}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receivers_nul_bytes_are_not_stored() {
        let text = excerpt_text(b"ok\0then\xff");
        assert!(!text.contains('\0'), "{text:?}");
        assert_eq!(text, "ok\u{FFFD}then\u{FFFD}");
    }
}
