//! Retries are safe: same key and body → same bytes, counted once.

use serde_json::{Value, json};

use crate::{
    helpers::{Reply, TestApp},
    stories,
};

stories!(
    replays_return_the_same_bytes_and_count_once,
    a_reused_key_with_another_body_is_422,
    concurrent_duplicates_execute_once,
    order_and_payment_ids_make_a_key,
);

async fn post(app: &TestApp, key: &str, body: &Value) -> Reply {
    let req = app
        .client
        .post(app.url("/api/v1/assess"))
        .bearer_auth(app.secret())
        .header("Idempotency-Key", key)
        .json(body);
    Reply::read(req.send().await.unwrap()).await
}

async fn replays_return_the_same_bytes_and_count_once(app: TestApp) {
    let body = json!({"amount": 1000, "currency": "MXN", "email": "retry@example.com"});
    let first = post(&app, "order-42-attempt", &body).await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert!(first.header("idempotent-replayed").is_none());
    for _ in 0..7 {
        let again = post(&app, "order-42-attempt", &body).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.raw, first.raw, "a replay is byte-identical");
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
    }
    assert_eq!(app.count_transactions().await, 1);
    // Eight requests but one counted: the next payment is the 2nd, not the 9th.
    let r = app.assess(&body).await;
    assert!(!r.json["signals"].as_array().unwrap().contains(&json!("high_velocity")), "{}", r.json);
    assert_eq!(first.json["idempotency_key"], "order-42-attempt");

    // The body field works too, and the header wins over it.
    let with_field = json!({"amount": 5, "currency": "MXN", "idempotency_key": "body-key"});
    let a = app.assess(&with_field).await;
    let b = app.assess(&with_field).await;
    assert_eq!(a.raw, b.raw);
    assert_eq!(app.count_transactions().await, 3);
}

async fn a_reused_key_with_another_body_is_422(app: TestApp) {
    let r = post(&app, "k-1", &json!({"amount": 1000, "currency": "MXN"})).await;
    assert_eq!(r.status, 200);
    let r = post(&app, "k-1", &json!({"amount": 2000, "currency": "MXN"})).await;
    assert_eq!(r.status, 422, "{}", r.json);
    assert_eq!(r.error_code(), "IDEMPOTENCY_KEY_REUSED");
    // Equivalent bodies (other spelling, same meaning) are the same request.
    let r = post(&app, "k-1", &json!({"currency": "mxn", "amount": 1000.0})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(app.count_transactions().await, 1);
}

async fn concurrent_duplicates_execute_once(app: TestApp) {
    let body = json!({"amount": 777, "currency": "MXN", "email": "race@example.com"});
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let client = app.client.clone();
        let url = app.url("/api/v1/assess");
        let key = app.secret().to_owned();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let req =
                client.post(url).bearer_auth(key).header("Idempotency-Key", "race-1").json(&body);
            Reply::read(req.send().await.unwrap()).await
        }));
    }
    let mut raws = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.json);
        raws.push(r.raw);
    }
    assert!(raws.windows(2).all(|w| w[0] == w[1]), "every duplicate got the same answer");
    assert_eq!(app.count_transactions().await, 1);
}

async fn order_and_payment_ids_make_a_key(app: TestApp) {
    let body = json!({"amount": 10, "currency": "MXN", "order_id": "ORD-9", "payment_id": "pay_9"});
    let a = app.assess(&body).await;
    let b = app.assess(&body).await;
    assert_eq!(a.raw, b.raw);
    assert_eq!(b.header("idempotent-replayed"), Some("true"));
    // An order id alone is not a key: a second attempt is a new transaction.
    let c = app.assess(&json!({"amount": 10, "currency": "MXN", "order_id": "ORD-10"})).await;
    let d = app.assess(&json!({"amount": 10, "currency": "MXN", "order_id": "ORD-10"})).await;
    assert_ne!(c.json["transaction_id"], d.json["transaction_id"]);
    assert_eq!(app.count_transactions().await, 3);
}
