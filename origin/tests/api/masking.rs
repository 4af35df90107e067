//! Personal data reaches viewers masked wherever they read it — cases, their
//! transactions and listed values, blocklists, simulation runs — exactly as
//! the transaction monitor masks it, while roles that work cases read it
//! whole; and a plain date as the monitor's `to` includes that whole day.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{Reply, TestApp},
    stories,
};

stories!(
    viewers_read_cases_masked_and_admins_read_them_whole,
    viewers_read_simulation_runs_masked_and_admins_read_them_whole,
    viewers_read_blocklist_values_masked,
    a_plain_date_as_the_monitor_end_includes_that_day,
);

/// Asserts a 200 and that none of `secrets` appears anywhere in the body.
fn shows_none(r: &Reply, secrets: &[&str]) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let text = String::from_utf8_lossy(&r.raw);
    for secret in secrets {
        assert!(!text.contains(secret), "a viewer sees {secret}: {text}");
    }
}

/// The entry of `list_type` in a list of blocklist entries.
fn entry<'a>(entries: &'a Value, list_type: &str) -> &'a Value {
    entries
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["list_type"] == list_type)
        .unwrap_or_else(|| panic!("no {list_type} entry in {entries}"))
}

async fn viewers_read_cases_masked_and_admins_read_them_whole(app: TestApp) {
    let admin = app.admin_token().await;
    let paid = app
        .assess(&json!({
            "amount": 1500, "currency": "MXN", "email": "payer.one@example.com",
            "phone": "+525512345678", "customer_id": "cus_987654321",
            "device": {"ip": "203.0.113.9"},
        }))
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.json);
    let txn = paid.json["transaction_id"].as_str().unwrap().to_owned();

    // A manual case with the victim's data and the transaction linked.
    let created = app
        .post(
            &admin,
            "/api/v1/cases",
            &json!({"title": "Cargo desconocido", "incident_type": "phishing",
                    "victim_name": "Ana López", "victim_email": "ana.lopez@example.com"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["victim_email"], "ana.lopez@example.com");
    let case = created.json["id"].as_str().unwrap().to_owned();
    let linked = app
        .post(
            &admin,
            &format!("/api/v1/cases/{case}/transactions"),
            &json!({"transaction_id": txn}),
        )
        .await;
    assert_eq!(linked.status, StatusCode::CREATED, "{}", linked.json);
    assert_eq!(linked.json["email"], "payer.one@example.com");

    // A reported transaction: its case links the payer's listed email and IP.
    let stolen = app
        .assess(&json!({
            "amount": 2500, "currency": "MXN", "email": "thief@example.com",
            "payment_method": {"type": "card", "card_bin": "45717360", "card_last4": "1234"},
            "device": {"ip": "201.150.10.22"},
        }))
        .await;
    assert_eq!(stolen.status, StatusCode::OK, "{}", stolen.json);
    let reported = app
        .call(
            Method::POST,
            "/api/v1/report-fraud",
            Some(app.secret()),
            Some(&json!({"transaction_id": stolen.json["transaction_id"], "reason": "chargeback"})),
        )
        .await;
    assert_eq!(reported.status, StatusCode::CREATED, "{}", reported.json);
    let fraud_case = reported.json["data"]["case"]["id"].as_str().unwrap().to_owned();

    let viewer = app.member_token("viewer").await;
    let secrets = [
        "Ana López",
        "ana.lopez@",
        "payer.one@",
        "thief@",
        "201.150.10.22",
        "203.0.113.9",
        "5512345678",
        "cus_987654321",
    ];
    let listed = app.get(&viewer, "/api/v1/cases").await;
    shows_none(&listed, &secrets);
    let manual = listed.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == case.as_str())
        .expect("the manual case is listed");
    assert_eq!(manual["victim_name"], "*********");
    assert_eq!(manual["victim_email"], "a***@example.com");

    let detail = app.get(&viewer, &format!("/api/v1/cases/{case}")).await;
    shows_none(&detail, &secrets);
    assert_eq!(detail.json["victim_name"], "*********");
    assert_eq!(detail.json["victim_email"], "a***@example.com");
    assert_eq!(detail.json["transaction_count"], 1);
    assert_eq!(detail.json["title"], "Cargo desconocido");

    let linked = app.get(&viewer, &format!("/api/v1/cases/{case}/transactions")).await;
    shows_none(&linked, &secrets);
    assert_eq!(linked.json["data"][0]["id"], txn.as_str());
    assert_eq!(linked.json["data"][0]["email"], "p***@example.com");
    assert_eq!(linked.json["data"][0]["amount_minor"], 1500);

    let reported = app.get(&viewer, &format!("/api/v1/cases/{fraud_case}")).await;
    shows_none(&reported, &secrets);
    let entries = &reported.json["blocklist_entries"];
    assert_eq!(entry(entries, "email")["value"], "t***@example.com");
    assert_eq!(entry(entries, "ip_address")["value"], "201.150.10.*");
    // A BIN is not personal on its own: shown, as in the monitor.
    assert_eq!(entry(entries, "card_bin")["value"], "45717360");
    let reported_txns = app.get(&viewer, &format!("/api/v1/cases/{fraud_case}/transactions")).await;
    shows_none(&reported_txns, &secrets);
    assert_eq!(reported_txns.json["data"][0]["email"], "t***@example.com");
    for path in
        [format!("/api/v1/cases/{case}/activity"), format!("/api/v1/cases/{fraud_case}/activity")]
    {
        shows_none(&app.get(&viewer, &path).await, &secrets);
    }

    // Roles that work cases read everything whole.
    let compliance = app.member_token("compliance_officer").await;
    for token in [&admin, &compliance] {
        let detail = app.get(token, &format!("/api/v1/cases/{case}")).await;
        assert_eq!(detail.status, StatusCode::OK, "{}", detail.json);
        assert_eq!(detail.json["victim_name"], "Ana López");
        assert_eq!(detail.json["victim_email"], "ana.lopez@example.com");
        let linked = app.get(token, &format!("/api/v1/cases/{case}/transactions")).await;
        assert_eq!(linked.json["data"][0]["email"], "payer.one@example.com");
        let reported = app.get(token, &format!("/api/v1/cases/{fraud_case}")).await;
        let entries = &reported.json["blocklist_entries"];
        assert_eq!(entry(entries, "email")["value"], "thief@example.com");
        assert_eq!(entry(entries, "ip_address")["value"], "201.150.10.22");
    }
    let listed = app.get(&admin, "/api/v1/cases").await;
    assert!(
        listed.json["data"].as_array().unwrap().iter().any(|c| c["victim_name"] == "Ana López"),
        "{}",
        listed.json
    );
}

