//! API key format: `clm_<type>_<32 random base62 chars><6 char checksum>`.
//!
//! Like GitHub's tokens, the prefix makes a leaked key easy to recognise and
//! the checksum (CRC-32 of everything before it, base62) lets a mistyped or
//! truncated key be refused before any lookup. Keys are shown once; only
//! their SHA-256 is stored (a slow KDF adds nothing for 190 random bits).

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
/// Random bytes [`ApiKey::generate`] needs.
pub const RANDOM_BYTES: usize = 48;

/// The three kinds of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum KeyKind {
    /// `clm_sk_`: server-side, carries permissions. Never ship it to a browser.
    Secret,
    /// `clm_pub_`: safe in web pages; browser-side pre-checks only.
    Publishable,
    /// `clm_wh_`: event ingest only.
    Ingest,
}

impl KeyKind {
    /// The key prefix, including the trailing underscore.
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Secret => "clm_sk_",
            KeyKind::Publishable => "clm_pub_",
            KeyKind::Ingest => "clm_wh_",
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Secret => "secret",
            KeyKind::Publishable => "publishable",
            KeyKind::Ingest => "ingest",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<KeyKind> {
        [KeyKind::Secret, KeyKind::Publishable, KeyKind::Ingest]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// Permissions a new key of this kind gets by default.
    pub fn default_permissions(self) -> &'static [&'static str] {
        match self {
            KeyKind::Secret => &["*"],
            KeyKind::Publishable => &[PERM_ASSESS],
            KeyKind::Ingest => &[PERM_INGEST],
        }
    }
}

/// Permission to call assess.
pub const PERM_ASSESS: &str = "assess";
/// Permission to report fraud.
pub const PERM_FRAUD_REPORT: &str = "fraud:report";
/// Permission to read transactions.
pub const PERM_TRANSACTIONS_READ: &str = "transactions:read";
/// Permission to ingest events.
pub const PERM_INGEST: &str = "ingest";

/// Permissions a secret key may carry (besides `*` and `resource:*` of
/// their resources).
pub const SECRET_PERMISSIONS: [&str; 5] = [
    PERM_ASSESS,
    PERM_FRAUD_REPORT,
    PERM_TRANSACTIONS_READ,
    "submerchants:read",
    "submerchants:write",
];

/// Checks the permissions asked for a new key of `kind`: a publishable key
/// may only `assess`, an ingest key only `ingest`, a secret key any of
/// [`SECRET_PERMISSIONS`], `resource:*` of their resources, or `*`. `None`
/// (or an empty list) gives the kind's defaults. The result is
/// de-duplicated and sorted; the error names the permission refused.
pub fn permissions_for(kind: KeyKind, asked: Option<&[String]>) -> Result<Vec<String>, String> {
    let asked = match asked {
        Some(a) if !a.is_empty() => a,
        _ => return Ok(kind.default_permissions().iter().map(|p| (*p).to_owned()).collect()),
    };
    let allowed = |p: &str| match kind {
        KeyKind::Publishable => p == PERM_ASSESS,
        KeyKind::Ingest => p == PERM_INGEST,
        KeyKind::Secret => {
            p == "*"
                || SECRET_PERMISSIONS.contains(&p)
                || p.strip_suffix(":*").is_some_and(|res| {
                    SECRET_PERMISSIONS.iter().any(|s| s.split(':').next() == Some(res))
                })
        }
    };
    let mut out: Vec<String> = Vec::with_capacity(asked.len());
    for p in asked {
        let p = p.trim();
        if !allowed(p) {
            return Err(format!("a {} key cannot carry the permission `{p}`", kind.as_str()));
        }
        out.push(p.to_owned());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether a permission list grants `wanted` (`*` grants everything,
/// `resource:*` grants every action on the resource).
pub fn grants(permissions: &[String], wanted: &str) -> bool {
    permissions.iter().any(|p| {
        p == "*"
            || p == wanted
            || p.strip_suffix(":*").is_some_and(|res| wanted.split(':').next() == Some(res))
    })
}

/// Why a presented key was refused before lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    /// Does not start with a known `clm_…_` prefix.
    #[error("not a Clausum API key (expected clm_sk_, clm_pub_ or clm_wh_)")]
    UnknownPrefix,
    /// Wrong length or characters, or the checksum does not match.
    #[error("malformed API key (checksum mismatch: the key was mistyped or truncated)")]
    BadChecksum,
}

/// A syntactically valid key (checksum verified). Its text is a secret:
/// `Debug` shows only the display prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    kind: KeyKind,
    text: String,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({})", self.display_prefix())
    }
}

impl ApiKey {
    /// A new key from random bytes (the caller supplies them from the OS RNG).
    pub fn generate(kind: KeyKind, random: [u8; RANDOM_BYTES]) -> ApiKey {
        let mut text = String::with_capacity(kind.prefix().len() + RANDOM_LEN + CHECKSUM_LEN);
        text.push_str(kind.prefix());
        // Rejection sampling keeps the characters uniform: 248 = 4 × 62.
        let mut taken = 0;
        for &b in random.iter().filter(|&&b| b < 248) {
            if taken == RANDOM_LEN {
                break;
            }
            text.push(BASE62[usize::from(b % 62)] as char);
            taken += 1;
        }
        // Astronomically unlikely (needs > 16 of 48 bytes ≥ 248); stay total anyway.
        for &b in random.iter().take(RANDOM_LEN - taken) {
            text.push(BASE62[usize::from(b % 62)] as char);
        }
        let sum = checksum(&text);
        text.push_str(&sum);
        ApiKey { kind, text }
    }

