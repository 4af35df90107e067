//! Decisions over HTTP: shape, blocklists, velocity, recording.

use clausum_core::blocklist::{FlowScope, ListType, Severity};
use clausum_origin::store::BlocklistRow;
use serde_json::json;

use crate::{helpers::TestApp, stories};

stories!(
    minimal_request_is_approved_in_the_documented_shape,
    quickstart_request_is_recorded_without_card_numbers,
    block_entries_decline_immediately,
    sixth_payment_in_an_hour_is_high_velocity,
    ip_country_disagreeing_with_billing_and_card_is_a_signal,
);

async fn minimal_request_is_approved_in_the_documented_shape(app: TestApp) {
    let r = app.assess(&json!({"amount": 1500, "currency": "MXN"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let b = &r.json;
    assert_eq!(b["decision"], "approve");
    assert_eq!(b["risk_score"], 0);
    assert_eq!(b["signals"], json!([]));
    assert_eq!(b["signal_details"], json!([]));
    assert!(b["blocked_by"].is_null());
    assert_eq!(b["flow"], "payin");
    assert!(b["latency_ms"].is_u64());
    let session = b["session_id"].as_str().unwrap();
    assert!(clausum_core::session::is_valid(session), "{session}");
    assert!(b["transaction_id"].as_str().unwrap().starts_with("txn_"));
    let warned: Vec<_> = b["field_warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["field"].as_str().unwrap())
        .collect();
    assert_eq!(warned, ["order_id", "device.ip", "email"]);
    assert_eq!(r.header("x-ratelimit-limit"), Some("10000"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("9999"));
    assert!(r.header("x-ratelimit-reset").is_some());
}

async fn quickstart_request_is_recorded_without_card_numbers(app: TestApp) {
    let r = app
        .assess(&json!({
            "amount": 1500, "currency": "MXN", "email": "Customer@Example.com",
            "payment_method": { "type": "card", "card_bin": "411111", "card_last4": "4242", "card_country": "MX" },
            "device": { "ip": "201.150.10.22", "fingerprint": "fp_9a8b7c6d" },
            "metadata": { "order_ref": "ORD-123", "note": "customer typed 4111 1111 1111 1111 in the notes" }
        }))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["decision"], "approve");
    assert_eq!(app.count_transactions().await, 1);
    let id = r.json["transaction_id"].as_str().unwrap();
    let row =
        app.store.transaction(&app.creds.organization_id, id).await.unwrap().expect("recorded");
    assert_eq!(row.email.as_deref(), Some("customer@example.com"));
    assert_eq!(row.card_bin.as_deref(), Some("411111"));
    assert_eq!(row.decision.as_deref(), Some("approve"));
    let response = row.response.clone().expect("assess rows keep their response");
    assert_eq!(response.as_bytes(), &r.raw[..], "the stored response is the one sent");
    let sent: Vec<String> = serde_json::from_value(r.json["signals"].clone()).unwrap();
    assert_eq!(row.signal_codes(), sent, "the signal codes read back from the row");
    assert_eq!(row.signals, None, "the codes are stored once, in the response");
    for stored in [&row.request, &response] {
        assert!(
            !stored.contains("4111111111111111") && !stored.contains("4111 1111 1111 1111"),
            "PAN stored: {stored}"
        );
    }
}

async fn block_entries_decline_immediately(app: TestApp) {
    let org = app.creds.organization_id.clone();
    let entry = |t: ListType, v: &str, scope: FlowScope| BlocklistRow {
        id: format!("bl_{}", uuid::Uuid::new_v4().simple()),
        organization_id: org.clone(),
        list_type: t.as_str().into(),
        value: t.normalize(v).unwrap(),
        severity: Severity::Block.as_str().into(),
        flow_scope: scope.as_str().into(),
        reason: Some("test".into()),
        source: "manual".into(),
        is_active: true,
        expires_at: None,
        created_at: 0,
        created_by: None,
        updated_at: 0,
    };
    let rows = vec![
        entry(ListType::Email, "fraud@example.com", FlowScope::All),
        entry(ListType::IpRange, "203.0.113.0/24", FlowScope::Payin),
        entry(ListType::CustomerId, "cus_payout_only", FlowScope::Payout),
    ];
    app.store.insert_blocklist_entries(&rows).await.unwrap();
    app.state.apply_blocklist_rows(&rows);

    let r =
        app.assess(&json!({"amount": 100, "currency": "MXN", "email": "FRAUD@example.com"})).await;
    assert_eq!(
        (r.json["decision"].as_str(), r.json["risk_score"].as_u64()),
        (Some("decline"), Some(100))
    );
    assert_eq!(r.json["blocked_by"], format!("blocklist:email:{}", rows[0].id));
    let r = app
        .assess(&json!({"amount": 100, "currency": "MXN", "device": {"ip": "203.0.113.77"}}))
        .await;
    assert_eq!(r.json["blocked_by"], format!("blocklist:ip_range:{}", rows[1].id));
    let r = app
        .assess(&json!({"amount": 100, "currency": "MXN", "customer_id": "cus_payout_only"}))
        .await;
    assert_eq!(r.json["decision"], "approve", "a payout-only entry must not touch pay-ins");
}

async fn sixth_payment_in_an_hour_is_high_velocity(app: TestApp) {
    // Only the hourly limit: a burst would otherwise trip the 10-minute one first.
    let org = &app.creds.organization_id;
    let policy = r#"{"velocity": {"count_10m": 0, "count_1h": 5, "count_24h": 20}}"#;
    assert!(app.store.set_policy(org, policy).await.unwrap());
    app.state.reload_org(org).await.unwrap();
    let body = json!({"amount": 1000, "currency": "MXN", "email": "busy@example.com"});
    for _ in 0..5 {
        let r = app.assess(&body).await;
        assert!(
            !r.json["signals"].as_array().unwrap().contains(&json!("high_velocity")),
            "{}",
            r.json
        );
    }
    let r = app.assess(&body).await;
    let hv = r.json["signal_details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "high_velocity")
        .cloned();
    let hv = hv.unwrap_or_else(|| panic!("no high_velocity in {}", r.json));
    assert_eq!(hv["weight"], 35);
    assert_eq!(hv["description"], "6 transactions in the last hour from this email");
    assert_eq!(app.count_transactions().await, 6);
}

async fn ip_country_disagreeing_with_billing_and_card_is_a_signal(app: TestApp) {
    // 8.8.8.8 is registered in the US; the card and billing say Mexico.
    let r = app
        .assess(&json!({
            "amount": 1000, "currency": "MXN",
            "payment_method": {"card_bin": "411111", "card_last4": "4242", "card_country": "MX"},
            "billing": {"country": "MX"}, "device": {"ip": "8.8.8.8"}
        }))
        .await;
    let details = r.json["signal_details"].as_array().unwrap();
    let ip_billing = details.iter().find(|s| s["code"] == "ip_billing_country_mismatch");
    let ip_billing = ip_billing.unwrap_or_else(|| panic!("no IP-country signal in {}", r.json));
    assert_eq!(ip_billing["description"], "IP country US differs from billing country MX");
    assert!(details.iter().any(|s| s["code"] == "ip_card_country_mismatch"));
    // The same payer from a Mexican IP raises neither.
    let r = app
        .assess(&json!({
            "amount": 1000, "currency": "MXN",
            "payment_method": {"card_bin": "411111", "card_last4": "4242", "card_country": "MX"},
            "billing": {"country": "MX"}, "device": {"ip": "201.150.10.22"}
        }))
        .await;
    assert!(!r.json["signals"].to_string().contains("ip_"), "{}", r.json);
}
