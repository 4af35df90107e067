//! Stripe webhooks in, signed as Stripe signs them, against a real
//! loopback receiver of the webhooks they cause: disputes open cases and
//! announce themselves, replays change nothing, payments link to their
//! assessed transactions, and every authentication failure looks the same.

use std::{collections::HashMap, time::Duration};

use clausum_core::webhook::stripe_header;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Reply, TestApp},
    webhooks::{Receiver, register, spawn, verified},
};

macro_rules! provider_stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::spawn(crate::helpers::Backend::Sqlite).await).await; }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::spawn(crate::helpers::Backend::Postgres).await).await; }
        )* }
    };
}

provider_stories!(
    a_dispute_opens_a_case_once_and_its_close_names_it,
    payments_link_to_their_assessed_transactions,
    an_early_fraud_warning_opens_a_case,
    every_authentication_failure_looks_the_same,
    the_secret_is_write_only_and_admin_managed,
);

const SECRET: &str = "whsec_test_0123456789abcdefABCDEF";

fn now_s() -> i64 {
    clausum_origin::time::now_ms() / 1_000
}

/// Stores the Stripe secret of the app's organisation.
async fn configure(app: &TestApp, admin: &str) {
    let r = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/integrations/stripe",
            Some(admin),
            Some(&json!({"secret": SECRET})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

/// POSTs raw bytes to the Stripe endpoint with an optional signature.
async fn post_raw(app: &TestApp, org: &str, body: &[u8], signature: Option<String>) -> Reply {
    let mut req = app
        .client
        .post(app.url(&format!("/api/webhooks/stripe?org_id={org}")))
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("stripe-signature", s);
    }
    Reply::read(req.send().await.unwrap()).await
}

/// Sends `event` signed with `secret` now, as Stripe would.
async fn send_signed(app: &TestApp, org: &str, secret: &str, event: &Value) -> Reply {
    // Stripe pretty-prints its bodies: the signature covers these exact bytes.
    let body = serde_json::to_vec_pretty(event).unwrap();
    let header = stripe_header(&body, secret, now_s());
    post_raw(app, org, &body, Some(header)).await
}

async fn send(app: &TestApp, event: &Value) -> Reply {
    send_signed(app, &app.creds.organization_id, SECRET, event).await
}

fn stripe_event(id: &str, kind: &str, object: Value) -> Value {
    json!({"id": id, "object": "event", "type": kind, "created": now_s(), "livemode": false,
           "data": {"object": object}})
}

fn dispute(status: &str) -> Value {
    json!({"id": "dp_1Abc", "object": "dispute", "amount": 2_500_000, "currency": "mxn",
           "charge": "ch_1Abc", "payment_intent": "pi_disputed", "reason": "fraudulent", "status": status})
}

/// Waits until deliveries of every `events` type arrived; returns the
/// verified bodies by event type.
async fn wait_events(rx: &Receiver, secret: &str, events: &[&str]) -> HashMap<String, Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got: HashMap<String, Value> =
            rx.delivered().values().map(|r| (r.event.clone(), verified(r, secret))).collect();
        if events.iter().all(|e| got.contains_key(*e)) {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "got only {:?}",
            got.keys().collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn put(app: &TestApp, token: &str, secret: &str) -> Reply {
    let body = json!({"secret": secret});
    app.call(reqwest::Method::PUT, "/api/v1/integrations/stripe", Some(token), Some(&body)).await
}

async fn outbox_len(app: &TestApp) -> usize {
    app.store.outbox_events(&app.creds.organization_id).await.unwrap().len()
}

async fn a_dispute_opens_a_case_once_and_its_close_names_it(app: TestApp) {
    let admin = app.admin_token().await;
    configure(&app, &admin).await;
    let (rx, url) = Receiver::start().await;
    let (_, hook_secret) = register(
        &app,
        &admin,
        &url,
        json!(["dispute.created", "case.created", "dispute.resolved"]),
    )
    .await;
    let a = app
        .assess(&json!({"amount": 2_500_000, "currency": "MXN", "payment_id": "pi_disputed",
                         "email": "disputed@example.com"}))
        .await;
    let txn = a.json["transaction_id"].as_str().unwrap().to_owned();

    let created =
        stripe_event("evt_dispute_created", "charge.dispute.created", dispute("needs_response"));
    let r = send(&app, &created).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json, json!({"received": true, "duplicate": false, "outcome": "applied"}));

    let cases = app.get(&admin, "/api/v1/cases").await;
    assert_eq!(cases.json["pagination"]["total"], 1, "{}", cases.json);
    let case = &cases.json["data"][0];
    let case_id = case["id"].as_str().unwrap().to_owned();
    assert_eq!(case["source"], "provider");
    assert_eq!(case["incident_type"], "transferencia_no_autorizada");
    assert_eq!(case["fraud_reason"], "chargeback");
    assert_eq!(case["created_by"], "provider:stripe");
    assert_eq!(case["currency"], "MXN");
    assert_eq!(case["amount_minor"], 2_500_000);
    // MXN 25,000 is over the `high` threshold: one level above a chargeback's `media`.
    assert_eq!(case["priority"], "alta");
    assert!(case["reference_number"].as_str().unwrap().starts_with("CLM-"));
    let linked = app.get(&admin, &format!("/api/v1/cases/{case_id}/transactions")).await;
    assert_eq!(linked.json["data"][0]["id"], txn.as_str(), "{}", linked.json);
    let audit = app.get(&admin, "/api/v1/audit-log?resource_type=case").await;
    assert_eq!(audit.json["data"][0]["actor"], "provider:stripe", "{}", audit.json);
    assert_eq!(audit.json["data"][0]["action"], "case.create");

    let got = wait_events(&rx, &hook_secret, &["dispute.created", "case.created"]).await;
    let d = &got["dispute.created"]["data"];
    assert_eq!(d["dispute_id"], "dp_1Abc");
    assert_eq!(d["case_id"], case_id.as_str());
    assert_eq!(d["transaction_id"], txn.as_str());
    assert_eq!((d["amount"].clone(), d["currency"].clone()), (json!(2_500_000), json!("MXN")));
    assert_eq!(d["status"], "needs_response");
    assert_eq!(d["reason"], "fraudulent");
    assert_eq!(got["case.created"]["data"]["id"], case_id.as_str());

    // The same Stripe event again: 200, nothing changes.
    let events_before = outbox_len(&app).await;
    let again = send(&app, &created).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json["duplicate"], true, "{}", again.json);
    assert_eq!(app.get(&admin, "/api/v1/cases").await.json["pagination"]["total"], 1);
    assert_eq!(outbox_len(&app).await, events_before);

    // Closing the dispute names the case, and the case's log tells the story.
    let closed = stripe_event("evt_dispute_closed", "charge.dispute.closed", dispute("lost"));
    let r = send(&app, &closed).await;
    assert_eq!(r.json["outcome"], "applied", "{}", r.json);
    let got = wait_events(&rx, &hook_secret, &["dispute.resolved"]).await;
    let d = &got["dispute.resolved"]["data"];
    assert_eq!(
        (d["case_id"].as_str(), d["status"].as_str()),
        (Some(case_id.as_str()), Some("lost"))
    );
    assert_eq!(d["transaction_id"], txn.as_str());
    let log = app.get(&admin, &format!("/api/v1/cases/{case_id}/activity")).await;
    let actions: Vec<&str> = log.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["provider_dispute_closed", "opened_by_provider"], "{}", log.json);
    assert_eq!(app.get(&admin, "/api/v1/cases").await.json["pagination"]["total"], 1);
}

