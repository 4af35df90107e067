//! Health, the public catalogue, and errors outside any handler.

use crate::{
    helpers::{Reply, TestApp},
    stories,
};

stories!(
    health_and_catalog_need_no_key,
    unknown_routes_and_methods_get_the_error_body,
    nul_characters_are_refused_everywhere,
    keys_in_the_query_string_are_refused_with_directions,
);

async fn health_and_catalog_need_no_key(app: TestApp) {
    let r = Reply::read(app.client.get(app.url("/api/v1/health")).send().await.unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "ok");
    assert_eq!(r.json["database_ok"], true);
    assert_eq!(r.json["writer_ok"], true);
    let expected = match app.backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    };
    assert_eq!(r.json["database"], expected);

    let r = Reply::read(app.client.get(app.url("/api/v1/assess")).send().await.unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["version"], "1.3.0");
    assert_eq!(r.json["amount_rules"]["currency_exponents"]["MXN"], 2);
    assert_eq!(r.json["amount_rules"]["currency_exponents"]["JPY"], 0);
    for seg in ["comercio", "psp", "banco", "bank"] {
        let reqs = r.json["field_requirements_by_segment"][seg].as_array().unwrap();
        assert_eq!(reqs[0]["field"], "amount");
        assert_eq!(reqs[0]["level"], "required");
    }
    assert!(
        r.json["resilience"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "ASSESS_TIMEOUT" && c["status"] == 504)
    );
}

async fn unknown_routes_and_methods_get_the_error_body(app: TestApp) {
    let r = Reply::read(app.client.get(app.url("/api/v1/nope")).send().await.unwrap()).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "NOT_FOUND");
    let r = Reply::read(app.client.delete(app.url("/api/v1/assess")).send().await.unwrap()).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.error_code(), "METHOD_NOT_ALLOWED");
}

/// PostgreSQL refuses NUL in text: every way in refuses it first, with the
/// error body, on both backends alike — and nothing is written.
async fn nul_characters_are_refused_everywhere(app: TestApp) {
    let admin = app.admin_token().await;
    let before = app.count_transactions().await;
    let rules = |r: Reply| r.json["data"].as_array().map(Vec::len);
    let rules_before = rules(app.get(&admin, "/api/v1/rules").await);
    let refused = |r: &Reply, what: &str| {
        assert_eq!(
            (r.status.as_u16(), r.error_code()),
            (400, "VALIDATION_ERROR"),
            "{what}: {}",
            r.json
        );
    };
    // In a path, a query, and the public login.
    refused(&app.get(app.secret(), "/api/v1/transactions/txn%00x").await, "path");
    refused(&app.get(&admin, "/api/v1/blocklists?search=%00").await, "query");
    let r = Reply::read(
        app.client
            .post(app.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"email": "\u{0}", "password": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    refused(&r, "login");
    // In an assessment and in a rule's comment.
    let r = app
        .assess(&serde_json::json!({"amount": 100, "currency": "MXN", "email": "a\u{0}@b.mx"}))
        .await;
    refused(&r, "assess");
    let r = app
        .post(
            &admin,
            "/api/v1/rules",
            &serde_json::json!({"name": "n", "source": "# a \u{0} comment\nwhen amount > 1\nthen review"}),
        )
        .await;
    refused(&r, "rule");
    assert_eq!(app.count_transactions().await, before);
    assert_eq!(rules(app.get(&admin, "/api/v1/rules").await), rules_before);
    // An escaped backslash before `u0000` is text, not a NUL.
    let r = app
        .assess(&serde_json::json!({"amount": 100, "currency": "MXN", "order_id": "a\\u0000"}))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.json);
}

/// The docs tell integrators to prefer the header to an `api_key` query
/// parameter; here the parameter is refused, saying where the key goes.
async fn keys_in_the_query_string_are_refused_with_directions(app: TestApp) {
    let before = app.count_transactions().await;
    let url = app.url(&format!("/api/v1/assess?api_key={}", app.secret()));
    let r = Reply::read(
        app.client
            .post(url)
            .json(&serde_json::json!({"amount": 100, "currency": "MXN"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.error_code()), (401, "UNAUTHORIZED"), "{}", r.json);
    let message = r.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("Authorization: Bearer"), "{message}");
    assert!(!message.contains(app.secret()), "the key is not echoed");
    assert_eq!(app.count_transactions().await, before);
    // The same key in the header is fine.
    let r = app.assess(&serde_json::json!({"amount": 100, "currency": "MXN"})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.json);
}
