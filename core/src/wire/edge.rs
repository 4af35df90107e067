//! What the origin and the edge worker exchange: the key manifest, the
//! record of a decline made at the edge, and the headers that carry what
//! only the edge knows. Both sides use these types, so they cannot drift.
//!
//! Every edge-to-origin call carries [`EDGE_TOKEN_HEADER`]; the origin
//! trusts the other `X-Clausum-Edge-*` headers only next to a valid token.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::keys::KeyKind;
use crate::wire::Flow;

/// The shared secret of an edge deployment (`CLAUSUM_EDGE_TOKEN` at the
/// origin, the `EDGE_TOKEN` secret of the worker).
pub const EDGE_TOKEN_HEADER: &str = "x-clausum-edge-token";
/// Payer country as Cloudflare saw the connection (`cf.country`).
pub const EDGE_COUNTRY_HEADER: &str = "x-clausum-edge-country";
/// Autonomous system number of the connection (`cf.asn`).
pub const EDGE_ASN_HEADER: &str = "x-clausum-edge-asn";
/// Name of the autonomous system (`cf.asOrganization`).
pub const EDGE_AS_ORG_HEADER: &str = "x-clausum-edge-as-org";
/// Cloudflare data centre that took the request (`cf.colo`).
pub const EDGE_COLO_HEADER: &str = "x-clausum-edge-colo";
/// TLS version of the connection (`cf.tlsVersion`).
pub const EDGE_TLS_VERSION_HEADER: &str = "x-clausum-edge-tls-version";
/// TLS cipher of the connection (`cf.tlsCipher`).
pub const EDGE_TLS_CIPHER_HEADER: &str = "x-clausum-edge-tls-cipher";
/// Bot management score 1–99, where the zone has it (`cf.botManagement.score`).
pub const EDGE_BOT_SCORE_HEADER: &str = "x-clausum-edge-bot-score";
/// The connecting client's address (`CF-Connecting-IP`).
pub const EDGE_CLIENT_IP_HEADER: &str = "x-clausum-edge-client-ip";
/// Set by the worker on answers it decided itself (`decline`).
pub const EDGE_DECIDED_HEADER: &str = "x-clausum-edge-decided";
/// The shortest edge token either side accepts, in characters: it is the
/// only secret between the origin and the worker.
pub const MIN_EDGE_TOKEN_LEN: usize = 32;

/// One active API key as the edge needs it: never the key, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeKey {
    /// Hex SHA-256 of the key text ([`crate::keys::ApiKey::hash`]).
    pub hash: String,
    /// Owning organisation.
    pub organization_id: String,
    /// Secret, publishable or ingest.
    pub kind: KeyKind,
    /// Whether the key carries the `assess` permission.
    pub assess: bool,
    /// Unix ms after which the key stops working.
    pub expires_at: Option<i64>,
}

/// `GET /api/v1/edge/keys`: every active key of every organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeKeys {
    /// The keys.
    pub keys: Vec<EdgeKey>,
}

/// What the edge knows about the connection, forwarded to the origin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct EdgeContext {
    /// ISO country of the connecting client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Its autonomous system number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Its autonomous system's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_organization: Option<String>,
    /// The data centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colo: Option<String>,
    /// TLS version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    /// TLS cipher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cipher: Option<String>,
    /// Bot score (1 = automated … 99 = human), where available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_score: Option<u8>,
    /// Connecting client's IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
}

