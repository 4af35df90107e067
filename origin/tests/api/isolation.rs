//! No organisation sees or touches another's data: every endpoint that
//! takes an id is walked with ids of a foreign organisation and must answer
//! 404 exactly as for a missing id — and the walk must cover every such
//! endpoint of the OpenAPI document, so a new one cannot be forgotten.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{helpers::TestApp, stories};

stories!(foreign_ids_answer_not_found_everywhere);

/// Ids created by organisation A.
struct Owned {
    entry: String,
    case: String,
    transaction: String,
    rule: String,
    member: String,
    endpoint: String,
    delivery: String,
    ingestion_rule: String,
    ingested_event: String,
    submerchant: String,
    api_key: String,
}

async fn create_in_a(app: &TestApp, admin: &str) -> Owned {
    let entry = app
        .post(
            admin,
            "/api/v1/blocklists",
            &json!({"list_type": "email", "value": "a-only@example.com"}),
        )
        .await;
    let a = app
        .assess(&json!({"amount": 100, "currency": "MXN", "email": "payer-a@example.com"}))
        .await;
    let transaction = a.json["transaction_id"].as_str().unwrap().to_owned();
    let report = app
        .call(
            Method::POST,
            "/api/v1/report-fraud",
            Some(app.secret()),
            Some(&json!({"transaction_id": transaction, "reason": "other"})),
        )
        .await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.json);
    let rule = app
        .post(
            admin,
            "/api/v1/rules",
            &json!({"name": "a_rule", "source": "when amount > 100000 then add 10 as a_big"}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.json);
    let member_token = app.member_token("viewer").await;
    let member = app.get(&member_token, "/api/v1/auth/me").await;
    // A public address literal: accepted without DNS; nothing will answer.
    let ep = app
        .post(
            admin,
            "/api/v1/webhooks/endpoints",
            &json!({"url": "https://93.184.216.34/hook", "events": ["transaction.created"]}),
        )
        .await;
    assert_eq!(ep.status, StatusCode::CREATED, "{}", ep.json);
    let endpoint = ep.json["endpoint"]["id"].as_str().unwrap().to_owned();
    app.assess(&json!({"amount": 100, "currency": "MXN"})).await;
    let deliveries =
        app.get(admin, &format!("/api/v1/webhooks/endpoints/{endpoint}/deliveries")).await;
    let delivery =
        deliveries.json["data"][0]["id"].as_str().expect("a delivery was queued").to_owned();
    let ingestion_rule = app
        .post(admin, "/api/v1/ingestion-rules", &json!({"name": "a_ingest", "action": "ignore"}))
        .await;
    assert_eq!(ingestion_rule.status, StatusCode::CREATED, "{}", ingestion_rule.json);
    let ingested = app
        .call(
            Method::POST,
            "/api/webhooks/ingest",
            Some(&app.creds.keys.ingest),
            Some(&json!({"event": "a.event", "data": {"email": "a-only@example.com"}})),
        )
        .await;
    assert_eq!(ingested.status, StatusCode::ACCEPTED, "{}", ingested.json);
    let sub = app
        .post(admin, "/api/v1/submerchants", &json!({"id": "sub_a_only", "name": "A's shop"}))
        .await;
    assert_eq!(sub.status, StatusCode::CREATED, "{}", sub.json);
    let key = app
        .post(admin, "/api/v1/api-keys", &json!({"kind": "secret", "name": "A's backoffice"}))
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{}", key.json);
    Owned {
        entry: entry.json["id"].as_str().unwrap().to_owned(),
        case: report.json["data"]["case"]["id"].as_str().unwrap().to_owned(),
        transaction,
        rule: rule.json["id"].as_str().unwrap().to_owned(),
        member: member.json["id"].as_str().unwrap().to_owned(),
        endpoint,
        delivery,
        ingestion_rule: ingestion_rule.json["id"].as_str().unwrap().to_owned(),
        ingested_event: ingested.json["event_id"].as_str().unwrap().to_owned(),
        submerchant: "sub_a_only".to_owned(),
        api_key: key.json["api_key"]["id"].as_str().unwrap().to_owned(),
    }
}

