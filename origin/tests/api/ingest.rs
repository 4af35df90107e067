//! Event ingestion with `clm_wh_` keys: stored before the answer, then
//! processed by the organisation's ingestion rules — first match by
//! priority wins — and picked up again after a restart if it was not.

use std::time::Duration;

use clausum_origin::store::IngestedEventRow;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{Reply, TestApp},
    stories,
};

stories!(
    only_event_ingest_keys_ingest,
    rules_decide_in_priority_order,
    duplicates_and_bad_input_are_refused,
    rules_are_validated_and_role_checked,
);

mod restart {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_restart_processes_what_was_left(
            crate::helpers::TestApp::spawn(crate::helpers::Backend::Sqlite).await,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_restart_processes_what_was_left(
            crate::helpers::TestApp::spawn(crate::helpers::Backend::Postgres).await,
        )
        .await;
    }
}

/// POSTs `body` to the ingest endpoint with `key`.
async fn ingest_with(app: &TestApp, key: Option<&str>, body: &Value) -> Reply {
    app.call(Method::POST, "/api/webhooks/ingest", key, Some(body)).await
}

async fn ingest(app: &TestApp, body: &Value) -> Reply {
    ingest_with(app, Some(&app.creds.keys.ingest), body).await
}

/// Ingests and waits until the event is processed; returns it.
async fn ingest_processed(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = ingest(app, body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    wait_processed(app, token, r.json["event_id"].as_str().unwrap()).await
}

/// The ingested event once processing is done.
pub(crate) async fn wait_processed(app: &TestApp, token: &str, id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let r = app.get(token, &format!("/api/v1/ingested-events/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        if r.json["status"] != "received" {
            return r.json;
        }
        assert!(std::time::Instant::now() < deadline, "never processed: {}", r.json);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn add_rule(app: &TestApp, token: &str, rule: Value) -> String {
    let r = app.post(token, "/api/v1/ingestion-rules", &rule).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json["id"].as_str().unwrap().to_owned()
}

async fn only_event_ingest_keys_ingest(app: TestApp) {
    let body = json!({"event": "chargeback.created", "data": {"amount": 100}});
    let r = ingest_with(&app, Some(&app.creds.keys.publishable), &body).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "PUBLIC_KEY_NOT_ALLOWED"));
    let r = ingest_with(&app, Some(app.secret()), &body).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    let r = ingest_with(&app, None, &body).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    let r = ingest_with(&app, Some("clm_wh_not_a_real_key"), &body).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    // …and the ingest key cannot assess.
    let r = app.assess_with(&app.creds.keys.ingest, &json!({"amount": 1, "currency": "MXN"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The wrong key is told so however often it calls: an ingest key gets
    // 401 and a key without `assess` 403, never its budget's 429.
    let admin = app.admin_token().await;
    let mut keys = Vec::new();
    for (kind, permissions) in [("ingest", json!(["ingest"])), ("secret", json!(["fraud:report"]))]
    {
        let created = app
            .post(
                &admin,
                "/api/v1/api-keys",
                &json!({"kind": kind, "name": kind, "permissions": permissions,
                        "rate_limit_per_minute": 2}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
        keys.push(created.json["key"].as_str().unwrap().to_owned());
    }
    for _ in 0..4 {
        let body = json!({"amount": 1, "currency": "MXN"});
        let r = app.assess_with(&keys[0], &body).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
        let r = app.assess_with(&keys[1], &body).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    }

    let r = ingest(&app, &body).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    assert_eq!(r.json["success"], true);
    assert_eq!(r.json["message"], "Event received and queued for processing");
    assert_eq!(r.json["duplicate"], false);
    let id = r.json["event_id"].as_str().unwrap();
    assert!(id.starts_with("iev_"));
    // No rule: stored and marked processed.
    let admin = app.admin_token().await;
    let e = wait_processed(&app, &admin, id).await;
    assert_eq!(e["status"], "processed", "{e}");
    assert_eq!((e["matched_rule_id"].clone(), e["action"].clone()), (Value::Null, Value::Null));
    assert_eq!(e["payload"]["data"]["amount"], 100);
    assert_eq!(e["event_type"], "chargeback.created");
}

async fn rules_decide_in_priority_order(app: TestApp) {
    let analyst = app.member_token("analyst").await;
    let big = add_rule(
        &app,
        &analyst,
        json!({"name": "big chargebacks", "priority": 10, "action": "create_expediente",
               "conditions": {"event_type": "chargeback", "amount_gte": 1_000_000}}),
    )
    .await;
    let alert = add_rule(
        &app,
        &analyst,
        json!({"name": "velocity", "priority": 20, "action": "create_alert",
               "conditions": {"event_type": "velocity.exceeded"}}),
    )
    .await;
    let noise = add_rule(
        &app,
        &analyst,
        json!({"name": "noise", "priority": 30, "action": "ignore", "conditions": {"event_type": "ping"}}),
    )
    .await;
    // Lower priority than `big`: an event both match goes to `big`.
    let review = add_rule(
        &app,
        &analyst,
        json!({"name": "other chargebacks", "priority": 40, "action": "flag_review",
               "conditions": {"event_type": "chargeback", "amount_lte": 5_000_000}}),
    )
    .await;

    let a = app.assess(&json!({"amount": 2_000_000, "currency": "MXN"})).await;
    let txn = a.json["transaction_id"].as_str().unwrap();
    // 2,000,000 matches both chargeback rules: `big` comes first and wins.
    let e = ingest_processed(
        &app,
        &analyst,
        &json!({"event": "chargeback", "id": "cb-1",
                "data": {"amount": 2_000_000, "currency": "mxn", "transaction_id": txn}}),
    )
    .await;
    assert_eq!(
        (e["status"].as_str(), e["matched_rule_id"].as_str()),
        (Some("processed"), Some(big.as_str()))
    );
    assert_eq!(e["action"], "create_expediente");
    let case_id = e["case_id"].as_str().expect("a case").to_owned();
    let case = app.get(&analyst, &format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(case.json["source"], "ingest", "{}", case.json);
    assert_eq!(case.json["currency"], "MXN");
    assert_eq!(case.json["amount_minor"], 2_000_000);
    assert_eq!(case.json["incident_type"], "otro");
    assert_eq!(case.json["created_by"], format!("key:{}", ingest_key_id(&app).await));
    assert_eq!(case.json["transaction_count"], 1, "the event's transaction is linked");

    let e = ingest_processed(
        &app,
        &analyst,
        &json!({"event": "chargeback", "data": {"amount": 50_000}}),
    )
    .await;
    assert_eq!(
        (e["status"].as_str(), e["matched_rule_id"].as_str()),
        (Some("review"), Some(review.as_str()))
    );
    assert_eq!(e["case_id"], Value::Null);

    let e = ingest_processed(&app, &analyst, &json!({"type": "ping", "data": {}})).await;
    assert_eq!(
        (e["status"].as_str(), e["matched_rule_id"].as_str()),
        (Some("ignored"), Some(noise.as_str()))
    );

    let e = ingest_processed(
        &app,
        &analyst,
        &json!({"event": "velocity.exceeded", "data": {"amount": 700, "currency": "USD"}}),
    )
    .await;
    assert_eq!(
        (e["status"].as_str(), e["action"].as_str()),
        (Some("processed"), Some("create_alert"))
    );
    let alerts = app.get(&analyst, "/api/v1/alerts").await;
    assert_eq!(alerts.json["pagination"]["total"], 1, "{}", alerts.json);
    let a = &alerts.json["data"][0];
    assert_eq!(a["id"], e["alert_id"]);
    assert_eq!(
        (a["rule_id"].as_str(), a["source_id"].as_str()),
        (Some(alert.as_str()), e["id"].as_str())
    );
    assert_eq!(a["title"], "velocity: velocity.exceeded");
    assert_eq!(a["details"]["currency"], "USD");

    // Only `big` covers 9,000,000.
    let e = ingest_processed(
        &app,
        &analyst,
        &json!({"event": "chargeback", "data": {"amount": 9_000_000}}),
    )
    .await;
    assert_eq!(e["matched_rule_id"], big.as_str());
    // Disabling `big`: the same event now matches nothing and is processed.
    let r = app
        .patch(&analyst, &format!("/api/v1/ingestion-rules/{big}"), &json!({"enabled": false}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let e = ingest_processed(
        &app,
        &analyst,
        &json!({"event": "chargeback", "data": {"amount": 9_000_000}}),
    )
    .await;
    assert_eq!(
        (e["status"].as_str(), e["matched_rule_id"].clone()),
        (Some("processed"), Value::Null)
    );
    // Listed in evaluation order.
    let listed = app.get(&analyst, "/api/v1/ingestion-rules").await;
    let order: Vec<&str> = listed.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["big chargebacks", "velocity", "noise", "other chargebacks"]);

    // The dashboard filters by status.
    let reviewed = app.get(&analyst, "/api/v1/ingested-events?status=review").await;
    assert_eq!(reviewed.json["pagination"]["total"], 1, "{}", reviewed.json);
    assert_eq!(reviewed.json["data"][0]["payload"], Value::Null, "listings leave payloads out");
    let all = app.get(&analyst, "/api/v1/ingested-events").await;
    assert_eq!(all.json["pagination"]["total"], 6);
    let r = app.get(&analyst, "/api/v1/ingested-events?status=lost").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Every rule change is audited.
    let admin = app.admin_token().await;
    let audit = app.get(&admin, "/api/v1/audit-log?resource_type=ingestion_rule").await;
    assert_eq!(audit.json["pagination"]["total"], 5, "{}", audit.json);
}

async fn ingest_key_id(app: &TestApp) -> String {
    let hash = clausum_core::keys::ApiKey::parse(&app.creds.keys.ingest).unwrap().hash();
    app.state.key(&hash).unwrap().id.clone()
}

async fn duplicates_and_bad_input_are_refused(app: TestApp) {
    let admin = app.admin_token().await;
    let body = json!({"event": "refund", "event_id": "evt-77", "data": {"amount": 5}});
    let first = ingest(&app, &body).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.json);
    let again =
        ingest(&app, &json!({"event": "refund", "event_id": "evt-77", "data": {"amount": 6}}))
            .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["duplicate"], true);
    assert_eq!(again.json["event_id"], first.json["event_id"]);
    assert_eq!(app.get(&admin, "/api/v1/ingested-events").await.json["pagination"]["total"], 1);

    let raw = |bytes: Vec<u8>| {
        app.client
            .post(app.url("/api/webhooks/ingest"))
            .bearer_auth(&app.creds.keys.ingest)
            .header("content-type", "application/json")
            .body(bytes)
            .send()
    };
    let r = Reply::read(raw(b"{\"event\": \"x\", \"data\": {".to_vec()).await.unwrap()).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"));
    for bad in
        [json!({"data": {}}), json!({"event": "x"}), json!({"event": "x", "data": 5}), json!(["x"])]
    {
        let r = ingest(&app, &bad).await;
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{bad}"
        );
    }
    let mut huge = b"{\"event\": \"x\", \"data\": {\"pad\": \"".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 300 * 1024));
    huge.extend(b"\"}}");
    let r = Reply::read(raw(huge).await.unwrap()).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"));
    assert_eq!(app.get(&admin, "/api/v1/ingested-events").await.json["pagination"]["total"], 1);

    // Card numbers never reach storage.
    let r = ingest(&app, &json!({"event": "x", "data": {"card": "4111111111111111"}})).await;
    let e = wait_processed(&app, &admin, r.json["event_id"].as_str().unwrap()).await;
    assert!(!e.to_string().contains("4111111111111111"), "{e}");
}

async fn rules_are_validated_and_role_checked(app: TestApp) {
    let admin = app.admin_token().await;
    for (bad, field) in [
        (json!({"name": "x", "action": "delete_everything"}), "action"),
        (json!({"name": "x", "action": "ignore", "conditions": {"amount_gt": 5}}), "conditions"),
        (
            json!({"name": "x", "action": "ignore", "conditions": {"amount_gte": 10, "amount_lte": 5}}),
            "conditions.amount_lte",
        ),
        (
            json!({"name": "x", "action": "ignore", "conditions": {"amount_gte": -1}}),
            "conditions.amount_gte",
        ),
        (json!({"name": "", "action": "ignore"}), "name"),
        (json!({"name": "x", "action": "ignore", "priority": -4}), "priority"),
        (json!({"name": "x", "action": "ignore", "colour": "red"}), ""),
    ] {
        let r = app.post(&admin, "/api/v1/ingestion-rules", &bad).await;
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            "{bad}: {}",
            r.json
        );
        if !field.is_empty() {
            let named = r.json["error"]["details"]["field"].as_str().unwrap_or_default();
            assert!(named.starts_with(field), "{bad}: {}", r.json);
        }
    }
    let viewer = app.member_token("viewer").await;
    let rule = json!({"name": "all", "action": "flag_review", "conditions": {"event_type": "*"}});
    assert_eq!(
        app.post(&viewer, "/api/v1/ingestion-rules", &rule).await.status,
        StatusCode::FORBIDDEN
    );
    let compliance = app.member_token("compliance_officer").await;
    assert_eq!(
        app.post(&compliance, "/api/v1/ingestion-rules", &rule).await.status,
        StatusCode::FORBIDDEN
    );
    let id = add_rule(&app, &admin, rule).await;
    let r = app.get(&viewer, &format!("/api/v1/ingestion-rules/{id}")).await;
    assert_eq!(r.json["conditions"], json!({"event_type": "*"}), "{}", r.json);
    assert_eq!(r.json["priority"], 100);
    assert_eq!(
        app.patch(&viewer, &format!("/api/v1/ingestion-rules/{id}"), &json!({"enabled": false}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = app.patch(&admin, &format!("/api/v1/ingestion-rules/{id}"), &json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .patch(&admin, &format!("/api/v1/ingestion-rules/{id}"), &json!({"action": "nope"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.delete(&viewer, &format!("/api/v1/ingestion-rules/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete(&admin, &format!("/api/v1/ingestion-rules/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&admin, &format!("/api/v1/ingestion-rules/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Another organisation's rules and events are invisible and untouchable.
    let keep = add_rule(&app, &admin, json!({"name": "mine", "action": "ignore"})).await;
    let r = ingest(&app, &json!({"event": "mine", "data": {}})).await;
    let event = r.json["event_id"].as_str().unwrap().to_owned();
    let (_, other) = app.other_org().await;
    for (method, path) in [
        (Method::GET, format!("/api/v1/ingestion-rules/{keep}")),
        (Method::PATCH, format!("/api/v1/ingestion-rules/{keep}")),
        (Method::DELETE, format!("/api/v1/ingestion-rules/{keep}")),
        (Method::GET, format!("/api/v1/ingested-events/{event}")),
    ] {
        let r =
            app.call(method.clone(), &path, Some(&other), Some(&json!({"enabled": false}))).await;
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::NOT_FOUND, "NOT_FOUND"),
            "{method} {path}"
        );
    }
    assert_eq!(app.get(&other, "/api/v1/ingestion-rules").await.json["data"], json!([]));
    assert_eq!(app.get(&other, "/api/v1/ingested-events").await.json["pagination"]["total"], 0);
    assert_eq!(
        app.get(&admin, &format!("/api/v1/ingestion-rules/{keep}")).await.json["enabled"],
        true
    );
}

async fn a_restart_processes_what_was_left(app: TestApp) {
    let admin = app.admin_token().await;
    let rule = add_rule(
        &app,
        &admin,
        json!({"name": "left", "action": "flag_review", "conditions": {"event_type": "left.behind"}}),
    )
    .await;
    // As if the process died between storing an event and processing it.
    let hash = clausum_core::keys::ApiKey::parse(&app.creds.keys.ingest).unwrap().hash();
    let key_id = app.state.key(&hash).unwrap().id.clone();
    let row = IngestedEventRow {
        id: "iev_left_behind".into(),
        organization_id: app.creds.organization_id.clone(),
        api_key_id: key_id,
        event_type: "left.behind".into(),
        provider_event_id: None,
        payload: json!({"event": "left.behind", "data": {}}).to_string(),
        status: "received".into(),
        matched_rule_id: None,
        action: None,
        case_id: None,
        alert_id: None,
        created_at: clausum_origin::time::now_ms() - 1_000,
        processed_at: None,
    };
    app.store.insert_ingested_event(&row).await.unwrap();
    let app = app.restart().await;
    let admin = app.admin_token().await;
    let e = wait_processed(&app, &admin, "iev_left_behind").await;
    assert_eq!(
        (e["status"].as_str(), e["matched_rule_id"].as_str()),
        (Some("review"), Some(rule.as_str()))
    );
}
