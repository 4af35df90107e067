//! Dashboard tokens.
//!
//! The origin issues its own short-lived HS256 tokens on login (header
//! `kid: "clausum"`). It can also accept an external identity provider's
//! tokens (Supabase-style): issuer, audience and either a JWKS URL
//! (asymmetric keys) or a shared HS256 secret.
//!
//! What is refused, and why it cannot slip through:
//! - `alg: none` and unknown algorithms: the header does not parse.
//! - algorithm confusion (an HS256 token "signed" with a provider's public
//!   key): each key only ever verifies with the algorithm family of its own
//!   kind — our secret and a configured IdP secret only HS256, a JWKS key
//!   only the asymmetric algorithm its JWK declares (an `oct` JWK is never
//!   used), and the header's `alg` must equal it.
//! - unknown `kid`: refused after at most one refresh of the JWKS (never
//!   more than one refresh per [`JWKS_MIN_REFRESH`]).
//! - expired, not-yet-valid, wrong issuer or audience: `exp`, `nbf`, `iss`,
//!   `aud` and `sub` are required and checked (30 s clock leeway).

use std::{
    collections::HashMap,
    str::FromStr,
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
    jwk::{AlgorithmParameters, JwkSet},
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

/// `kid` of the tokens the origin issues.
pub const OWN_KID: &str = "clausum";
/// `iss` of the tokens the origin issues.
pub const OWN_ISSUER: &str = "clausum";
/// `aud` of the tokens the origin issues.
pub const OWN_AUDIENCE: &str = "clausum-dashboard";
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;
/// Least time between two JWKS fetches triggered by unknown key ids.
pub const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);
/// Age after which the JWKS is fetched again even if every kid is known.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(600);

/// Why a token was refused. The message is safe to show the caller.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Malformed, badly signed, expired, wrong issuer/audience, …
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Signed by a key the provider does not publish.
    #[error("invalid token: unknown key id")]
    UnknownKey,
    /// An external token, but no external provider is configured.
    #[error("invalid token: tokens of this issuer are not accepted")]
    NoProvider,
    /// The provider's JWKS could not be fetched.
    #[error("the identity provider's keys are unavailable")]
    JwksUnavailable,
}

/// Claims of the origin's own tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnClaims {
    /// User id.
    pub sub: String,
    /// Organisation id (informational: the user's row decides).
    pub org: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Not before (unix seconds).
    pub nbf: i64,
    /// Expiry (unix seconds).
    pub exp: i64,
    /// Token id.
    pub jti: String,
}

/// Claims read from an external provider's tokens.
#[derive(Debug, Clone, Deserialize)]
pub struct ExternalClaims {
    /// The provider's user id.
    pub sub: String,
    /// The user's email, when the provider includes it.
    pub email: Option<String>,
}

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A user id from one of our own tokens.
    User(String),
    /// A subject (and email) of the external provider.
    External {
        /// `sub`.
        subject: String,
        /// `email`, if present.
        email: Option<String>,
    },
}

/// How the external provider's signatures are checked.
#[derive(Debug)]
pub enum ProviderKeys {
    /// A shared HS256 secret.
    Hs256(Vec<u8>),
    /// Public keys published at a JWKS URL.
    Jwks(JwksCache),
}

/// An external identity provider.
#[derive(Debug)]
pub struct ExternalProvider {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// Its keys.
    pub keys: ProviderKeys,
}

/// Issues and verifies dashboard tokens.
#[derive(Debug)]
pub struct Tokens {
    secret: Vec<u8>,
    ttl: Duration,
    external: Option<ExternalProvider>,
}

impl Tokens {
    /// Tokens signed with `secret` (at least 32 bytes), valid for `ttl`.
    pub fn new(secret: Vec<u8>, ttl: Duration, external: Option<ExternalProvider>) -> Self {
        // One backend is compiled in; installing it explicitly keeps the
        // choice independent of features other crates might enable.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        Tokens { secret, ttl, external }
    }

