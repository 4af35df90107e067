//! The engine alone, no HTTP: one assessment against an organisation with
//! 1,000,000 blocklist entries, 1,000 custom rules and live velocity on
//! every payer dimension — for pay-ins, then for payouts (1,000,000 CLABE,
//! IBAN and other payout entries, velocity and history per origin account,
//! known-beneficiary facts).
//!
//!     cargo bench -p clausum-core --bench engine

#![expect(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::hint::black_box;

use clausum_core::{
    beneficiaries::KnownBeneficiaries,
    blocklist::{BlocklistIndex, EntryMeta},
    digest::DigestKey,
    engine::{self, Context, OrgConfig, PayerIdentity},
    history::MemoryHistory,
    policy::Policy,
    rules::{Rule, RuleSet},
    synthetic,
    transaction::Transaction,
    velocity::{MemoryVelocity, Observation, VelocityStore},
    wire::Flow,
};
use criterion::{Criterion, criterion_group, criterion_main};

const ENTRIES: usize = 1_000_000;
const RULES: usize = 1_000;
const NOW: i64 = 1_800_000_000_000;

fn bench(c: &mut Criterion) {
    let key = DigestKey::new([42; 16]);
    let mut blocklist = BlocklistIndex::new(key.clone());
    for (t, raw, severity, flow_scope) in synthetic::blocklist(ENTRIES, 1) {
        let v = t.normalize(&raw).expect("synthetic values are valid");
        blocklist.insert(
            &v,
            EntryMeta { list_type: t, severity, flow_scope, expires_at_ms: None, entry: 0 },
        );
    }
    let rules = RuleSet::new(
        synthetic::rules(RULES, 1)
            .into_iter()
            .map(|(n, s)| (n, Rule::compile(&s).expect("compiles")))
            .collect(),
    );
    let policy = Policy::default();
    let org = OrgConfig { policy: &policy, blocklist: &blocklist, rules: &rules };

    // Warm velocity and history with 200k earlier transactions.
    let mut velocity = MemoryVelocity::new();
    let mut history = MemoryHistory::new();
    let txs: Vec<Transaction> =
        (0..10_000).map(|i| Transaction::from_wire(&synthetic::request(i)).unwrap()).collect();
    for i in 0..200_000u64 {
        let tx = &txs[(i % 10_000) as usize];
        let ip = tx.device.ip.as_ref().map(|ip| ip.to_string());
        let keys = engine::payer_keys(&key, "org", &PayerIdentity::of(tx, ip.as_deref()));
        let at = NOW - 3_600_000 + i as i64 * 17;
        velocity.observe(&Observation {
            keys: engine::velocity_keys(&keys),
            at_ms: at,
            amount_minor: tx.amount.minor(),
            id: i,
        });
        history.record(&keys, tx.amount.minor(), clausum_core::scoring::Decision::Approve, at);
    }
    println!(
        "blocklist entries: {}, rules: {}, velocity keys: {}",
        blocklist.len(),
        rules.len(),
        velocity.len()
    );

    let mut i = 0usize;
    c.bench_function("engine::assess (1M entries, 1k rules)", |b| {
        b.iter(|| {
            i = (i + 1) % txs.len();
            let tx = &txs[i];
            let snapshot = velocity.peek(&Observation {
                keys: engine::velocity_keys(&engine::payer_keys(
                    &key,
                    "org",
                    &PayerIdentity::of(tx, None),
                )),
                at_ms: NOW,
                amount_minor: tx.amount.minor(),
                id: 0,
            });
            let view = history.view(&[], None);
            let ctx = Context {
                flow: Flow::Payin,
                ip_country: None,
                velocity: &snapshot,
                history: &view,
                now_ms: NOW,
                payout: None,
            };
            black_box(engine::assess(&org, black_box(tx), &ctx))
        })
    });

    // The full per-request pipeline of the origin, minus HTTP and the
    // database: validate the wire request, digest payer keys, count
    // velocity, read history, assess.
    let wire: Vec<_> = (0..10_000).map(synthetic::request).collect();
    let mut j = 0u64;
    c.bench_function("validate + velocity + history + assess", |b| {
        b.iter(|| {
            j += 1;
            let tx = Transaction::from_wire(&wire[(j % 10_000) as usize]).unwrap();
            let ip = tx.device.ip.as_ref().map(|ip| ip.to_string());
            let keys = engine::payer_keys(&key, "org", &PayerIdentity::of(&tx, ip.as_deref()));
            let obs = Observation {
                keys: engine::velocity_keys(&keys),
                at_ms: NOW + j as i64,
                amount_minor: tx.amount.minor(),
                id: 1_000_000 + j,
            };
            let snapshot = velocity.observe(&obs);
            let view = history.view(&keys, engine::primary_key(&keys));
            let ctx = Context {
                flow: Flow::Payin,
                ip_country: None,
                velocity: &snapshot,
                history: &view,
                now_ms: NOW + j as i64,
                payout: None,
            };
            black_box(engine::assess(&org, &tx, &ctx))
        })
    });
}

