use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::blocklist::{EntryMeta, FlowScope};
use crate::history::{MemoryHistory, PayerStats};
use crate::policy::AmountLimits;
use crate::rules::Rule;
use crate::velocity::{MemoryVelocity, Observation, VelocityStore};
use crate::wire::AssessRequest;

const NOW: i64 = 1_800_000_000_000;

fn tx(v: serde_json::Value) -> Transaction {
    let req: AssessRequest = serde_json::from_value(v).expect("wire");
    Transaction::from_wire(&req).expect("valid")
}

/// An owned organisation configuration for tests.
struct Org {
    policy: Policy,
    blocklist: BlocklistIndex,
    rules: RuleSet,
}

impl Org {
    fn view(&self) -> OrgConfig<'_> {
        OrgConfig { policy: &self.policy, blocklist: &self.blocklist, rules: &self.rules }
    }
}

fn org() -> Org {
    Org {
        policy: Policy::default(),
        blocklist: BlocklistIndex::new(DigestKey::new([3; 16])),
        rules: RuleSet::new(vec![]),
    }
}

fn block(org: &mut Org, t: ListType, raw: &str, severity: Severity, scope: FlowScope) {
    let v = t.normalize(raw).unwrap();
    org.blocklist.insert(
        &v,
        EntryMeta { list_type: t, severity, flow_scope: scope, expires_at_ms: None, entry: 0 },
    );
}

fn run(org: &Org, t: &Transaction) -> Assessment {
    let velocity = VelocitySnapshot::default();
    let history = HistoryView::default();
    let ctx = Context {
        flow: Flow::Payin,
        ip_country: None,
        velocity: &velocity,
        history: &history,
        now_ms: NOW,
        payout: None,
    };
    assess(&org.view(), t, &ctx)
}

fn codes(a: &Assessment) -> Vec<&str> {
    a.signals.iter().map(|s| &*s.code).collect()
}

#[test]
fn clean_minimal_request_is_approved_with_no_signals() {
    let a = run(&org(), &tx(json!({"amount": 1500, "currency": "MXN"})));
    assert_eq!(a.decision, Decision::Approve);
    assert_eq!(a.risk_score, 0);
    assert!(a.signals.is_empty());
    assert!(a.blocked_by.is_none());
    // comercio warns about order_id, device.ip and email.
    let fields: Vec<_> = a.field_warnings.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(fields, ["order_id", "device.ip", "email"]);
}

#[test]
fn block_severity_email_forces_decline_at_100() {
    let mut o = org();
    block(&mut o, ListType::Email, "fraud@example.com", Severity::Block, FlowScope::All);
    let a = run(&o, &tx(json!({"amount": 100, "currency": "MXN", "email": "FRAUD@example.com"})));
    assert_eq!(a.decision, Decision::Decline);
    assert_eq!(a.risk_score, 100);
    assert_eq!(a.blocked_by.as_deref(), Some("blocklist:email"));
    assert_eq!(codes(&a), ["blocklist_email"]);
}

#[test]
fn payout_only_entries_do_not_touch_payins() {
    let mut o = org();
    block(&mut o, ListType::Email, "x@example.com", Severity::Block, FlowScope::Payout);
    let a = run(&o, &tx(json!({"amount": 100, "currency": "MXN", "email": "x@example.com"})));
    assert_eq!(a.decision, Decision::Approve);
}

#[test]
fn flag_and_review_entries_weigh_and_review_routes_to_review() {
    let mut o = org();
    block(&mut o, ListType::CardBin, "411111", Severity::Review, FlowScope::All);
    let t = tx(json!({"amount": 100, "currency": "MXN",
        "payment_method": {"card_bin": "41111199", "card_last4": "4242"}}));
    let a = run(&o, &t);
    assert_eq!(codes(&a), ["blocklist_card_bin"]);
    assert_eq!(a.risk_score, 25);
    assert_eq!(a.decision, Decision::Review);

    // Lowering the review weight to 0 still routes to review.
    o.policy.weights.0.insert("blocklist_card_bin".into(), 0);
    let a = run(&o, &t);
    assert_eq!(a.risk_score, 0);
    assert_eq!(a.decision, Decision::Review);

    block(&mut o, ListType::IpRange, "201.150.0.0/16", Severity::Flag, FlowScope::Payin);
    let a =
        run(&o, &tx(json!({"amount": 1, "currency": "MXN", "device": {"ip": "201.150.10.22"}})));
    assert_eq!(codes(&a), ["blocklist_ip_range"]);
    assert_eq!(a.risk_score, 50);
    assert_eq!(a.decision, Decision::Review);
}

