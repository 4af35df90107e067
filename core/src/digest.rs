//! Keyed 128-bit digests of normalised values.
//!
//! In-memory indexes (blocklists, velocity, payer history) key their maps by
//! a digest of `(kind, normalised value)` instead of the raw string: it keeps
//! entries small at millions of rows, and a map dump reveals no email or
//! account number. The digest is keyed (SipHash-1-3 with a 128-bit key, a
//! PRF), so values cannot be confirmed by hashing guesses without the key.

use std::hash::Hasher;

use siphasher::sip128::{Hasher128, SipHasher13};

/// A 128-bit keyed digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 16]);

/// Computes digests under one secret key.
#[derive(Clone)]
pub struct DigestKey {
    k0: u64,
    k1: u64,
}

impl std::fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DigestKey(<redacted>)")
    }
}

impl DigestKey {
    /// A key from 16 secret bytes.
    pub fn new(key: [u8; 16]) -> Self {
        let (a, b) = key.split_at(8);
        DigestKey {
            k0: u64::from_le_bytes(a.try_into().expect("8 bytes")),
            k1: u64::from_le_bytes(b.try_into().expect("8 bytes")),
        }
    }

    /// Digest of a tagged value. The tag (a list type, a dimension) keeps
    /// equal strings of different kinds apart; parts are length-prefixed so
    /// `("ab", "c")` and `("a", "bc")` differ.
    ///
    /// Lengths are hashed as 8 little-endian bytes on every platform (not as
    /// a `usize`, which is 4 bytes on wasm32): the origin builds snapshots on
    /// 64-bit machines and the edge probes them from wasm32.
    pub fn digest(&self, tag: &str, parts: &[&[u8]]) -> Digest {
        let mut h = SipHasher13::new_with_keys(self.k0, self.k1);
        h.write(&(tag.len() as u64).to_le_bytes());
        h.write(tag.as_bytes());
        for p in parts {
            h.write(&(p.len() as u64).to_le_bytes());
            h.write(p);
        }
        Digest(h.finish128().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_digest_and_keys_matter() {
        let a = DigestKey::new([1; 16]);
        let b = DigestKey::new([2; 16]);
        assert_eq!(a.digest("email", &[b"x@y.com"]), a.digest("email", &[b"x@y.com"]));
        assert_ne!(a.digest("email", &[b"x@y.com"]), b.digest("email", &[b"x@y.com"]));
    }

    #[test]
    fn digests_are_the_same_on_every_platform() {
        // Computed on x86_64 before lengths were fixed at 8 bytes: the
        // in-memory digests of 64-bit origins did not change, and wasm32
        // (the edge, the browser) now computes the same.
        let k = DigestKey::new([7; 16]);
        assert_eq!(
            hex::encode(k.digest("email", &[b"a@b.co", b"xyz"]).0),
            "77a8edbd91176dd509bc257d2dae7ce6"
        );
    }

    #[test]
    fn tags_and_part_boundaries_separate_values() {
        let k = DigestKey::new([7; 16]);
        assert_ne!(k.digest("email", &[b"a"]), k.digest("phone", &[b"a"]));
        assert_ne!(k.digest("t", &[b"ab", b"c"]), k.digest("t", &[b"a", b"bc"]));
    }
}
