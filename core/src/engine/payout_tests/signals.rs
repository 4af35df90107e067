//! Every payout signal, firing and not firing.

use serde_json::{Value, json};

use super::*;
use crate::beneficiaries::KnownBeneficiaries;
use crate::normalize::Email;
use crate::wire::Behavior;

#[test]
fn a_quiet_payout_fires_nothing() {
    let a = org().run(&payout(quiet()), KNOWN);
    assert!(a.signals.is_empty(), "{:?}", codes(&a));
    assert_eq!((a.decision, a.risk_score), (Decision::Approve, 0));
    assert!(a.blocked_by.is_none());
}

#[test]
fn first_beneficiary_from_the_request_or_the_records() {
    let o = org();
    let said = o.run(&quiet_with(json!({"payout": {"first_to_beneficiary": true}})), KNOWN);
    let f = fired(&said, "payout_first_beneficiary").expect("fires on the flag");
    assert_eq!(f.weight, 15);
    assert!(f.description.ends_with("(as the request says)"));

    let unknown = PayoutFacts { beneficiary_known: Some(false), new_beneficiaries_in_window: 0 };
    let recorded = o.run(&payout(quiet()), Some(unknown));
    let f = fired(&recorded, "payout_first_beneficiary").expect("fires on the records");
    assert!(f.description.ends_with("(no earlier payout on record)"));

    // Neither says so: known by the records, or nothing known at all.
    assert!(fired(&o.run(&payout(quiet()), KNOWN), "payout_first_beneficiary").is_none());
    assert!(fired(&o.run(&payout(quiet()), None), "payout_first_beneficiary").is_none());
    let cannot_tell = PayoutFacts { beneficiary_known: None, new_beneficiaries_in_window: 0 };
    assert!(
        fired(&o.run(&payout(quiet()), Some(cannot_tell)), "payout_first_beneficiary").is_none()
    );
}

#[test]
fn new_beneficiary_velocity_needs_a_new_beneficiary_past_the_limit() {
    let o = org();
    let facts =
        |known, n| Some(PayoutFacts { beneficiary_known: known, new_beneficiaries_in_window: n });
    let a = o.run(&payout(quiet()), facts(Some(false), 3));
    let f = fired(&a, "payout_new_beneficiary_velocity").expect("the fourth new one in 24 h");
    assert_eq!(f.weight, 30);
    assert_eq!(
        f.description,
        "3 new beneficiaries from this origin account in the last 24 h before this one (limit 3)"
    );
    assert_eq!(codes(&a), ["payout_first_beneficiary", "payout_new_beneficiary_velocity"]);
    assert_eq!((a.risk_score, a.decision), (45, Decision::Review));

    // Under the limit; a known beneficiary; no records at all.
    assert!(
        fired(&o.run(&payout(quiet()), facts(Some(false), 2)), "payout_new_beneficiary_velocity")
            .is_none()
    );
    assert!(
        fired(&o.run(&payout(quiet()), facts(Some(true), 10)), "payout_new_beneficiary_velocity")
            .is_none()
    );
    let flagged = quiet_with(json!({"payout": {"first_to_beneficiary": true}}));
    assert!(fired(&o.run(&flagged, None), "payout_new_beneficiary_velocity").is_none());
    // The request's own flag makes it new when the records cannot tell.
    assert!(fired(&o.run(&flagged, facts(None, 3)), "payout_new_beneficiary_velocity").is_some());

    let mut limited = org();
    limited.policy.payout.new_beneficiary_limit = 5;
    assert!(
        fired(
            &limited.run(&payout(quiet()), facts(Some(false), 4)),
            "payout_new_beneficiary_velocity"
        )
        .is_none()
    );
    assert!(
        fired(
            &limited.run(&payout(quiet()), facts(Some(false), 5)),
            "payout_new_beneficiary_velocity"
        )
        .is_some()
    );
    limited.policy.payout.new_beneficiary_limit = 0;
    assert!(
        fired(
            &limited.run(&payout(quiet()), facts(Some(false), 99)),
            "payout_new_beneficiary_velocity"
        )
        .is_none()
    );
}