fn bench_payout(c: &mut Criterion) {
    let key = DigestKey::new([42; 16]);
    let mut blocklist = BlocklistIndex::new(key.clone());
    for (t, raw, severity, flow_scope) in synthetic::payout_blocklist(ENTRIES, 1) {
        let v = t.normalize(&raw).expect("synthetic values are valid");
        blocklist.insert(
            &v,
            EntryMeta { list_type: t, severity, flow_scope, expires_at_ms: None, entry: 0 },
        );
    }
    let rules = RuleSet::new(
        synthetic::rules(RULES, 1)
            .into_iter()
            .map(|(n, s)| (n, Rule::compile(&s).expect("compiles")))
            .collect(),
    );
    let policy = Policy::default();
    let org = OrgConfig { policy: &policy, blocklist: &blocklist, rules: &rules };
    let window = policy.payout.new_beneficiary_window_ms();

    // Warm velocity, history and known beneficiaries with 200k earlier payouts.
    let mut velocity = MemoryVelocity::new();
    let mut history = MemoryHistory::new();
    let mut known = KnownBeneficiaries::new();
    let txs: Vec<Transaction> = (0..10_000)
        .map(|i| Transaction::from_payout_wire(&synthetic::payout_request(i)).unwrap())
        .collect();
    for i in 0..200_000u64 {
        let tx = &txs[(i % 10_000) as usize];
        let keys = engine::payer_keys(&key, "org", &PayerIdentity::of(tx, None));
        let at = NOW - 3_600_000 + i as i64 * 17;
        velocity.observe(&Observation {
            keys: engine::velocity_keys(&keys),
            at_ms: at,
            amount_minor: tx.amount.minor(),
            id: i,
        });
        history.record(&keys, tx.amount.minor(), clausum_core::scoring::Decision::Approve, at);
        let pk = engine::payout_keys(&key, "org", tx.payout.as_ref().unwrap()).unwrap();
        known.record(&pk, at);
    }
    println!(
        "payout blocklist entries: {}, rules: {}, velocity keys: {}, known pairs: {}",
        blocklist.len(),
        rules.len(),
        velocity.len(),
        known.len()
    );

    // The origin's per-payout pipeline minus HTTP and the database:
    // validate, digest keys, count velocity, read history and known
    // beneficiaries, assess.
    let wire: Vec<_> = (0..10_000).map(|i| synthetic::payout_request(i + 5_000)).collect();
    let mut j = 0u64;
    c.bench_function("payout: validate + velocity + history + beneficiaries + assess", |b| {
        b.iter(|| {
            j += 1;
            let tx = Transaction::from_payout_wire(&wire[(j % 10_000) as usize]).unwrap();
            let keys = engine::payer_keys(&key, "org", &PayerIdentity::of(&tx, None));
            let obs = Observation {
                keys: engine::velocity_keys(&keys),
                at_ms: NOW + j as i64,
                amount_minor: tx.amount.minor(),
                id: 1_000_000 + j,
            };
            let snapshot = velocity.observe(&obs);
            let view = history.view(&keys, engine::primary_key(&keys));
            let pk = engine::payout_keys(&key, "org", tx.payout.as_ref().unwrap()).unwrap();
            let ctx = Context {
                flow: Flow::Payout,
                ip_country: None,
                velocity: &snapshot,
                history: &view,
                now_ms: NOW + j as i64,
                payout: Some(known.facts(&pk, NOW + j as i64, window)),
            };
            black_box(engine::assess(&org, &tx, &ctx))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(5));
    targets = bench, bench_payout
}
criterion_main!(benches);
