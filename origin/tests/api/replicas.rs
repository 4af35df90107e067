//! Two origin processes on one PostgreSQL database: a change made through
//! either reaches the other's in-memory state within a second.

use std::time::{Duration, Instant};

use clausum_origin::server;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp};

/// A second replica on the test app's database; its base URL.
async fn second_node(app: &TestApp) -> String {
    let store = server::open_store(&app.config.database_url).await.expect("store");
    let state = server::load_state(store, &app.config).await.expect("state");
    let running = server::start(&app.config, state).await.expect("server");
    format!("http://{}", running.addr)
}

async fn assess_on(app: &TestApp, base: &str, body: &Value) -> Reply {
    let res = app
        .client
        .post(format!("{base}/api/v1/assess"))
        .bearer_auth(app.secret())
        .json(body)
        .send()
        .await
        .unwrap();
    Reply::read(res).await
}

/// Polls `check` on node B until it holds; returns how long it took.
async fn within_a_second<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what}: not seen by the other replica within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reports the transaction `assessed` answered for as fraud, through `app`.
async fn report_fraud(app: &TestApp, assessed: &Reply) {
    let rep = app
        .call(
            reqwest::Method::POST,
            "/api/v1/report-fraud",
            Some(app.secret()),
            Some(&json!({"transaction_id": assessed.json["transaction_id"], "reason": "other"})),
        )
        .await;
    assert_eq!(rep.status, StatusCode::CREATED, "{}", rep.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_on_one_replica_reach_the_other_within_a_second() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let b = second_node(&app).await;
    let admin = app.admin_token().await;
    let probe = json!({"amount": 100, "currency": "MXN", "email": "shared@example.com"});
    assert_eq!(assess_on(&app, &b, &probe).await.json["decision"], "approve");

    // A blocklist entry added through A declines on B.
    let r = app
        .post(
            &admin,
            "/api/v1/blocklists",
            &json!({"list_type": "email", "value": "shared@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let took = within_a_second("new entry", || async {
        assess_on(&app, &b, &probe).await.json["blocked_by"] == format!("blocklist:email:{id}")
    })
    .await;
    eprintln!("entry propagated in {took:?}");

    // Deactivated through A: B stops blocking.
    app.patch(&admin, "/api/v1/blocklists", &json!({"id": id, "is_active": false})).await;
    within_a_second("deactivation", || async {
        assess_on(&app, &b, &probe).await.json["blocked_by"].is_null()
    })
    .await;

    // A fraud report through A: B declines the reported IP.
    let a = app
        .assess(&json!({"amount": 100, "currency": "MXN", "device": {"ip": "198.51.100.77"}}))
        .await;
    report_fraud(&app, &a).await;
    let by_ip = json!({"amount": 100, "currency": "MXN", "device": {"ip": "198.51.100.77"}});
    within_a_second("reported IP", || async {
        assess_on(&app, &b, &by_ip).await.json["decision"] == "decline"
    })
    .await;

    // The report also marks the payer's history on B: the device (not a
    // blocklist entry) is now one "involved in earlier confirmed fraud".
    let device =
        json!({"amount": 100, "currency": "MXN", "device": {"fingerprint": "fp_replica_7"}});
    let seen = assess_on(&app, &b, &device).await;
    assert!(!seen.json["signals"].to_string().contains("fraud_history"), "{}", seen.json);
    let d = app.assess(&device).await;
    report_fraud(&app, &d).await;
    within_a_second("fraud history", || async {
        assess_on(&app, &b, &device).await.json["signals"].to_string().contains("fraud_history")
    })
    .await;

    // A rule created through A applies on B.
    let rule = app
        .post(
            &admin,
            "/api/v1/rules",
            &json!({"name": "huge", "source": "when amount > 900000 then decline as huge"}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.json);
    let big = json!({"amount": 950000, "currency": "MXN"});
    within_a_second("rule", || async {
        assess_on(&app, &b, &big).await.json["decision"] == "decline"
    })
    .await;

    // A webhook endpoint registered through A makes B announce its decisions.
    let ep = app
        .post(
            &admin,
            "/api/v1/webhooks/endpoints",
            &json!({"url": "https://93.184.216.34/hook", "events": ["transaction.created"]}),
        )
        .await;
    assert_eq!(ep.status, StatusCode::CREATED);
    let org = app.creds.organization_id.clone();
    within_a_second("subscription", || async {
        let before = app.store.outbox_events(&org).await.unwrap().len();
        assess_on(&app, &b, &json!({"amount": 5, "currency": "MXN"})).await;
        app.store.outbox_events(&org).await.unwrap().len() > before
    })
    .await;
}
