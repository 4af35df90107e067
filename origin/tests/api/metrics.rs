//! `/metrics` and load shedding.

use std::sync::atomic::Ordering;

use reqwest::StatusCode;
use serde_json::json;

use crate::{helpers::TestApp, stories};

stories!(metrics_count_routes_statuses_and_decisions, past_capacity_assess_is_shed_at_once);

async fn metrics_text(app: &TestApp) -> String {
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    r.text().await.unwrap()
}

fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no sample `{series}` in:\n{text}"))
}

async fn metrics_count_routes_statuses_and_decisions(app: TestApp) {
    for _ in 0..3 {
        app.assess(
            &json!({"amount": 100, "currency": "MXN", "email": "metrics-person@example.com"}),
        )
        .await;
    }
    let bad = app.assess(&json!({"amount": "x"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let admin = app.admin_token().await;
    app.get(&admin, "/api/v1/cases/case_does_not_exist").await;
    let text = metrics_text(&app).await;
    assert_eq!(
        sample(
            &text,
            r#"clausum_http_requests_total{method="POST",route="/api/v1/assess",status="200"}"#
        ),
        3.0
    );
    assert_eq!(
        sample(
            &text,
            r#"clausum_http_requests_total{method="POST",route="/api/v1/assess",status="400"}"#
        ),
        1.0
    );
    assert_eq!(sample(&text, r#"clausum_decisions_total{decision="approve"}"#), 3.0);
    assert_eq!(
        sample(
            &text,
            r#"clausum_http_request_duration_seconds_count{method="POST",route="/api/v1/assess"}"#
        ),
        4.0
    );
    // Routes are patterns: the id never becomes a label.
    assert!(text.contains(r#"route="/api/v1/cases/:param0",status="404""#), "{text}");
    assert!(!text.contains("case_does_not_exist"));
    assert!(!text.contains("metrics-person"), "personal data in metrics");
    assert!(text.contains("clausum_db_pool_connections{state=\"max\"}"));
    assert!(text.contains("clausum_webhook_deliveries{status=\"pending\"} 0"));
}

async fn past_capacity_assess_is_shed_at_once(app: TestApp) {
    let max = app.state.max_inflight_assess;
    // Every slot taken, as under a burst beyond capacity.
    app.state.inflight_assess.store(max, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let r = app.assess(&json!({"amount": 100, "currency": "MXN"})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::SERVICE_UNAVAILABLE, "ASSESS_MAINTENANCE"));
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    assert_eq!(app.count_transactions().await, 0, "nothing recorded");
    app.state.inflight_assess.store(max - 1, Ordering::SeqCst);
    assert_eq!(app.assess(&json!({"amount": 100, "currency": "MXN"})).await.status, StatusCode::OK);
    assert_eq!(
        app.state.inflight_assess.load(Ordering::SeqCst),
        max - 1,
        "the slot was given back"
    );
    app.state.inflight_assess.store(0, Ordering::SeqCst);
    let text = metrics_text(&app).await;
    assert_eq!(sample(&text, "clausum_assess_shed_total"), 1.0);
}

mod request_ids {
    use crate::helpers::{Backend, TestApp};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_answer_carries_a_request_id() {
        let app = TestApp::spawn(Backend::Sqlite).await;
        let ok = app
            .client
            .get(app.url("/api/v1/health"))
            .header("x-request-id", "abc-123")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.headers()["x-request-id"], "abc-123", "the caller's id is kept");
        let err = app.client.get(app.url("/no/such/route")).send().await.unwrap();
        let id = err.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(id.starts_with("req_"), "{id}");
        let unauthorised = app
            .client
            .get(app.url("/api/v1/blocklists"))
            .header("x-request-id", "bad id with spaces and /slashes")
            .send()
            .await
            .unwrap();
        assert_eq!(unauthorised.status(), 401);
        assert!(
            unauthorised.headers()["x-request-id"].to_str().unwrap().starts_with("req_"),
            "unsafe ids are replaced"
        );
    }
}
