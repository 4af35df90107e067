//! Bad input gets the documented error, never a 500, and nothing is written.

use serde_json::{Value, json};

use crate::{
    helpers::{Reply, TestApp},
    stories,
};

stories!(
    field_errors_name_the_field,
    malformed_bodies_are_400_415_or_413,
    hostile_bodies_never_get_a_500,
);

async fn expect_field_error(app: &TestApp, body: Value, field: &str) {
    let r = app.assess(&body).await;
    assert_eq!(r.status, 400, "{body} → {}", r.json);
    assert_eq!(r.error_code(), "VALIDATION_ERROR");
    assert_eq!(r.json["error"]["details"]["field"], field, "{body} → {}", r.json);
}

async fn field_errors_name_the_field(app: TestApp) {
    expect_field_error(&app, json!({"amount": "abc", "currency": "MXN"}), "amount").await;
    expect_field_error(&app, json!({"amount": -5, "currency": "MXN"}), "amount").await;
    expect_field_error(&app, json!({"amount": 1e300, "currency": "MXN"}), "amount").await;
    expect_field_error(&app, json!({"amount": 10.5, "currency": "MXN"}), "amount").await;
    expect_field_error(
        &app,
        json!({"amount": 10.555, "currency": "MXN", "amount_unit": "major"}),
        "amount",
    )
    .await;
    expect_field_error(&app, json!({"amount": 1, "currency": "XXX1"}), "currency").await;
    expect_field_error(
        &app,
        json!({"amount": 1, "currency": "MXN", "email": "not-an-email"}),
        "email",
    )
    .await;
    expect_field_error(
        &app,
        json!({"amount": 1, "currency": "MXN", "device": {"ip": "999.1.1.1"}}),
        "device.ip",
    )
    .await;
    expect_field_error(
        &app,
        json!({"amount": 1, "currency": "MXN", "billing": {"country": "ZZ"}}),
        "billing.country",
    )
    .await;
    expect_field_error(
        &app,
        json!({"amount": 1, "currency": "MXN", "session_id": "my-session"}),
        "session_id",
    )
    .await;
    expect_field_error(
        &app,
        json!({"amount": 1, "currency": "MXN", "amount_unit": "cents"}),
        "amount_unit",
    )
    .await;
    expect_field_error(&app, json!({"amount": 1, "currency": "MXN", "emial": "a@b.com"}), "emial")
        .await;
    expect_field_error(
        &app,
        json!({"amount": 1, "currency": "MXN", "behavior": {"mouse_movements": -1}}),
        "behavior.mouse_movements",
    )
    .await;

    // A full card number is refused, and never echoed back.
    let r = app
        .assess(&json!({"amount": 1, "currency": "MXN", "payment_method": {"card_bin": "4111111111111111"}}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json["error"]["details"]["field"], "payment_method.card_bin");
    assert!(!String::from_utf8_lossy(&r.raw).contains("4111111111111111"));
    let r = app
        .assess(&json!({"amount": 1, "currency": "MXN", "payment_method": {"card_bin": 4111111111111111u64}}))
        .await;
    assert_eq!(r.status, 400);
    assert!(!String::from_utf8_lossy(&r.raw).contains("4111111111111111"), "{}", r.json);

    // Major units with the currency's decimals are fine.
    let r =
        app.assess(&json!({"amount": 25000.10, "currency": "MXN", "amount_unit": "major"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(app.count_transactions().await, 1, "only the valid request was recorded");
}

async fn raw(app: &TestApp, content_type: Option<&str>, body: Vec<u8>) -> Reply {
    let mut req = app.client.post(app.url("/api/v1/assess")).bearer_auth(app.secret()).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    Reply::read(req.send().await.unwrap()).await
}

async fn malformed_bodies_are_400_415_or_413(app: TestApp) {
    for body in
        [&b"{"[..], b"", b"null", b"[]", b"{\"amount\": 1, \"currency\": \"MXN\"", b"\xff\xfe"]
    {
        let r = raw(&app, Some("application/json"), body.to_vec()).await;
        assert_eq!(r.status, 400, "{:?} → {}", String::from_utf8_lossy(body), r.json);
        assert_eq!(r.error_code(), "VALIDATION_ERROR");
    }
    let r = raw(&app, Some("text/plain"), br#"{"amount":1,"currency":"MXN"}"#.to_vec()).await;
    assert_eq!(r.status, 415);
    assert_eq!(r.error_code(), "UNSUPPORTED_MEDIA_TYPE");
    let r = raw(&app, None, br#"{"amount":1,"currency":"MXN"}"#.to_vec()).await;
    assert_eq!(r.status, 415);

    let mut big = br#"{"amount":1,"currency":"MXN","metadata":{"x":""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 70 * 1024));
    big.extend(br#""}}"#);
    let r = raw(&app, Some("application/json"), big).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.error_code(), "PAYLOAD_TOO_LARGE");
    assert_eq!(app.count_transactions().await, 0);
}

/// Deterministic pseudo-random hostile bodies: deep nesting, huge numbers,
/// wrong types everywhere, control characters, long strings.
async fn hostile_bodies_never_get_a_500(app: TestApp) {
    let mut bodies: Vec<Vec<u8>> = vec![
        "[".repeat(10_000).into_bytes(),
        format!(
            "{{\"amount\": 1, \"currency\": \"MXN\", \"metadata\": {}}}",
            "{\"a\":".repeat(200) + "1" + &"}".repeat(200)
        )
        .into_bytes(),
        br#"{"amount": 1e999, "currency": "MXN"}"#.to_vec(),
        br#"{"amount": 1, "currency": "MXN", "email": "a\u0000@b.com"}"#.to_vec(),
        format!(r#"{{"amount": 1, "currency": "MXN", "customer_id": "{}"}}"#, "x".repeat(5000))
            .into_bytes(),
        br#"{"amount": 1, "currency": "MXN", "device": {"user_agent": "\u202e\u0007"}}"#.to_vec(),
        br#"{"amount": 1, "amount": 2, "currency": "MXN"}"#.to_vec(),
    ];
    let fields = [
        "amount",
        "currency",
        "email",
        "phone",
        "payment_method",
        "device",
        "behavior",
        "billing",
        "metadata",
        "session_id",
    ];
    let values = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1.5),
        json!("x"),
        json!([]),
        json!({}),
        json!("∞"),
        json!(u64::MAX),
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..120 {
        let mut body = serde_json::Map::new();
        body.insert("amount".into(), json!(100));
        body.insert("currency".into(), json!("MXN"));
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let f = fields[(seed % fields.len() as u64) as usize];
            let v = values[((seed >> 8) % values.len() as u64) as usize].clone();
            body.insert(f.into(), v);
        }
        bodies.push(serde_json::to_vec(&body).unwrap());
    }
    for body in bodies {
        let r = raw(&app, Some("application/json"), body.clone()).await;
        assert!(
            r.status == 200 || r.status == 400,
            "{} for {}",
            r.status,
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
        if r.status == 400 {
            r.error_code();
        }
    }
}
