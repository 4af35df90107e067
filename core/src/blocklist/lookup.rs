//! What matching a request needs from a blocklist store.
//!
//! The engine probes blocklists through this trait so that the same probing
//! code ([`crate::engine::blocklist_hits`]) runs against the origin's mutable
//! [`super::BlocklistIndex`] and against the edge's frozen
//! [`super::snapshot::Snapshot`]: which values are probed, how a BIN or an
//! email domain is widened, how CIDR ranges are walked — all decided once.

use super::{BlocklistIndex, Hit, ListType};
use crate::normalize::IpAddress;
use crate::wire::Flow;

/// A set of blocklist entries that can be probed.
pub trait BlocklistLookup {
    /// True when nothing can match (lets callers skip normalising probes).
    fn is_empty(&self) -> bool;

    /// The most severe active entry of `list_type` whose value equals
    /// `normalized` (from [`ListType::normalize`]) in `flow` at `now_ms`.
    fn lookup(&self, list_type: ListType, normalized: &str, flow: Flow, now_ms: i64)
    -> Option<Hit>;

    /// The most severe active CIDR range entry containing `ip`.
    fn lookup_ip_ranges(&self, ip: &IpAddress, flow: Flow, now_ms: i64) -> Option<Hit>;
}

impl BlocklistLookup for BlocklistIndex {
    fn is_empty(&self) -> bool {
        BlocklistIndex::is_empty(self)
    }

    fn lookup(
        &self,
        list_type: ListType,
        normalized: &str,
        flow: Flow,
        now_ms: i64,
    ) -> Option<Hit> {
        BlocklistIndex::lookup(self, list_type, normalized, flow, now_ms)
    }

    fn lookup_ip_ranges(&self, ip: &IpAddress, flow: Flow, now_ms: i64) -> Option<Hit> {
        BlocklistIndex::lookup_ip_ranges(self, ip, flow, now_ms)
    }
}
