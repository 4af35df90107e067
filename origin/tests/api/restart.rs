//! What the server learned survives a restart: it is rebuilt from the database.

use serde_json::json;

use crate::{helpers::TestApp, stories};

stories!(velocity_and_idempotency_survive_a_restart);

async fn velocity_and_idempotency_survive_a_restart(app: TestApp) {
    let body = json!({"amount": 1000, "currency": "MXN", "email": "again@example.com"});
    let mut first = None;
    for i in 0..5 {
        let req = app
            .client
            .post(app.url("/api/v1/assess"))
            .bearer_auth(app.secret())
            .header("Idempotency-Key", format!("k{i}"))
            .json(&body);
        let r = crate::helpers::Reply::read(req.send().await.unwrap()).await;
        assert_eq!(r.status, 200);
        first.get_or_insert(r.raw);
    }
    let app = app.restart().await;
    // The stored answer is replayed from the database after a restart…
    let req = app
        .client
        .post(app.url("/api/v1/assess"))
        .bearer_auth(app.secret())
        .header("Idempotency-Key", "k0")
        .json(&body);
    let r = crate::helpers::Reply::read(req.send().await.unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(Some(r.raw), first);
    assert_eq!(app.count_transactions().await, 5);
    // …and the five earlier payments still count toward velocity.
    let r = app.assess(&body).await;
    assert!(r.json["signals"].as_array().unwrap().contains(&json!("high_velocity")), "{}", r.json);
}
