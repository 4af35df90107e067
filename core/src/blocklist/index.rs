//! The in-memory blocklist index of one organisation.
//!
//! Answers "does this value hit an active entry in this flow?" in constant
//! time at millions of entries:
//! - exact values (emails, fingerprints, BINs, countries, …) live in one hash
//!   map keyed by a keyed digest of `(list type, normalised value)`; a BIN
//!   lookup probes the 6-digit prefix and the full 8 digits, a domain lookup
//!   probes the domain and its parents;
//! - CIDR ranges live in one map per (family, prefix length) keyed by the
//!   masked network bits; a lookup probes only the prefix lengths that are in
//!   use (at most 33 for IPv4, 129 for IPv6, usually a handful).
//!
//! Values are never stored, only digests, so the index holds no raw emails
//! or account numbers and can be shipped to the edge as it is.

use std::collections::{BTreeSet, HashMap};

use super::{FlowScope, ListType, Severity};
use crate::digest::{Digest, DigestKey};
use crate::normalize::{IpAddress, IpRange, ip::masked_bits};
use crate::wire::Flow;

/// What the index keeps of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryMeta {
    /// The list the entry is on.
    pub list_type: ListType,
    /// How hard it hits.
    pub severity: Severity,
    /// Which flows it applies to.
    pub flow_scope: FlowScope,
    /// When it stops applying (unix ms), if ever.
    pub expires_at_ms: Option<i64>,
    /// The entry's id in compact form ([`super::entry_key`]), so a hit can
    /// name the entry; 0 when unknown.
    pub entry: u128,
}

impl EntryMeta {
    fn active(&self, flow: Flow, now_ms: i64) -> bool {
        self.flow_scope.covers(flow) && self.expires_at_ms.is_none_or(|t| t > now_ms)
    }
}

/// A match: the most severe active entry for the probed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The list that matched.
    pub list_type: ListType,
    /// Its severity.
    pub severity: Severity,
    /// The matching entry ([`super::entry_key`] form; 0 when unknown).
    pub entry: u128,
}

/// Entries sharing one key differ only by flow scope (the database keeps
/// `(type, value, scope)` unique), so this is almost always one element.
type Slot = Vec<EntryMeta>;

/// One organisation's blocklists.
#[derive(Debug, Clone)]
pub struct BlocklistIndex {
    key: DigestKey,
    exact: HashMap<Digest, Slot>,
    ranges: HashMap<(bool, u8, u128), Slot>,
    /// (is_ipv4, prefix length) pairs present in `ranges`, with their counts.
    prefixes: HashMap<(bool, u8), usize>,
    /// The same pairs, longest prefix first, for probing.
    probe_order: BTreeSet<(bool, std::cmp::Reverse<u8>)>,
    len: usize,
    generation: u64,
}

/// The digest an exact value of `list_type` is stored under by an index
/// keyed with `key`: what replicas name a removed value by.
pub fn value_digest(key: &DigestKey, list_type: ListType, normalized: &str) -> Digest {
    key.digest(list_type.as_str(), &[normalized.as_bytes()])
}

impl BlocklistIndex {
    /// An empty index whose digests are computed under `key`.
    pub fn new(key: DigestKey) -> Self {
        BlocklistIndex {
            key,
            exact: HashMap::new(),
            ranges: HashMap::new(),
            prefixes: HashMap::new(),
            probe_order: BTreeSet::new(),
            len: 0,
            generation: 0,
        }
    }

    /// Counts changes: every insert and every removal that removed something
    /// moves it on, so a copy derived from the index (the edge snapshot)
    /// knows when it is out of date.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest an exact value of `list_type` is stored under.
    pub fn digest(&self, list_type: ListType, normalized: &str) -> Digest {
        value_digest(&self.key, list_type, normalized)
    }

