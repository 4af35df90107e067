//! Simulation runs the live pipeline and leaves no trace: no velocity
//! counted, no transaction, no webhook, no metrics (unless asked).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp},
    webhooks::{register, spawn},
};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::spawn(super::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::spawn(super::Backend::Postgres).await).await;
                }
            )*
        }
    };
}

both!(
    presets_run_the_live_pipeline_and_leave_no_trace,
    custom_requests_see_lists_and_rules,
    a_backtest_counts_the_decisions_a_draft_changes,
    a_payout_simulation_records_no_beneficiary,
);

async fn outbox_len(app: &TestApp) -> usize {
    app.store.outbox_events(&app.creds.organization_id).await.unwrap().len()
}

async fn decisions_metric(app: &TestApp) -> f64 {
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("clausum_decisions_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn evaluations(app: &TestApp, admin: &str, query: &str) -> i64 {
    let r = app.get(admin, &format!("/api/v1/dashboard/overview{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["evaluations"].as_i64().unwrap()
}

async fn simulate(app: &TestApp, token: &str, body: &Value) -> crate::helpers::Reply {
    app.post(token, "/api/v1/simulation", body).await
}

async fn presets_run_the_live_pipeline_and_leave_no_trace(app: TestApp) {
    let admin = app.admin_token().await;
    register(
        &app,
        &admin,
        "http://127.0.0.1:9/hook",
        json!(["transaction.created", "transaction.blocked"]),
    )
    .await;
    let (outbox, transactions, metric) =
        (outbox_len(&app).await, app.count_transactions().await, decisions_metric(&app).await);

    let presets = app.get(&admin, "/api/v1/simulation/presets").await;
    assert_eq!(presets.status, StatusCode::OK);
    let names: Vec<&str> =
        presets.json.as_array().unwrap().iter().map(|p| p["preset"].as_str().unwrap()).collect();
    assert!(names.contains(&"card_testing_burst") && names.contains(&"low_risk"), "{names:?}");

    let low = simulate(&app, &admin, &json!({"preset": "low_risk"})).await;
    assert_eq!(low.status, StatusCode::OK, "{}", low.json);
    assert_eq!(low.json["simulated"], true);
    assert_eq!(low.json["result"]["decision"], "approve", "{}", low.json);
    assert!(low.json["id"].as_str().unwrap().starts_with("sim_"));

    let burst = simulate(&app, &admin, &json!({"preset": "card_testing_burst"})).await;
    assert_eq!(burst.status, StatusCode::OK, "{}", burst.json);
    let signals = burst.json["result"]["signals"].as_array().unwrap();
    assert!(
        signals.iter().any(|s| s.as_str().unwrap().contains("velocity")),
        "a burst shows velocity: {signals:?}"
    );
    let suspicious = simulate(&app, &admin, &json!({"preset": "suspicious_device"})).await;
    assert_ne!(suspicious.json["result"]["decision"], "approve", "{}", suspicious.json);

    // The live counters never saw the burst: the same card assessed for
    // real now has no velocity at all.
    let card = &burst.json["request"]["payment_method"];
    let real = app.assess(&json!({"amount": 100, "currency": "MXN", "payment_method": card})).await;
    assert_eq!(real.status, StatusCode::OK, "{}", real.json);
    let real_signals = real.json["signals"].as_array().unwrap();
    assert!(
        !real_signals.iter().any(|s| s.as_str().unwrap().contains("velocity")),
        "simulations counted in live velocity: {real_signals:?}"
    );
    // Only that real assessment left a trace.
    assert_eq!(app.count_transactions().await, transactions + 1);
    assert_eq!(outbox_len(&app).await, outbox + 1, "simulations queue no webhooks");
    assert_eq!(decisions_metric(&app).await, metric + 1.0, "simulations are not in /metrics");
    assert_eq!(evaluations(&app, &admin, "").await, 1);
    assert_eq!(evaluations(&app, &admin, "?include_simulated=true").await, 4);

    let runs = app.get(&admin, "/api/v1/simulation/runs").await;
    assert_eq!(runs.json["pagination"]["total"], 3);
    assert_eq!(runs.json["data"][0]["preset"], "suspicious_device", "newest first");
}

async fn custom_requests_see_lists_and_rules(app: TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post(
            &admin,
            "/api/v1/blocklists",
            &json!({"list_type": "email", "value": "mule@example.org", "severity": "block"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let blocked = simulate(
        &app,
        &admin,
        &json!({"transaction": {"amount": 5000, "currency": "MXN", "email": "MULE@example.org"}}),
    )
    .await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.json);
    assert_eq!(blocked.json["result"]["decision"], "decline");
    assert!(blocked.json["result"]["blocked_by"].as_str().unwrap().starts_with("blocklist:email:"));
    assert_eq!(blocked.json["preset"], Value::Null);

    for (body, field) in [
        (json!({}), "preset"),
        (json!({"preset": "low_risk", "transaction": {"amount": 1, "currency": "MXN"}}), "preset"),
        (json!({"transaction": {"amount": 1, "currency": "XXQ"}}), "transaction.currency"),
    ] {
        let r = simulate(&app, &admin, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.json);
        assert_eq!(r.json["error"]["details"]["field"], field, "{body}: {}", r.json);
    }
    let unknown = simulate(&app, &admin, &json!({"preset": "everything_fine"})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);

    let viewer = app.member_token("viewer").await;
    let denied = simulate(&app, &viewer, &json!({"preset": "low_risk"})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.error_code(), "FORBIDDEN");
    let key = app
        .call(
            reqwest::Method::POST,
            "/api/v1/simulation",
            Some(app.secret()),
            Some(&json!({"preset": "low_risk"})),
        )
        .await;
    assert_eq!(key.status, StatusCode::UNAUTHORIZED, "API keys do not simulate");
}

async fn a_backtest_counts_the_decisions_a_draft_changes(app: TestApp) {
    let admin = app.admin_token().await;
    let since = "2020-01-01";
    // A seeded history: small and large amounts.
    let mut recorded = Vec::new();
    for (i, amount) in [100, 70_000, 2_500, 80_000, 90_000, 300].into_iter().enumerate() {
        let r = app
            .assess(&json!({"amount": amount, "currency": "MXN", "email": format!("payer{i}@example.com")}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        recorded.push((amount, r.json["decision"].as_str().unwrap().to_owned()));
    }
    let expected_changed =
        recorded.iter().filter(|(a, d)| *a > 60_000 && d != "decline").count() as u64;
    assert!(expected_changed > 0, "the seed has approvals to move: {recorded:?}");
    let transactions = app.count_transactions().await;

    let r = app
        .post(
            &admin,
            "/api/v1/simulation/backtest",
            &json!({"rules": [{"name": "big", "source": "when amount > 60000 then decline"}],
                    "since": since, "examples": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["total"], 6, "{}", r.json);
    assert_eq!(r.json["changed"], expected_changed, "{}", r.json);
    assert_eq!(r.json["unchanged"], 6 - expected_changed);
    assert_eq!(r.json["transitions"][0]["to"], "decline");
    let examples = r.json["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 2.min(expected_changed as usize));
    assert_eq!(examples[0]["amount_minor"], 70_000, "first in time order");
    assert_eq!(examples[0]["backtest_decision"], "decline");

    // An empty draft against the same history changes nothing (the live
    // rule set is empty too).
    let same = app
        .post(&admin, "/api/v1/simulation/backtest", &json!({"rules": [], "since": since}))
        .await;
    assert_eq!(same.json["changed"], 0, "{}", same.json);
    // Only payouts: none recorded.
    let payouts = app
        .post(
            &admin,
            "/api/v1/simulation/backtest",
            &json!({"rules": [], "since": since, "flow": "payout"}),
        )
        .await;
    assert_eq!(payouts.json["total"], 0, "{}", payouts.json);
    assert_eq!(app.count_transactions().await, transactions, "a backtest writes nothing");

    for (body, field) in [
        (
            json!({"rules": [{"name": "x", "source": "when amount >"}], "since": since}),
            "rules[0].source",
        ),
        (
            json!({"rules": [{"name": " ", "source": "when amount > 1 then review"}], "since": since}),
            "rules[0].name",
        ),
        (json!({"rules": [], "since": "yesterday"}), "since"),
        (json!({"rules": [], "since": "2030-01-02", "until": "2030-01-01"}), "until"),
        (json!({"rules": [], "since": since, "examples": 1000}), "examples"),
    ] {
        let r = app.post(&admin, "/api/v1/simulation/backtest", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.json);
        assert_eq!(r.json["error"]["details"]["field"], field, "{body}: {}", r.json);
    }
}

async fn a_payout_simulation_records_no_beneficiary(app: TestApp) {
    let admin = app.admin_token().await;
    let risky = app
        .post(
            &admin,
            "/api/v1/simulation/payout",
            &json!({"preset": "first_payout_high_risk_country"}),
        )
        .await;
    assert_eq!(risky.status, StatusCode::OK, "{}", risky.json);
    assert_eq!(risky.json["result"]["flow"], "payout");
    let signals = risky.json["result"]["signals"].as_array().unwrap();
    for code in
        ["payout_high_risk_country", "payout_first_beneficiary", "payout_unattributed_initiator"]
    {
        assert!(signals.iter().any(|s| s == code), "{code} missing: {signals:?}");
    }
    // A simulated payout does not make its beneficiary known: simulated
    // twice, it is a first payout both times.
    let body = json!({"transaction": {"amount": 100, "currency": "MXN",
        "beneficiary": {"id": "ben_sim", "country": "MX"},
        "origin": {"account_id": "acct_sim", "country": "MX"},
        "payout": {"channel": "spei", "initiated_by": "ops@bank.example"}}});
    for _ in 0..2 {
        let r = app.post(&admin, "/api/v1/simulation/payout", &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        let s = r.json["result"]["signals"].as_array().unwrap();
        assert!(s.iter().any(|c| c == "payout_first_beneficiary"), "{s:?}");
    }
    assert_eq!(app.count_transactions().await, 0);
    let bad = app
        .post(
            &admin,
            "/api/v1/simulation/payout",
            &json!({"transaction": {"amount": 100, "currency": "MXN",
            "beneficiary": {"clabe": "012180001234567890"}}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json["error"]["details"]["field"], "transaction.beneficiary.clabe",
        "{}",
        bad.json
    );
}