async fn viewers_read_simulation_runs_masked_and_admins_read_them_whole(app: TestApp) {
    let admin = app.admin_token().await;
    let ran = app
        .post(
            &admin,
            "/api/v1/simulation",
            &json!({"transaction": {
                "amount": 1500, "currency": "MXN", "email": "sim.payer@example.com",
                "phone": "+525512345678", "customer_id": "cus_987654321",
                "device": {"ip": "203.0.113.9", "fingerprint": "fp_0123456789abcdef"},
                "billing": {"country": "MX", "city": "Puebla", "postal_code": "72000"},
                "payment_method": {"type": "card", "card_bin": "424242", "card_last4": "4242"},
            }}),
        )
        .await;
    assert_eq!(ran.status, StatusCode::OK, "{}", ran.json);
    assert_eq!(ran.json["request"]["email"], "sim.payer@example.com");
    let id = ran.json["id"].as_str().unwrap().to_owned();

    let viewer = app.member_token("viewer").await;
    let runs = app.get(&viewer, "/api/v1/simulation/runs").await;
    shows_none(
        &runs,
        &[
            "sim.payer@",
            "203.0.113.9",
            "5512345678",
            "cus_987654321",
            "fp_0123456789abcdef",
            "Puebla",
            "72000",
        ],
    );
    let run = &runs.json["data"][0];
    assert_eq!(run["id"], id.as_str());
    assert_eq!(run["simulated"], true);
    assert_eq!(run["request"]["email"], "s***@example.com");
    assert_eq!(run["request"]["device"]["ip"], "203.0.113.*");
    assert_eq!(run["request"]["customer_id"], "*********4321");
    // What is not personal stays: amount, country, card BIN, the decision.
    assert_eq!(run["request"]["amount"], 1500.0);
    assert_eq!(run["request"]["billing"]["country"], "MX");
    assert_eq!(run["request"]["payment_method"]["card_bin"], "424242");
    assert_eq!(run["result"]["decision"], ran.json["result"]["decision"]);

    let analyst = app.member_token("analyst").await;
    for token in [&admin, &analyst] {
        let runs = app.get(token, "/api/v1/simulation/runs").await;
        assert_eq!(runs.status, StatusCode::OK, "{}", runs.json);
        let request = &runs.json["data"][0]["request"];
        assert_eq!(request["email"], "sim.payer@example.com");
        assert_eq!(request["device"]["ip"], "203.0.113.9");
        assert_eq!(request["billing"]["city"], "Puebla");
    }
}

