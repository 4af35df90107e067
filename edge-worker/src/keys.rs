//! Authenticating an API key at the edge, against the origin's key
//! manifest: the same checks the origin makes (checksum first, then the
//! SHA-256 lookup, then expiry), with the same 401 bodies.

use std::collections::HashMap;

use clausum_core::{
    keys::ApiKey,
    wire::{
        ErrorBody, ErrorCode,
        edge::{EdgeKey, EdgeKeys},
    },
};

/// The active keys, by the hex SHA-256 of their text.
#[derive(Debug, Clone, Default)]
pub struct KeyTable {
    by_hash: HashMap<String, EdgeKey>,
}

/// What the edge can say about a request's credentials.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// No `Authorization: Bearer` header: the origin answers that itself.
    Absent,
    /// Refused here, with the origin's own 401 body.
    Refused(ErrorBody),
    /// A known, unexpired key.
    Known {
        /// The key's manifest entry.
        key: EdgeKey,
        /// The hash it was found under (sent with records).
        hash: String,
    },
}

impl KeyTable {
    /// Indexes a manifest.
    pub fn new(manifest: EdgeKeys) -> Self {
        KeyTable { by_hash: manifest.keys.into_iter().map(|k| (k.hash.clone(), k)).collect() }
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Checks the `Authorization` header's bearer key at `now_ms`.
    pub fn authenticate(&self, authorization: Option<&str>, now_ms: i64) -> Auth {
        let Some(token) = authorization.and_then(bearer) else { return Auth::Absent };
        let key = match ApiKey::parse(token) {
            Ok(key) => key,
            Err(e) => return Auth::Refused(ErrorBody::new(ErrorCode::Unauthorized, e.to_string())),
        };
        let hash = key.hash();
        match self.by_hash.get(&hash) {
            None => Auth::Refused(ErrorBody::new(
                ErrorCode::Unauthorized,
                "Unknown, revoked or expired API key.",
            )),
            Some(k) if k.expires_at.is_some_and(|t| t <= now_ms) => {
                Auth::Refused(ErrorBody::new(ErrorCode::Unauthorized, "This API key has expired."))
            }
            Some(k) => Auth::Known { key: k.clone(), hash },
        }
    }
}

/// The token of a `Bearer` header (scheme case-insensitive, as poem reads it).
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clausum_core::keys::KeyKind;

    fn table(key: &ApiKey, expires_at: Option<i64>) -> KeyTable {
        KeyTable::new(EdgeKeys {
            keys: vec![EdgeKey {
                hash: key.hash(),
                organization_id: "org_1".into(),
                kind: KeyKind::Secret,
                assess: true,
                expires_at,
            }],
        })
    }

    #[test]
    fn known_unknown_malformed_expired_and_absent() {
        let key = ApiKey::generate(KeyKind::Secret, [7; 48]);
        let other = ApiKey::generate(KeyKind::Secret, [8; 48]);
        let t = table(&key, Some(1_000));
        let header = |k: &ApiKey| format!("Bearer {}", k.expose());
        match t.authenticate(Some(&header(&key)), 999) {
            Auth::Known { key: k, hash } => {
                assert_eq!(k.organization_id, "org_1");
                assert_eq!(hash, key.hash());
            }
            other => panic!("{other:?}"),
        }
        let refused = |a: Auth| match a {
            Auth::Refused(body) => {
                assert_eq!(body.error.code, ErrorCode::Unauthorized);
                body.error.message
            }
            other => panic!("{other:?}"),
        };
        assert!(refused(t.authenticate(Some(&header(&key)), 1_000)).contains("expired"));
        assert!(refused(t.authenticate(Some(&header(&other)), 0)).contains("Unknown"));
        let mut typo = key.expose().to_owned();
        typo.pop();
        assert!(refused(t.authenticate(Some(&format!("Bearer {typo}")), 0)).contains("checksum"));
        assert_eq!(t.authenticate(None, 0), Auth::Absent);
        assert_eq!(t.authenticate(Some("Basic abc"), 0), Auth::Absent);
        assert!(matches!(
            t.authenticate(Some(&format!("bearer  {}", key.expose())), 0),
            Auth::Known { .. }
        ));
    }
}
