//! Payout assessment: validation, every payout signal firing and not
//! firing, flow-scoped blocklists, idempotent replay, webhooks, release,
//! and known beneficiaries surviving a restart.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, Reply, TestApp},
    stories,
};

stories!(
    payout_signals_fire_and_stay_quiet,
    invalid_accounts_are_refused_with_the_field,
    blocklists_are_flow_scoped,
    a_released_assessment_frees_its_key,
    known_beneficiaries_survive_a_restart,
);

/// A valid CLABE (Banamex, documented check digit).
const CLABE: &str = "002010077777777771";
/// The bank guide's example CLABE: its check digit is wrong.
const GUIDE_CLABE: &str = "012180001234567890";

async fn payout_with(app: &TestApp, key: &str, body: &Value, idem: Option<&str>) -> Reply {
    let mut req = app.client.post(app.url("/api/v1/assess/payout")).bearer_auth(key).json(body);
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    Reply::read(req.send().await.unwrap()).await
}

async fn payout(app: &TestApp, body: &Value) -> Reply {
    payout_with(app, app.secret(), body, None).await
}

fn signals(r: &Reply) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["signals"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

/// A domestic SPEI payout from `account` to `beneficiary` (by CLABE when
/// given, else by id).
fn spei(account: &str, beneficiary: &str, amount: &str) -> Value {
    json!({
        "amount": amount.parse::<f64>().unwrap(), "amount_unit": "major", "currency": "MXN",
        "beneficiary": {"id": beneficiary, "name": "Beneficiario SA", "country": "MX"},
        "origin": {"account_id": account, "country": "MX"},
        "payout": {"channel": "spei", "initiated_by": "ops@bank.example"}
    })
}

async fn payout_signals_fire_and_stay_quiet(app: TestApp) {
    // First payout to a beneficiary: fires; the second to the same one: quiet.
    let first = payout(&app, &spei("acct_a", "ben_1", "2500.00")).await;
    let s = signals(&first);
    assert!(s.contains(&"payout_first_beneficiary".into()), "{s:?}");
    assert_eq!(first.json["flow"], "payout");
    assert!(first.json["transaction_id"].as_str().unwrap().starts_with("txn_"));
    let again = signals(&payout(&app, &spei("acct_a", "ben_1", "2500.00")).await);
    assert!(!again.contains(&"payout_first_beneficiary".into()), "{again:?}");
    // The request can say so itself.
    let mut declared = spei("acct_a", "ben_1", "2500.00");
    declared["payout"]["first_to_beneficiary"] = json!(true);
    assert!(signals(&payout(&app, &declared).await).contains(&"payout_first_beneficiary".into()));

    // High-risk jurisdiction.
    let mut risky = spei("acct_b", "ben_kp", "100.00");
    risky["beneficiary"]["country"] = json!("KP");
    assert!(signals(&payout(&app, &risky).await).contains(&"payout_high_risk_country".into()));
    assert!(
        !signals(&payout(&app, &spei("acct_b", "ben_mx", "100.00")).await)
            .contains(&"payout_high_risk_country".into())
    );

    // Cross-border above the MXN threshold (50,000.00), and below it.
    let cross = |amount: &str| {
        let mut b = spei("acct_c", "ben_us", amount);
        b["beneficiary"]["country"] = json!("US");
        b["payout"]["channel"] = json!("wire");
        b
    };
    assert!(
        signals(&payout(&app, &cross("60000.00")).await)
            .contains(&"payout_cross_border_high_amount".into())
    );
    assert!(
        !signals(&payout(&app, &cross("1000.00")).await)
            .contains(&"payout_cross_border_high_amount".into())
    );
    assert!(
        !signals(&payout(&app, &spei("acct_c", "ben_mx2", "60000.00")).await)
            .contains(&"payout_cross_border_high_amount".into()),
        "domestic payouts are not cross-border"
    );

    // Unattributed initiator: missing or generic.
    for initiator in [Value::Null, json!("system"), json!("  API ")] {
        let mut b = spei("acct_d", "ben_d", "100.00");
        b["payout"]["initiated_by"] = initiator.clone();
        let s = signals(&payout(&app, &b).await);
        assert!(s.contains(&"payout_unattributed_initiator".into()), "{initiator}: {s:?}");
    }
    assert!(
        !signals(&payout(&app, &spei("acct_d", "ben_d", "100.00")).await)
            .contains(&"payout_unattributed_initiator".into())
    );

    // New-beneficiary velocity: the 4th new beneficiary of one account in 24 h.
    for i in 1..=3 {
        let s = signals(&payout(&app, &spei("acct_e", &format!("ben_e{i}"), "100.00")).await);
        assert!(!s.contains(&"payout_new_beneficiary_velocity".into()), "#{i}: {s:?}");
    }
    let fourth = signals(&payout(&app, &spei("acct_e", "ben_e4", "100.00")).await);
    assert!(fourth.contains(&"payout_new_beneficiary_velocity".into()), "{fourth:?}");
    let other_account = signals(&payout(&app, &spei("acct_f", "ben_e4", "100.00")).await);
    assert!(!other_account.contains(&"payout_new_beneficiary_velocity".into()));

    // Amount outlier against the origin account's history.
    for _ in 0..6 {
        signals(&payout(&app, &spei("acct_g", "ben_g", "100.00")).await);
    }
    let outlier = signals(&payout(&app, &spei("acct_g", "ben_g", "90000.00")).await);
    assert!(outlier.contains(&"amount_outlier".into()), "{outlier:?}");

    // Both spellings of the guides: rail `spei` with channel `api`.
    let mut guide = spei("acct_h", "ben_h", "100.00");
    guide["payout"] = json!({"rail": "spei", "channel": "api", "initiated_by": "ops@bank.example",
                             "first_to_beneficiary": false});
    guide["transaction_type"] = json!("payout");
    assert_eq!(payout(&app, &guide).await.status, StatusCode::OK);

    // Payouts are counted under their flow in the overview.
    let admin = app.admin_token().await;
    let o = app.get(&admin, "/api/v1/dashboard/overview?flow=payout").await;
    assert_eq!(o.json["evaluations"].as_i64(), Some(app.count_transactions().await), "{}", o.json);
    let o = app.get(&admin, "/api/v1/dashboard/overview?flow=payin").await;
    assert_eq!(o.json["evaluations"], 0, "{}", o.json);
}

async fn invalid_accounts_are_refused_with_the_field(app: TestApp) {
    let before = app.count_transactions().await;
    let with = |field: &str, value: Value| {
        let mut b = spei("acct", "ben", "100.00");
        b["beneficiary"][field] = value;
        b
    };
    let corrupted = format!("{}2", &CLABE[..17]);
    for (body, field) in [
        (with("clabe", json!(GUIDE_CLABE)), "beneficiary.clabe"),
        (with("clabe", json!(corrupted)), "beneficiary.clabe"),
        (with("clabe", json!("0020100777777777")), "beneficiary.clabe"),
        (with("iban", json!("DE89370400440532013001")), "beneficiary.iban"),
        (with("iban", json!("DE8937040044053201300")), "beneficiary.iban"),
        (with("swift_bic", json!("BANAMX")), "beneficiary.swift_bic"),
        (with("country", json!("ZZ")), "beneficiary.country"),
        (
            json!({"amount": 100, "currency": "MXN", "beneficiary": {"name": "No account"}}),
            "beneficiary",
        ),
        (json!({"amount": 100, "currency": "MXN"}), "beneficiary"),
        (json!({"amount": 1.5, "currency": "MXN", "beneficiary": {"id": "b"}}), "amount"),
    ] {
        let r = payout(&app, &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.json);
        assert_eq!(r.error_code(), "VALIDATION_ERROR");
        assert_eq!(r.json["error"]["details"]["field"], field, "{body}: {}", r.json);
    }
    // The real ones pass, with decimals in major units.
    for (field, value) in [
        ("clabe", CLABE),
        ("iban", "DE89370400440532013000"),
        ("iban", "gb82 west 1234 5698 7654 32"),
    ] {
        let r = payout(&app, &with(field, json!(value))).await;
        assert_eq!(r.status, StatusCode::OK, "{field} {value}: {}", r.json);
    }
    assert_eq!(app.count_transactions().await, before + 3, "refusals record nothing");

    // Keys: publishable keys do not assess payouts.
    let r = payout_with(&app, &app.creds.keys.publishable, &spei("a", "b", "1.00"), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "SECRET_KEY_REQUIRED");
    let r = payout_with(&app, "clm_sk_nope", &spei("a", "b", "1.00"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The public catalogue.
    let c = app.call(Method::GET, "/api/v1/assess/payout", None, None).await;
    assert_eq!(c.status, StatusCode::OK);
    assert_eq!(c.json["flow"], "payout");
    assert!(c.json["field_requirements_by_segment"]["bank"].is_array());
    assert!(
        c.json["signals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == "payout_high_risk_country")
    );
}

async fn blocklists_are_flow_scoped(app: TestApp) {
    let admin = app.admin_token().await;
    let add = |list_type: &str, value: &str, scope: &str| json!({"list_type": list_type, "value": value, "severity": "block", "flow_scope": scope});
    for body in [
        add("clabe", CLABE, "payout"),
        add("email", "payin.only@example.com", "payin"),
        add("beneficiary_id", "ben_blocked", "all"),
        add("iban", "GB82WEST12345698765432", "payin"),
    ] {
        let r = app.post(&admin, "/api/v1/blocklists", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{body}: {}", r.json);
    }
    let mut to_clabe = spei("acct", "ben_x", "100.00");
    to_clabe["beneficiary"]["clabe"] = json!(CLABE);
    let r = payout(&app, &to_clabe).await;
    assert_eq!(r.json["decision"], "decline", "{}", r.json);
    assert!(
        r.json["blocked_by"].as_str().unwrap().starts_with("blocklist:clabe:bl_"),
        "{}",
        r.json
    );

    let r = payout(&app, &spei("acct", "ben_blocked", "100.00")).await;
    assert_eq!(r.json["decision"], "decline", "scope `all` applies to payouts: {}", r.json);

    // A payin-scoped IBAN does not stop a payout.
    let mut to_iban = spei("acct", "ben_y", "100.00");
    to_iban["beneficiary"]["iban"] = json!("GB82WEST12345698765432");
    to_iban["beneficiary"]["country"] = json!("GB");
    let r = payout(&app, &to_iban).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json["blocked_by"].is_null(), "a payin entry blocked a payout: {}", r.json);

    // And the other way round: the payout-scoped CLABE does not stop a pay-in
    // (it cannot carry one), the payin-scoped email does.
    let r = app
        .assess(&json!({"amount": 100, "currency": "MXN", "email": "payin.only@example.com"}))
        .await;
    assert_eq!(r.json["decision"], "decline");
    let admin_payout_email = app
        .post(&admin, "/api/v1/blocklists", &add("email", "payout.only@example.com", "payout"))
        .await;
    assert_eq!(admin_payout_email.status, StatusCode::CREATED);
    let r = app
        .assess(&json!({"amount": 100, "currency": "MXN", "email": "payout.only@example.com"}))
        .await;
    assert!(r.json["blocked_by"].is_null(), "a payout entry blocked a pay-in: {}", r.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_replays_and_announces_itself_sqlite() {
    a_payout_replays_and_announces_itself(crate::webhooks::spawn(Backend::Sqlite).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_replays_and_announces_itself_postgres() {
    a_payout_replays_and_announces_itself(crate::webhooks::spawn(Backend::Postgres).await).await;
}

async fn a_payout_replays_and_announces_itself(app: TestApp) {
    let admin = app.admin_token().await;
    crate::webhooks::register(
        &app,
        &admin,
        "http://127.0.0.1:9/clausum",
        json!(["transaction.created", "transaction.blocked"]),
    )
    .await;
    let outbox = || async { app.store.outbox_events(&app.creds.organization_id).await.unwrap() };
    let before = outbox().await.len();
    let body = spei("acct_r", "ben_r", "1500.00");
    let first = payout_with(&app, app.secret(), &body, Some("payout-0001")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    let replay = payout_with(&app, app.secret(), &body, Some("payout-0001")).await;
    assert_eq!(replay.raw, first.raw, "the stored answer, byte for byte");
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    let mut other = body.clone();
    other["amount"] = json!(1600.0);
    let reused = payout_with(&app, app.secret(), &other, Some("payout-0001")).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.error_code(), "IDEMPOTENCY_KEY_REUSED");

    let events = outbox().await;
    assert_eq!(events.len(), before + 1, "one event for one payout, none for the replay");
    let event = events.last().unwrap();
    assert_eq!(event.event_type, "transaction.created");
    let data: Value = serde_json::from_str(&event.payload).unwrap();
    assert_eq!(data["flow"], "payout", "{data}");
    assert_eq!(data["transaction_id"], first.json["transaction_id"]);
}

async fn a_released_assessment_frees_its_key(app: TestApp) {
    let checkout = json!({"amount": 1000, "currency": "MXN", "email": "cart@example.com"});
    let key = app.secret().to_owned();
    let assess = |body: Value| {
        let app = &app;
        let key = key.clone();
        async move {
            Reply::read(
                app.client
                    .post(app.url("/api/v1/assess"))
                    .bearer_auth(&key)
                    .header("Idempotency-Key", "cart-42")
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let first = assess(checkout.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    let mut changed = checkout.clone();
    changed["amount"] = json!(2000);
    assert_eq!(assess(changed.clone()).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let release = |body: Value| {
        let app = &app;
        async move {
            app.call(Method::POST, "/api/v1/assess/release", Some(app.secret()), Some(&body)).await
        }
    };
    let r = release(json!({"transaction_id": first.json["transaction_id"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["released"], true);
    let at = r.json["released_at"].clone();
    // Idempotent, and by session id too.
    let again = release(json!({"session_id": first.json["session_id"]})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["released_at"], at);

    // The key is free: the changed cart is decided afresh.
    let fresh = assess(changed).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.json);
    assert_ne!(fresh.json["transaction_id"], first.json["transaction_id"]);

    for (body, status) in [
        (json!({"transaction_id": "txn_nope"}), StatusCode::NOT_FOUND),
        (json!({}), StatusCode::BAD_REQUEST),
        (json!({"transaction_id": "a", "session_id": "b"}), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(release(body.clone()).await.status, status, "{body}");
    }
    let (other, _) = app.other_org().await;
    let foreign = app
        .call(
            Method::POST,
            "/api/v1/assess/release",
            Some(&other.keys.secret),
            Some(&json!({"transaction_id": fresh.json["transaction_id"]})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

async fn known_beneficiaries_survive_a_restart(app: TestApp) {
    let first = signals(&payout(&app, &spei("acct_k", "ben_k", "100.00")).await);
    assert!(first.contains(&"payout_first_beneficiary".into()));
    // A declined payout moved no money: its beneficiary stays new.
    let admin = app.admin_token().await;
    let r = app
        .post(&admin, "/api/v1/blocklists", &json!({"list_type": "beneficiary_id", "value": "ben_declined", "severity": "block", "flow_scope": "payout"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let declined = payout(&app, &spei("acct_k", "ben_declined", "100.00")).await;
    assert_eq!(declined.json["decision"], "decline");

    let app = app.restart().await;
    let again = signals(&payout(&app, &spei("acct_k", "ben_k", "100.00")).await);
    assert!(!again.contains(&"payout_first_beneficiary".into()), "forgotten on restart: {again:?}");
    let admin = app.admin_token().await;
    let id =
        app.get(&admin, "/api/v1/blocklists?list_type=beneficiary_id").await.json["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_eq!(
        app.delete(&admin, &format!("/api/v1/blocklists?id={id}")).await.status,
        StatusCode::OK
    );
    let now_clear = signals(&payout(&app, &spei("acct_k", "ben_declined", "100.00")).await);
    assert!(now_clear.contains(&"payout_first_beneficiary".into()), "{now_clear:?}");
}
