//! Verification of the webhooks Stripe sends Clausum (`Stripe-Signature`).
//!
//! Stripe's header has our grammar — `t=<unix>,v1=<hex>[,v1=…][,v0=…]` —
//! signs `"<t>.<payload>"` with HMAC-SHA256 and, like Clausum's own
//! signatures, keys it with the endpoint secret's **text**: the whole
//! `whsec_…` string, bytes as typed, not decoded (stripe-node and
//! stripe-ruby both do this). Stripe's secrets are not in our `whsec_` + 64
//! hex format, so they are taken as plain strings, not as
//! [`super::WebhookSecret`]. `v0` is Stripe's legacy test-mode scheme and is
//! ignored; any matching `v1` is accepted.
//! Tolerance is 300 s as in stripe-node's `DEFAULT_TOLERANCE`.
//!
//! Organisations paste Stripe's `webhook_secret` into Clausum; the origin
//! stores it as given and passes it here.

use super::signature::{self, SignatureHeader, VerifyError};

/// Verifies a `Stripe-Signature` header against the raw payload, keyed by
/// the endpoint secret's text (`whsec_…`, not decoded), accepting a `t`
/// within `tolerance_s` of `now_s` (use [`signature::DEFAULT_TOLERANCE_S`]).
pub fn verify_stripe(
    payload: &[u8],
    header: &str,
    secret: &str,
    now_s: i64,
    tolerance_s: i64,
) -> Result<(), VerifyError> {
    SignatureHeader::parse(header)?.verify(payload, secret.as_bytes(), now_s, tolerance_s)
}

/// A `Stripe-Signature` value as Stripe would send it (`t=…,v1=…`), for
/// tests of the origin's Stripe endpoint — like stripe-node's
/// `generateTestHeaderString`.
pub fn stripe_header(payload: &[u8], secret: &str, timestamp_s: i64) -> String {
    signature::header(&[secret.as_bytes()], timestamp_s, payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::DEFAULT_TOLERANCE_S;

    // The secret and payload of stripe-node's own webhook tests; the MACs were
    // computed independently (Python's hmac), not by this crate.
    const SECRET: &str = "whsec_test_secret";
    const PAYLOAD: &[u8] = b"{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
    const T: i64 = 1_716_998_400;
    const V1: &str = "ee333c65e3cbf17131a82cae3a0e706ff6ae0101663ffd1f1a8713c80e240fc1";
    const V1_OTHER_SECRET: &str =
        "7aeac0e68abe0dc9179c940ed6cfb30a2af74640f59d8eb0d74e1f67ff507cf7";

    fn check(header: &str, now: i64) -> Result<(), VerifyError> {
        verify_stripe(PAYLOAD, header, SECRET, now, DEFAULT_TOLERANCE_S)
    }

    #[test]
    fn reproduces_the_independent_vector() {
        assert_eq!(stripe_header(PAYLOAD, SECRET, T), format!("t={T},v1={V1}"));
        // The compact payload signs differently: the raw bytes are what count.
        assert_eq!(
            signature::sign(SECRET.as_bytes(), T, br#"{"id":"evt_test_webhook","object":"event"}"#),
            "e23d2da7afbad5b00aa0ec79e80e146453d6f82175e41a04e9f93fb4b6ee6dca"
        );
    }

    #[test]
    fn accepts_a_genuine_header_in_any_shape_stripe_sends() {
        for h in [
            format!("t={T},v1={V1}"),
            format!(
                "t={T},v1={V1},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
            ),
            format!("t={T},v1={V1_OTHER_SECRET},v1={V1}"),
            format!("v1={V1},t={T}"),
        ] {
            assert_eq!(check(&h, T), Ok(()), "{h}");
            assert_eq!(check(&h, T + 300), Ok(()), "{h}");
            assert_eq!(check(&h, T - 300), Ok(()), "{h}");
        }
    }

    #[test]
    fn the_key_is_the_secret_text_not_decoded() {
        // Stripping the whsec_ prefix (or decoding what follows) must not be tried.
        assert_eq!(
            verify_stripe(PAYLOAD, &format!("t={T},v1={V1}"), "test_secret", T, 300),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn refuses_forgeries_replays_and_malformed_headers() {
        assert_eq!(
            check(&format!("t={T},v1={V1_OTHER_SECRET}"), T),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            check(&format!("t={},v1={V1}", T + 1), T),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            verify_stripe(b"{}", &format!("t={T},v1={V1}"), SECRET, T, 300),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            check(&format!("t={T},v1={V1}"), T + 301),
            Err(VerifyError::TimestampOutsideTolerance)
        );
        assert_eq!(
            check(&format!("t={T},v1={V1}"), T - 301),
            Err(VerifyError::TimestampOutsideTolerance)
        );
        // Only a v0 (legacy test mode) is as good as no signature.
        assert_eq!(check(&format!("t={T},v0={V1}"), T), Err(VerifyError::MalformedHeader));
        assert_eq!(check(&format!("v1={V1}"), T), Err(VerifyError::MalformedHeader));
        assert_eq!(check("", T), Err(VerifyError::MalformedHeader));
    }

    #[test]
    fn a_wider_tolerance_is_honoured() {
        let h = stripe_header(PAYLOAD, SECRET, T);
        assert_eq!(verify_stripe(PAYLOAD, &h, SECRET, T + 3_600, 3_600), Ok(()));
        assert_eq!(
            verify_stripe(PAYLOAD, &h, SECRET, T + 3_601, 3_600),
            Err(VerifyError::TimestampOutsideTolerance)
        );
    }
}