impl EdgeContext {
    /// The headers carrying this context, as `(name, value)` pairs.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut put = |name, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                out.push((name, v));
            }
        };
        put(EDGE_COUNTRY_HEADER, self.country.clone());
        put(EDGE_ASN_HEADER, self.asn.map(|a| a.to_string()));
        put(EDGE_AS_ORG_HEADER, self.as_organization.clone());
        put(EDGE_COLO_HEADER, self.colo.clone());
        put(EDGE_TLS_VERSION_HEADER, self.tls_version.clone());
        put(EDGE_TLS_CIPHER_HEADER, self.tls_cipher.clone());
        put(EDGE_BOT_SCORE_HEADER, self.bot_score.map(|s| s.to_string()));
        put(EDGE_CLIENT_IP_HEADER, self.client_ip.clone());
        out
    }

    /// Reads the context back from headers (`get` returns a header's value).
    /// Values that do not parse are dropped; text is cut to 64 characters.
    pub fn from_headers<'a>(get: impl Fn(&str) -> Option<&'a str>) -> EdgeContext {
        let text = |name: &str| {
            get(name)
                .map(|v| v.trim().chars().take(64).collect::<String>())
                .filter(|v| !v.is_empty())
        };
        EdgeContext {
            country: text(EDGE_COUNTRY_HEADER)
                .and_then(|v| crate::normalize::Country::parse(&v).ok())
                .map(|c| c.as_str().to_owned()),
            asn: text(EDGE_ASN_HEADER).and_then(|v| v.parse().ok()),
            as_organization: text(EDGE_AS_ORG_HEADER),
            colo: text(EDGE_COLO_HEADER),
            tls_version: text(EDGE_TLS_VERSION_HEADER),
            tls_cipher: text(EDGE_TLS_CIPHER_HEADER),
            bot_score: text(EDGE_BOT_SCORE_HEADER).and_then(|v| v.parse().ok()),
            // Canonical text of a valid address, or nothing: it may become
            // a payer's `device.ip`, which must validate.
            client_ip: text(EDGE_CLIENT_IP_HEADER)
                .and_then(|v| crate::normalize::IpAddress::parse(&v).ok())
                .map(|ip| ip.to_string()),
        }
    }

    /// The client's address, when this connection is a payer's browser
    /// (the SDK's calls; a backend's connection says nothing of the payer).
    pub fn payer_ip(&self) -> Option<crate::normalize::IpAddress> {
        self.client_ip.as_deref().and_then(|ip| crate::normalize::IpAddress::parse(ip).ok())
    }

    /// The connection's country, for a payer whose address is `ip`: only
    /// when that is the address the edge saw, where it stands in for a
    /// GeoIP lookup that has no answer.
    pub fn payer_country(
        &self,
        ip: Option<&crate::normalize::IpAddress>,
    ) -> Option<crate::normalize::Country> {
        let same = ip.is_some_and(|ip| self.client_ip.as_deref() == Some(ip.to_string().as_str()));
        self.country
            .as_deref()
            .filter(|_| same)
            .and_then(|c| crate::normalize::Country::parse(c).ok())
    }

    /// True when the edge knew nothing.
    pub fn is_empty(&self) -> bool {
        *self == EdgeContext::default()
    }
}

/// `POST /api/v1/edge/record`: a decline the edge answered itself, sent to
/// the origin afterwards so that history, velocity, metrics and webhooks
/// see it exactly as if the origin had taken the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeRecord {
    /// Hex SHA-256 of the API key that made the request.
    pub key_hash: String,
    /// Which assess endpoint was called.
    pub flow: Flow,
    /// The transaction id the edge answered with; the origin records under it.
    pub transaction_id: String,
    /// The session id the edge answered with.
    pub session_id: String,
    /// The request's `Idempotency-Key` header, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// What the edge declined for (`blocklist:<type>:<entry id>`).
    pub blocked_by: String,
    /// The request body exactly as received.
    pub request: serde_json::Value,
    /// The connection as the edge saw it.
    #[serde(default)]
    pub context: EdgeContext,
}

/// Something cached: the key manifest or one organisation's snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EdgeResource {
    /// `GET /api/v1/edge/keys`.
    Keys,
    /// `GET /api/v1/edge/snapshot/{org}`.
    Org(String),
}

impl EdgeResource {
    /// The origin's path for it.
    pub fn path(&self) -> String {
        match self {
            EdgeResource::Keys => "/api/v1/edge/keys".to_owned(),
            EdgeResource::Org(org) => format!("/api/v1/edge/snapshot/{org}"),
        }
    }
}

