//! The audit log is append-only and records every management change.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{Backend, TestApp},
    stories,
};

stories!(the_audit_log_cannot_be_rewritten, case_and_blocklist_changes_are_audited);

async fn the_audit_log_cannot_be_rewritten(app: TestApp) {
    let admin = app.admin_token().await;
    app.post(
        &admin,
        "/api/v1/blocklists",
        &json!({"list_type": "email", "value": "a@example.com"}),
    )
    .await;
    let log = app.get(&admin, "/api/v1/audit-log").await;
    assert_eq!(log.json["pagination"]["total"], 1, "{}", log.json);
    for sql in ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"] {
        let refused = match app.backend {
            Backend::Sqlite => {
                use sqlx::Connection;
                let mut c = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.is_err()
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.is_err()
            }
        };
        assert!(refused, "`{sql}` was allowed");
    }
    let log = app.get(&admin, "/api/v1/audit-log").await;
    assert_eq!(log.json["pagination"]["total"], 1);
    assert!(log.json["data"][0]["actor"].as_str().unwrap().starts_with("user:"));
}

async fn case_and_blocklist_changes_are_audited(app: TestApp) {
    let admin = app.admin_token().await;
    let case = app
        .post(&admin, "/api/v1/cases", &json!({"title": "Audit me", "incident_type": "phishing"}))
        .await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.json);
    let id = case.json["id"].as_str().unwrap();
    let txn =
        app.assess(&json!({"amount": 100, "currency": "MXN"})).await.json["transaction_id"].clone();
    let r = app
        .post(
            &admin,
            &format!("/api/v1/cases/{id}/evidence"),
            &json!({"kind": "url", "url": "https://files.example.com/e.pdf"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = app
        .post(&admin, &format!("/api/v1/cases/{id}/transactions"), &json!({"transaction_id": txn}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r =
        app.patch(&admin, &format!("/api/v1/cases/{id}"), &json!({"status": "en_revision"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let entry = app
        .post(&admin, "/api/v1/blocklists", &json!({"list_type": "country", "value": "kp"}))
        .await;
    let entry_id = entry.json["id"].as_str().unwrap();
    app.patch(&admin, "/api/v1/blocklists", &json!({"id": entry_id, "severity": "flag"})).await;
    app.delete(&admin, &format!("/api/v1/blocklists?id={entry_id}")).await;

    let log = app.get(&admin, &format!("/api/v1/audit-log?resource_id={id}")).await;
    let actions: Vec<&str> = log.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for wanted in ["case.create", "case.evidence.add", "case.transaction.link"] {
        assert!(actions.contains(&wanted), "{wanted} missing from {actions:?}");
    }
    assert!(actions.len() >= 4, "the status change is audited too: {actions:?}");
    let log = app.get(&admin, &format!("/api/v1/audit-log?resource_id={entry_id}")).await;
    let entries = log.json["data"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["blocklist.delete", "blocklist.update", "blocklist.create"],
        "newest first"
    );
    assert_eq!(entries[1]["before"]["severity"], "block");
    assert_eq!(entries[1]["after"]["severity"], "flag");
    assert!(entries[0]["after"].is_null());
}
