//! `POST /api/v1/report-fraud`: the protection loop closes.

use clausum_core::cases::ReferenceNumber;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, Reply, TestApp},
    stories,
};

stories!(
    report_opens_a_case_blocklists_and_the_next_assess_declines,
    report_by_external_id_matches_the_assessed_payment_id,
    reporting_twice_returns_the_same_case,
    existing_entries_are_linked_not_duplicated,
    report_needs_a_secret_key_with_the_permission,
    bad_reports_are_refused_and_write_nothing,
    a_failed_report_leaves_nothing_half_written,
);

async fn report(app: &TestApp, body: &Value) -> Reply {
    app.call(reqwest::Method::POST, "/api/v1/report-fraud", Some(app.secret()), Some(body)).await
}

async fn report_opens_a_case_blocklists_and_the_next_assess_declines(app: TestApp) {
    let first = app
        .assess(&json!({
            "amount": 250000, "currency": "MXN", "email": "Thief@Example.com",
            "payment_method": {"type": "card", "card_bin": "45717360", "card_last4": "1234"},
            "device": {"ip": "201.150.10.22"}
        }))
        .await;
    assert_eq!(first.json["decision"], "approve", "{}", first.json);
    let txn = first.json["transaction_id"].as_str().unwrap().to_owned();

    let r = report(&app, &json!({"transaction_id": txn, "reason": "chargeback", "description": "Issuer chargeback 10.4"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["success"], true);
    let data = &r.json["data"];
    let reference = data["case"]["reference_number"].as_str().unwrap();
    assert!(ReferenceNumber::parse(reference).is_ok(), "bad reference {reference}");
    assert_eq!(data["case"]["status"], "borrador");
    assert_eq!(data["case"]["incident_type"], "transferencia_no_autorizada");
    // MXN 2,500.00 is under the MXN high threshold: chargeback stays `media`.
    assert_eq!(data["case"]["priority"], "media");
    assert_eq!(data["transaction"]["id"], txn.as_str());
    assert_eq!(data["transaction"]["is_fraudulent"], true);
    assert_eq!(data["blocklist"]["entries_added"], 3);
    assert_eq!(data["blocklist"]["types"], json!(["email", "card_bin", "ip_address"]));
    let email_entry = data["blocklist"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["list_type"] == "email")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The very next assessment with the same email is declined by that entry.
    let next =
        app.assess(&json!({"amount": 100, "currency": "MXN", "email": "thief@example.com"})).await;
    assert_eq!(next.json["decision"], "decline", "{}", next.json);
    assert_eq!(next.json["risk_score"], 100);
    assert_eq!(next.json["blocked_by"], format!("blocklist:email:{email_entry}"));
    // The IP alone declines too; the BIN is only a flag (weight, no hard block).
    let by_ip = app
        .assess(&json!({"amount": 100, "currency": "MXN", "device": {"ip": "201.150.10.22"}}))
        .await;
    assert_eq!(by_ip.json["decision"], "decline");
    let by_bin = app
        .assess(&json!({"amount": 100, "currency": "MXN", "payment_method": {"type": "card", "card_bin": "45717360"}}))
        .await;
    assert!(by_bin.json["blocked_by"].is_null(), "{}", by_bin.json);
    assert!(
        by_bin.json["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().contains("card_bin")),
        "{}",
        by_bin.json
    );

    // The transaction is flagged in the database, and survives a restart
    // (entries and fraud history are rebuilt from it).
    let stored = app.store.transaction(&app.creds.organization_id, &txn).await.unwrap().unwrap();
    assert!(stored.is_fraudulent);
    assert_eq!(stored.fraud_reason.as_deref(), Some("chargeback"));
    let app = app.restart().await;
    let again =
        app.assess(&json!({"amount": 100, "currency": "MXN", "email": "thief@example.com"})).await;
    assert_eq!(again.json["blocked_by"], format!("blocklist:email:{email_entry}"));
}

async fn report_by_external_id_matches_the_assessed_payment_id(app: TestApp) {
    let a = app
        .assess(&json!({"amount": 1500, "currency": "USD", "email": "buyer@example.com", "payment_id": "pi_3Nxyz"}))
        .await;
    let txn = a.json["transaction_id"].as_str().unwrap();
    let r = report(
        &app,
        &json!({"external_transaction_id": "pi_3Nxyz", "provider": "stripe", "reason": "account_takeover",
                "ip_address": "198.51.100.9", "evidence_urls": ["https://files.example.com/chargeback.pdf"],
                "notify": {"merchant": true, "issuer": true}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["data"]["transaction"]["id"], txn);
    assert_eq!(r.json["data"]["transaction"]["external_id"], "pi_3Nxyz");
    assert_eq!(r.json["data"]["transaction"]["provider"], "stripe");
    assert_eq!(r.json["data"]["case"]["priority"], "alta");
    assert_eq!(r.json["data"]["blocklist"]["types"], json!(["email", "ip_address"]));
    let case_id = r.json["data"]["case"]["id"].as_str().unwrap();
    let evidence = app.store.evidence(&app.creds.organization_id, case_id).await.unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].url.as_deref(), Some("https://files.example.com/chargeback.pdf"));
    let case = app.store.case(&app.creds.organization_id, case_id).await.unwrap().unwrap();
    let notify: Value = serde_json::from_str(&case.notify).unwrap();
    assert_eq!(
        notify,
        json!({"merchant": true, "acquirer": false, "issuer": true, "compliance": false})
    );
    // The fraud.detected event was queued with the report, for the notifiers.
    let events = app.store.outbox_events(&app.creds.organization_id).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["fraud.detected", "case.created"]);
    let payload: Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(payload["case"]["id"], case_id);
    assert_eq!(payload["notify"]["issuer"], true);

    // Unknown external id without inline data: 404; with it, a transaction is created.
    let r =
        report(&app, &json!({"external_transaction_id": "pi_unknown", "reason": "other"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
    assert_eq!(r.error_code(), "NOT_FOUND");
    let r = report(
        &app,
        &json!({"external_transaction_id": "pi_unknown", "provider": "adyen", "reason": "identity_theft",
                "amount": "oops", "currency": "USD", "email": "x@example.com"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    let r = report(
        &app,
        &json!({"external_transaction_id": "pi_unknown", "provider": "adyen", "reason": "identity_theft",
                "amount": 1500000, "currency": "USD", "email": "x@example.com"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["data"]["transaction"]["source"], "fraud_report");
    // USD 15,000 is over the urgent threshold.
    assert_eq!(r.json["data"]["case"]["priority"], "urgente");
}

async fn reporting_twice_returns_the_same_case(app: TestApp) {
    let body = json!({"reason": "card_testing", "amount": 100, "currency": "MXN", "email": "probe@example.com",
                      "external_transaction_id": "ch_1", "provider": "conekta"});
    let first = report(&app, &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    let second = report(&app, &body).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.json);
    assert_eq!(second.json["data"]["already_reported"], true);
    assert_eq!(second.json["data"]["case"]["id"], first.json["data"]["case"]["id"]);
    assert_eq!(second.json["data"]["blocklist"]["entries_added"], 0);
    let stats = app.store.case_stats(&app.creds.organization_id).await.unwrap();
    assert_eq!(stats.total, 1);

    // Concurrent reports of one transaction still open one case.
    let a =
        app.assess(&json!({"amount": 100, "currency": "MXN", "email": "race@example.com"})).await;
    let txn = a.json["transaction_id"].as_str().unwrap().to_owned();
    let body = json!({"transaction_id": txn, "reason": "chargeback"});
    let (x, y) = tokio::join!(report(&app, &body), report(&app, &body));
    let mut statuses = [x.status.as_u16(), y.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 201], "{} / {}", x.json, y.json);
    assert_eq!(x.json["data"]["case"]["id"], y.json["data"]["case"]["id"]);
    assert_eq!(app.store.case_stats(&app.creds.organization_id).await.unwrap().total, 2);
}

async fn existing_entries_are_linked_not_duplicated(app: TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post(
            &admin,
            "/api/v1/blocklists",
            &json!({"list_type": "email", "value": "known@example.com", "severity": "flag"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let existing = r.json["id"].as_str().unwrap().to_owned();
    let r = report(
        &app,
        &json!({"reason": "other", "amount": 100, "currency": "MXN", "email": "known@example.com"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["data"]["blocklist"]["entries_added"], 0);
    let entries = r.json["data"]["blocklist"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["id"], existing.as_str());
    assert_eq!(entries[0]["added"], false);
    let list = app.get(&admin, "/api/v1/blocklists?list_type=email").await;
    assert_eq!(list.json["pagination"]["total"], 1, "{}", list.json);
    let case_id = r.json["data"]["case"]["id"].as_str().unwrap();
    let linked = app.store.case_entries(&app.creds.organization_id, case_id).await.unwrap();
    assert_eq!(linked.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), [existing.as_str()]);
}

async fn report_needs_a_secret_key_with_the_permission(app: TestApp) {
    let body =
        json!({"reason": "other", "amount": 100, "currency": "MXN", "email": "a@example.com"});
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/report-fraud",
            Some(&app.creds.keys.publishable),
            Some(&body),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "SECRET_KEY_REQUIRED"));
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/report-fraud",
            Some(&app.creds.keys.ingest),
            Some(&body),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    let r = app.call(reqwest::Method::POST, "/api/v1/report-fraud", None, Some(&body)).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    // A dashboard token is not a Partner API key.
    let admin = app.admin_token().await;
    let r =
        app.call(reqwest::Method::POST, "/api/v1/report-fraud", Some(&admin), Some(&body)).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    assert_eq!(app.store.case_stats(&app.creds.organization_id).await.unwrap().total, 0);
}

async fn bad_reports_are_refused_and_write_nothing(app: TestApp) {
    let cases = [
        (json!({"reason": "chargeback"}), "transaction_id"),
        (
            json!({"reason": "stolen", "amount": 1, "currency": "MXN", "email": "a@example.com"}),
            "reason",
        ),
        (json!({"reason": "other", "amount": 1, "currency": "MXN"}), "email"),
        (
            json!({"reason": "other", "amount": 1, "currency": "XXX", "email": "a@example.com"}),
            "currency",
        ),
        (
            json!({"reason": "other", "amount": -5, "currency": "MXN", "email": "a@example.com"}),
            "amount",
        ),
        (
            json!({"reason": "other", "amount": 1, "currency": "MXN", "email": "not-an-email"}),
            "email",
        ),
        (
            json!({"reason": "other", "amount": 1, "currency": "MXN", "email": "a@example.com", "card_bin": "4111111111111111"}),
            "card_bin",
        ),
        (
            json!({"reason": "other", "amount": 1, "currency": "MXN", "email": "a@example.com", "ip_address": "999.1.1.1"}),
            "ip_address",
        ),
        (
            json!({"reason": "other", "amount": 1, "currency": "MXN", "email": "a@example.com", "evidence_urls": ["file:///etc/passwd"]}),
            "evidence_urls[0]",
        ),
        (
            json!({"reason": "other", "amount": 1, "currency": "MXN", "email": "a@example.com", "jurisdiction": "ES"}),
            "jurisdiction",
        ),
        (
            json!({"reason": "other", "amount": 1, "currency": "MXN", "email": "a@example.com", "surprise": 1}),
            "",
        ),
        (json!({"transaction_id": "txn_nope", "reason": "other"}), ""),
    ];
    for (body, field) in cases {
        let r = report(&app, &body).await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::NOT_FOUND,
            "{body}: {} {}",
            r.status,
            r.json
        );
        r.error_code();
        if !field.is_empty() {
            assert_eq!(r.json["error"]["details"]["field"], field, "{body}: {}", r.json);
        }
        assert!(
            !String::from_utf8_lossy(&r.raw).contains("4111111111111111"),
            "PAN echoed: {}",
            r.json
        );
    }
    assert_eq!(app.store.case_stats(&app.creds.organization_id).await.unwrap().total, 0);
    assert_eq!(app.count_transactions().await, 0);
}

async fn a_failed_report_leaves_nothing_half_written(app: TestApp) {
    // Inject a real database failure into the report's last write (its case
    // activity row): the whole report must roll back.
    let fail = match app.backend {
        Backend::Sqlite => vec![
            "CREATE TRIGGER fail_activity BEFORE INSERT ON case_activity \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION fail_activity() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END; $$",
            "CREATE TRIGGER fail_activity BEFORE INSERT ON case_activity \
             FOR EACH ROW EXECUTE FUNCTION fail_activity()",
        ],
    };
    execute(&app, &fail).await;
    let a =
        app.assess(&json!({"amount": 100, "currency": "MXN", "email": "keep@example.com"})).await;
    let txn = a.json["transaction_id"].as_str().unwrap().to_owned();
    let before = app.count_transactions().await;
    let r =
        report(&app, &json!({"transaction_id": txn, "reason": "other", "ip_address": "192.0.2.1"}))
            .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.json);
    assert_eq!(r.error_code(), "INTERNAL_ERROR");
    let r2 = report(
        &app,
        &json!({"reason": "other", "amount": 5, "currency": "MXN", "email": "new@example.com"}),
    )
    .await;
    assert_eq!(r2.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r2.json);

    let org = &app.creds.organization_id;
    assert!(!app.store.transaction(org, &txn).await.unwrap().unwrap().is_fraudulent);
    assert_eq!(app.count_transactions().await, before, "the inline transaction was not kept");
    assert_eq!(app.store.case_stats(org).await.unwrap().total, 0);
    assert!(app.store.outbox_events(org).await.unwrap().is_empty());
    let admin = app.admin_token().await;
    assert_eq!(app.get(&admin, "/api/v1/blocklists").await.json["pagination"]["total"], 0);
    // Nor did the live index learn anything.
    let next =
        app.assess(&json!({"amount": 100, "currency": "MXN", "email": "keep@example.com"})).await;
    assert_eq!(next.json["decision"], "approve", "{}", next.json);
}

/// Runs raw SQL on the test database.
async fn execute(app: &TestApp, statements: &[&str]) {
    use sqlx::Connection;
    match app.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
            for s in statements {
                sqlx::query(s).execute(&mut c).await.unwrap();
            }
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
            for s in statements {
                sqlx::query(s).execute(&mut c).await.unwrap();
            }
        }
    }
}