/// `POST /__clausum/purge` (the worker's purge call, from the origin): what
/// one purge drops: the key manifest (`"keys": true`, after an API
/// key was created or revoked), one organisation's snapshot
/// (`"organization_id"`, after its blocklist changed), or — when it names
/// neither — everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EdgePurge {
    /// The key manifest.
    #[serde(default, skip_serializing_if = "is_false")]
    pub keys: bool,
    /// One organisation's snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl EdgePurge {
    /// A purge that drops the key manifest only.
    pub fn keys() -> EdgePurge {
        EdgePurge { keys: true, organization_id: None }
    }

    /// A purge that drops one organisation's snapshot only.
    pub fn organization(id: &str) -> EdgePurge {
        EdgePurge { keys: false, organization_id: Some(id.to_owned()) }
    }

    /// The scope a purge call's body names. A body that does not parse
    /// names everything: when in doubt, drop it all (the origin decides
    /// until the copies are reloaded).
    pub fn from_request(body: &[u8]) -> EdgePurge {
        let scope: EdgePurge = serde_json::from_slice(body).unwrap_or_default();
        EdgePurge {
            organization_id: scope.organization_id.filter(|o| !o.trim().is_empty()),
            ..scope
        }
    }

    /// Whether it names nothing, and so drops everything.
    pub fn everything(&self) -> bool {
        !self.keys && self.organization_id.is_none()
    }

    /// Whether it drops `res`.
    pub fn covers(&self, res: &EdgeResource) -> bool {
        self.everything()
            || match res {
                EdgeResource::Keys => self.keys,
                EdgeResource::Org(org) => self.organization_id.as_ref() == Some(org),
            }
    }

    /// What it names explicitly (dropped from the Cache API even when this
    /// isolate holds no copy); nothing for everything.
    pub fn named(&self) -> Vec<EdgeResource> {
        let keys = self.keys.then_some(EdgeResource::Keys);
        let org = self.organization_id.clone().map(EdgeResource::Org);
        keys.into_iter().chain(org).collect()
    }
}

impl fmt::Display for EdgePurge {
    /// `*`, `keys`, the organisation's id, or `keys, <org>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.keys, &self.organization_id) {
            (false, None) => f.write_str("*"),
            (true, None) => f.write_str("keys"),
            (false, Some(org)) => f.write_str(org),
            (true, Some(org)) => write!(f, "keys, {org}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_round_trips_through_headers() {
        let ctx = EdgeContext {
            country: Some("MX".into()),
            asn: Some(8151),
            colo: Some("QRO".into()),
            bot_score: Some(12),
            ..Default::default()
        };
        let headers = ctx.headers();
        let get = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        assert_eq!(EdgeContext::from_headers(get), ctx);
        assert!(EdgeContext::from_headers(|_| Some("  ")).is_empty());
        assert_eq!(EdgeContext::from_headers(|_| Some("x")).asn, None);
    }

    #[test]
    fn only_valid_addresses_and_countries_are_kept() {
        let read = |ip: &'static str, country: &'static str| {
            EdgeContext::from_headers(move |name| match name {
                EDGE_CLIENT_IP_HEADER => Some(ip),
                EDGE_COUNTRY_HEADER => Some(country),
                _ => None,
            })
        };
        let ok = read(" ::ffff:189.203.4.7 ", "mx");
        assert_eq!(ok.client_ip.as_deref(), Some("189.203.4.7"));
        assert_eq!(ok.country.as_deref(), Some("MX"));
        let bad = read("189.203.4", "XX1");
        assert_eq!((bad.client_ip, bad.country), (None, None));
    }

    #[test]
    fn the_country_is_the_payers_only_for_the_address_the_edge_saw() {
        let ctx = EdgeContext {
            client_ip: Some("189.203.4.7".into()),
            country: Some("MX".into()),
            ..Default::default()
        };
        let seen = ctx.payer_ip().unwrap();
        assert_eq!(seen.to_string(), "189.203.4.7");
        assert_eq!(ctx.payer_country(Some(&seen)).map(|c| c.as_str()), Some("MX"));
        let other = crate::normalize::IpAddress::parse("201.150.10.22").unwrap();
        assert_eq!(ctx.payer_country(Some(&other)), None);
        assert_eq!(ctx.payer_country(None), None);
    }

    #[test]
    fn manifest_shape() {
        let keys = EdgeKeys {
            keys: vec![EdgeKey {
                hash: "ab".into(),
                organization_id: "org_1".into(),
                kind: KeyKind::Publishable,
                assess: true,
                expires_at: None,
            }],
        };
        let json = serde_json::to_string(&keys).unwrap();
        assert!(json.contains(r#""kind":"publishable""#), "{json}");
        assert_eq!(serde_json::from_str::<EdgeKeys>(&json).unwrap(), keys);
    }
}
