//! Payouts through the rest of the pipeline: blocklists and flow scope,
//! velocity and history on the origin account, rules, field warnings.

use serde_json::json;

use super::*;
use crate::history::MemoryHistory;
use crate::rules::Rule;
use crate::velocity::{MemoryVelocity, Observation, VelocityStore};

#[test]
fn every_payout_list_type_blocks_with_normalised_entries() {
    let cases = [
        (ListType::Clabe, "012-180-001234567899", json!({})),
        (
            ListType::Iban,
            "de89 3704 0044 0532 0130 00",
            json!({"beneficiary": {"iban": "DE89370400440532013000"}}),
        ),
        (
            ListType::AccountHash,
            "ABCDEF0123",
            json!({"beneficiary": {"account_hash": "abcdef0123"}}),
        ),
        (ListType::SwiftBic, "BNMXMXMMXXX", json!({"beneficiary": {"swift_bic": "bnmxmxmm"}})),
        // A bank's primary-office entry covers its branches.
        (ListType::SwiftBic, "bnmxmxmm", json!({"beneficiary": {"swift_bic": "BNMXMXMM123"}})),
        (ListType::BeneficiaryId, " ben_core_001 ", json!({})),
        (ListType::Country, "mx", json!({})),
    ];
    for (t, entry, patch) in cases {
        let mut o = org();
        o.block(t, entry, Severity::Block, FlowScope::Payout);
        let a = o.run(&quiet_with(patch), KNOWN);
        assert_eq!(
            a.blocked_by.as_deref(),
            Some(format!("blocklist:{}", t.as_str()).as_str()),
            "{t:?}"
        );
        assert_eq!((a.decision, a.risk_score), (Decision::Decline, 100));
        assert_eq!(codes(&a), [blocklist_code(t)]);
    }
    // A branch entry does not cover the whole bank.
    let mut o = org();
    o.block(ListType::SwiftBic, "BNMXMXMM123", Severity::Block, FlowScope::Payout);
    assert!(
        o.run(&quiet_with(json!({"beneficiary": {"swift_bic": "BNMXMXMM"}})), KNOWN)
            .blocked_by
            .is_none()
    );
}

#[test]
fn the_account_names_the_block_before_the_country() {
    let mut o = org();
    o.block(ListType::Country, "MX", Severity::Block, FlowScope::All);
    o.block(ListType::Clabe, "012180001234567899", Severity::Block, FlowScope::Payout);
    let a = o.run(&payout(quiet()), KNOWN);
    assert_eq!(a.blocked_by.as_deref(), Some("blocklist:clabe"));
    assert_eq!(codes(&a), ["blocklist_clabe", "blocklist_country"]);
}

#[test]
fn flow_scopes_are_isolated_both_ways() {
    let a_payout = payout(quiet());
    let a_payin = payin(
        json!({"amount": 100, "currency": "MXN", "customer_id": "cus_1", "billing": {"country": "MX"}}),
    );
    let with_customer = quiet_with(json!({"customer_id": "cus_1"}));

    for (scope, blocks_payin, blocks_payout) in [
        (FlowScope::Payin, true, false),
        (FlowScope::Payout, false, true),
        (FlowScope::All, true, true),
    ] {
        // The same kinds of entry, one scope at a time.
        let mut o = org();
        o.block(ListType::CustomerId, "cus_1", Severity::Block, scope);
        o.block(ListType::Country, "MX", Severity::Block, scope);
        o.block(ListType::Clabe, "012180001234567899", Severity::Block, scope);
        assert_eq!(o.run(&a_payin, None).blocked_by.is_some(), blocks_payin, "{scope:?} pay-in");
        assert_eq!(o.run(&a_payout, KNOWN).blocked_by.is_some(), blocks_payout, "{scope:?} payout");
        assert_eq!(
            o.run(&with_customer, KNOWN).blocked_by.is_some(),
            blocks_payout,
            "{scope:?} payout customer"
        );
    }
    // Flag and review entries respect scope too.
    let mut o = org();
    o.block(ListType::Clabe, "012180001234567899", Severity::Review, FlowScope::Payin);
    assert!(o.run(&a_payout, KNOWN).signals.is_empty());
    o.block(ListType::Clabe, "012180001234567899", Severity::Flag, FlowScope::Payout);
    let a = o.run(&a_payout, KNOWN);
    assert_eq!((codes(&a), a.risk_score), (vec!["blocklist_clabe"], 50));
}

