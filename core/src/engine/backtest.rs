//! Backtests: what a draft rule set would have decided on recorded
//! transactions.
//!
//! A recorded assessment keeps the built-in signals the engine found at the
//! time — with that moment's lists, velocity and payer history. A replay
//! keeps those, drops what the rules of the time fired, and runs the draft
//! rules and the current policy's thresholds on top, through the same
//! decision stage live assess uses ([`super::apply_rules`]). So the
//! difference it reports is the rules' (and thresholds') alone.
//!
//! Rules read the request's fields, the built-in score and signals as
//! recorded. Velocity counters and payer history are not re-created: rule
//! conditions on `velocity.*` or `history.*` read 0 / unknown in a backtest.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::{Context, Fired, RequestFacts, apply_rules, prescreen};
use crate::history::HistoryView;
use crate::policy::Policy;
use crate::rules::RuleSet;
use crate::scoring::{self, Decision};
use crate::signals;
use crate::transaction::Transaction;
use crate::velocity::VelocitySnapshot;
use crate::wire::{Flow, SignalDetail};

/// One recorded assessment, as the backtest reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The request, normalised as stored.
    pub tx: Transaction,
    /// Its flow.
    pub flow: Flow,
    /// What was decided.
    pub decision: Decision,
    /// The `signal_details` that were answered.
    pub signals: Vec<SignalDetail>,
    /// The `blocked_by` that was answered.
    pub blocked_by: Option<String>,
    /// When (unix ms).
    pub at_ms: i64,
}

/// Whether a recorded signal came from the engine itself (a catalogue
/// signal or a blocklist hit), not from a custom rule.
pub fn is_builtin(code: &str) -> bool {
    code.starts_with("blocklist_") || signals::ALL.iter().any(|d| d.code == code)
}

/// The decision `rules` (with `policy`'s thresholds) would have made on `rec`.
pub fn replay(policy: &Policy, rules: &RuleSet, rec: &Recorded) -> Decision {
    let builtin: Vec<Fired> = rec
        .signals
        .iter()
        .filter(|s| is_builtin(&s.code))
        .map(|s| Fired {
            code: Cow::Owned(s.code.clone()),
            weight: s.weight,
            description: s.description.clone(),
        })
        .collect();
    // The built-in stage's hard blocks (blocklist `block`, amount over the
    // maximum) stand; a block by a rule of the time does not.
    let blocked_by =
        rec.blocked_by.clone().filter(|b| b.starts_with("blocklist:") || b == "amount_max");
    let floor = if builtin.iter().any(|f| prescreen::is_review_hit(&f.description)) {
        Decision::Review
    } else {
        Decision::Approve
    };
    let (velocity, history) = (VelocitySnapshot::default(), HistoryView::default());
    let ctx = Context {
        flow: rec.flow,
        ip_country: None,
        velocity: &velocity,
        history: &history,
        now_ms: rec.at_ms,
        // Payout facts fed the built-in signals, which are replayed as recorded.
        payout: None,
    };
    let ip = rec.tx.device.ip.as_ref().map(|ip| ip.to_string());
    let builtin_score = scoring::score(builtin.iter().map(|f| f.weight));
    let facts = RequestFacts::new(&rec.tx, ip.as_deref(), &ctx, builtin_score, &builtin);
    apply_rules(policy, rules, &facts, &builtin, floor, blocked_by).0.decision
}

/// Counts of a backtest: how many decisions, and which moved where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Transactions replayed.
    pub total: u64,
    /// Of which decided differently.
    pub changed: u64,
    /// `(recorded, replayed)` → count, for the changed ones.
    pub transitions: BTreeMap<(Decision, Decision), u64>,
}

impl Tally {
    /// Counts one replay; true when the decision changed.
    pub fn add(&mut self, recorded: Decision, replayed: Decision) -> bool {
        self.total += 1;
        if recorded == replayed {
            return false;
        }
        self.changed += 1;
        *self.transitions.entry((recorded, replayed)).or_default() += 1;
        true
    }

