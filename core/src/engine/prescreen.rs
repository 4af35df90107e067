//! Pre-screening: the part of an assessment that needs nothing but the
//! blocklists — does a `block` entry force a decline?
//!
//! The edge worker answers such requests itself from its snapshot; the
//! origin's full [`super::assess`] reaches the same decline for the same
//! entry, with the same signal, description and `blocked_by`, because both
//! are written here.

use std::borrow::Cow;

use super::{Context, Fired, blocklist_code, blocklist_hits};
use crate::blocklist::{BlocklistLookup, Hit, Severity};
use crate::transaction::Transaction;

/// A decline forced by `block` entries.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockDecline {
    /// `blocklist:<list type>:<entry id>` of the first hit, in the engine's
    /// probing order (email, domain, IP, range, device, BIN, …).
    pub blocked_by: String,
    /// One signal per list type hit, each weighing 100.
    pub signals: Vec<Fired>,
}

/// Weight of a `block` hit: a hard block is worth the whole score.
pub const BLOCK_WEIGHT: i32 = 100;

/// The decline the `block` entries of `ix` force on `tx`, if any. Other
/// severities are ignored: they only weigh, and weighing needs the rest of
/// the engine.
pub fn prescreen<L: BlocklistLookup + ?Sized>(
    ix: &L,
    tx: &Transaction,
    ctx: &Context<'_>,
) -> Option<BlockDecline> {
    let ip_text = tx.device.ip.as_ref().map(|ip| ip.to_string());
    let mut blocked_by = None;
    let mut signals = Vec::new();
    for hit in blocklist_hits(ix, tx, ip_text.as_deref(), ctx) {
        if hit.severity != Severity::Block {
            continue;
        }
        blocked_by.get_or_insert_with(|| blocked_by_text(&hit));
        signals.push(Fired {
            code: Cow::Borrowed(blocklist_code(hit.list_type)),
            weight: BLOCK_WEIGHT,
            description: hit_description(&hit),
        });
    }
    Some(BlockDecline { blocked_by: blocked_by?, signals })
}

/// `blocked_by` of a `block` hit: `blocklist:<type>:<entry id>`, or
/// `blocklist:<type>` when the entry's id is not known.
pub fn blocked_by_text(hit: &Hit) -> String {
    match crate::blocklist::entry_id(hit.entry) {
        Some(id) => format!("blocklist:{}:{id}", hit.list_type.as_str()),
        None => format!("blocklist:{}", hit.list_type.as_str()),
    }
}

/// The signal description of a hit.
pub fn hit_description(hit: &Hit) -> String {
    format!(
        "{} matched a blocklist entry (severity {})",
        hit.list_type.as_str(),
        hit.severity.as_str()
    )
}

/// Whether a signal description written by [`hit_description`] is a hit
/// of severity `review` (which holds the decision at review or above).
pub fn is_review_hit(description: &str) -> bool {
    description.ends_with("(severity review)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocklist::{BlocklistIndex, EntryMeta, FlowScope, ListType};
    use crate::digest::DigestKey;
    use crate::engine::{OrgConfig, assess};
    use crate::history::HistoryView;
    use crate::policy::Policy;
    use crate::rules::RuleSet;
    use crate::velocity::VelocitySnapshot;
    use crate::wire::{AssessRequest, Flow};

    fn tx(json: &str) -> Transaction {
        Transaction::from_wire(&serde_json::from_str::<AssessRequest>(json).unwrap()).unwrap()
    }

    #[test]
    fn prescreen_declines_exactly_as_the_engine_does() {
        let mut ix = BlocklistIndex::new(DigestKey::new([5; 16]));
        let meta = |list_type, severity| EntryMeta {
            list_type,
            severity,
            flow_scope: FlowScope::All,
            expires_at_ms: None,
            entry: crate::blocklist::entry_key("bl_0192f3a4b5c6d7e8f90a1b2c3d4e5f60"),
        };
        ix.insert("fraud@example.com", meta(ListType::Email, Severity::Block));
        ix.insert("203.0.113.7", meta(ListType::IpAddress, Severity::Block));
        ix.insert("411111", meta(ListType::CardBin, Severity::Flag));
        let (velocity, history) = (VelocitySnapshot::default(), HistoryView::default());
        let ctx = Context {
            flow: Flow::Payin,
            ip_country: None,
            velocity: &velocity,
            history: &history,
            now_ms: 0,
            payout: None,
        };
        let (policy, rules) = (Policy::default(), RuleSet::default());
        let org = OrgConfig { policy: &policy, blocklist: &ix, rules: &rules };

        let blocked = tx(r#"{"amount":100,"currency":"MXN","email":"Fraud@Example.com",
            "device":{"ip":"203.0.113.7"},"payment_method":{"card_bin":"411111"}}"#);
        let pre = prescreen(&ix, &blocked, &ctx).expect("declines");
        let full = assess(&org, &blocked, &ctx);
        assert_eq!(Some(pre.blocked_by.clone()), full.blocked_by);
        assert_eq!(pre.blocked_by, "blocklist:email:bl_0192f3a4b5c6d7e8f90a1b2c3d4e5f60");
        for s in &pre.signals {
            assert!(full.signals.contains(s), "{s:?} not in {:?}", full.signals);
        }
        assert_eq!(pre.signals.len(), 2, "the flag hit only weighs");

        let flagged =
            tx(r#"{"amount":100,"currency":"MXN","payment_method":{"card_bin":"411111"}}"#);
        assert_eq!(prescreen(&ix, &flagged, &ctx), None);
    }
}
