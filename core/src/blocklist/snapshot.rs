//! The edge snapshot: one organisation's `block` entries, frozen into a
//! compact byte string that the origin builds and the edge worker probes in
//! place.
//!
//! Values are never shipped: an exact entry is the first 12 bytes of its
//! keyed digest ([`crate::digest`]) under a per-organisation key derived from
//! the edge token ([`edge_digest_key`]), so neither the bytes on the wire nor
//! a copy at rest in the edge's cache name an email or an account number,
//! and without the token they cannot be confirmed by hashing guesses. (12
//! bytes of a keyed PRF: a false match among a million entries has odds of
//! about 1 in 10²², and cannot be aimed at without the key.) CIDR ranges are
//! kept as network prefixes, which name networks rather than people.
//!
//! Layout (little-endian), every section sorted so that equal contents give
//! equal bytes and lookups are binary searches over the bytes as received:
//!
//! | section | size | fields |
//! |---|---|---|
//! | header | 24 | `CLMSNAP1`, exact count, range count, expiry count, 0 |
//! | exact | 29 each | digest\[12\], entry id (u128), meta |
//! | ranges | 35 each | network bits (u128), prefix length, family (4/6), entry id, meta |
//! | expiries | 12 each | slot (exact index, or range index with the top bit set), unix ms |
//!
//! `meta` is the list type (low 4 bits, its position in [`ListType::ALL`]),
//! the flow scope (bits 4–5) and whether the entry expires (bit 6). At a
//! million entries that is 29 MB, held once (no per-entry allocation).

use super::{FlowScope, Hit, ListType, Severity, lookup::BlocklistLookup};
use crate::digest::DigestKey;
use crate::normalize::{IpAddress, ip::masked_bits};
use crate::wire::Flow;

pub use super::snapshot_build::{SnapshotBuilder, edge_digest_key};

/// First bytes of every snapshot (format version 1).
pub const MAGIC: &[u8; 8] = b"CLMSNAP1";
pub(super) const HEADER_LEN: usize = 24;
pub(super) const DIGEST_LEN: usize = 12;
pub(super) const EXACT_LEN: usize = DIGEST_LEN + 16 + 1;
pub(super) const RANGE_LEN: usize = 16 + 1 + 1 + 16 + 1;
pub(super) const EXPIRY_LEN: usize = 4 + 8;
pub(super) const RANGE_SLOT: u32 = 1 << 31;
const EXPIRES: u8 = 1 << 6;

/// Why bytes are not a usable snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Not a snapshot, or of another format version.
    #[error("not a version-1 blocklist snapshot")]
    Magic,
    /// The counts in the header do not match the length.
    #[error("snapshot length does not match its header")]
    Length,
    /// A record is malformed or out of order.
    #[error("snapshot record {0} is malformed or out of order")]
    Record(usize),
}

/// A parsed snapshot, probed in place.
#[derive(Debug, Clone)]
pub struct Snapshot {
    bytes: Vec<u8>,
    key: DigestKey,
    n_exact: usize,
    n_ranges: usize,
    n_expiry: usize,
    /// (is IPv4, prefix length) pairs present among the ranges, longest first.
    probes: Vec<(bool, u8)>,
}

pub(super) fn meta(list_type: ListType, scope: FlowScope, expires: bool) -> u8 {
    let t = ListType::ALL.iter().position(|&t| t == list_type).expect("listed") as u8;
    let s = match scope {
        FlowScope::Payin => 0,
        FlowScope::Payout => 1,
        FlowScope::All => 2,
    };
    t | (s << 4) | if expires { EXPIRES } else { 0 }
}