#[test]
fn email_domain_entries_match_subdomains() {
    let mut o = org();
    block(&mut o, ListType::EmailDomain, "fraudsters.net", Severity::Block, FlowScope::All);
    let a = run(&o, &tx(json!({"amount": 1, "currency": "MXN", "email": "a@mail.fraudsters.net"})));
    assert_eq!(a.blocked_by.as_deref(), Some("blocklist:email_domain"));
}

#[test]
fn country_entries_match_card_billing_and_shipping() {
    let mut o = org();
    block(&mut o, ListType::Country, "ng", Severity::Block, FlowScope::All);
    for body in [
        json!({"amount": 1, "currency": "MXN", "payment_method": {"card_country": "NG"}}),
        json!({"amount": 1, "currency": "MXN", "billing": {"country": "ng"}}),
        json!({"amount": 1, "currency": "MXN", "shipping": {"country": "NG"}}),
    ] {
        assert_eq!(run(&o, &tx(body)).blocked_by.as_deref(), Some("blocklist:country"));
    }
}

#[test]
fn amount_over_max_is_a_hard_block_and_under_min_a_signal() {
    let mut o = org();
    o.policy
        .amount_limits
        .insert("MXN".into(), AmountLimits { min_minor: Some(100), max_minor: Some(1_000_000) });
    let a = run(&o, &tx(json!({"amount": 1_000_001, "currency": "MXN"})));
    assert_eq!((a.decision, a.risk_score), (Decision::Decline, 100));
    assert_eq!(a.blocked_by.as_deref(), Some("amount_max"));
    let a = run(&o, &tx(json!({"amount": 50, "currency": "MXN"})));
    assert_eq!(codes(&a), ["amount_below_min"]);
    // Other currencies are not limited.
    assert!(run(&o, &tx(json!({"amount": 5_000_000, "currency": "USD"}))).blocked_by.is_none());
}

#[test]
fn behaviour_email_and_geography_signals() {
    let a = run(
        &org(),
        &tx(json!({
            "amount": 1, "currency": "MXN", "email": "someone@mailinator.com",
            "device": {"user_agent": "Mozilla/5.0 HeadlessChrome/120"},
            "behavior": {"session_duration_ms": 900, "mouse_movements": 0, "copy_paste_events": 2},
            "payment_method": {"card_country": "US"},
            "billing": {"country": "MX"}, "shipping": {"country": "CO"}
        })),
    );
    let c = codes(&a);
    for expected in [
        "disposable_email",
        "short_session",
        "no_mouse_movement",
        "copy_paste",
        "automation_detected",
        "card_billing_country_mismatch",
        "shipping_billing_country_mismatch",
    ] {
        assert!(c.contains(&expected), "{expected} missing from {c:?}");
    }
    let total: i32 = a.signals.iter().map(|s| s.weight).sum();
    assert_eq!(i32::from(a.risk_score), total.clamp(0, 100));
}

#[test]
fn ip_country_mismatches_need_a_geolocated_ip() {
    let t = tx(
        json!({"amount": 1, "currency": "MXN", "payment_method": {"card_country": "MX"}, "billing": {"country": "MX"}}),
    );
    let (v, h) = (VelocitySnapshot::default(), HistoryView::default());
    let ctx = Context {
        flow: Flow::Payin,
        ip_country: Country::parse("RU").ok(),
        velocity: &v,
        history: &h,
        now_ms: NOW,
        payout: None,
    };
    let a = assess(&org().view(), &t, &ctx);
    assert_eq!(codes(&a), ["ip_billing_country_mismatch", "ip_card_country_mismatch"]);
}

#[test]
fn sixth_transaction_in_an_hour_is_high_velocity() {
    let o = org();
    let key = DigestKey::new([5; 16]);
    let t = tx(json!({"amount": 1000, "currency": "MXN", "email": "v@example.com"}));
    let keys = payer_keys(&key, "org_1", &PayerIdentity::of(&t, None));
    let mut store = MemoryVelocity::new();
    let mut last = None;
    for i in 0..6u64 {
        let obs = Observation {
            keys: velocity_keys(&keys),
            at_ms: NOW + i as i64 * 11 * 60_000,
            amount_minor: 1000,
            id: i,
        };
        last = Some(store.observe(&obs));
    }
    let snap = last.unwrap();
    let h = HistoryView::default();
    let ctx = Context {
        flow: Flow::Payin,
        ip_country: None,
        velocity: &snap,
        history: &h,
        now_ms: NOW,
        payout: None,
    };
    let a = assess(&o.view(), &t, &ctx);
    let hv = a.signals.iter().find(|s| s.code == "high_velocity").expect("fired");
    assert_eq!(hv.weight, 35);
    assert_eq!(hv.description, "6 transactions in the last hour from this email");
}

