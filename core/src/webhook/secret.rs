//! Webhook endpoint secrets: `whsec_` followed by 32 random bytes in
//! lower-case hex (64 characters, 70 in all).
//!
//! The HMAC key is the secret's **text**: the UTF-8 bytes of the whole
//! `whsec_…` string exactly as the dashboard shows it, prefix included
//! ([`WebhookSecret::key_bytes`]). That is what Stripe does, so an integrator
//! can write `createHmac("sha256", "whsec_…")` (or `hmac.new(secret.encode(),
//! …)`) with nothing to strip or decode, and [`crate::webhook::GOLDEN`] gives
//! them vectors to test against. Hex-decoding the part after the prefix and
//! keying with those 32 bytes gives a different MAC that never matches.
//!
//! The 64 hex characters still carry 256 random bits; the fixed format keeps
//! one spelling per secret and lets a mistyped secret be refused on sight.

use std::fmt;
use std::str::FromStr;

/// The prefix of every webhook secret.
pub const PREFIX: &str = "whsec_";
/// Random bytes behind a secret's 64 hex characters (its entropy). This is
/// not the HMAC key's length: the key is the whole 70-byte text.
pub const KEY_BYTES: usize = 32;

/// Why a string is not a webhook secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretFormatError {
    /// Does not start with `whsec_`.
    #[error("not a Clausum webhook secret (expected the whsec_ prefix)")]
    MissingPrefix,
    /// The part after the prefix is not 64 lower-case hex characters.
    #[error("malformed webhook secret (expected whsec_ and 64 lower-case hex characters)")]
    BadKey,
}

/// A webhook endpoint secret. Its text is a secret: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    text: String,
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first four hex digits identify it in logs; 240 bits stay hidden.
        write!(f, "WebhookSecret({}{}…)", PREFIX, &self.text[PREFIX.len()..PREFIX.len() + 4])
    }
}

impl WebhookSecret {
    /// A new secret from 32 random bytes (the caller takes them from the OS RNG).
    pub fn from_random(random: [u8; KEY_BYTES]) -> WebhookSecret {
        WebhookSecret { text: format!("{PREFIX}{}", hex::encode(random)) }
    }

    /// Parses the exact text form: `whsec_` + 64 lower-case hex characters.
    /// No trimming and no upper case, so every secret has one spelling.
    pub fn parse(s: &str) -> Result<WebhookSecret, SecretFormatError> {
        let hex_part = s.strip_prefix(PREFIX).ok_or(SecretFormatError::MissingPrefix)?;
        if hex_part.len() != 2 * KEY_BYTES
            || !hex_part.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(SecretFormatError::BadKey);
        }
        Ok(WebhookSecret { text: s.to_owned() })
    }

    /// The full text, `whsec_…`: what the dashboard shows once and what
    /// integrators configure in their verifier.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The HMAC key: the UTF-8 bytes of the full text, `whsec_` prefix
    /// included, exactly as shown (70 bytes). Not the hex-decoded bytes.
    pub fn key_bytes(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl FromStr for WebhookSecret {
    type Err = SecretFormatError;

    fn from_str(s: &str) -> Result<WebhookSecret, SecretFormatError> {
        WebhookSecret::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(seed: u8) -> [u8; KEY_BYTES] {
        std::array::from_fn(|i| seed.wrapping_mul(29).wrapping_add(i as u8))
    }

    #[test]
    fn from_random_round_trips_through_parse() {
        let s = WebhookSecret::from_random(random(7));
        assert_eq!(s.as_str().len(), 70);
        assert!(s.as_str().starts_with("whsec_"));
        assert_eq!(hex::decode(&s.as_str()[6..]).unwrap(), random(7));
        let parsed = WebhookSecret::parse(s.as_str()).unwrap();
        assert_eq!(parsed, s);
        assert_eq!(s.as_str().parse::<WebhookSecret>().unwrap(), s);
    }

    #[test]
    fn key_is_the_text_not_the_decoded_hex() {
        let text = "whsec_000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
        let s = WebhookSecret::parse(text).unwrap();
        assert_eq!(s.key_bytes(), text.as_bytes());
        assert_eq!(s.key_bytes().len(), 70);
        let decoded: [u8; 32] = std::array::from_fn(|i| i as u8);
        assert_ne!(s.key_bytes(), decoded.as_slice());
    }

    #[test]
    fn refuses_other_forms() {
        let good = WebhookSecret::from_random(random(1)).as_str().to_owned();
        assert_eq!(WebhookSecret::parse(&good[6..]), Err(SecretFormatError::MissingPrefix));
        assert_eq!(
            WebhookSecret::parse(&good.replace("whsec_", "WHSEC_")),
            Err(SecretFormatError::MissingPrefix)
        );
        for bad in [
            good[..good.len() - 1].to_owned(),
            format!("{good}0"),
            format!(" {good}"),
            format!("{good}\n"),
            good.to_uppercase().replace("WHSEC_", "whsec_"),
            format!("whsec_{}", "g".repeat(64)),
            format!("whsec_{}", "+".repeat(64)),
            "whsec_".to_owned(),
        ] {
            assert!(WebhookSecret::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let s = WebhookSecret::from_random(random(3));
        let dbg = format!("{s:?}");
        assert!(dbg.starts_with("WebhookSecret(whsec_"));
        assert!(!dbg.contains(&s.as_str()[10..]));
        assert!(dbg.len() < 30);
    }
}
