//! Full card numbers are never stored: card numbers are fed through every
//! free-text path a caller controls, then every text column of every table
//! is scanned for Luhn-valid 13–19 digit runs (PCI DSS: no PAN at rest).

use clausum_core::normalize::luhn_valid;
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{Backend, TestApp},
    stories,
};

stories!(no_card_number_reaches_the_database);

/// Test PANs (Luhn-valid), with and without separators.
const PANS: [&str; 3] = ["4111111111111111", "5555 5555 5555 4444", "3782-822463-10005"];

/// Every run of 13–19 digits (separators `-` and space allowed inside)
/// that passes Luhn.
fn luhn_runs(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for start in 0..chars.len() {
        if !chars[start].is_ascii_digit() || (start > 0 && chars[start - 1].is_ascii_digit()) {
            continue;
        }
        let mut digits = String::new();
        for &c in &chars[start..] {
            if c.is_ascii_digit() {
                digits.push(c);
                if (13..=19).contains(&digits.len()) && luhn_valid(&digits) {
                    found.push(digits.clone());
                }
                if digits.len() == 19 {
                    break;
                }
            } else if c != ' ' && c != '-' {
                break;
            }
        }
    }
    found
}

async fn no_card_number_reaches_the_database(app: TestApp) {
    assert_eq!(
        luhn_runs("x 4111 1111 1111 1111 y"),
        ["4111111111111111"],
        "the scan finds spaced PANs"
    );
    let admin = app.admin_token().await;
    for pan in PANS {
        let note = format!("customer said card {pan} was stolen");
        // Assess: metadata and free-text fields (a full PAN in card_bin is refused).
        let a = app
            .assess(&json!({"amount": 100, "currency": "MXN", "email": "pan@example.com",
                            "metadata": {"note": note, "card": pan}, "order_id": "ord-1"}))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.json);
        let refused = app.assess(&json!({"amount": 100, "currency": "MXN", "payment_method": {"type": "card", "card_bin": pan}})).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        // Report: description; evidence note on the case; case texts.
        let r = app
            .call(reqwest::Method::POST, "/api/v1/report-fraud", Some(app.secret()),
                  Some(&json!({"transaction_id": a.json["transaction_id"], "reason": "other", "description": note})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        let case = r.json["data"]["case"]["id"].as_str().unwrap().to_owned();
        app.post(
            &admin,
            &format!("/api/v1/cases/{case}/evidence"),
            &json!({"kind": "note", "description": note}),
        )
        .await;
        app.patch(
            &admin,
            &format!("/api/v1/cases/{case}"),
            &json!({"description": note, "victim_name": note}),
        )
        .await;
        // Blocklist reasons and event ingestion payloads.
        app.post(&admin, "/api/v1/blocklists", &json!({"list_type": "email", "value": format!("x{}@example.com", &pan[..4]), "reason": note})).await;
        app.call(
            reqwest::Method::POST,
            "/api/webhooks/ingest",
            Some(&app.creds.keys.ingest),
            Some(
                &json!({"event": "chargeback", "data": {"amount": 100, "note": note, "card": pan}}),
            ),
        )
        .await;
    }
    // Give the ingestion processor a moment to store its results.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let dump = dump_text(&app).await;
    assert!(dump.len() > 1_000, "the dump covers the data ({} bytes)", dump.len());
    let found = luhn_runs(&dump);
    let stored: Vec<&String> =
        found.iter().filter(|d| PANS.iter().any(|p| p.replace([' ', '-'], "") == **d)).collect();
    assert!(stored.is_empty(), "card numbers stored: {stored:?}");
}

/// Every text column of every table, concatenated.
async fn dump_text(app: &TestApp) -> String {
    use sqlx::{Connection, Row as _};
    let mut out = String::new();
    match app.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for t in tables {
                for row in
                    sqlx::query(&format!("SELECT * FROM \"{t}\"")).fetch_all(&mut c).await.unwrap()
                {
                    for i in 0..row.columns().len() {
                        if let Ok(Some(v)) = row.try_get::<Option<String>, _>(i) {
                            out.push_str(&v);
                            out.push('\n');
                        }
                    }
                }
            }
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for t in tables {
                let rows = sqlx::query(&format!("SELECT row_to_json(x)::text FROM \"{t}\" x"))
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
                for row in rows {
                    let v: String = row.get(0);
                    out.push_str(&v);
                    out.push('\n');
                }
            }
        }
    }
    out
}
