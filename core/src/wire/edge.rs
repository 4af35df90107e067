//! What the origin and the edge worker exchange: the key manifest, the
//! record of a decline made at the edge, and the headers that carry what
//! only the edge knows. Both sides use these types, so they cannot drift.
//!
//! Every edge-to-origin call carries [`EDGE_TOKEN_HEADER`]; the origin
//! trusts the other `X-Clausum-Edge-*` headers only next to a valid token.

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
