//! Golden vectors for `X-Clausum-Signature`: fixed secrets, timestamps and
//! bodies with the exact header Clausum sends for them.
//!
//! The HMAC key is each secret's full text (`whsec_…`, UTF-8 bytes, prefix
//! included). The vectors were computed by an independent implementation —
//! Python's `hmac.new(secret.encode(), f"{t}.".encode() + body, sha256)`,
//! cross-checked with `openssl dgst -sha256 -hmac <secret>` — and frozen
//! here; the tests prove this crate reproduces them byte for byte. The same
//! vectors live in `golden_vectors.json` beside this file, which the npm
//! verifier's tests (`npm/test/webhook.test.js`) read, so both sides are
//! pinned to one contract. Changing a vector is changing the wire format: don't. (It
//! changed once, when the key went from the hex-decoded bytes to the text
//! to match Stripe; the secrets, timestamps and bodies stayed the same.)

/// One signed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoldenVector {
    /// The secret the receiver holds (`whsec_…`, as shown in the dashboard).
    pub secret: &'static str,
    /// The signed Unix timestamp (seconds).
    pub timestamp: i64,
    /// The raw body; its UTF-8 bytes are what is signed.
    pub body: &'static str,
    /// The full `X-Clausum-Signature` value.
    pub header: &'static str,
    /// The secrets the sender signed with, in header order (two during a
    /// rotation: new, then old). `secret` is one of them.
    pub signed_with: &'static [&'static str],
}

const S1: &str = "whsec_000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const S_NEW: &str = "whsec_404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";
const S_OLD: &str = "whsec_808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
const ROTATION_BODY: &str =
    r#"{"event":"dispute.created","data":{"dispute":{"id":"dp_1","status":"open"}}}"#;
const ROTATION_HEADER: &str = "t=1716998520,\
    v1=6910318b9a2d476918dff2f920b45145fb1cc6f85a758893e49af08f60d7b2ba,\
    v1=974e2144baf8c2d566488f47e80878b760e5387c0eeffb009b22878c7fcd255f";

/// The vectors: a plain body, a body with non-ASCII text, a rotation header
/// checked by a holder of the new and of the old secret, and an empty body.
pub const GOLDEN: &[GoldenVector] = &[
    GoldenVector {
        secret: S1,
        timestamp: 1_716_998_400,
        body: r#"{"event":"fraud.detected","timestamp":"2024-05-29T16:00:00.000Z","data":{"transaction_id":"txn_0001","reason":"chargeback"}}"#,
        header: "t=1716998400,v1=f1ab16278405bdbfdf1284e644387d0805876532693e44f3a1dee8397b9e8077",
        signed_with: &[S1],
    },
    GoldenVector {
        secret: S1,
        timestamp: 1_716_998_460,
        body: r#"{"event":"case.created","data":{"holder":"José Núñez","note":"Contracargo — tarjeta clonada 💳","amount":"1 234,56 €"}}"#,
        header: "t=1716998460,v1=f38c94123ccbd5c97d45de6d1ecb7277a69f8f509f73052094201897c65b584c",
        signed_with: &[S1],
    },
    GoldenVector {
        secret: S_NEW,
        timestamp: 1_716_998_520,
        body: ROTATION_BODY,
        header: ROTATION_HEADER,
        signed_with: &[S_NEW, S_OLD],
    },
    GoldenVector {
        secret: S_OLD,
        timestamp: 1_716_998_520,
        body: ROTATION_BODY,
        header: ROTATION_HEADER,
        signed_with: &[S_NEW, S_OLD],
    },
    GoldenVector {
        secret: S1,
        timestamp: 1_700_000_000,
        body: "",
        header: "t=1700000000,v1=6bcff3e93966a738134235a3a0b6dd1ea2ce8cf59c594f9a0f33ed73a5518f12",
        signed_with: &[S1],
    },
];

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::webhook::{DEFAULT_TOLERANCE_S, VerifyError, WebhookSecret, header, verify};

    fn key(secret: &str) -> Vec<u8> {
        let key = WebhookSecret::parse(secret).unwrap().key_bytes().to_vec();
        assert_eq!(key, secret.as_bytes());
        key
    }

    /// The 32 bytes the hex after `whsec_` encodes: the key of the old,
    /// abandoned scheme.
    fn decoded(secret: &str) -> Vec<u8> {
        hex::decode(secret.strip_prefix("whsec_").unwrap()).unwrap()
    }

    #[test]
    fn the_code_reproduces_every_vector_exactly() {
        for v in GOLDEN {
            let keys: Vec<Vec<u8>> = v.signed_with.iter().map(|s| key(s)).collect();
            let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
            assert_eq!(header(&keys, v.timestamp, v.body.as_bytes()), v.header, "{v:?}");
            assert!(v.signed_with.contains(&v.secret));
        }
    }

    #[test]
    fn every_vector_verifies_with_its_secret_only() {
        for v in GOLDEN {
            let k = key(v.secret);
            let body = v.body.as_bytes();
            assert_eq!(verify(body, v.header, &k, v.timestamp, DEFAULT_TOLERANCE_S), Ok(()));
            // The secret's text as given is the key: no decoding needed.
            assert_eq!(
                verify(body, v.header, v.secret.as_bytes(), v.timestamp, DEFAULT_TOLERANCE_S),
                Ok(())
            );
            // A secret the sender did not sign with: never matches.
            for other in [S1, S_NEW, S_OLD].iter().filter(|s| !v.signed_with.contains(s)) {
                assert_eq!(
                    verify(body, v.header, &key(other), v.timestamp, DEFAULT_TOLERANCE_S),
                    Err(VerifyError::NoMatchingSignature)
                );
            }
            // Keyed by the hex-decoded bytes instead of the text: never matches.
            assert_eq!(
                verify(body, v.header, &decoded(v.secret), v.timestamp, DEFAULT_TOLERANCE_S),
                Err(VerifyError::NoMatchingSignature)
            );
            assert_eq!(
                verify(body, v.header, &k, v.timestamp + 301, DEFAULT_TOLERANCE_S),
                Err(VerifyError::TimestampOutsideTolerance)
            );
        }
    }

    #[test]
    fn vectors_cover_unicode_rotation_and_empty_bodies() {
        assert!(GOLDEN.len() >= 3);
        assert!(GOLDEN.iter().any(|v| !v.body.is_ascii()));
        assert!(
            GOLDEN.iter().any(|v| v.signed_with.len() == 2 && v.header.matches("v1=").count() == 2)
        );
        assert!(GOLDEN.iter().any(|v| v.body.is_empty()));
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct JsonVector {
        secret: String,
        timestamp: i64,
        body: String,
        header: String,
        signed_with: Vec<String>,
    }

    #[test]
    fn the_json_file_equals_the_const() {
        let file: Vec<JsonVector> =
            serde_json::from_str(include_str!("golden_vectors.json")).unwrap();
        let consts: Vec<JsonVector> = GOLDEN
            .iter()
            .map(|v| JsonVector {
                secret: v.secret.into(),
                timestamp: v.timestamp,
                body: v.body.into(),
                header: v.header.into(),
                signed_with: v.signed_with.iter().map(|s| s.to_string()).collect(),
            })
            .collect();
        assert_eq!(file, consts);
    }
}