    /// Checks prefix, length, alphabet and checksum — no lookup needed.
    pub fn parse(presented: &str) -> Result<ApiKey, KeyFormatError> {
        let kind = [KeyKind::Secret, KeyKind::Publishable, KeyKind::Ingest]
            .into_iter()
            .find(|k| presented.starts_with(k.prefix()))
            .ok_or(KeyFormatError::UnknownPrefix)?;
        let body = &presented[kind.prefix().len()..];
        if body.len() != RANDOM_LEN + CHECKSUM_LEN
            || !body.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(KeyFormatError::BadChecksum);
        }
        let (head, sum) = presented.split_at(presented.len() - CHECKSUM_LEN);
        if checksum(head) != sum {
            return Err(KeyFormatError::BadChecksum);
        }
        Ok(ApiKey { kind, text: presented.to_owned() })
    }

    /// The kind, from the prefix.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The full secret text. Show it once, then forget it.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// Hex SHA-256 of the key: what storage keeps.
    pub fn hash(&self) -> String {
        hash_key(&self.text)
    }

    /// A recognisable, non-secret label: prefix, first 4 random chars and last 4.
    pub fn display_prefix(&self) -> String {
        let p = self.kind.prefix().len();
        format!(
            "{}{}…{}",
            self.kind.prefix(),
            &self.text[p..p + 4],
            &self.text[self.text.len() - 4..]
        )
    }
}

/// Hex SHA-256 of a key's text.
pub fn hash_key(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// CRC-32 (IEEE) of `s`, as 6 base62 characters.
fn checksum(s: &str) -> String {
    let mut crc: u32 = 0xFFFF_FFFF;
    for &b in s.as_bytes() {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    let mut n = !crc;
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key(kind: KeyKind, seed: u8) -> ApiKey {
        let mut r = [0u8; RANDOM_BYTES];
        for (i, b) in r.iter_mut().enumerate() {
            *b = seed.wrapping_mul(31).wrapping_add((i as u8).wrapping_mul(7));
        }
        ApiKey::generate(kind, r)
    }

    #[test]
    fn new_key_permissions_follow_the_kind() {
        let s = |v: &[&str]| v.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        assert_eq!(permissions_for(KeyKind::Secret, None).unwrap(), s(&["*"]));
        assert_eq!(permissions_for(KeyKind::Ingest, Some(&[])).unwrap(), s(&["ingest"]));
        assert_eq!(
            permissions_for(KeyKind::Secret, Some(&s(&["fraud:report", "assess", "assess"])))
                .unwrap(),
            s(&["assess", "fraud:report"])
        );
        assert!(permissions_for(KeyKind::Secret, Some(&s(&["submerchants:*"]))).is_ok());
        assert!(permissions_for(KeyKind::Secret, Some(&s(&["ingest"]))).is_err());
        assert!(permissions_for(KeyKind::Secret, Some(&s(&["admin:*"]))).is_err());
        let e = permissions_for(KeyKind::Publishable, Some(&s(&["fraud:report"]))).unwrap_err();
        assert!(e.contains("publishable") && e.contains("fraud:report"), "{e}");
        assert!(permissions_for(KeyKind::Ingest, Some(&s(&["*"]))).is_err());
    }

    #[test]
    fn generated_keys_parse_with_their_kind() {
        for kind in [KeyKind::Secret, KeyKind::Publishable, KeyKind::Ingest] {
            let k = key(kind, 3);
            assert!(k.expose().starts_with(kind.prefix()));
            assert_eq!(k.expose().len(), kind.prefix().len() + 38);
            assert_eq!(ApiKey::parse(k.expose()).unwrap().kind(), kind);
        }
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // CRC-32/ISO-HDLC check value of "123456789" is 0xCBF43926.
        let mut n: u64 = 0xCBF4_3926;
        let mut expect = [b'0'; 6];
        for slot in expect.iter_mut().rev() {
            *slot = BASE62[(n % 62) as usize];
            n /= 62;
        }
        assert_eq!(checksum("123456789").as_bytes(), &expect);
    }

    #[test]
    fn refuses_unknown_prefixes_and_truncation() {
        assert_eq!(ApiKey::parse("sk_live_abc"), Err(KeyFormatError::UnknownPrefix));
        let k = key(KeyKind::Secret, 9);
        assert_eq!(
            ApiKey::parse(&k.expose()[..k.expose().len() - 1]),
            Err(KeyFormatError::BadChecksum)
        );
    }

    #[test]
    fn debug_and_display_prefix_hide_the_secret() {
        let k = key(KeyKind::Secret, 1);
        let dbg = format!("{k:?}");
        assert!(!dbg.contains(&k.expose()[7..30]));
        assert!(k.display_prefix().starts_with("clm_sk_"));
        assert_eq!(k.hash().len(), 64);
    }

    #[test]
    fn permission_grants() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(grants(&p(&["*"]), "fraud:report"));
        assert!(grants(&p(&["assess"]), "assess"));
        assert!(!grants(&p(&["assess"]), "fraud:report"));
        assert!(grants(&p(&["fraud:*"]), "fraud:report"));
        assert!(!grants(&p(&["fraud:*"]), "transactions:read"));
    }

    proptest! {
        #[test]
        fn any_single_character_change_is_caught(seed in any::<u8>(), pos in 7usize..45, c in "[0-9A-Za-z]") {
            let k = key(KeyKind::Secret, seed);
            let mut s: Vec<char> = k.expose().chars().collect();
            let new = c.chars().next().unwrap();
            prop_assume!(pos < s.len() && s[pos] != new);
            s[pos] = new;
            let changed: String = s.into_iter().collect();
            prop_assert_eq!(ApiKey::parse(&changed), Err(KeyFormatError::BadChecksum));
        }
    }
}