    /// Adds or replaces an entry. `normalized` must come from
    /// [`ListType::normalize`]; an `ip_range` value that does not parse is
    /// ignored (it could not have been normalised).
    pub fn insert(&mut self, normalized: &str, meta: EntryMeta) {
        self.generation += 1;
        let slot = match meta.list_type {
            ListType::IpRange => {
                let Ok(range) = IpRange::parse(normalized) else {
                    return;
                };
                let k = (range.is_ipv4(), range.prefix_len(), range.network_bits());
                if !self.ranges.contains_key(&k) {
                    *self.prefixes.entry((k.0, k.1)).or_insert(0) += 1;
                    self.probe_order.insert((k.0, std::cmp::Reverse(k.1)));
                }
                self.ranges.entry(k).or_default()
            }
            t => {
                let d = self.digest(t, normalized);
                self.exact.entry(d).or_default()
            }
        };
        match slot.iter_mut().find(|m| m.flow_scope == meta.flow_scope) {
            Some(existing) => *existing = meta,
            None => {
                slot.push(meta);
                self.len += 1;
            }
        }
    }

    /// Removes the entry `(list_type, value, scope)`; returns whether it was there.
    pub fn remove(&mut self, list_type: ListType, normalized: &str, scope: FlowScope) -> bool {
        if list_type == ListType::IpRange {
            let Ok(range) = IpRange::parse(normalized) else {
                return false;
            };
            let k = (range.is_ipv4(), range.prefix_len(), range.network_bits());
            let Some(slot) = self.ranges.get_mut(&k) else {
                return false;
            };
            let removed = remove_scope(slot, scope);
            self.generation += u64::from(removed);
            if slot.is_empty() {
                self.ranges.remove(&k);
                let count = self.prefixes.get_mut(&(k.0, k.1)).expect("prefix counted");
                *count -= 1;
                if *count == 0 {
                    self.prefixes.remove(&(k.0, k.1));
                    self.probe_order.remove(&(k.0, std::cmp::Reverse(k.1)));
                }
            }
            self.len -= usize::from(removed);
            return removed;
        }
        self.remove_digest(self.digest(list_type, normalized), scope)
    }

    /// Removes the exact-value entry stored under `d` (see
    /// [`BlocklistIndex::digest`]) from `scope`; whether there was one.
    /// Replicas name removed values this way, never in clear.
    pub fn remove_digest(&mut self, d: Digest, scope: FlowScope) -> bool {
        let Some(slot) = self.exact.get_mut(&d) else {
            return false;
        };
        let removed = remove_scope(slot, scope);
        self.generation += u64::from(removed);
        if slot.is_empty() {
            self.exact.remove(&d);
        }
        self.len -= usize::from(removed);
        removed
    }

    /// Looks up one exact value.
    pub fn lookup(
        &self,
        list_type: ListType,
        normalized: &str,
        flow: Flow,
        now_ms: i64,
    ) -> Option<Hit> {
        self.lookup_digest(self.digest(list_type, normalized), flow, now_ms)
    }

    /// Looks up a precomputed digest (see [`BlocklistIndex::digest`]).
    pub fn lookup_digest(&self, digest: Digest, flow: Flow, now_ms: i64) -> Option<Hit> {
        best(self.exact.get(&digest)?, flow, now_ms)
    }

    /// Looks up an IP address against every CIDR range entry.
    pub fn lookup_ip_ranges(&self, ip: &IpAddress, flow: Flow, now_ms: i64) -> Option<Hit> {
        let v4 = ip.addr().is_ipv4();
        let mut found: Option<Hit> = None;
        for &(fam, std::cmp::Reverse(len)) in &self.probe_order {
            if fam != v4 {
                continue;
            }
            if let Some(slot) = self.ranges.get(&(fam, len, masked_bits(ip, len))) {
                found = more_severe(found, best(slot, flow, now_ms));
                if matches!(found, Some(Hit { severity: Severity::Block, .. })) {
                    break;
                }
            }
        }
        found
    }
}

fn remove_scope(slot: &mut Slot, scope: FlowScope) -> bool {
    let before = slot.len();
    slot.retain(|m| m.flow_scope != scope);
    slot.len() != before
}

fn best(slot: &Slot, flow: Flow, now_ms: i64) -> Option<Hit> {
    slot.iter().filter(|m| m.active(flow, now_ms)).max_by_key(|m| m.severity).map(|m| Hit {
        list_type: m.list_type,
        severity: m.severity,
        entry: m.entry,
    })
}

