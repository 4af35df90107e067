//! A deliberately small, strict parser for webhook URLs:
//! `https://host[:port][/path][?query]`.
//!
//! Strict because the URL is parsed twice — here, and by the HTTP client —
//! and any string the two read differently is an SSRF bypass. So anything
//! that parsers disagree on is refused rather than interpreted: user info,
//! backslashes, fragments, non-ASCII (use punycode and percent-encoding),
//! percent-encoded hosts, zone ids, and numeric hosts other than a canonical
//! dotted quad (`0x7f000001`, `2130706433`, `0177.0.0.1`, `127.1` all reach
//! 127.0.0.1 through some resolvers).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::forbidden_ip;

/// Longest webhook URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// A webhook destination that passed [`check_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTarget {
    /// `true` for `https://`, `false` for the development-only `http://`.
    pub https: bool,
    /// The host, lower-case; an IPv6 literal without its brackets.
    pub host: String,
    /// The port, explicit or the scheme's default (443, or 80 for `http`).
    pub port: u16,
    /// The address, when the host is an IP literal (no lookup needed).
    pub ip: Option<IpAddr>,
    /// The host is `localhost`, `127.0.0.1` or `::1`, let through because the
    /// caller allowed loopback: skip [`forbidden_ip`] on its loopback
    /// addresses (and only those).
    pub allowed_loopback: bool,
}

impl ParsedTarget {
    /// Whether the host is an IP literal rather than a name to resolve.
    pub fn is_ip_literal(&self) -> bool {
        self.ip.is_some()
    }
}

/// Why a webhook URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Longer than [`MAX_URL_LEN`].
    #[error("URL is longer than 2048 characters")]
    TooLong,
    /// Whitespace, control, non-ASCII or backslash characters.
    #[error(
        "URL contains whitespace, control, non-ASCII or backslash characters (use punycode and percent-encoding)"
    )]
    InvalidCharacter,
    /// Not `https://` (nor `http://`).
    #[error("URL must start with https://")]
    UnsupportedScheme,
    /// `http://` to anything but an allowed loopback host.
    #[error("plain http:// is not allowed; use https://")]
    HttpNotAllowed,
    /// `user:password@` before the host.
    #[error("URL must not contain credentials (user:password@)")]
    UserInfo,
    /// A `#fragment`, which is never sent and only confuses parsers.
    #[error("URL must not contain a #fragment")]
    Fragment,
    /// Nothing between `://` and the path.
    #[error("URL has no host")]
    MissingHost,
    /// Not a valid DNS name or bracketed IPv6 address.
    #[error("URL host is not a valid domain name or IP address")]
    InvalidHost,
    /// A numeric host that is not a canonical dotted quad.
    #[error("URL host looks numeric but is not a dotted-quad IPv4 address (e.g. 203.0.113.7)")]
    NumericHost,
    /// A single-label host such as `intranet`.
    #[error("URL host must be a fully-qualified domain name")]
    UnqualifiedHost,
    /// `localhost` or a `*.localhost` name.
    #[error("URL host must not be localhost")]
    LocalHostname,
    /// Port empty, not a number, 0 or above 65535.
    #[error("URL port must be a number from 1 to 65535")]
    InvalidPort,
    /// An IP literal in a range never to be called; says which.
    #[error("URL host is a forbidden address: {0}")]
    ForbiddenAddress(&'static str),
}