async fn payments_link_to_their_assessed_transactions(app: TestApp) {
    let admin = app.admin_token().await;
    configure(&app, &admin).await;
    let (rx, url) = Receiver::start().await;
    let (_, hook_secret) =
        register(&app, &admin, &url, json!(["transaction.succeeded", "transaction.failed"])).await;
    let paid = app.assess(&json!({"amount": 1500, "currency": "MXN"})).await;
    let paid_txn = paid.json["transaction_id"].as_str().unwrap().to_owned();
    let session = paid.json["session_id"].as_str().unwrap().to_owned();
    let failed =
        app.assess(&json!({"amount": 900, "currency": "MXN", "payment_id": "pi_will_fail"})).await;
    let failed_txn = failed.json["transaction_id"].as_str().unwrap().to_owned();

    let charge = json!({"id": "ch_paid", "object": "charge", "amount": 1500, "currency": "mxn",
                        "payment_intent": "pi_paid", "metadata": {"clausum_session_id": session}});
    let r = send(&app, &stripe_event("evt_paid", "charge.succeeded", charge)).await;
    assert_eq!(r.json["outcome"], "applied", "{}", r.json);
    let intent = json!({"id": "pi_will_fail", "object": "payment_intent", "amount": 900, "currency": "mxn",
                        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"}});
    let r = send(&app, &stripe_event("evt_failed", "payment_intent.payment_failed", intent)).await;
    assert_eq!(r.json["outcome"], "applied", "{}", r.json);

    let got =
        wait_events(&rx, &hook_secret, &["transaction.succeeded", "transaction.failed"]).await;
    let s = &got["transaction.succeeded"]["data"];
    assert_eq!(s["transaction_id"], paid_txn.as_str());
    assert_eq!(s["session_id"], session.as_str());
    assert_eq!(
        (s["charge_id"].as_str(), s["payment_intent_id"].as_str()),
        (Some("ch_paid"), Some("pi_paid"))
    );
    assert_eq!((s["amount"].clone(), s["currency"].clone()), (json!(1500), json!("MXN")));
    assert_eq!(s["provider"], "stripe");
    let f = &got["transaction.failed"]["data"];
    assert_eq!(f["transaction_id"], failed_txn.as_str());
    assert_eq!(f["failure_code"], "insufficient_funds");

    // The charge is now linked: a fraud report can name it by the payment intent.
    let report = app
        .call(
            reqwest::Method::POST,
            "/api/v1/report-fraud",
            Some(app.secret()),
            Some(&json!({"external_transaction_id": "pi_paid", "provider": "stripe", "reason": "other"})),
        )
        .await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.json);
    assert_eq!(report.json["data"]["transaction"]["id"], paid_txn.as_str());

    // A charge Clausum never assessed is recorded, and announces nothing.
    let before = outbox_len(&app).await;
    let stranger = json!({"id": "ch_stranger", "amount": 10, "currency": "usd", "payment_intent": "pi_stranger"});
    let r = send(&app, &stripe_event("evt_stranger", "charge.succeeded", stranger)).await;
    assert_eq!(r.json, json!({"received": true, "duplicate": false, "outcome": "unmatched"}));
    // Events Clausum does not act on are recorded as received.
    let r =
        send(&app, &stripe_event("evt_customer", "customer.created", json!({"id": "cus_1"}))).await;
    assert_eq!(r.json["outcome"], "ignored", "{}", r.json);
    assert_eq!(outbox_len(&app).await, before, "nothing announced");
}

async fn an_early_fraud_warning_opens_a_case(app: TestApp) {
    let admin = app.admin_token().await;
    configure(&app, &admin).await;
    let (rx, url) = Receiver::start().await;
    let (_, hook_secret) = register(&app, &admin, &url, json!(["case.created"])).await;
    let a =
        app.assess(&json!({"amount": 4200, "currency": "USD", "payment_id": "pi_warned"})).await;
    let txn = a.json["transaction_id"].as_str().unwrap().to_owned();
    let warning = json!({"id": "issfr_1", "object": "radar.early_fraud_warning", "actionable": true,
                         "charge": "ch_warned", "payment_intent": "pi_warned", "fraud_type": "made_with_stolen_card"});
    let r = send(&app, &stripe_event("evt_warning", "radar.early_fraud_warning.created", warning))
        .await;
    assert_eq!(r.json["outcome"], "applied", "{}", r.json);
    let got = wait_events(&rx, &hook_secret, &["case.created"]).await;
    let case = &got["case.created"]["data"];
    assert_eq!(case["source"], "provider");
    assert_eq!(case["fraud_reason"], "card_testing");
    assert_eq!(case["incident_type"], "transferencia_no_autorizada");
    assert_eq!(
        (case["amount_minor"].clone(), case["currency"].clone()),
        (json!(4200), json!("USD"))
    );
    let id = case["id"].as_str().unwrap();
    let linked = app.get(&admin, &format!("/api/v1/cases/{id}/transactions")).await;
    assert_eq!(linked.json["data"][0]["id"], txn.as_str(), "{}", linked.json);
}

async fn every_authentication_failure_looks_the_same(app: TestApp) {
    let admin = app.admin_token().await;
    let org = app.creds.organization_id.clone();
    let event = stripe_event("evt_auth", "charge.dispute.created", dispute("needs_response"));
    let body = serde_json::to_vec(&event).unwrap();
    // No secret stored yet.
    let no_secret = send(&app, &event).await;
    configure(&app, &admin).await;
    let (other, _) = app.other_org().await;
    let failures = [
        no_secret,
        post_raw(
            &app,
            &org,
            &body,
            Some(stripe_header(&body, "whsec_not_the_secret_at_all", now_s())),
        )
        .await,
        post_raw(&app, &org, &body, Some(stripe_header(&body, SECRET, now_s() - 301))).await,
        post_raw(&app, &org, &body, Some(stripe_header(&body, SECRET, now_s() + 301))).await,
        post_raw(&app, &org, &body, None).await,
        post_raw(&app, &org, &body, Some("t=1,v1=00".into())).await,
        post_raw(&app, "org_does_not_exist", &body, Some(stripe_header(&body, SECRET, now_s())))
            .await,
        post_raw(&app, &other.organization_id, &body, Some(stripe_header(&body, SECRET, now_s())))
            .await,
        // Signed, then altered: the signature covers the raw bytes.
        post_raw(
            &app,
            &org,
            &serde_json::to_vec_pretty(&event).unwrap(),
            Some(stripe_header(&body, SECRET, now_s())),
        )
        .await,
    ];
    let first = &failures[0];
    assert_eq!(first.status, StatusCode::UNAUTHORIZED, "{}", first.json);
    assert_eq!(first.error_code(), "UNAUTHORIZED");
    for (i, f) in failures.iter().enumerate() {
        assert_eq!((f.status, &f.raw), (first.status, &first.raw), "failure {i}: {}", f.json);
    }
    let r = Reply::read(
        app.client.post(app.url("/api/webhooks/stripe")).body(body.clone()).send().await.unwrap(),
    )
    .await;
    assert_eq!((r.status, &r.raw), (first.status, &first.raw), "without org_id");
    assert_eq!(app.get(&admin, "/api/v1/cases").await.json["pagination"]["total"], 0);

    // Signed correctly it works; a body over 256 KiB is refused before anything.
    assert_eq!(send(&app, &event).await.status, StatusCode::OK);
    let huge = vec![b' '; 300 * 1024];
    let r = post_raw(&app, &org, &huge, Some(stripe_header(&huge, SECRET, now_s()))).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"));
    // Authentic but not a Stripe event: 400.
    let junk = br#"{"hello": "world"}"#;
    let r = post_raw(&app, &org, junk, Some(stripe_header(junk, SECRET, now_s()))).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"));

    let info = app.call(reqwest::Method::GET, "/api/webhooks/stripe", None, None).await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.json, json!({"version": "2.0", "pipeline": "processProviderInboundWebhook"}));
}