#[test]
fn prescreen_declines_payouts_as_the_engine_does() {
    let mut o = org();
    o.block(ListType::Iban, "DE89370400440532013000", Severity::Block, FlowScope::Payout);
    let tx = quiet_with(json!({"beneficiary": {"clabe": null, "iban": "DE89370400440532013000"}}));
    let (v, h) = (VelocitySnapshot::default(), HistoryView::default());
    let ctx = Context {
        flow: Flow::Payout,
        ip_country: None,
        velocity: &v,
        history: &h,
        now_ms: NOW,
        payout: None,
    };
    let pre = prescreen::prescreen(&o.blocklist, &tx, &ctx).expect("declines");
    assert_eq!(Some(pre.blocked_by), o.run(&tx, None).blocked_by);
}

#[test]
fn velocity_and_amount_history_key_on_the_origin_account() {
    let key = DigestKey::new([5; 16]);
    let o = org();
    let small = quiet_with(json!({"amount": 1000.0}));
    let keys = payer_keys(&key, "org_1", &PayerIdentity::of(&small, None));
    assert_eq!(keys.iter().map(|k| k.0).collect::<Vec<_>>(), [Dimension::Account]);
    assert_eq!(primary_key(&keys).map(|k| k.0), Some(Dimension::Account));

    let mut history = MemoryHistory::new();
    let mut velocity = MemoryVelocity::new();
    for i in 0..10 {
        let at = NOW - 40 * 86_400_000 + i * 3_600_000;
        history.record(&keys, 100_000 + i, Decision::Approve, at);
    }
    let mut snapshot = VelocitySnapshot::default();
    for i in 0..6u64 {
        let obs = Observation {
            keys: velocity_keys(&keys),
            // 11 minutes apart: five earlier in the hour, none in 10 minutes.
            at_ms: NOW - 60 * 60_000 + i as i64 * 11 * 60_000,
            amount_minor: 100_000,
            id: i,
        };
        snapshot = velocity.observe(&obs);
    }
    let view = history.view(&keys, primary_key(&keys));
    // A trusted history earns a pay-in a discount, never a payout.
    assert!(view.is_trusted(NOW));
    let a = o.run_with(&small, KNOWN, &VelocitySnapshot::default(), &view);
    assert!(a.signals.is_empty(), "{:?}", codes(&a));

    let big = quiet_with(json!({"amount": 50000.0}));
    let a = o.run_with(&big, KNOWN, &snapshot, &view);
    let outlier = fired(&a, "amount_outlier").expect("50× the account's average");
    assert_eq!(outlier.description, "Amount is 50× this origin account's average");
    assert_eq!(
        fired(&a, "high_velocity").unwrap().description,
        "6 transactions in the last hour from this account"
    );

    // Another origin account shares none of it.
    let other = quiet_with(json!({"amount": 50000.0, "origin": {"account_id": "acct_other"}}));
    let other_keys = payer_keys(&key, "org_1", &PayerIdentity::of(&other, None));
    assert_ne!(other_keys, keys);
    let other_view = history.view(&other_keys, primary_key(&other_keys));
    assert!(
        o.run_with(&other, KNOWN, &VelocitySnapshot::default(), &other_view).signals.is_empty()
    );

    // Payouts may have their own velocity limits.
    let mut relaxed = org();
    relaxed.policy.payout.velocity = Some(crate::policy::VelocityLimits {
        count_10m: 0,
        count_1h: 50,
        count_24h: 0,
        sum_24h_minor: None,
        per_submerchant: false,
    });
    assert!(fired(&relaxed.run_with(&big, KNOWN, &snapshot, &view), "high_velocity").is_none());
}

