//! Known beneficiaries: has this origin account paid this beneficiary
//! before, and how many beneficiaries has it paid for the first time
//! lately? The answers are the [`PayoutFacts`] the caller puts in
//! [`crate::engine::Context::payout`] for `payout_first_beneficiary` and
//! `payout_new_beneficiary_velocity`.
//!
//! Only keyed digests are kept ([`payout_keys`]), never account numbers: a
//! server persisting this bookkeeping stores the digests of
//! [`PayoutKeys`] and a timestamp, nothing else. [`KnownBeneficiaries`] is
//! the in-memory version for one node, as [`crate::history::MemoryHistory`]
//! is for payer history.
//!
//! Without `origin.account_id` the organisation as a whole is the origin
//! for "known" (a marketplace paying sellers from one balance still learns
//! which sellers it paid), but no new-beneficiary count is kept: every
//! first payout of such an organisation would otherwise count against one
//! shared limit.

use std::collections::{HashMap, VecDeque};

use crate::digest::{Digest, DigestKey};
use crate::policy::payout::MAX_NEW_BENEFICIARY_WINDOW_HOURS;
use crate::transaction::PayoutInfo;
use crate::velocity::Dimension;

/// What the caller knows about a payout's beneficiary, gathered before the
/// assessment (see [`KnownBeneficiaries::facts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PayoutFacts {
    /// Whether the origin account (or, without one, the organisation) paid
    /// this beneficiary before; `None` when the caller cannot tell.
    /// `Some(false)` fires `payout_first_beneficiary`.
    pub beneficiary_known: Option<bool>,
    /// Beneficiaries the origin account paid for the first time within the
    /// policy's window (`payout.new_beneficiary_window_hours`), *not*
    /// counting this payout — like velocity counts, which are of earlier
    /// transactions.
    pub new_beneficiaries_in_window: u32,
}

/// The digests one payout is kept under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayoutKeys {
    /// The origin account; equal to the [`Dimension::Account`] payer key of
    /// [`crate::engine::payer_keys`]. `None` without `origin.account_id`.
    pub origin: Option<Digest>,
    /// The beneficiary within the organisation, by its strongest identifier
    /// ([`crate::transaction::BeneficiaryInfo::identity`]).
    pub beneficiary: Digest,
    /// The (origin, beneficiary) pair: present in the store once the origin
    /// paid the beneficiary.
    pub pair: Digest,
}

/// The digests of a payout under the organisation's digest key; `None` when
/// the beneficiary has no identity (never for a validated transaction).
pub fn payout_keys(key: &DigestKey, org_id: &str, payout: &PayoutInfo) -> Option<PayoutKeys> {
    let (list_type, value) = payout.beneficiary.identity()?;
    let (org, kind, value) = (org_id.as_bytes(), list_type.as_str().as_bytes(), value.as_bytes());
    let account = payout.origin.account_id.as_deref();
    Some(PayoutKeys {
        origin: account.map(|a| key.digest(Dimension::Account.as_str(), &[org, a.as_bytes()])),
        beneficiary: key.digest("payout_beneficiary", &[org, kind, value]),
        pair: match account {
            Some(a) => key.digest("payout_pair", &[org, a.as_bytes(), kind, value]),
            None => key.digest("payout_pair_org", &[org, kind, value]),
        },
    })
}

/// First payouts older than this are forgotten by the counts: the longest
/// window a policy may set.
pub const HORIZON_MS: i64 = MAX_NEW_BENEFICIARY_WINDOW_HOURS as i64 * 3_600_000;

/// In-memory known-beneficiary bookkeeping for one node.
#[derive(Debug, Default)]
pub struct KnownBeneficiaries {
    /// Pair digest → when the origin first paid the beneficiary (unix ms).
    pairs: HashMap<Digest, i64>,
    /// Origin digest → when each of its beneficiaries was first paid,
    /// oldest first, within [`HORIZON_MS`].
    firsts: HashMap<Digest, VecDeque<i64>>,
}

impl KnownBeneficiaries {
    /// Nothing known.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of (origin, beneficiary) pairs known.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The facts of a payout about to be assessed at `now_ms`, counting new
    /// beneficiaries over the last `window_ms`.
    pub fn facts(&self, keys: &PayoutKeys, now_ms: i64, window_ms: i64) -> PayoutFacts {
        let recent = keys
            .origin
            .and_then(|o| self.firsts.get(&o))
            .map_or(0, |q| q.iter().rev().take_while(|&&t| now_ms - t < window_ms).count());
        PayoutFacts {
            beneficiary_known: Some(self.pairs.contains_key(&keys.pair)),
            new_beneficiaries_in_window: u32::try_from(recent).unwrap_or(u32::MAX),
        }
    }

    /// Records that the origin paid the beneficiary at `at_ms`; true when it
    /// had not before. Call it for payouts that were not declined: a
    /// declined payout moved no money, so its beneficiary stays new.
    pub fn record(&mut self, keys: &PayoutKeys, at_ms: i64) -> bool {
        if let Some(first) = self.pairs.get_mut(&keys.pair) {
            *first = (*first).min(at_ms);
            return false;
        }
        self.pairs.insert(keys.pair, at_ms);
        if let Some(origin) = keys.origin {
            let q = self.firsts.entry(origin).or_default();
            // Kept ordered even if rows arrive slightly out of order.
            let pos = q.iter().rposition(|&t| t <= at_ms).map_or(0, |p| p + 1);
            q.insert(pos, at_ms);
            while q.front().is_some_and(|&t| t <= at_ms - HORIZON_MS) {
                q.pop_front();
            }
        }
        true
    }

