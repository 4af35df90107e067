//! Building an edge snapshot (the origin's side of [`super::snapshot`]).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::snapshot::{
    DIGEST_LEN, EXACT_LEN, EXPIRY_LEN, HEADER_LEN, MAGIC, RANGE_LEN, RANGE_SLOT, meta,
};
use super::{FlowScope, ListType};
use crate::digest::DigestKey;
use crate::normalize::IpRange;

/// The digest key of one organisation's snapshot: the first 16 bytes of
/// HMAC-SHA256(edge token, `clausum-edge-snapshot-v1` NUL org id).
///
/// Both sides derive it from the token they share, so the key never travels
/// with the snapshot, a copy at rest cannot be probed without the token, and
/// two organisations' snapshots share no digest.
pub fn edge_digest_key(token: &[u8], org_id: &str) -> DigestKey {
    let mut mac = Hmac::<Sha256>::new_from_slice(token).expect("HMAC takes any key length");
    mac.update(b"clausum-edge-snapshot-v1\0");
    mac.update(org_id.as_bytes());
    let out = mac.finalize().into_bytes();
    DigestKey::new(out[..16].try_into().expect("16 bytes"))
}

struct Exact {
    digest: [u8; DIGEST_LEN],
    entry: u128,
    meta: u8,
    expires_at_ms: Option<i64>,
}

struct Range {
    v4: bool,
    prefix: u8,
    bits: u128,
    entry: u128,
    meta: u8,
    expires_at_ms: Option<i64>,
}

/// Collects `block` entries and encodes them as a snapshot.
pub struct SnapshotBuilder {
    key: DigestKey,
    exact: Vec<Exact>,
    ranges: Vec<Range>,
}

impl SnapshotBuilder {
    /// An empty builder whose digests are computed under `key` (normally
    /// [`edge_digest_key`]).
    pub fn new(key: DigestKey) -> Self {
        SnapshotBuilder { key, exact: Vec::new(), ranges: Vec::new() }
    }

    /// Room for `n` more exact entries.
    pub fn reserve(&mut self, n: usize) {
        self.exact.reserve(n);
    }

    /// Adds an entry. `normalized` must come from [`ListType::normalize`];
    /// `entry` is its id in [`super::entry_key`] form. Returns false for an
    /// `ip_range` value that does not parse (it could not have been
    /// normalised), which is left out.
    pub fn push(
        &mut self,
        list_type: ListType,
        normalized: &str,
        flow_scope: FlowScope,
        expires_at_ms: Option<i64>,
        entry: u128,
    ) -> bool {
        let meta = meta(list_type, flow_scope, expires_at_ms.is_some());
        if list_type == ListType::IpRange {
            let Ok(range) = IpRange::parse(normalized) else { return false };
            self.ranges.push(Range {
                v4: range.is_ipv4(),
                prefix: range.prefix_len(),
                bits: range.network_bits(),
                entry,
                meta,
                expires_at_ms,
            });
            return true;
        }
        let full = self.key.digest(list_type.as_str(), &[normalized.as_bytes()]);
        let digest = full.0[..DIGEST_LEN].try_into().expect("prefix");
        self.exact.push(Exact { digest, entry, meta, expires_at_ms });
        true
    }

    /// Entries added so far.
    pub fn len(&self) -> usize {
        self.exact.len() + self.ranges.len()
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoded snapshot. Deterministic: the same entries in any order
    /// give the same bytes, so a hash of them is a version (an ETag).
    pub fn finish(mut self) -> Vec<u8> {
        self.exact.sort_unstable_by_key(|e| (e.digest, e.meta, e.entry, e.expires_at_ms));
        self.ranges
            .sort_unstable_by_key(|r| (r.v4, r.prefix, r.bits, r.meta, r.entry, r.expires_at_ms));
        let expiries: Vec<(u32, i64)> = self
            .exact
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i as u32, e.expires_at_ms?)))
            .chain(
                self.ranges
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| Some((RANGE_SLOT | i as u32, r.expires_at_ms?))),
            )
            .collect();
        let mut out = Vec::with_capacity(
            HEADER_LEN
                + self.exact.len() * EXACT_LEN
                + self.ranges.len() * RANGE_LEN
                + expiries.len() * EXPIRY_LEN,
        );
        out.extend_from_slice(MAGIC);
        for n in [self.exact.len(), self.ranges.len(), expiries.len(), 0] {
            out.extend_from_slice(&u32::try_from(n).expect("fewer than 2³¹ entries").to_le_bytes());
        }
        for e in &self.exact {
            out.extend_from_slice(&e.digest);
            out.extend_from_slice(&e.entry.to_le_bytes());
            out.push(e.meta);
        }
        for r in &self.ranges {
            out.extend_from_slice(&r.bits.to_le_bytes());
            out.push(r.prefix);
            out.push(if r.v4 { 4 } else { 6 });
            out.extend_from_slice(&r.entry.to_le_bytes());
            out.push(r.meta);
        }
        for (slot, until) in expiries {
            out.extend_from_slice(&slot.to_le_bytes());
            out.extend_from_slice(&until.to_le_bytes());
        }
        out
    }
}
