use clausum_core::blocklist::{
    FlowScope, ListType, entry_key,
    snapshot::{Snapshot, SnapshotBuilder, edge_digest_key},
};

use super::*;

const ENTRY: &str = "bl_0192f3a4b5c6d7e8f90a1b2c3d4e5f60";

fn snapshot() -> Snapshot {
    let key = edge_digest_key(b"token", "org_1");
    let mut b = SnapshotBuilder::new(key.clone());
    let mut push = |t: ListType, raw: &str, scope| {
        b.push(t, &t.normalize(raw).unwrap(), scope, None, entry_key(ENTRY));
    };
    push(ListType::Email, "fraud@example.com", FlowScope::All);
    push(ListType::CardBin, "400000", FlowScope::Payin);
    push(ListType::IpRange, "198.51.100.0/24", FlowScope::All);
    push(ListType::Clabe, "032180000118359719", FlowScope::Payout);
    Snapshot::parse(b.finish(), key).unwrap()
}

fn run(body: &str, header: Option<&str>) -> Screen {
    let req = Incoming {
        flow: Flow::Payin,
        body: body.as_bytes(),
        idempotency_header: header,
        started_ms: 1_000,
    };
    screen(&snapshot(), &req, 1_004, || FreshIds {
        transaction_id: "txn_1".into(),
        session_id: "ps_1716998400000_abcdefghi".into(),
    })
}

fn declined(body: &str) -> Decline {
    match run(body, None) {
        Screen::Decline(d) => *d,
        Screen::Forward => panic!("forwarded: {body}"),
    }
}

#[test]
fn blocklisted_email_bin_and_ip_are_declined_in_the_origins_shape() {
    let d = declined(
        r#"{"amount":1500,"currency":"MXN","email":" Fraud@EXAMPLE.com","order_id":"o1"}"#,
    );
    assert_eq!(d.blocked_by, format!("blocklist:email:{ENTRY}"));
    let body: AssessResponse = serde_json::from_value(d.body.clone()).expect("origin shape");
    assert_eq!(body.decision, Decision::Decline);
    assert_eq!(body.risk_score, 100);
    assert_eq!(body.signals, vec!["blocklist_email"]);
    assert_eq!(body.latency_ms, 4);
    assert_eq!(body.transaction_id, "txn_1");
    assert_eq!(body.order_id.as_deref(), Some("o1"));
    assert_eq!(d.body[DECIDED_BY_FIELD], "edge");

    let d = declined(r#"{"amount":1,"currency":"MXN","payment_method":{"card_bin":"40000012"}}"#);
    assert!(d.blocked_by.starts_with("blocklist:card_bin:"));
    let d = declined(
        r#"{"amount":1,"currency":"MXN","device":{"ip":"198.51.100.9"},
        "session_id":"ps_1716998400000_zzzzzz"}"#,
    );
    assert!(d.blocked_by.starts_with("blocklist:ip_range:"));
    assert_eq!(d.session_id, "ps_1716998400000_zzzzzz", "the SDK's session id is kept");
}