async fn viewers_read_blocklist_values_masked(app: TestApp) {
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for (list_type, value) in [
        ("email", "listed.payer@example.com"),
        ("phone", "+525512345678"),
        ("ip_address", "198.51.100.4"),
        ("email_domain", "mailinator.com"),
        ("card_bin", "424242"),
    ] {
        let r = app
            .post(&admin, "/api/v1/blocklists", &json!({"list_type": list_type, "value": value}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{list_type}: {}", r.json);
        ids.push((list_type, r.json["id"].as_str().unwrap().to_owned()));
    }

    let viewer = app.member_token("viewer").await;
    let listed = app.get(&viewer, "/api/v1/blocklists").await;
    shows_none(&listed, &["listed.payer@", "5512345678", "198.51.100.4"]);
    let data = &listed.json["data"];
    assert_eq!(entry(data, "email")["value"], "l***@example.com");
    assert_eq!(entry(data, "phone")["value"], "*********5678");
    assert_eq!(entry(data, "ip_address")["value"], "198.51.100.*");
    assert_eq!(entry(data, "email_domain")["value"], "mailinator.com");
    assert_eq!(entry(data, "card_bin")["value"], "424242");
    let (_, email_id) = ids.iter().find(|(t, _)| *t == "email").unwrap();
    let one = app.get(&viewer, &format!("/api/v1/blocklists/{email_id}")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.json);
    assert_eq!(one.json["value"], "l***@example.com");

    let whole = app.get(&admin, "/api/v1/blocklists").await;
    assert_eq!(entry(&whole.json["data"], "email")["value"], "listed.payer@example.com");
    assert_eq!(entry(&whole.json["data"], "ip_address")["value"], "198.51.100.4");
    let one = app.get(&admin, &format!("/api/v1/blocklists/{email_id}")).await;
    assert_eq!(one.json["value"], "listed.payer@example.com");
}

async fn a_plain_date_as_the_monitor_end_includes_that_day(app: TestApp) {
    let admin = app.admin_token().await;
    let r = app.assess(&json!({"amount": 1500, "currency": "MXN"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let id = r.json["transaction_id"].as_str().unwrap().to_owned();
    let listed = app.get(&admin, "/api/v1/transactions").await;
    let created_at = listed.json["data"][0]["created_at"].as_str().unwrap().to_owned();
    let day: jiff::civil::Date = created_at[..10].parse().unwrap();
    let ids = |r: &Reply| -> Vec<String> {
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        r.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let yesterday = day.yesterday().unwrap();
    let tomorrow = day.tomorrow().unwrap();
    for (query, found) in [
        // The day's rows, from and to the same date.
        (format!("from={day}&to={day}"), true),
        (format!("to={day}"), true),
        (format!("from={yesterday}&to={yesterday}"), false),
        (format!("from={tomorrow}&to={tomorrow}"), false),
        // A timestamp stays an exclusive end.
        (format!("to={created_at}"), false),
        (format!("from={created_at}&to={tomorrow}"), true),
    ] {
        let r = app.get(&admin, &format!("/api/v1/transactions?{query}")).await;
        assert_eq!(ids(&r) == [id.clone()], found, "{query}: {}", r.json);
    }
}