async fn foreign_ids_answer_not_found_everywhere(app: TestApp) {
    let admin_a = app.admin_token().await;
    let a = create_in_a(&app, &admin_a).await;
    let (other, admin_b) = app.other_org().await;
    let b_txn = app
        .assess_with(
            &other.keys.secret,
            &json!({"amount": 100, "currency": "MXN", "email": "payer-b@example.com"}),
        )
        .await
        .json["transaction_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_case = app
        .post(&admin_b, "/api/v1/cases", &json!({"title": "B's own case", "incident_type": "otro"}))
        .await;
    assert_eq!(b_case.status, StatusCode::CREATED, "{}", b_case.json);
    let b_case = b_case.json["id"].as_str().unwrap().to_owned();

    // (method, path template, concrete path, body)
    let walk: Vec<(Method, &str, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/blocklists/{id}", format!("/api/v1/blocklists/{}", a.entry), None),
        (
            Method::PATCH,
            "/api/v1/blocklists",
            "/api/v1/blocklists".into(),
            Some(json!({"id": a.entry, "is_active": false})),
        ),
        (Method::DELETE, "/api/v1/blocklists", format!("/api/v1/blocklists?id={}", a.entry), None),
        (Method::GET, "/api/v1/cases/{id}", format!("/api/v1/cases/{}", a.case), None),
        (
            Method::PATCH,
            "/api/v1/cases/{id}",
            format!("/api/v1/cases/{}", a.case),
            Some(json!({"title": "taken over"})),
        ),
        (
            Method::POST,
            "/api/v1/cases/{id}/submit",
            format!("/api/v1/cases/{}/submit", a.case),
            None,
        ),
        (
            Method::GET,
            "/api/v1/cases/{id}/evidence",
            format!("/api/v1/cases/{}/evidence", a.case),
            None,
        ),
        (
            Method::POST,
            "/api/v1/cases/{id}/evidence",
            format!("/api/v1/cases/{}/evidence", a.case),
            Some(json!({"kind": "note", "description": "planted"})),
        ),
        (
            Method::GET,
            "/api/v1/cases/{id}/transactions",
            format!("/api/v1/cases/{}/transactions", a.case),
            None,
        ),
        (
            Method::POST,
            "/api/v1/cases/{id}/transactions",
            format!("/api/v1/cases/{}/transactions", a.case),
            Some(json!({"transaction_id": b_txn})),
        ),
        // B's own case, A's transaction: the transaction is foreign.
        (
            Method::POST,
            "/api/v1/cases/{id}/transactions",
            format!("/api/v1/cases/{b_case}/transactions"),
            Some(json!({"transaction_id": a.transaction})),
        ),
        (
            Method::GET,
            "/api/v1/cases/{id}/activity",
            format!("/api/v1/cases/{}/activity", a.case),
            None,
        ),
        (Method::GET, "/api/v1/rules/{id}", format!("/api/v1/rules/{}", a.rule), None),
        (
            Method::PATCH,
            "/api/v1/rules/{id}",
            format!("/api/v1/rules/{}", a.rule),
            Some(json!({"enabled": false})),
        ),
        (Method::DELETE, "/api/v1/rules/{id}", format!("/api/v1/rules/{}", a.rule), None),
        (
            Method::PATCH,
            "/api/v1/team/members/{id}",
            format!("/api/v1/team/members/{}", a.member),
            Some(json!({"role": "admin"})),
        ),
        (
            Method::GET,
            "/api/v1/webhooks/endpoints/{id}",
            format!("/api/v1/webhooks/endpoints/{}", a.endpoint),
            None,
        ),
        (
            Method::PATCH,
            "/api/v1/webhooks/endpoints/{id}",
            format!("/api/v1/webhooks/endpoints/{}", a.endpoint),
            Some(json!({"enabled": false})),
        ),
        (
            Method::DELETE,
            "/api/v1/webhooks/endpoints/{id}",
            format!("/api/v1/webhooks/endpoints/{}", a.endpoint),
            None,
        ),
        (
            Method::POST,
            "/api/v1/webhooks/endpoints/{id}/rotate-secret",
            format!("/api/v1/webhooks/endpoints/{}/rotate-secret", a.endpoint),
            None,
        ),
        (
            Method::GET,
            "/api/v1/webhooks/endpoints/{id}/deliveries",
            format!("/api/v1/webhooks/endpoints/{}/deliveries", a.endpoint),
            None,
        ),
        (
            Method::GET,
            "/api/v1/webhooks/deliveries/{id}",
            format!("/api/v1/webhooks/deliveries/{}", a.delivery),
            None,
        ),
        (
            Method::POST,
            "/api/v1/webhooks/deliveries/{id}/resend",
            format!("/api/v1/webhooks/deliveries/{}/resend", a.delivery),
            None,
        ),
        (
            Method::GET,
            "/api/v1/ingestion-rules/{id}",
            format!("/api/v1/ingestion-rules/{}", a.ingestion_rule),
            None,
        ),
        (
            Method::PATCH,
            "/api/v1/ingestion-rules/{id}",
            format!("/api/v1/ingestion-rules/{}", a.ingestion_rule),
            Some(json!({"enabled": false})),
        ),
        (
            Method::DELETE,
            "/api/v1/ingestion-rules/{id}",
            format!("/api/v1/ingestion-rules/{}", a.ingestion_rule),
            None,
        ),
        (
            Method::GET,
            "/api/v1/ingested-events/{id}",
            format!("/api/v1/ingested-events/{}", a.ingested_event),
            None,
        ),
        (
            Method::PATCH,
            "/api/v1/submerchants/{id}",
            format!("/api/v1/submerchants/{}", a.submerchant),
            Some(json!({"name": "taken over"})),
        ),
        (
            Method::DELETE,
            "/api/v1/submerchants/{id}",
            format!("/api/v1/submerchants/{}", a.submerchant),
            None,
        ),
        (
            Method::GET,
            "/api/v1/transactions/{id}",
            format!("/api/v1/transactions/{}", a.transaction),
            None,
        ),
        (Method::DELETE, "/api/v1/api-keys/{id}", format!("/api/v1/api-keys/{}", a.api_key), None),
    ];
    for (method, _, path, body) in &walk {
        let r = app.call(method.clone(), path, Some(&admin_b), body.as_ref()).await;
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::NOT_FOUND, "NOT_FOUND"),
            "{method} {path}: {}",
            r.json
        );
    }
    // The Partner API too: B's secret key cannot report A's transaction.
    let r = app
        .call(
            Method::POST,
            "/api/v1/report-fraud",
            Some(&other.keys.secret),
            Some(&json!({"transaction_id": a.transaction, "reason": "other"})),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "NOT_FOUND"), "{}", r.json);

    // Listings never show A's rows to B.
    for path in [
        "/api/v1/blocklists",
        "/api/v1/cases",
        "/api/v1/rules",
        "/api/v1/team/members",
        "/api/v1/team/invites",
        "/api/v1/audit-log",
        "/api/v1/cases/statistics",
        "/api/v1/dashboard/overview",
        "/api/v1/webhooks/endpoints",
        "/api/v1/ingestion-rules",
        "/api/v1/ingested-events",
        "/api/v1/alerts",
        "/api/v1/simulation/runs",
        "/api/v1/transactions",
        "/api/v1/api-keys",
    ] {
        let r = app.get(&admin_b, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.json);
        let text = String::from_utf8_lossy(&r.raw);
        for id in [
            &a.entry,
            &a.case,
            &a.rule,
            &a.member,
            &a.transaction,
            &a.endpoint,
            &a.delivery,
            &a.ingestion_rule,
            &a.ingested_event,
            &a.api_key,
        ] {
            assert!(!text.contains(id.as_str()), "{path} leaks {id}");
        }
        assert!(
            !text.contains("a-only@example.com") && !text.contains("payer-a@example.com"),
            "{path} leaks A's data"
        );
    }

    // Nothing of A changed.
    assert_eq!(
        app.get(&admin_a, &format!("/api/v1/blocklists/{}", a.entry)).await.json["is_active"],
        true
    );
    assert_eq!(app.get(&admin_a, &format!("/api/v1/rules/{}", a.rule)).await.json["enabled"], true);
    let rule = app.get(&admin_a, &format!("/api/v1/ingestion-rules/{}", a.ingestion_rule)).await;
    assert_eq!(rule.json["enabled"], true, "{}", rule.json);
    let keys = app.get(&admin_a, "/api/v1/api-keys").await;
    assert_eq!(keys.json["data"][0]["id"], a.api_key.as_str(), "{}", keys.json);
    assert_eq!(keys.json["data"][0]["status"], "active", "{}", keys.json);
    let case = app.get(&admin_a, &format!("/api/v1/cases/{}", a.case)).await;
    assert_ne!(case.json["title"], "taken over", "{}", case.json);

    // Submerchant ids are the PSP's own, one namespace per organisation:
    // B registering the same id creates B's, and leaves A's alone.
    let b_sub = app
        .post(&admin_b, "/api/v1/submerchants", &json!({"id": a.submerchant, "name": "B's shop"}))
        .await;
    assert_eq!(b_sub.status, StatusCode::CREATED, "{}", b_sub.json);
    let a_subs = app.get(&admin_a, "/api/v1/submerchants").await;
    assert_eq!(a_subs.json["data"][0]["name"], "A's shop", "{}", a_subs.json);
    assert_eq!(a_subs.json["data"][0]["status"], "active", "{}", a_subs.json);

    // Every id-taking operation of the spec was walked.
    let spec: Value = serde_json::from_str(&clausum_origin::api::spec_json()).unwrap();
    let mut taking_ids = BTreeSet::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let id_param = params.iter().any(|p| p["name"] == "id");
            let body_id = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .and_then(|r| {
                    spec["components"]["schemas"][r.rsplit('/').next().unwrap()]["required"]
                        .as_array()
                        .cloned()
                })
                .is_some_and(|req| req.iter().any(|f| f == "id"));
            if id_param || body_id {
                taking_ids.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut walked: BTreeSet<(String, String)> =
        walk.iter().map(|(m, t, _, _)| (m.as_str().to_owned(), (*t).to_owned())).collect();
    // Creation with a caller-chosen id, checked above.
    walked.insert(("POST".to_owned(), "/api/v1/submerchants".to_owned()));
    let missing: Vec<_> = taking_ids.difference(&walked).collect();
    assert!(missing.is_empty(), "id-taking operations not walked: {missing:?}");
    // And the detection itself sees every walked operation (query `id` and
    // body `id` included), so it would see a new one.
    let unseen: Vec<_> = walked.difference(&taking_ids).collect();
    assert!(unseen.is_empty(), "the spec walk does not detect {unseen:?}");
}
