//! How deliveries fail: redirects are failures and never followed,
//! `Retry-After` is honoured, and an endpoint that keeps failing is
//! disabled — which its organisation's other endpoints hear about.

use std::{sync::atomic::Ordering, time::Duration};

use clausum_core::catalog::Segment;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{Backend, TestApp},
    webhooks::{Receiver, register},
};

macro_rules! both {
    ($($name:ident),*) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(crate::helpers::Backend::Sqlite).await; }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(crate::helpers::Backend::Postgres).await; }
        )* }
    };
}

both!(
    redirects_fail_and_are_not_followed,
    retry_after_is_honoured,
    failing_endpoints_are_disabled_and_announced
);

async fn app(backend: Backend, disable_after_failures: i64) -> TestApp {
    TestApp::spawn_configured(backend, Segment::Comercio, |c| {
        c.webhooks_allow_http_loopback = true;
        c.webhook_retry_scale = 0.0002;
        c.webhook_lease_ms = 1_500;
        c.webhook_disable_after_failures = disable_after_failures;
        c.webhook_disable_after_ms = 0;
    })
    .await
}

async fn last_delivery(app: &TestApp, admin: &str, endpoint: &str) -> serde_json::Value {
    let log = app.get(admin, &format!("/api/v1/webhooks/endpoints/{endpoint}/deliveries")).await;
    log.json["data"][0].clone()
}

async fn redirects_fail_and_are_not_followed(backend: Backend) {
    let app = app(backend, 1_000).await;
    let admin = app.admin_token().await;
    let (rx, url) = Receiver::start().await;
    rx.answer.store(302, Ordering::SeqCst);
    let (id, _) = register(&app, &admin, &url, json!(["transaction.created"])).await;
    app.assess(&json!({"amount": 100, "currency": "MXN"})).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rx.got.lock().unwrap().len() < 3 {
        assert!(std::time::Instant::now() < deadline, "no retries after a 302");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(rx.redirects_followed.load(Ordering::SeqCst), 0, "a redirect was followed");
    let d = last_delivery(&app, &admin, &id).await;
    assert_eq!(d["status"], "pending", "{d}");
    assert_eq!(d["last_status"], 302);
    // Once the receiver answers 2xx the same delivery succeeds.
    rx.answer.store(0, Ordering::SeqCst);
    rx.wait_for(1, 10).await;
}

async fn retry_after_is_honoured(backend: Backend) {
    let app = app(backend, 1_000).await;
    let admin = app.admin_token().await;
    let (rx, url) = Receiver::start().await;
    rx.answer.store(503, Ordering::SeqCst);
    register(&app, &admin, &url, json!(["transaction.created"])).await;
    app.assess(&json!({"amount": 100, "currency": "MXN"})).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rx.got.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rx.answer.store(0, Ordering::SeqCst);
    rx.wait_for(1, 10).await;
    let got = rx.got.lock().unwrap();
    let gap = got[1].at - got[0].at;
    // The schedule alone would retry within milliseconds here.
    assert!(gap >= Duration::from_millis(1_900), "retried after {gap:?} despite Retry-After: 2");
}

async fn failing_endpoints_are_disabled_and_announced(backend: Backend) {
    let app = app(backend, 3).await;
    let admin = app.admin_token().await;
    let (bad, bad_url) = Receiver::start().await;
    bad.down.store(true, Ordering::SeqCst);
    let (good, good_url) = Receiver::start().await;
    let (bad_id, _) = register(&app, &admin, &bad_url, json!(["transaction.created"])).await;
    register(&app, &admin, &good_url, json!(["endpoint.disabled"])).await;
    app.assess(&json!({"amount": 100, "currency": "MXN"})).await;
    let got = good.wait_for(1, 15).await;
    let notice = got.values().next().unwrap();
    assert_eq!(notice.event, "endpoint.disabled");
    let body: serde_json::Value = serde_json::from_slice(&notice.body).unwrap();
    assert_eq!(body["data"]["endpoint_id"], bad_id.as_str());
    let ep = app.get(&admin, &format!("/api/v1/webhooks/endpoints/{bad_id}")).await;
    assert_eq!(ep.json["enabled"], false, "{}", ep.json);
    assert!(ep.json["disabled_reason"].as_str().unwrap().contains("failed attempts"));
    assert_eq!(bad.got.lock().unwrap().len(), 3, "no attempts after disabling");
    // New events skip the disabled endpoint.
    app.assess(&json!({"amount": 200, "currency": "MXN"})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bad.got.lock().unwrap().len(), 3);
    // Re-enabling clears the failure run; the pending delivery then arrives.
    bad.down.store(false, Ordering::SeqCst);
    let r = app
        .patch(&admin, &format!("/api/v1/webhooks/endpoints/{bad_id}"), &json!({"enabled": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["consecutive_failures"], 0);
    assert_eq!(r.json["disabled_reason"], serde_json::Value::Null);
    bad.wait_for(1, 10).await;
}