#[test]
fn a_request_with_an_idempotency_key_is_the_origins() {
    let blocked = r#"{"amount":1,"currency":"MXN","email":"fraud@example.com""#;
    let with = |extra: &str| format!("{blocked}{extra}}}");
    // The key by any of the origin's three ways: forwarded, even on a hit.
    for header in ["retry-7", "bad\u{7}key", ""] {
        assert_eq!(run(&with(""), Some(header)), Screen::Forward, "header {header:?}");
    }
    assert_eq!(run(&with(r#","idempotency_key":"k1""#), None), Screen::Forward);
    assert_eq!(run(&with(r#","order_id":"o","payment_id":"p""#), None), Screen::Forward);
    // Half a pair is no key: declined here, and the answer names none.
    for extra in [r#","order_id":"o""#, r#","payment_id":"p""#, ""] {
        match run(&with(extra), None) {
            Screen::Decline(d) => assert!(d.body["idempotency_key"].is_null(), "{extra}"),
            Screen::Forward => panic!("forwarded: {extra}"),
        }
    }
}

#[test]
fn the_idempotency_rule_reads_the_normalised_request() {
    let tx = |body: &str| {
        let wire = serde_json::from_str::<AssessRequest>(body).unwrap();
        Transaction::from_wire(&wire).unwrap()
    };
    let bare = tx(r#"{"amount":1,"currency":"MXN"}"#);
    assert!(!carries_idempotency_key(None, &bare));
    assert!(carries_idempotency_key(Some("k"), &bare));
    let pair = tx(r#"{"amount":1,"currency":"MXN","order_id":" o ","payment_id":"p"}"#);
    assert!(carries_idempotency_key(None, &pair));
    // A blank field is no value at the origin either.
    let blank = tx(r#"{"amount":1,"currency":"MXN","order_id":"","payment_id":"p"}"#);
    assert!(!carries_idempotency_key(None, &blank));
    // A payout names no order: its payment id alone is no key.
    let payout = serde_json::from_str::<PayoutRequest>(
        r#"{"amount":250000,"currency":"MXN","payment_id":"po_1",
        "beneficiary":{"clabe":"032180000118359719","name":"Mula","country":"MX"},
        "origin":{"account_id":"acc_1"},"payout":{"channel":"spei"}}"#,
    )
    .unwrap();
    assert!(!carries_idempotency_key(None, &Transaction::from_payout_wire(&payout).unwrap()));
}

#[test]
fn everything_uncertain_is_forwarded() {
    for body in [
        r#"{"amount":1,"currency":"MXN","email":"clean@example.com"}"#,
        r#"{"amount":1,"currency":"XXX","email":"fraud@example.com"}"#,
        r#"{"amount":1,"currency":"MXN","email":"fraud@example.com","surprise":1}"#,
        r#"{"amount":1,"currency":"MXN","email":"fraud@example.com","session_id":"nope"}"#,
        r#"not json"#,
        r#"{"amount":1,"currency":"MXN","payment_method":{"card_bin":"400000"},"metadata":{"x":1}"#,
    ] {
        assert_eq!(run(body, None), Screen::Forward, "{body}");
    }
    // A pay-in body sent to the payout endpoint is not a payout.
    assert_eq!(
        run_payout(r#"{"amount":1,"currency":"MXN","email":"fraud@example.com"}"#),
        Screen::Forward
    );
}

fn run_payout(body: &str) -> Screen {
    let req = Incoming {
        flow: Flow::Payout,
        body: body.as_bytes(),
        idempotency_header: None,
        started_ms: 0,
    };
    screen(&snapshot(), &req, 2, || FreshIds {
        transaction_id: "txn_2".into(),
        session_id: "ps_1716998400000_payoutabc".into(),
    })
}

#[test]
fn payouts_to_a_blocklisted_account_are_declined_and_others_forwarded() {
    let blocked = r#"{"amount":250000,"currency":"MXN","payment_id":"po_1",
        "beneficiary":{"clabe":"032180000118359719","name":"Mula","country":"MX"},
        "origin":{"account_id":"acc_1"},"payout":{"channel":"spei"}}"#;
    let Screen::Decline(d) = run_payout(blocked) else { panic!("forwarded: {blocked}") };
    assert_eq!(d.blocked_by, format!("blocklist:clabe:{ENTRY}"));
    let body: AssessResponse = serde_json::from_value(d.body.clone()).expect("origin shape");
    assert_eq!((body.flow, body.decision), (Flow::Payout, Decision::Decline));
    assert_eq!(body.payment_id.as_deref(), Some("po_1"));
    assert!(body.order_id.is_none());
    assert_eq!(body.signals, vec!["blocklist_clabe"]);
    // Another account goes on to the origin.
    let clean = blocked.replace("032180000118359719", "002010077777777771");
    assert_eq!(run_payout(&clean), Screen::Forward);
    // So does a malformed CLABE (bad check digit): the origin's 400 to explain.
    let bad = blocked.replace("032180000118359719", "032180000118359710");
    assert_eq!(run_payout(&bad), Screen::Forward);
}