/// The `i`-th of ten CLABEs at bank 012.
fn clabe(i: u64) -> String {
    crate::normalize::Clabe::from_body(&format!("0121800012345678{i}")).unwrap().to_string()
}

#[test]
fn known_beneficiaries_feed_the_signals_end_to_end() {
    let key = DigestKey::new([8; 16]);
    let o = org();
    let window = o.policy.payout.new_beneficiary_window_ms();
    let mut known = KnownBeneficiaries::new();
    let mut last = None;
    for i in 0..5 {
        let tx = quiet_with(json!({"beneficiary": {"clabe": clabe(i)}}));
        let keys = payout_keys(&key, "org_1", tx.payout.as_ref().unwrap()).unwrap();
        let facts = known.facts(&keys, NOW + i as i64, window);
        last = Some(o.run(&tx, Some(facts)));
        known.record(&keys, NOW + i as i64);
    }
    // The fifth new beneficiary in a day: three earlier ones reach the limit.
    let a = last.unwrap();
    assert!(fired(&a, "payout_new_beneficiary_velocity").unwrap().description.starts_with("4 new"));
    // Paying the first again: known, so neither signal.
    let again = quiet_with(json!({"beneficiary": {"clabe": clabe(0)}}));
    let keys = payout_keys(&key, "org_1", again.payout.as_ref().unwrap()).unwrap();
    let a = o.run(&again, Some(known.facts(&keys, NOW + 10, window)));
    assert!(a.signals.is_empty(), "{:?}", codes(&a));
}

#[test]
fn high_risk_beneficiary_countries() {
    let o = org();
    let a = o.run(&quiet_with(json!({"beneficiary": {"country": "ir", "clabe": null}})), KNOWN);
    let f =
        fired(&a, "payout_high_risk_country").expect("Iran is on the FATF call-for-action list");
    assert_eq!(f.weight, 30);
    assert_eq!(f.description, "Beneficiary country IR is on the high-risk jurisdiction list");
    // Implied by the IBAN when the country is not sent (Bulgaria: grey list).
    let implied = quiet_with(json!({"beneficiary": {"country": null, "clabe": null,
        "iban": "BG80BNBG96611020345678"}}));
    assert!(fired(&o.run(&implied, KNOWN), "payout_high_risk_country").is_some());
    // Mexico is not listed; nor is a country with no country known.
    assert!(fired(&o.run(&payout(quiet()), KNOWN), "payout_high_risk_country").is_none());
    let nowhere = quiet_with(json!({"beneficiary": {"country": null, "clabe": null}}));
    assert!(fired(&o.run(&nowhere, KNOWN), "payout_high_risk_country").is_none());

    // The organisation's own list replaces the default.
    let mut own = org();
    own.policy.payout.high_risk_countries = vec!["mx".into()];
    assert!(fired(&own.run(&payout(quiet()), KNOWN), "payout_high_risk_country").is_some());
    let iran = quiet_with(json!({"beneficiary": {"country": "IR", "clabe": null}}));
    assert!(fired(&own.run(&iran, KNOWN), "payout_high_risk_country").is_none());
}