    /// Lifetime of issued tokens.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A token for `user_id` of `org_id`, issued at `now_s` (unix seconds).
    pub fn issue(&self, user_id: &str, org_id: &str, now_s: i64) -> String {
        let claims = OwnClaims {
            sub: user_id.to_owned(),
            org: org_id.to_owned(),
            iss: OWN_ISSUER.into(),
            aud: OWN_AUDIENCE.into(),
            iat: now_s,
            nbf: now_s,
            exp: now_s + i64::try_from(self.ttl.as_secs()).unwrap_or(3600),
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(OWN_KID.into());
        encode(&header, &claims, &EncodingKey::from_secret(&self.secret))
            .expect("HS256 signing cannot fail")
    }

    /// Verifies a token and says whom it speaks for.
    pub async fn verify(&self, token: &str) -> Result<Identity, TokenError> {
        let header = decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        if header.kid.as_deref() == Some(OWN_KID) {
            let v = validation(Algorithm::HS256, OWN_ISSUER, OWN_AUDIENCE);
            let data = decode::<OwnClaims>(token, &DecodingKey::from_secret(&self.secret), &v)
                .map_err(|e| TokenError::Invalid(e.to_string()))?;
            return Ok(Identity::User(data.claims.sub));
        }
        let provider = self.external.as_ref().ok_or(TokenError::NoProvider)?;
        let (key, alg) = match &provider.keys {
            ProviderKeys::Hs256(secret) => (DecodingKey::from_secret(secret), Algorithm::HS256),
            ProviderKeys::Jwks(cache) => {
                let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
                cache.key(kid).await?
            }
        };
        if header.alg != alg {
            return Err(TokenError::Invalid(format!(
                "algorithm {:?} does not match the key's {alg:?}",
                header.alg
            )));
        }
        let v = validation(alg, &provider.issuer, &provider.audience);
        let data = decode::<ExternalClaims>(token, &key, &v)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        Ok(Identity::External {
            subject: data.claims.sub,
            email: data.claims.email.map(|e| e.to_ascii_lowercase()),
        })
    }
}

fn validation(alg: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut v = Validation::new(alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    v.validate_exp = true;
    v.validate_nbf = true;
    v.leeway = LEEWAY_SECS;
    v
}

/// A provider's published keys, fetched on demand and cached.
#[derive(Debug)]
pub struct JwksCache {
    url: String,
    client: reqwest::Client,
    state: RwLock<Fetched>,
    /// Held by the one request fetching: the others that need a fetch wait
    /// for it, while those whose key is cached read `state` meanwhile.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct Fetched {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    /// When `keys` were fetched.
    at: Option<Instant>,
    /// The last fetch, successful or not: throttles retries, so that an
    /// identity provider that is down does not make every request wait
    /// for a fetch of its own behind the lock.
    tried: Option<Instant>,
}

impl JwksCache {
    /// Keys of the JWKS at `url` (fetched on first use).
    pub fn new(url: String) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("HTTP client with default TLS roots");
        JwksCache {
            url,
            client,
            state: RwLock::new(Fetched::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The key with id `kid` and the one algorithm it verifies.
    async fn key(&self, kid: &str) -> Result<(DecodingKey, Algorithm), TokenError> {
        {
            let s = self.state.read().await;
            let fresh = s.at.is_some_and(|t| t.elapsed() < JWKS_MAX_AGE);
            if let (true, Some(k)) = (fresh, s.keys.get(kid)) {
                return Ok(k.clone());
            }
        }
        // One fetch at a time, and never under `state`'s lock, so requests
        // whose key is cached are not held up by a slow provider.
        let _fetching = self.fetching.lock().await;
        // Another request may have fetched meanwhile; and an unknown kid
        // must not let callers make us fetch on every request.
        let due = self.state.read().await.tried.is_none_or(|t| t.elapsed() >= JWKS_MIN_REFRESH);
        if due {
            self.state.write().await.tried = Some(Instant::now());
            match self.fetch().await {
                Ok(keys) => {
                    let mut s = self.state.write().await;
                    s.keys = keys;
                    s.at = s.tried;
                }
                Err(e) => {
                    // Without the URL: a token in its query must not reach the log.
                    tracing::warn!(error = %e.without_url(), "fetching the identity provider's JWKS failed");
                }
            }
        }
        let s = self.state.read().await;
        // Never fetched: no answer can be given yet, whatever the kid.
        if s.at.is_none() {
            return Err(TokenError::JwksUnavailable);
        }
        s.keys.get(kid).cloned().ok_or(TokenError::UnknownKey)
    }

    async fn fetch(&self) -> Result<HashMap<String, (DecodingKey, Algorithm)>, reqwest::Error> {
        let set: JwkSet =
            self.client.get(&self.url).send().await?.error_for_status()?.json().await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = &jwk.common.key_id else { continue };
            let Some(alg) = jwk_algorithm(jwk) else { continue };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid.clone(), (key, alg));
            }
        }
        Ok(keys)
    }
}

/// The one algorithm a published key verifies: the JWK's own `alg` when it
/// names one compatible with its key type, else the conventional default of
/// that type. Symmetric (`oct`) keys are never accepted from a JWKS.
fn jwk_algorithm(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    let declared = jwk.common.key_algorithm.and_then(|a| Algorithm::from_str(&a.to_string()).ok());
    let (default, allowed): (Algorithm, &[Algorithm]) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (
            Algorithm::RS256,
            &[
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::PS384,
                Algorithm::PS512,
            ],
        ),
        AlgorithmParameters::EllipticCurve(_) => {
            (Algorithm::ES256, &[Algorithm::ES256, Algorithm::ES384])
        }
        AlgorithmParameters::OctetKeyPair(_) => (Algorithm::EdDSA, &[Algorithm::EdDSA]),
        // Symmetric keys, and kinds this version does not know.
        _ => return None,
    };
    match declared {
        Some(a) if allowed.contains(&a) => Some(a),
        Some(_) => None,
        None => Some(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(b"0123456789abcdef0123456789abcdef".to_vec(), Duration::from_secs(600), None)
    }

    fn now() -> i64 {
        crate::time::now_ms() / 1000
    }

    #[tokio::test]
    async fn own_tokens_round_trip() {
        let t = tokens();
        let token = t.issue("usr_1", "org_1", now());
        assert_eq!(t.verify(&token).await.unwrap(), Identity::User("usr_1".into()));
    }

    #[tokio::test]
    async fn expired_and_future_tokens_are_refused() {
        let t = tokens();
        let old = t.issue("usr_1", "org_1", now() - 3600);
        assert!(t.verify(&old).await.is_err());
        let future = t.issue("usr_1", "org_1", now() + 3600);
        assert!(t.verify(&future).await.is_err());
    }

    #[tokio::test]
    async fn a_token_of_another_secret_is_refused() {
        let other = Tokens::new(
            b"another secret of 32 bytes......".to_vec(),
            Duration::from_secs(600),
            None,
        );
        let token = other.issue("usr_1", "org_1", now());
        assert!(tokens().verify(&token).await.is_err());
    }

    #[tokio::test]
    async fn alg_none_is_refused() {
        // {"alg":"none","kid":"clausum"} . valid-looking claims . no signature
        let header = "eyJhbGciOiJub25lIiwia2lkIjoiY2xhdXN1bSJ9";
        let claims = tokens().issue("usr_1", "org_1", now());
        let body = claims.split('.').nth(1).unwrap();
        let forged = format!("{header}.{body}.");
        assert!(matches!(tokens().verify(&forged).await, Err(TokenError::Invalid(_))));
    }

    #[tokio::test]
    async fn external_tokens_without_a_provider_are_refused() {
        let other = Tokens::new(
            b"0123456789abcdef0123456789abcdef".to_vec(),
            Duration::from_secs(60),
            None,
        );
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("someone-else".into());
        let claims = serde_json::json!({"sub": "x", "iss": "i", "aud": "a", "exp": now() + 60, "nbf": now()});
        let token = encode(&header, &claims, &EncodingKey::from_secret(&other.secret)).unwrap();
        assert!(matches!(tokens().verify(&token).await, Err(TokenError::NoProvider)));
    }
}