fn unmeta(m: u8) -> Option<(ListType, FlowScope)> {
    let t = *ListType::ALL.get(usize::from(m & 0x0f))?;
    let s = match (m >> 4) & 0b11 {
        0 => FlowScope::Payin,
        1 => FlowScope::Payout,
        2 => FlowScope::All,
        _ => return None,
    };
    (m & 0x80 == 0).then_some((t, s))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u128_at(b: &[u8], at: usize) -> u128 {
    u128::from_le_bytes(b[at..at + 16].try_into().expect("16 bytes"))
}

/// The sort key of range record `r`: (family, prefix length, network bits).
fn range_key(r: &[u8]) -> (bool, u8, u128) {
    (r[17] == 4, r[16], u128_at(r, 0))
}

impl Snapshot {
    /// Checks `bytes` (header, lengths, every record's fields and order) and
    /// keeps them; `key` must be the one the origin built them with.
    pub fn parse(bytes: Vec<u8>, key: DigestKey) -> Result<Snapshot, SnapshotError> {
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(SnapshotError::Magic);
        }
        let count = |at| u32_at(&bytes, at) as usize;
        let (n_exact, n_ranges, n_expiry) = (count(8), count(12), count(16));
        let expected = n_exact
            .checked_mul(EXACT_LEN)
            .and_then(|e| e.checked_add(n_ranges.checked_mul(RANGE_LEN)?))
            .and_then(|e| e.checked_add(n_expiry.checked_mul(EXPIRY_LEN)?))
            .and_then(|e| e.checked_add(HEADER_LEN));
        if expected != Some(bytes.len()) || count(20) != 0 {
            return Err(SnapshotError::Length);
        }
        let mut s = Snapshot { bytes, key, n_exact, n_ranges, n_expiry, probes: Vec::new() };
        s.validate()?;
        Ok(s)
    }

    fn validate(&mut self) -> Result<(), SnapshotError> {
        let mut prev: Option<&[u8]> = None;
        for i in 0..self.n_exact {
            let r = self.exact(i);
            let ok = unmeta(r[EXACT_LEN - 1]).is_some()
                && prev.is_none_or(|p| p[..DIGEST_LEN] <= r[..DIGEST_LEN]);
            if !ok {
                return Err(SnapshotError::Record(i));
            }
            prev = Some(r);
        }
        let mut probes = Vec::new();
        for i in 0..self.n_ranges {
            let r = self.range(i);
            let (v4, len, _) = range_key(r);
            let ok = unmeta(r[RANGE_LEN - 1]).is_some_and(|(t, _)| t == ListType::IpRange)
                && matches!(r[17], 4 | 6)
                && len <= if v4 { 32 } else { 128 }
                && (i == 0 || range_key(self.range(i - 1)) <= range_key(r));
            if !ok {
                return Err(SnapshotError::Record(self.n_exact + i));
            }
            if !probes.contains(&(v4, len)) {
                probes.push((v4, len));
            }
        }
        for i in 1..self.n_expiry {
            if self.expiry(i - 1).0 >= self.expiry(i).0 {
                return Err(SnapshotError::Record(self.n_exact + self.n_ranges + i));
            }
        }
        probes.sort_by_key(|p| std::cmp::Reverse(p.1));
        self.probes = probes;
        Ok(())
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.n_exact + self.n_ranges
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size in bytes (what it costs in memory, beyond a few words).
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    fn exact(&self, i: usize) -> &[u8] {
        let at = HEADER_LEN + i * EXACT_LEN;
        &self.bytes[at..at + EXACT_LEN]
    }

    fn range(&self, i: usize) -> &[u8] {
        let at = HEADER_LEN + self.n_exact * EXACT_LEN + i * RANGE_LEN;
        &self.bytes[at..at + RANGE_LEN]
    }

    fn expiry(&self, i: usize) -> (u32, i64) {
        let at = HEADER_LEN + self.n_exact * EXACT_LEN + self.n_ranges * RANGE_LEN + i * EXPIRY_LEN;
        let b = &self.bytes[at..at + EXPIRY_LEN];
        (u32_at(b, 0), i64::from_le_bytes(b[4..12].try_into().expect("8 bytes")))
    }

    /// Whether the entry in `slot` with meta `m` applies to `flow` at `now_ms`.
    fn applies(&self, slot: u32, m: u8, flow: Flow, now_ms: i64) -> Option<ListType> {
        let (list_type, scope) = unmeta(m)?;
        if !scope.covers(flow) {
            return None;
        }
        if m & EXPIRES != 0 {
            let at = partition_point(self.n_expiry, |j| self.expiry(j).0 < slot);
            // A flagged entry without its expiry row is treated as expired:
            // never decline on data that does not add up.
            match (at < self.n_expiry).then(|| self.expiry(at)) {
                Some((s, until)) if s == slot && until > now_ms => {}
                _ => return None,
            }
        }
        Some(list_type)
    }

    /// The first applicable entry among exact records equal to `digest`.
    fn probe_digest(&self, digest: &[u8], flow: Flow, now_ms: i64) -> Option<Hit> {
        let first = partition_point(self.n_exact, |i| &self.exact(i)[..DIGEST_LEN] < digest);
        (first..self.n_exact).take_while(|&i| &self.exact(i)[..DIGEST_LEN] == digest).find_map(
            |i| {
                let r = self.exact(i);
                let list_type = self.applies(i as u32, r[EXACT_LEN - 1], flow, now_ms)?;
                Some(Hit { list_type, severity: Severity::Block, entry: u128_at(r, DIGEST_LEN) })
            },
        )
    }
}

/// First index in `0..n` for which `before` is false (`before` must be
/// true on a prefix of the range), as `slice::partition_point`.
fn partition_point(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) { lo = mid + 1 } else { hi = mid }
    }
    lo
}

impl BlocklistLookup for Snapshot {
    fn is_empty(&self) -> bool {
        Snapshot::is_empty(self)
    }

    fn lookup(
        &self,
        list_type: ListType,
        normalized: &str,
        flow: Flow,
        now_ms: i64,
    ) -> Option<Hit> {
        if self.n_exact == 0 {
            return None;
        }
        let digest = self.key.digest(list_type.as_str(), &[normalized.as_bytes()]);
        self.probe_digest(&digest.0[..DIGEST_LEN], flow, now_ms)
    }

    fn lookup_ip_ranges(&self, ip: &IpAddress, flow: Flow, now_ms: i64) -> Option<Hit> {
        let v4 = ip.is_ipv4();
        for &(fam, len) in self.probes.iter().filter(|p| p.0 == v4) {
            let want = (fam, len, masked_bits(ip, len));
            let first = partition_point(self.n_ranges, |i| range_key(self.range(i)) < want);
            let hit = (first..self.n_ranges)
                .take_while(|&i| range_key(self.range(i)) == want)
                .find_map(|i| {
                    let r = self.range(i);
                    let slot = RANGE_SLOT | i as u32;
                    let list_type = self.applies(slot, r[RANGE_LEN - 1], flow, now_ms)?;
                    Some(Hit { list_type, severity: Severity::Block, entry: u128_at(r, 18) })
                });
            if hit.is_some() {
                return hit;
            }
        }
        None
    }
}