    /// Drops first-payout times older than the longest window, and origins
    /// left with none. Call now and then; pairs are kept (they are what
    /// "known" means).
    pub fn sweep(&mut self, now_ms: i64) {
        self.firsts.retain(|_, q| {
            while q.front().is_some_and(|&t| t <= now_ms - HORIZON_MS) {
                q.pop_front();
            }
            !q.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::engine::{PayerIdentity, payer_keys};
    use crate::transaction::Transaction;

    const H: i64 = 3_600_000;

    fn payout(origin: Option<&str>, clabe_body: &str) -> PayoutInfo {
        let clabe = crate::normalize::Clabe::from_body(clabe_body).unwrap();
        let mut body =
            json!({"amount": 1, "currency": "MXN", "beneficiary": {"clabe": clabe.as_str()}});
        if let Some(o) = origin {
            body["origin"] = json!({"account_id": o});
        }
        let t = Transaction::from_payout_wire(&serde_json::from_value(body).unwrap()).unwrap();
        t.payout.unwrap()
    }

    fn keys(origin: Option<&str>, clabe_body: &str) -> PayoutKeys {
        payout_keys(&DigestKey::new([9; 16]), "org_1", &payout(origin, clabe_body)).unwrap()
    }

    #[test]
    fn the_origin_digest_is_the_account_payer_key() {
        let key = DigestKey::new([9; 16]);
        let body = json!({"amount": 1, "currency": "MXN", "beneficiary": {"id": "b"},
            "origin": {"account_id": "acct_1"}});
        let t = Transaction::from_payout_wire(&serde_json::from_value(body).unwrap()).unwrap();
        let payer = payer_keys(&key, "org_1", &PayerIdentity::of(&t, None));
        let origin = payout_keys(&key, "org_1", t.payout.as_ref().unwrap()).unwrap().origin;
        assert_eq!(payer, [(Dimension::Account, origin.unwrap())]);
    }

    #[test]
    fn digests_separate_origins_beneficiaries_and_organisations() {
        let a = keys(Some("acct_1"), "00201007777777777");
        assert_eq!(a, keys(Some("acct_1"), "00201007777777777"));
        let other_beneficiary = keys(Some("acct_1"), "00201007777777778");
        assert_ne!(a.pair, other_beneficiary.pair);
        assert_eq!(a.origin, other_beneficiary.origin);
        let other_origin = keys(Some("acct_2"), "00201007777777777");
        assert_ne!(a.pair, other_origin.pair);
        assert_eq!(a.beneficiary, other_origin.beneficiary);
        let no_origin = keys(None, "00201007777777777");
        assert_eq!(no_origin.origin, None);
        assert_ne!(no_origin.pair, a.pair);
        let other_org = payout_keys(
            &DigestKey::new([9; 16]),
            "org_2",
            &payout(Some("acct_1"), "00201007777777777"),
        )
        .unwrap();
        assert_ne!(other_org.pair, a.pair);
    }

    #[test]
    fn known_after_the_first_payout_only() {
        let mut known = KnownBeneficiaries::new();
        let k = keys(Some("acct_1"), "00201007777777777");
        assert_eq!(known.facts(&k, 0, 24 * H).beneficiary_known, Some(false));
        assert!(known.record(&k, 0));
        assert!(!known.record(&k, H));
        assert_eq!(known.facts(&k, 2 * H, 24 * H).beneficiary_known, Some(true));
        // The same beneficiary from another account is new for that account.
        let other = keys(Some("acct_2"), "00201007777777777");
        assert_eq!(known.facts(&other, 2 * H, 24 * H).beneficiary_known, Some(false));
        assert_eq!(known.len(), 1);
    }

    #[test]
    fn new_beneficiaries_are_counted_per_origin_within_the_window() {
        let mut known = KnownBeneficiaries::new();
        for (i, at) in [0, 10 * H, 20 * H].into_iter().enumerate() {
            assert!(known.record(&keys(Some("acct_1"), &format!("0020100777777777{i}")), at));
        }
        // Paying a known beneficiary again adds nothing.
        known.record(&keys(Some("acct_1"), "00201007777777770"), 21 * H);
        known.record(&keys(Some("acct_2"), "00201007777777779"), 21 * H);
        let next = keys(Some("acct_1"), "00201007777777775");
        assert_eq!(known.facts(&next, 22 * H, 24 * H).new_beneficiaries_in_window, 3);
        // The first one leaves the 24-hour window.
        assert_eq!(known.facts(&next, 24 * H, 24 * H).new_beneficiaries_in_window, 2);
        assert_eq!(known.facts(&next, 24 * H, H).new_beneficiaries_in_window, 0);
        // Without an origin account nothing is counted, but "known" works.
        let mut org_level = KnownBeneficiaries::new();
        let k = keys(None, "00201007777777777");
        org_level.record(&k, 0);
        assert_eq!(
            org_level.facts(&k, 1, 24 * H),
            PayoutFacts { beneficiary_known: Some(true), new_beneficiaries_in_window: 0 }
        );
    }

    #[test]
    fn sweeping_forgets_counts_but_not_pairs() {
        let mut known = KnownBeneficiaries::new();
        let k = keys(Some("acct_1"), "00201007777777777");
        known.record(&k, 0);
        known.sweep(HORIZON_MS + 1);
        assert_eq!(
            known.facts(&k, HORIZON_MS + 1, HORIZON_MS),
            PayoutFacts { beneficiary_known: Some(true), new_beneficiaries_in_window: 0 }
        );
        assert!(known.firsts.is_empty());
    }
}
