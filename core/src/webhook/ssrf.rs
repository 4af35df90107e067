//! Destination safety for outbound webhooks (OWASP API7, server-side
//! request forgery): an organisation must not be able to make Clausum's
//! servers call their own loopback, the cloud metadata service or anything
//! else on a private network.
//!
//! Two gates, both needed:
//! 1. [`check_url`] at registration *and* at send time: `https://` only, no
//!    user info, a strict host (IP literals judged here, numeric tricks such
//!    as `0x7f000001` refused).
//! 2. [`forbidden_ip`] on **every** address the host resolves to, at send
//!    time, by the caller — so DNS rebinding (public at registration,
//!    `127.0.0.1` later) is caught — and then connect to that vetted address,
//!    not to a fresh lookup. Redirects must not be followed.
//!
//! Embedded IPv4 (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64
//! `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`) is judged as the IPv4 it
//! reaches, and the reason given is the IPv4's.

mod url;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use url::{MAX_URL_LEN, ParsedTarget, UrlError, check_url};

/// IPv4 ranges never to call: (network, prefix length, why). First match
/// wins, so single addresses come before the ranges that hold them.
const V4_RULES: &[(u32, u8, &str)] = &[
    (0xFFFF_FFFF, 32, "limited broadcast address (255.255.255.255)"),
    (0xA9FE_A9FE, 32, "cloud metadata address (169.254.169.254)"),
    (0x0000_0000, 32, "unspecified address (0.0.0.0)"),
    (0x0000_0000, 8, "\"this network\" address (0.0.0.0/8)"),
    (0x7F00_0000, 8, "loopback address (127.0.0.0/8)"),
    (0x0A00_0000, 8, "private network address (RFC 1918, 10.0.0.0/8)"),
    (0xAC10_0000, 12, "private network address (RFC 1918, 172.16.0.0/12)"),
    (0xC0A8_0000, 16, "private network address (RFC 1918, 192.168.0.0/16)"),
    (0x6440_0000, 10, "carrier-grade NAT address (100.64.0.0/10)"),
    (0xA9FE_0000, 16, "link-local address (169.254.0.0/16)"),
    (0xC000_0000, 24, "IETF protocol assignment (192.0.0.0/24)"),
    (0xC000_0200, 24, "documentation address (192.0.2.0/24)"),
    (0xC633_6400, 24, "documentation address (198.51.100.0/24)"),
    (0xCB00_7100, 24, "documentation address (203.0.113.0/24)"),
    (0xC058_6300, 24, "deprecated 6to4 relay anycast (192.88.99.0/24)"),
    (0xC612_0000, 15, "benchmarking address (198.18.0.0/15)"),
    (0xE000_0000, 4, "multicast address (224.0.0.0/4)"),
    (0xF000_0000, 4, "reserved address (240.0.0.0/4)"),
];

/// IPv6 ranges never to call, checked after the embedded-IPv4 forms.
const V6_RULES: &[(u128, u8, &str)] = &[
    (0xfd00_0ec2_0000_0000_0000_0000_0000_0254, 128, "cloud metadata address (fd00:ec2::254)"),
    (0x0064_ff9b_0001 << 80, 48, "local-use NAT64 address (64:ff9b:1::/48)"),
    (0x0100 << 112, 64, "discard-only address (100::/64)"),
    (0x2001_0000 << 96, 32, "Teredo tunnel address (2001::/32)"),
    (0x2001_0db8 << 96, 32, "documentation address (2001:db8::/32)"),
    (0x2001_0002 << 96, 48, "benchmarking address (2001:2::/48)"),
    (0x2001 << 112, 23, "IETF protocol assignment (2001::/23)"),
    (0x3fff << 112, 20, "documentation address (3fff::/20)"),
    (0xfc00 << 112, 7, "unique local address (fc00::/7)"),
    (0xfe80 << 112, 10, "link-local address (fe80::/10)"),
    (0xfec0 << 112, 10, "deprecated site-local address (fec0::/10)"),
    (0xff00 << 112, 8, "multicast address (ff00::/8)"),
];

/// Why `ip` must never be called, or `None` for a public unicast address.
pub fn forbidden_ip(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(ip);
    V4_RULES.iter().find(|&&(net, len, _)| bits & mask32(len) == net).map(|&(_, _, why)| why)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    let embedded = Ipv4Addr::from(bits as u32);
    match bits {
        0 => return Some("unspecified address (::)"),
        1 => return Some("loopback address (::1)"),
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated).
        _ if bits >> 32 == 0xffff || bits >> 32 == 0 => return forbidden_v4(embedded),
        // 64:ff9b::/96: the well-known NAT64 prefix reaches a.b.c.d.
        _ if bits >> 32 == 0x0064_ff9b << 64 => return forbidden_v4(embedded),
        // 2002:aabb:ccdd::/48: 6to4 tunnels to aa.bb.cc.dd.
        _ if bits >> 112 == 0x2002 => return forbidden_v4(Ipv4Addr::from((bits >> 80) as u32)),
        _ => {}
    }
    if let Some(&(_, _, why)) = V6_RULES.iter().find(|&&(net, len, _)| bits & mask128(len) == net) {
        return Some(why);
    }
    // Only 2000::/3 is allocated for global unicast; the rest is reserved.
    (bits >> 125 != 0b001).then_some("reserved address (outside global unicast 2000::/3)")
}

fn mask32(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

fn mask128(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

#[cfg(test)]
#[path = "ssrf_tests.rs"]
mod tests;