/// The more severe of two optional hits.
pub fn more_severe(a: Option<Hit>, b: Option<Hit>) -> Option<Hit> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.severity > x.severity { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(list_type: ListType, severity: Severity, flow_scope: FlowScope) -> EntryMeta {
        EntryMeta { list_type, severity, flow_scope, expires_at_ms: None, entry: 0 }
    }

    fn index() -> BlocklistIndex {
        BlocklistIndex::new(DigestKey::new([9; 16]))
    }

    #[test]
    fn exact_hits_respect_scope_and_expiry() {
        let mut ix = index();
        ix.insert("a@b.com", meta(ListType::Email, Severity::Block, FlowScope::Payin));
        assert!(ix.lookup(ListType::Email, "a@b.com", Flow::Payin, 0).is_some());
        assert!(ix.lookup(ListType::Email, "a@b.com", Flow::Payout, 0).is_none());
        // Same string on another list does not hit.
        assert!(ix.lookup(ListType::CustomerId, "a@b.com", Flow::Payin, 0).is_none());

        let mut m = meta(ListType::Phone, Severity::Flag, FlowScope::All);
        m.expires_at_ms = Some(1_000);
        ix.insert("+5215512345678", m);
        assert!(ix.lookup(ListType::Phone, "+5215512345678", Flow::Payin, 999).is_some());
        assert!(ix.lookup(ListType::Phone, "+5215512345678", Flow::Payin, 1_000).is_none());
    }

    #[test]
    fn most_severe_scope_wins_and_replace_does_not_grow() {
        let mut ix = index();
        ix.insert("x", meta(ListType::CustomerId, Severity::Review, FlowScope::All));
        ix.insert("x", meta(ListType::CustomerId, Severity::Block, FlowScope::Payin));
        assert_eq!(ix.len(), 2);
        let hit = ix.lookup(ListType::CustomerId, "x", Flow::Payin, 0).unwrap();
        assert_eq!(hit.severity, Severity::Block);
        let hit = ix.lookup(ListType::CustomerId, "x", Flow::Payout, 0).unwrap();
        assert_eq!(hit.severity, Severity::Review);
        ix.insert("x", meta(ListType::CustomerId, Severity::Flag, FlowScope::All));
        assert_eq!(ix.len(), 2);
        assert!(ix.remove(ListType::CustomerId, "x", FlowScope::Payin));
        let before = ix.generation();
        assert!(!ix.remove(ListType::CustomerId, "x", FlowScope::Payin));
        assert_eq!(ix.generation(), before, "nothing removed, nothing changed");
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn cidr_ranges_match_contained_addresses_only() {
        let mut ix = index();
        ix.insert("10.0.0.0/8", meta(ListType::IpRange, Severity::Flag, FlowScope::All));
        ix.insert("10.1.2.0/24", meta(ListType::IpRange, Severity::Block, FlowScope::All));
        ix.insert("2001:db8::/32", meta(ListType::IpRange, Severity::Review, FlowScope::All));
        let ip = |s: &str| IpAddress::parse(s).unwrap();
        let sev = |ix: &BlocklistIndex, s: &str| {
            ix.lookup_ip_ranges(&ip(s), Flow::Payin, 0).map(|h| h.severity)
        };
        assert_eq!(sev(&ix, "10.1.2.3"), Some(Severity::Block));
        assert_eq!(sev(&ix, "10.9.9.9"), Some(Severity::Flag));
        assert_eq!(sev(&ix, "11.0.0.1"), None);
        assert_eq!(sev(&ix, "2001:db8:1::5"), Some(Severity::Review));
        assert_eq!(sev(&ix, "2001:db9::1"), None);
        assert!(ix.remove(ListType::IpRange, "10.1.2.0/24", FlowScope::All));
        assert_eq!(sev(&ix, "10.1.2.3"), Some(Severity::Flag));
        assert!(ix.remove(ListType::IpRange, "10.0.0.0/8", FlowScope::All));
        assert_eq!(sev(&ix, "10.1.2.3"), None);
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn digests_depend_on_the_key() {
        let a = BlocklistIndex::new(DigestKey::new([1; 16]));
        let b = BlocklistIndex::new(DigestKey::new([2; 16]));
        assert_ne!(a.digest(ListType::Email, "a@b.com"), b.digest(ListType::Email, "a@b.com"));
    }
}