    /// Adds another tally's counts (replays split across threads).
    pub fn merge(&mut self, other: Tally) {
        self.total += other.total;
        self.changed += other.changed;
        for (k, v) in other.transitions {
            *self.transitions.entry(k).or_default() += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocklist::{BlocklistIndex, EntryMeta, FlowScope, ListType, Severity};
    use crate::digest::DigestKey;
    use crate::engine::{OrgConfig, assess};
    use crate::rules::Rule;
    use crate::wire::AssessRequest;

    fn tx(amount: f64, email: &str) -> Transaction {
        Transaction::from_wire(&AssessRequest {
            amount,
            currency: "MXN".into(),
            email: Some(email.into()),
            ..AssessRequest::default()
        })
        .unwrap()
    }

    fn rules(src: &[(&str, &str)]) -> RuleSet {
        RuleSet::new(
            src.iter().map(|(n, s)| ((*n).to_owned(), Rule::compile(s).unwrap())).collect(),
        )
    }

    /// Records `t` as live assess would, with `live` rules.
    fn record(policy: &Policy, index: &BlocklistIndex, live: &RuleSet, t: Transaction) -> Recorded {
        let (velocity, history) = (VelocitySnapshot::default(), HistoryView::default());
        let ctx = Context {
            flow: Flow::Payin,
            ip_country: None,
            velocity: &velocity,
            history: &history,
            now_ms: 1_000,
            payout: None,
        };
        let a = assess(&OrgConfig { policy, blocklist: index, rules: live }, &t, &ctx);
        Recorded {
            signals: a.signal_details(),
            decision: a.decision,
            blocked_by: a.blocked_by,
            tx: t,
            flow: Flow::Payin,
            at_ms: 1_000,
        }
    }

    #[test]
    fn replaying_the_live_rules_changes_nothing() {
        let policy = Policy::default();
        let mut index = BlocklistIndex::new(DigestKey::new([7; 16]));
        let meta = EntryMeta {
            list_type: ListType::Email,
            severity: Severity::Review,
            flow_scope: FlowScope::All,
            expires_at_ms: None,
            entry: 1,
        };
        index.insert(&ListType::Email.normalize("watch@example.com").unwrap(), meta);
        let live = rules(&[("big", "when amount > 500000 then decline")]);
        let history = [
            tx(100.0, "a@example.com"),
            tx(900_000.0, "b@example.com"),
            tx(100.0, "watch@example.com"),
            tx(100.0, "c@mailinator.com"),
        ];
        for t in history {
            let rec = record(&policy, &index, &live, t);
            assert_eq!(replay(&policy, &live, &rec), rec.decision, "{rec:?}");
        }
    }

    #[test]
    fn a_draft_rule_moves_exactly_the_decisions_it_matches() {
        let policy = Policy::default();
        let index = BlocklistIndex::new(DigestKey::new([7; 16]));
        let live = RuleSet::default();
        let draft = rules(&[("big", "when amount > 500000 then decline")]);
        let mut tally = Tally::default();
        for (amount, email) in
            [(100.0, "a@example.com"), (900_000.0, "b@example.com"), (600_000.0, "c@example.com")]
        {
            let rec = record(&policy, &index, &live, tx(amount, email));
            tally.add(rec.decision, replay(&policy, &draft, &rec));
        }
        assert_eq!(tally.total, 3);
        assert_eq!(tally.changed, 2);
        assert_eq!(tally.transitions.get(&(Decision::Approve, Decision::Decline)), Some(&2));
    }

    #[test]
    fn blocks_by_old_rules_are_dropped_and_builtin_blocks_stay() {
        let policy = Policy::default();
        let index = BlocklistIndex::new(DigestKey::new([7; 16]));
        let old = rules(&[("all", "when amount > 0 then decline")]);
        let rec = record(&policy, &index, &old, tx(100.0, "a@example.com"));
        assert_eq!(rec.decision, Decision::Decline);
        assert_eq!(replay(&policy, &RuleSet::default(), &rec), Decision::Approve);
        let mut amount_max = rec.clone();
        amount_max.blocked_by = Some("amount_max".into());
        assert_eq!(replay(&policy, &RuleSet::default(), &amount_max), Decision::Decline);
    }

    #[test]
    fn tallies_merge() {
        let mut a = Tally::default();
        a.add(Decision::Approve, Decision::Decline);
        let mut b = Tally::default();
        b.add(Decision::Approve, Decision::Decline);
        b.add(Decision::Review, Decision::Review);
        a.merge(b);
        assert_eq!((a.total, a.changed), (3, 2));
        assert_eq!(a.transitions[&(Decision::Approve, Decision::Decline)], 2);
    }
}
