//! Who may call assess.

use serde_json::json;

use crate::{
    helpers::{Reply, TestApp},
    stories,
};

stories!(
    missing_or_malformed_credentials_are_401,
    ingest_keys_are_refused_on_assess,
    publishable_keys_get_an_unrecorded_precheck,
);

async fn missing_or_malformed_credentials_are_401(app: TestApp) {
    let body = json!({"amount": 1, "currency": "MXN"});
    let r =
        Reply::read(app.client.post(app.url("/api/v1/assess")).json(&body).send().await.unwrap())
            .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNAUTHORIZED");

    // One character off: refused by the checksum, before any lookup.
    let mut typo = app.secret().to_owned();
    let last = typo.pop().unwrap();
    typo.push(if last == 'a' { 'b' } else { 'a' });
    for key in [typo.as_str(), "sk_live_nope", "clm_sk_short", ""] {
        let r = app.assess_with(key, &body).await;
        assert_eq!(r.status, 401, "{key}");
        assert_eq!(r.error_code(), "UNAUTHORIZED");
        assert!(!r.json.to_string().contains(app.secret()), "the key must not be echoed");
    }
    // Well-formed but unknown.
    let (_, other) =
        clausum_origin::bootstrap::new_key("org_x", clausum_core::keys::KeyKind::Secret, 1, 0);
    let r = app.assess_with(other.expose(), &body).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNAUTHORIZED");
    assert_eq!(app.count_transactions().await, 0);
}

async fn ingest_keys_are_refused_on_assess(app: TestApp) {
    let r = app.assess_with(&app.creds.keys.ingest, &json!({"amount": 1, "currency": "MXN"})).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNAUTHORIZED");
    assert!(r.json["error"]["message"].as_str().unwrap().contains("clm_wh_"));
}

async fn publishable_keys_get_an_unrecorded_precheck(app: TestApp) {
    let body = json!({"amount": 1000, "currency": "MXN", "email": "pre@example.com"});
    for _ in 0..8 {
        let r = app.assess_with(&app.creds.keys.publishable, &body).await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(r.header("x-clausum-precheck"), Some("true"));
    }
    assert_eq!(app.count_transactions().await, 0, "pre-checks are not recorded");
    // Nor counted: the first authoritative assess sees no velocity.
    let r = app.assess(&body).await;
    assert!(!r.json["signals"].as_array().unwrap().contains(&json!("high_velocity")));
    assert!(r.header("x-clausum-precheck").is_none());
}
