//! Payouts through the engine. Shared fixtures here; every payout signal
//! firing and not firing in [`signals`]; blocklists and their flow scope,
//! history and velocity on the origin account, rules and field warnings in
//! [`pipeline`].

mod pipeline;
mod signals;

use serde_json::{Value, json};

use super::*;
use crate::beneficiaries::PayoutFacts;
use crate::blocklist::{EntryMeta, FlowScope};
use crate::wire::AssessRequest;

const NOW: i64 = 1_800_000_000_000;

/// The bank guide's payout, as quiet as a payout gets: domestic, a known
/// beneficiary, a named initiator.
fn quiet() -> Value {
    json!({
        "amount": 25000.00, "amount_unit": "major", "currency": "MXN",
        "beneficiary": {"id": "ben_core_001", "name": "Beneficiary SA", "country": "MX",
            "clabe": "012180001234567899"},
        "origin": {"account_id": "acct_orig_01", "country": "MX"},
        "payout": {"channel": "spei", "initiated_by": "ops@bank.com", "first_to_beneficiary": false}
    })
}

fn payout(v: Value) -> Transaction {
    Transaction::from_payout_wire(&serde_json::from_value(v).expect("wire")).expect("valid")
}

fn payin(v: Value) -> Transaction {
    Transaction::from_wire(&serde_json::from_value::<AssessRequest>(v).expect("wire"))
        .expect("valid")
}

/// `quiet()` with `patch` merged in (objects merged one level deep).
fn quiet_with(patch: Value) -> Transaction {
    let mut v = quiet();
    for (k, x) in patch.as_object().unwrap() {
        match (v.get_mut(k), x) {
            (Some(Value::Object(base)), Value::Object(over)) => {
                for (kk, xx) in over {
                    base.insert(kk.clone(), xx.clone());
                }
            }
            _ => v[k] = x.clone(),
        }
    }
    payout(v)
}

struct Org {
    policy: Policy,
    blocklist: BlocklistIndex,
    rules: RuleSet,
}

fn org() -> Org {
    Org {
        policy: Policy::default(),
        blocklist: BlocklistIndex::new(DigestKey::new([3; 16])),
        rules: RuleSet::new(vec![]),
    }
}

impl Org {
    fn block(&mut self, t: ListType, raw: &str, severity: Severity, scope: FlowScope) {
        let v = t.normalize(raw).unwrap();
        self.blocklist.insert(
            &v,
            EntryMeta { list_type: t, severity, flow_scope: scope, expires_at_ms: None, entry: 0 },
        );
    }

    fn run_with(
        &self,
        tx: &Transaction,
        facts: Option<PayoutFacts>,
        velocity: &VelocitySnapshot,
        history: &HistoryView,
    ) -> Assessment {
        let config =
            OrgConfig { policy: &self.policy, blocklist: &self.blocklist, rules: &self.rules };
        let ctx = Context {
            flow: tx.flow(),
            ip_country: None,
            velocity,
            history,
            now_ms: NOW,
            payout: facts,
        };
        assess(&config, tx, &ctx)
    }

    fn run(&self, tx: &Transaction, facts: Option<PayoutFacts>) -> Assessment {
        self.run_with(tx, facts, &VelocitySnapshot::default(), &HistoryView::default())
    }
}

fn codes(a: &Assessment) -> Vec<&str> {
    a.signals.iter().map(|s| &*s.code).collect()
}

fn fired<'a>(a: &'a Assessment, code: &str) -> Option<&'a Fired> {
    a.signals.iter().find(|s| s.code == code)
}

const KNOWN: Option<PayoutFacts> =
    Some(PayoutFacts { beneficiary_known: Some(true), new_beneficiaries_in_window: 0 });
