//! `X-Clausum-Signature`: how every outbound webhook is signed and how a
//! receiver checks it.
//!
//! ```text
//! X-Clausum-Signature: t=1716998400,v1=<hex HMAC-SHA256(key, "1716998400.<raw body>")>
//! ```
//!
//! The timestamp is inside the signed bytes, so a captured delivery cannot be
//! replayed with a fresh `t`; receivers refuse a `t` more than
//! [`DEFAULT_TOLERANCE_S`] away from their clock, in either direction.
//! During a secret rotation the header carries one `v1=` per live secret,
//! newest first, and a receiver holding either accepts. The key is the
//! secret's text, `whsec_` prefix included, as Stripe keys its signatures
//! ([`crate::webhook::WebhookSecret::key_bytes`]); nothing is decoded.
//!
//! The same header grammar is Stripe's, so [`SignatureHeader`] also parses
//! `Stripe-Signature` (see [`crate::webhook::stripe`]).

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far (seconds, either direction) a signature's `t` may be from the
/// receiver's clock: 5 minutes, as Stripe's and Svix's libraries use.
pub const DEFAULT_TOLERANCE_S: i64 = 300;

/// Length in bytes of an HMAC-SHA256 tag (`v1` is its 64-character hex).
const TAG_BYTES: usize = 32;

/// Why a delivery was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The header is not `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`: `t` is
    /// missing, repeated or not a number, or there is no `v1`.
    #[error("malformed signature header (expected t=<unix seconds>,v1=<hex>)")]
    MalformedHeader,
    /// A signature matched, but `t` is further from now than the tolerance:
    /// a replay, or a receiver whose clock is wrong.
    #[error("signature timestamp is outside the tolerance (replayed delivery or clock skew)")]
    TimestampOutsideTolerance,
    /// No `v1` matches the body under this secret: wrong secret, or the body
    /// was changed (re-serialised JSON counts — verify the raw bytes).
    #[error("no signature matches the payload (wrong secret, or the body was altered)")]
    NoMatchingSignature,
}

/// A parsed signature header. Parts may come in any order; schemes other
/// than `t` and `v1` (Stripe's `v0`, future ones) are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    /// The signed Unix timestamp, in seconds.
    pub timestamp_s: i64,
    /// Every `v1` value, in header order, unchecked (may not even be hex).
    pub v1: Vec<&'a str>,
}

impl<'a> SignatureHeader<'a> {
    /// Parses `t=…,v1=…`. Whitespace around parts is tolerated; a missing or
    /// repeated `t`, a `t` that is not plain decimal digits, a part without
    /// `=`, or no `v1` at all is [`VerifyError::MalformedHeader`].
    pub fn parse(header: &'a str) -> Result<SignatureHeader<'a>, VerifyError> {
        let mut timestamp_s = None;
        let mut v1 = Vec::new();
        for part in header.split(',') {
            let (scheme, value) =
                part.trim().split_once('=').ok_or(VerifyError::MalformedHeader)?;
            match scheme {
                "t" => {
                    let parsed = parse_timestamp(value).ok_or(VerifyError::MalformedHeader)?;
                    if timestamp_s.replace(parsed).is_some() {
                        // Two timestamps: which one was signed is anyone's guess.
                        return Err(VerifyError::MalformedHeader);
                    }
                }
                "v1" => v1.push(value),
                _ => {}
            }
        }
        match timestamp_s {
            Some(timestamp_s) if !v1.is_empty() => Ok(SignatureHeader { timestamp_s, v1 }),
            _ => Err(VerifyError::MalformedHeader),
        }
    }

    /// Accepts if any `v1` is the HMAC-SHA256 of `"<t>.<body>"` under `key`
    /// (compared in constant time), then checks `t` is within `tolerance_s`
    /// of `now_s`. The signature is checked first so that
    /// [`VerifyError::TimestampOutsideTolerance`] always means "genuine but
    /// stale" — useful to a receiver chasing clock skew.
    pub fn verify(
        &self,
        body: &[u8],
        key: &[u8],
        now_s: i64,
        tolerance_s: i64,
    ) -> Result<(), VerifyError> {
        let mac = keyed(key, self.timestamp_s, body);
        let matched = self.v1.iter().any(|candidate| {
            let mut tag = [0u8; TAG_BYTES];
            // Not 64 hex digits: cannot be ours; skip it rather than fail, so a
            // future longer scheme can share the `v1` name without breaking us.
            hex::decode_to_slice(candidate, &mut tag).is_ok()
                && mac.clone().verify_slice(&tag).is_ok()
        });
        if !matched {
            return Err(VerifyError::NoMatchingSignature);
        }
        if now_s.abs_diff(self.timestamp_s) > tolerance_s.max(0).unsigned_abs() {
            return Err(VerifyError::TimestampOutsideTolerance);
        }
        Ok(())
    }
}

/// Unix seconds as plain ASCII digits (no sign, no spaces, no overflow).
fn parse_timestamp(value: &str) -> Option<i64> {
    if value.is_empty() || value.len() > 18 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// The MAC state after absorbing `"<t>.<body>"`.
fn keyed(key: &[u8], timestamp_s: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(timestamp_s.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Hex HMAC-SHA256 of `"<timestamp_s>.<body>"` under `key`: one `v1` value.
pub fn sign(key: &[u8], timestamp_s: i64, body: &[u8]) -> String {
    hex::encode(keyed(key, timestamp_s, body).finalize().into_bytes())
}

/// The full header value: `t=<timestamp_s>` then one `v1=` per key, in the
/// order given (during a rotation: the new key first, then the old).
pub fn header(keys: &[&[u8]], timestamp_s: i64, body: &[u8]) -> String {
    let mut out = format!("t={timestamp_s}");
    for key in keys {
        out.push_str(",v1=");
        out.push_str(&sign(key, timestamp_s, body));
    }
    out
}

/// Verifies an `X-Clausum-Signature` header against the raw body (the
/// exact bytes received, before any JSON parsing) with one key: for a
/// Clausum secret, [`crate::webhook::WebhookSecret::key_bytes`] (the
/// `whsec_…` text's bytes).
pub fn verify(
    raw_body: &[u8],
    header: &str,
    key: &[u8],
    now_s: i64,
    tolerance_s: i64,
) -> Result<(), VerifyError> {
    SignatureHeader::parse(header)?.verify(raw_body, key, now_s, tolerance_s)
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