#[test]
fn velocity_can_count_each_submerchant_apart() {
    let key = DigestKey::new([5; 16]);
    let t = tx(json!({"amount": 1000, "currency": "MXN", "email": "v@example.com"}));
    let payer = payer_keys(&key, "org_1", &PayerIdentity::of(&t, None));
    let mut policy = crate::policy::Policy::default();
    let at = |p: &crate::policy::Policy, sub: Option<&str>| {
        velocity_keys_for(&key, &payer, p, false, sub)
    };

    // Off (the default): one count per organisation, whatever the submerchant.
    assert_eq!(at(&policy, Some("sm_a")), velocity_keys(&payer));
    assert_eq!(at(&policy, Some("sm_a")), at(&policy, Some("sm_b")));

    // On: each submerchant its own keys (same dimensions), no submerchant the organisation's.
    policy.velocity.per_submerchant = true;
    let (a, b) = (at(&policy, Some("sm_a")), at(&policy, Some("sm_b")));
    assert_ne!(a, b);
    assert_ne!(a, velocity_keys(&payer));
    assert_eq!(a, at(&policy, Some("sm_a")));
    assert_eq!(
        a.iter().map(|k| k.dimension).collect::<Vec<_>>(),
        payer.iter().map(|k| k.0).collect::<Vec<_>>()
    );
    assert_eq!(at(&policy, None), velocity_keys(&payer));

    // Payouts follow their own limits when they have some.
    policy.payout.velocity = Some(crate::policy::VelocityLimits::default());
    assert_eq!(velocity_keys_for(&key, &payer, &policy, true, Some("sm_a")), velocity_keys(&payer));

    // Four at submerchant A and four at B: neither reaches the 10-minute limit of 3 earlier.
    let mut store = MemoryVelocity::new();
    let mut last = VelocitySnapshot::default();
    for i in 0..8u64 {
        let keys = if i % 2 == 0 { a.clone() } else { b.clone() };
        last =
            store.observe(&Observation { keys, at_ms: NOW + i as i64, amount_minor: 1000, id: i });
    }
    assert_eq!(last.get(Dimension::Email).unwrap().get(Window::TenMinutes).count, 3);
}

#[test]
fn fraud_history_and_trusted_payers() {
    let key = DigestKey::new([5; 16]);
    let t = tx(json!({"amount": 1000, "currency": "MXN", "email": "h@example.com"}));
    let keys = payer_keys(&key, "org_1", &PayerIdentity::of(&t, None));
    let mut hist = MemoryHistory::new();
    for i in 0..4 {
        hist.record(&keys, 1000, Decision::Approve, NOW - 30 * 86_400_000 + i);
    }
    let v = VelocitySnapshot::default();
    let view = hist.view(&keys, primary_key(&keys));
    let ctx = Context {
        flow: Flow::Payin,
        ip_country: None,
        velocity: &v,
        history: &view,
        now_ms: NOW,
        payout: None,
    };
    let a = assess(&org().view(), &t, &ctx);
    assert_eq!(codes(&a), ["trusted_payer"]);
    assert_eq!(a.risk_score, 0, "negative weights floor at 0");

    hist.record_fraud(&keys);
    let view = hist.view(&keys, primary_key(&keys));
    let ctx = Context { history: &view, ..ctx };
    let a = assess(&org().view(), &t, &ctx);
    assert_eq!(codes(&a), ["fraud_history"]);
    assert_eq!(a.risk_score, 60);
    assert_eq!(a.decision, Decision::Challenge);
}

#[test]
fn amount_outliers_against_the_payers_history() {
    let stats = {
        let mut s = PayerStats::default();
        for i in 0..10 {
            s.record(1000 + i, Decision::Approve, NOW - 1000 + i);
        }
        s
    };
    let view = HistoryView { primary: Some(stats), ..Default::default() };
    let v = VelocitySnapshot::default();
    let ctx = Context {
        flow: Flow::Payin,
        ip_country: None,
        velocity: &v,
        history: &view,
        now_ms: NOW,
        payout: None,
    };
    let a = assess(&org().view(), &tx(json!({"amount": 50_000, "currency": "MXN"})), &ctx);
    assert!(codes(&a).contains(&"amount_outlier"));
}