#[test]
fn rules_read_payout_fields_whichever_guide_was_followed() {
    let mut o = org();
    o.rules = RuleSet::new(vec![
        (
            "spei_abroad".into(),
            Rule::compile(
                "when flow == \"PAYOUT\" and payout.rail == \"SPEI\" and beneficiary.country != origin.country then add 25 as spei_abroad",
            )
            .unwrap(),
        ),
        ("channel".into(), Rule::compile("when payout.channel == \"spei\" then add 1 as spei_channel").unwrap()),
        (
            "mules".into(),
            Rule::compile("when payout.beneficiary_known == false and payout.new_beneficiaries >= 2 then review as mules")
                .unwrap(),
        ),
        ("iban".into(), Rule::compile("when beneficiary.iban starts_with \"de\" then add 5 as german_iban").unwrap()),
        ("account".into(), Rule::compile("when velocity.account.count_1h >= 0 then add 1 as has_account").unwrap()),
    ]);
    let bank_guide = quiet_with(json!({"beneficiary": {"country": "CO"}}));
    let payout_guide = quiet_with(
        json!({"beneficiary": {"country": "CO"}, "payout": {"channel": "api", "rail": "spei"}}),
    );
    let rail_only = quiet_with(
        json!({"beneficiary": {"country": "CO"}, "payout": {"channel": null, "rail": "spei"}}),
    );
    assert_eq!(codes(&o.run(&bank_guide, KNOWN)), ["spei_abroad", "spei_channel"]);
    assert_eq!(codes(&o.run(&payout_guide, KNOWN)), ["spei_abroad"]);
    assert_eq!(codes(&o.run(&rail_only, KNOWN)), ["spei_abroad", "spei_channel"]);

    let mule = PayoutFacts { beneficiary_known: Some(false), new_beneficiaries_in_window: 2 };
    let a = o.run(&payout(quiet()), Some(mule));
    assert!(codes(&a).contains(&"mules"), "{:?}", codes(&a));
    assert_eq!(a.decision, Decision::Review);

    let german = quiet_with(
        json!({"beneficiary": {"country": "MX", "clabe": null, "iban": "DE89370400440532013000"}}),
    );
    assert!(codes(&o.run(&german, KNOWN)).contains(&"german_iban"));

    // The account velocity field reads the origin account's stats.
    let mut snap = VelocitySnapshot::default();
    snap.by_dimension[Dimension::Account as usize] = Some(Default::default());
    assert!(
        codes(&o.run_with(&payout(quiet()), KNOWN, &snap, &HistoryView::default()))
            .contains(&"has_account")
    );

    // On a pay-in every payout field is null.
    let a =
        o.run(&payin(json!({"amount": 1, "currency": "MXN", "billing": {"country": "CO"}})), None);
    assert!(a.signals.is_empty(), "{:?}", codes(&a));
}

#[test]
fn payout_field_warnings_follow_the_segment() {
    let mut o = org();
    o.policy.segment = crate::catalog::Segment::Banco;
    let a = o.run(&payout(quiet()), KNOWN);
    assert!(a.field_warnings.is_empty(), "{:?}", a.field_warnings);
    let bare = payout(
        json!({"amount": 1, "currency": "MXN", "beneficiary": {"clabe": "012180001234567899"}}),
    );
    let fields: Vec<String> =
        o.run(&bare, KNOWN).field_warnings.into_iter().map(|w| w.field).collect();
    assert!(fields.contains(&"origin.account_id".to_owned()), "{fields:?}");
    assert!(!fields.contains(&"beneficiary.account".to_owned()), "{fields:?}");
    assert!(
        !fields.contains(&"beneficiary.country".to_owned()),
        "the CLABE implies MX: {fields:?}"
    );
}