#[test]
fn cross_border_payouts_above_the_currencys_threshold() {
    let o = org();
    let to_us = |amount: f64, currency: &str| {
        quiet_with(json!({"amount": amount, "currency": currency,
            "beneficiary": {"country": "US", "clabe": null}}))
    };
    let a = o.run(&to_us(3000.0, "USD"), KNOWN);
    let f = fired(&a, "payout_cross_border_high_amount").expect("at the USD threshold");
    assert_eq!(f.weight, 20);
    assert_eq!(
        f.description,
        "Cross-border payout MX → US of 3000.00 USD, at or above 3000.00 USD"
    );
    assert!(
        fired(&o.run(&to_us(2999.99, "USD"), KNOWN), "payout_cross_border_high_amount").is_none()
    );
    // MXN 50,000.00 to a Spanish IBAN (country implied).
    let to_spain = quiet_with(json!({"amount": 50000.0, "beneficiary": {"country": null,
        "clabe": null, "iban": "ES9121000418450200051332"}}));
    assert!(fired(&o.run(&to_spain, KNOWN), "payout_cross_border_high_amount").is_some());
    // A currency without a threshold never fires.
    assert!(
        fired(&o.run(&to_us(9_000_000.0, "JPY"), KNOWN), "payout_cross_border_high_amount")
            .is_none()
    );
    // Domestic, or no origin country to compare with.
    let domestic = quiet_with(json!({"amount": 9_000_000.0}));
    assert!(fired(&o.run(&domestic, KNOWN), "payout_cross_border_high_amount").is_none());
    let no_origin = quiet_with(json!({"amount": 5000.0, "currency": "USD",
        "beneficiary": {"country": "US", "clabe": null}, "origin": {"country": null}}));
    assert!(fired(&o.run(&no_origin, KNOWN), "payout_cross_border_high_amount").is_none());

    let mut low = org();
    low.policy.payout.cross_border_min_minor.insert("USD".into(), 100);
    assert!(
        fired(&low.run(&to_us(1.0, "USD"), KNOWN), "payout_cross_border_high_amount").is_some()
    );
}

#[test]
fn unattributed_initiators() {
    let o = org();
    let by = |v: Value| o.run(&quiet_with(json!({"payout": {"initiated_by": v}})), KNOWN);
    let missing = by(Value::Null);
    let f = fired(&missing, "payout_unattributed_initiator").expect("missing");
    assert_eq!(f.weight, 15);
    assert!(f.description.starts_with("No initiated_by"));
    assert!(
        fired(&by(json!("   ")), "payout_unattributed_initiator").is_some(),
        "blank is missing"
    );
    for generic in
        ["system", "API", " Admin ", "root", "unknown", "n/a", "test", "default", "automation"]
    {
        let a = by(json!(generic));
        let f = fired(&a, "payout_unattributed_initiator").unwrap_or_else(|| panic!("{generic}"));
        assert!(
            f.description.contains(&format!("\"{}\"", generic.trim().to_lowercase())),
            "{}",
            f.description
        );
    }
    for named in ["ops@bank.com", "u_18273", "maria.lopez", "system-of-record-7"] {
        assert!(fired(&by(json!(named)), "payout_unattributed_initiator").is_none(), "{named}");
    }
    // No payout object at all: nobody named either.
    let mut bare = quiet();
    bare.as_object_mut().unwrap().remove("payout");
    assert!(fired(&o.run(&payout(bare), KNOWN), "payout_unattributed_initiator").is_some());

    let mut own = org();
    own.policy.payout.generic_initiators = vec!["ops@bank.com".into()];
    assert!(fired(&own.run(&payout(quiet()), KNOWN), "payout_unattributed_initiator").is_some());
    assert!(
        fired(
            &own.run(&quiet_with(json!({"payout": {"initiated_by": "system"}})), KNOWN),
            "payout_unattributed_initiator"
        )
        .is_none()
    );
}

#[test]
fn payin_signals_never_fire_on_a_payout() {
    // Pay-in facts forced into a payout (the wire cannot carry them): the
    // engine skips those families for payouts rather than finding nothing.
    let mut tx = payout(quiet());
    tx.email = Some(Email::parse("x@mailinator.xyz").unwrap());
    tx.behavior = Behavior {
        session_duration_ms: Some(100),
        mouse_movements: Some(0),
        keyboard_events: None,
        copy_paste_events: Some(3),
    };
    tx.device.webdriver = Some(true);
    tx.payment_method.card_country = crate::normalize::Country::parse("US").ok();
    tx.billing.country = crate::normalize::Country::parse("MX").ok();
    let a = org().run(&tx, KNOWN);
    assert!(a.signals.is_empty(), "{:?}", codes(&a));
}

#[test]
fn payout_signals_never_fire_on_a_payin() {
    let a = org().run(
        &payin(json!({"amount": 10_000_000, "currency": "USD",
        "billing": {"country": "IR"}, "customer_id": "c"})),
        None,
    );
    assert!(codes(&a).iter().all(|c| !c.starts_with("payout_")), "{:?}", codes(&a));
}