async fn the_secret_is_write_only_and_admin_managed(app: TestApp) {
    let admin = app.admin_token().await;
    let path = "/api/v1/integrations/stripe";
    let r = app.get(&admin, path).await;
    assert_eq!(r.json["configured"], false, "{}", r.json);
    let org = &app.creds.organization_id;
    assert_eq!(r.json["webhook_path"], format!("/api/webhooks/stripe?org_id={org}"));
    // An API key pasted by mistake is refused, and never stored.
    let r = put(&app, &admin, "sk_live_0123456789abcdefghij").await;
    assert_eq!(
        (r.status, r.json["error"]["details"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("secret"))
    );
    let analyst = app.member_token("analyst").await;
    assert_eq!(put(&app, &analyst, SECRET).await.status, StatusCode::FORBIDDEN);
    let r = put(&app, &admin, SECRET).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    for token in [&admin, &analyst] {
        let r = app.get(token, path).await;
        assert_eq!(r.json["configured"], true);
        assert_eq!(r.json["secret_hint"], "whsec_…CDEF");
        assert!(!String::from_utf8_lossy(&r.raw).contains(SECRET));
    }
    let viewer = app.member_token("viewer").await;
    assert_eq!(app.get(&viewer, path).await.status, StatusCode::FORBIDDEN);
    let audit = app.get(&admin, "/api/v1/audit-log?resource_type=integration").await;
    assert_eq!(audit.json["data"][0]["action"], "integration.update", "{}", audit.json);
    assert!(
        !String::from_utf8_lossy(&audit.raw).contains(SECRET),
        "the audit log never holds the secret"
    );
    assert_eq!(app.get(&admin, "/api/v1/integrations/paypal").await.status, StatusCode::NOT_FOUND);

    // Deleting it makes deliveries fail authentication.
    let event = stripe_event("evt_after_delete", "customer.created", json!({"id": "cus_1"}));
    assert_eq!(send(&app, &event).await.status, StatusCode::OK);
    assert_eq!(app.delete(&analyst, path).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.delete(&admin, path).await.status, StatusCode::OK);
    assert_eq!(app.delete(&admin, path).await.status, StatusCode::NOT_FOUND);
    let event = stripe_event("evt_after_delete_2", "customer.created", json!({"id": "cus_1"}));
    assert_eq!(send(&app, &event).await.status, StatusCode::UNAUTHORIZED);
}