#[test]
fn custom_rules_add_weight_and_force_decisions() {
    let mut o = org();
    o.rules = RuleSet::new(vec![
        ("big".into(), Rule::compile("when amount > 100000 then add 40 as big_ticket").unwrap()),
        ("ru".into(), Rule::compile("when billing.country == \"RU\" then decline").unwrap()),
        (
            "score".into(),
            Rule::compile("when signal.disposable_email and score >= 20 then challenge as scored")
                .unwrap(),
        ),
    ]);
    let a = run(&o, &tx(json!({"amount": 200000, "currency": "MXN"})));
    assert_eq!(codes(&a), ["big_ticket"]);
    assert_eq!((a.risk_score, a.decision), (40, Decision::Review));

    let a = run(&o, &tx(json!({"amount": 1, "currency": "MXN", "billing": {"country": "RU"}})));
    assert_eq!(a.decision, Decision::Decline);
    assert_eq!(a.blocked_by.as_deref(), Some("rule:ru"));
    assert_eq!(a.risk_score, 100);

    // A forced challenge raises a low score's decision but never lowers one.
    let a = run(&o, &tx(json!({"amount": 1, "currency": "MXN", "email": "a@mailinator.com"})));
    assert!(codes(&a).contains(&"scored"));
    assert_eq!(a.decision, Decision::Challenge);
}

#[test]
fn weight_overrides_apply_by_code() {
    let mut o = org();
    o.policy.weights.0.insert("disposable_email".into(), 90);
    let a = run(&o, &tx(json!({"amount": 1, "currency": "MXN", "email": "a@mailinator.com"})));
    assert_eq!((a.risk_score, a.decision), (90, Decision::Decline));
    assert!(a.blocked_by.is_none(), "a score decline is not a hard block");
}

fn arb_request() -> impl Strategy<Value = serde_json::Value> {
    (
        0u32..2_000_000,
        prop::sample::select(vec![
            "a@example.com",
            "b@mailinator.com",
            "c@shop.xyz",
            "d@example.mx",
        ]),
        prop::sample::select(vec!["MX", "US", "NG", "BR"]),
        prop::sample::select(vec!["MX", "US", "NG", "BR"]),
        prop::option::of(0u64..10_000),
        prop::option::of(0u64..5),
        prop::sample::select(vec!["201.150.10.22", "10.1.2.3", "2001:db8::1"]),
    )
        .prop_map(|(amount, email, cc, bc, dur, paste, ip)| {
            json!({
                "amount": amount, "currency": "MXN", "email": email,
                "payment_method": {"card_bin": "411111", "card_last4": "4242", "card_country": cc},
                "billing": {"country": bc}, "device": {"ip": ip},
                "behavior": {"session_duration_ms": dur, "copy_paste_events": paste}
            })
        })
}

fn blocking_org() -> Org {
    let mut o = org();
    block(&mut o, ListType::Country, "NG", Severity::Block, FlowScope::All);
    block(&mut o, ListType::IpRange, "10.0.0.0/8", Severity::Flag, FlowScope::All);
    block(&mut o, ListType::Email, "a@example.com", Severity::Review, FlowScope::All);
    o.policy
        .amount_limits
        .insert("MXN".into(), AmountLimits { min_minor: Some(10), max_minor: Some(1_500_000) });
    o.rules = RuleSet::new(vec![(
        "r".into(),
        Rule::compile("when amount > 900000 then add 30 as big").unwrap(),
    )]);
    o
}

proptest! {
    #[test]
    fn score_stays_within_bounds_and_blocks_always_decline(body in arb_request()) {
        let o = blocking_org();
        let a = run(&o, &tx(body));
        prop_assert!(a.risk_score <= 100);
        if a.blocked_by.is_some() {
            prop_assert_eq!(a.decision, Decision::Decline);
            prop_assert_eq!(a.risk_score, 100);
        } else {
            // Without a hard block the decision is at least the score's band.
            prop_assert!(a.decision >= o.policy.thresholds.decide(a.risk_score));
        }
    }

    #[test]
    fn the_same_request_gets_the_same_assessment(body in arb_request()) {
        let o = blocking_org();
        let t = tx(body);
        prop_assert_eq!(run(&o, &t), run(&o, &t));
    }
}