/// Checks a webhook URL: `https://` only (`http://` only when
/// `allow_http_loopback` and the host is `localhost`, `127.0.0.1` or
/// `[::1]`), no user info, a valid host, optional port, at most
/// [`MAX_URL_LEN`] bytes of printable ASCII, no fragment. An IP literal is
/// judged by [`forbidden_ip`]; a name must be resolved by the caller, who
/// then applies [`forbidden_ip`] to every address it gets.
pub fn check_url(url: &str, allow_http_loopback: bool) -> Result<ParsedTarget, UrlError> {
    if url.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    if !url.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
        return Err(UrlError::InvalidCharacter);
    }
    if url.contains('#') {
        return Err(UrlError::Fragment);
    }
    let (scheme, rest) = url.split_once("://").ok_or(UrlError::UnsupportedScheme)?;
    let https = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        _ => return Err(UrlError::UnsupportedScheme),
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(UrlError::UserInfo);
    }
    if authority.is_empty() {
        return Err(UrlError::MissingHost);
    }
    let (host, port) = split_host_port(authority)?;
    let port = match port {
        None if https => 443,
        None => 80,
        Some(p) => parse_port(p)?,
    };
    let (host, ip) = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) => {
            let v6: Ipv6Addr = inner.parse().map_err(|_| UrlError::InvalidHost)?;
            (v6.to_string(), Some(IpAddr::V6(v6)))
        }
        None => {
            let host = host.to_ascii_lowercase();
            let ip = check_name(&host, allow_http_loopback)?;
            (host, ip)
        }
    };
    let allowed_loopback = allow_http_loopback
        && match ip {
            Some(ip) => {
                ip == IpAddr::V4(Ipv4Addr::LOCALHOST) || ip == IpAddr::V6(Ipv6Addr::LOCALHOST)
            }
            None => host == "localhost",
        };
    if !https && !allowed_loopback {
        return Err(UrlError::HttpNotAllowed);
    }
    if let Some(ip) = ip
        && !allowed_loopback
        && let Some(why) = forbidden_ip(ip)
    {
        return Err(UrlError::ForbiddenAddress(why));
    }
    Ok(ParsedTarget { https, host, port, ip, allowed_loopback })
}

/// Splits `host[:port]` / `[v6][:port]`; the host keeps its brackets.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), UrlError> {
    if authority.starts_with('[') {
        let end = authority.find(']').ok_or(UrlError::InvalidHost)?;
        let (host, after) = authority.split_at(end + 1);
        return match after {
            "" => Ok((host, None)),
            _ => after.strip_prefix(':').map(|p| (host, Some(p))).ok_or(UrlError::InvalidHost),
        };
    }
    match authority.split_once(':') {
        // A second colon: an unbracketed IPv6 address, or junk.
        Some((_, port)) if port.contains(':') => Err(UrlError::InvalidHost),
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((authority, None)),
    }
}

fn parse_port(p: &str) -> Result<u16, UrlError> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::InvalidPort);
    }
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(UrlError::InvalidPort),
        Ok(port) => Ok(port),
    }
}

/// Checks a lower-case, unbracketed host: a canonical dotted quad (returned)
/// or a fully-qualified DNS name.
fn check_name(host: &str, allow_loopback: bool) -> Result<Option<IpAddr>, UrlError> {
    if host.is_empty() {
        return Err(UrlError::MissingHost);
    }
    // Rust's parser takes exactly four decimal octets without leading zeros.
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Ok(Some(IpAddr::V4(v4)));
    }
    // Browsers and inet_aton read a host whose last label is a number as an
    // IPv4 address in some other notation; no real TLD is numeric.
    let last = host.rsplit('.').next().unwrap_or_default();
    if looks_numeric(last) {
        return Err(UrlError::NumericHost);
    }
    if host.len() > 253 || !host.split('.').all(valid_label) {
        return Err(UrlError::InvalidHost);
    }
    if host == "localhost" {
        return if allow_loopback { Ok(None) } else { Err(UrlError::LocalHostname) };
    }
    if host.ends_with(".localhost") {
        return Err(UrlError::LocalHostname);
    }
    if !host.contains('.') {
        return Err(UrlError::UnqualifiedHost);
    }
    Ok(None)
}

/// Decimal digits, or `0x` followed by hex digits (possibly none).
fn looks_numeric(label: &str) -> bool {
    let hex = label.strip_prefix("0x");
    match hex {
        Some(h) => h.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// An LDH label: 1–63 of `[a-z0-9-]`, not starting or ending with `-`.
fn valid_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
