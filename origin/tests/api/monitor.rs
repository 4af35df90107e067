//! The transaction monitor, API key management and the dashboard's files:
//! what the operator dashboard stands on.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{helpers::TestApp, stories};

stories!(
    monitor_filters_details_and_masks_per_role,
    api_keys_are_shown_once_and_revoked_at_once,
    dashboard_is_served_with_strict_headers,
);

async fn monitor_filters_details_and_masks_per_role(app: TestApp) {
    let admin = app.admin_token().await;
    let blocked = app
        .post(
            &admin,
            "/api/v1/blocklists",
            &json!({"list_type": "email", "value": "thief@example.com"}),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::CREATED, "{}", blocked.json);
    let card = |bin: &str| json!({"type": "card", "card_bin": bin, "card_last4": "4242"});
    let sent: Vec<Value> = vec![
        json!({"amount": 1500, "currency": "MXN", "email": "ana@example.com",
               "device": {"ip": "203.0.113.7"}, "payment_method": card("42424242")}),
        json!({"amount": 990000, "currency": "MXN", "email": "temp@mailinator.com",
               "device": {"ip": "198.51.100.20"}, "payment_method": card("555555")}),
        json!({"amount": 2500, "currency": "MXN", "email": "thief@example.com",
               "phone": "+525512345678", "customer_id": "cus_987654321",
               "device": {"ip": "203.0.113.9", "fingerprint": "fp_0123456789abcdef"},
               "billing": {"country": "MX", "city": "Puebla", "postal_code": "72000"},
               "payment_method": card("424242")}),
    ];
    let mut answers = Vec::new();
    for body in &sent {
        let r = app.assess(body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        answers.push(r.json);
    }
    assert_eq!(answers[2]["decision"], "decline");

    let all = app.get(&admin, "/api/v1/transactions").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.json);
    assert_eq!(all.json["pagination"]["total"], 3);
    // Newest first.
    assert_eq!(all.json["data"][0]["id"], answers[2]["transaction_id"]);
    assert_eq!(all.json["data"][2]["id"], answers[0]["transaction_id"]);
    for (listed, answer) in all.json["data"].as_array().unwrap().iter().zip(answers.iter().rev()) {
        assert_eq!(listed["signals"], answer["signals"], "the list shows the signals answered");
    }
    assert_ne!(answers[1]["signals"], json!([]), "a listed row with signals");

    let ids = |r: &Value| -> Vec<String> {
        r["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
    };
    let id = |i: usize| answers[i]["transaction_id"].as_str().unwrap().to_owned();
    for (query, want) in [
        ("decision=decline", vec![id(2)]),
        ("email=ANA@Example.com", vec![id(0)]),
        ("card_bin=4242", vec![id(2), id(0)]),
        ("card_bin=42424242", vec![id(0)]),
        ("ip=198.51.100.20", vec![id(1)]),
        ("flow=payout", vec![]),
        ("min_score=1&flow=payin", vec![id(2), id(1)]),
        ("max_score=0", vec![id(0)]),
        ("from=2000-01-01&to=2000-01-02", vec![]),
        ("limit=1&offset=1", vec![id(1)]),
    ] {
        let r = app.get(&admin, &format!("/api/v1/transactions?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.json);
        assert_eq!(ids(&r.json), want, "{query}");
    }
    for (query, field) in [
        ("min_score=101", "min_score"),
        ("card_bin=42x", "card_bin"),
        ("email=not-an-email", "email"),
        ("ip=300.1.1.1", "ip"),
        ("from=yesterday", "from"),
        ("limit=0", "limit"),
    ] {
        let r = app.get(&admin, &format!("/api/v1/transactions?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.json);
        assert_eq!(r.json["error"]["details"]["field"], field, "{query}");
    }

    // The detail carries exactly the signals the assess answered.
    let detail = app.get(&admin, &format!("/api/v1/transactions/{}", id(1))).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.json);
    assert_eq!(detail.json["signal_details"], answers[1]["signal_details"]);
    assert!(
        detail.json["signal_details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == "disposable_email"
                && s["weight"].as_i64().unwrap() > 0
                && !s["description"].as_str().unwrap().is_empty()),
        "{}",
        detail.json
    );
    assert_eq!(detail.json["masked"], false);
    assert_eq!(detail.json["request"]["email"], "temp@mailinator.com");
    assert!(detail.json["signals"].as_array().unwrap().contains(&json!("disposable_email")));

    // A viewer reads the monitor with personal data masked, list and detail.
    let viewer = app.member_token("viewer").await;
    let listed = app.get(&viewer, "/api/v1/transactions?decision=decline").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    assert_eq!(listed.json["data"][0]["email"], "t***@example.com");
    assert_eq!(listed.json["data"][0]["ip"], "203.0.113.*");
    assert_eq!(listed.json["data"][0]["customer_id"], "*********4321");
    let masked = app.get(&viewer, &format!("/api/v1/transactions/{}", id(2))).await;
    assert_eq!(masked.json["masked"], true);
    let text = String::from_utf8_lossy(&masked.raw);
    for secret in [
        "thief@",
        "203.0.113.9",
        "5512345678",
        "cus_987654321",
        "fp_0123456789abcdef",
        "Puebla",
        "72000",
    ] {
        assert!(!text.contains(secret), "a viewer sees {secret}: {text}");
    }
    assert_eq!(masked.json["request"]["billing"]["country"], "MX");
    assert_eq!(masked.json["card_bin"], "424242");
    // An analyst works cases: the data is shown.
    let analyst = app.member_token("analyst").await;
    let full = app.get(&analyst, &format!("/api/v1/transactions/{}", id(2))).await;
    assert_eq!(full.json["request"]["billing"]["city"], "Puebla");
    assert_eq!(full.json["email"], "thief@example.com");

    // A secret key with `transactions:read` may read; other keys may not.
    let r = app.call(Method::GET, "/api/v1/transactions", Some(app.secret()), None).await;
    assert_eq!(r.json["pagination"]["total"], 3, "{}", r.json);
    let r = app
        .call(Method::GET, "/api/v1/transactions", Some(&app.creds.keys.publishable), None)
        .await;
    assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "SECRET_KEY_REQUIRED"));
    let narrow = app
        .post(
            &admin,
            "/api/v1/api-keys",
            &json!({"kind": "secret", "name": "assess only", "permissions": ["assess"]}),
        )
        .await;
    let narrow = narrow.json["key"].as_str().unwrap().to_owned();
    let r = app.call(Method::GET, "/api/v1/transactions", Some(&narrow), None).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "FORBIDDEN"), "{}", r.json);
    let r = app.call(Method::GET, "/api/v1/transactions", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.get(&admin, "/api/v1/transactions/txn_nope").await;
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "NOT_FOUND"));
}

async fn api_keys_are_shown_once_and_revoked_at_once(app: TestApp) {
    let admin = app.admin_token().await;
    let created = app
        .post(
            &admin,
            "/api/v1/api-keys",
            &json!({"kind": "secret", "name": "Backoffice", "permissions": ["assess", "fraud:report"],
                    "rate_limit_per_minute": 50}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let key = created.json["key"].as_str().unwrap().to_owned();
    let id = created.json["api_key"]["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("clm_sk_"), "{key}");
    assert_eq!(created.json["api_key"]["permissions"], json!(["assess", "fraud:report"]));
    assert_eq!(created.json["api_key"]["status"], "active");

    // Listed by prefix, never by text; the bootstrap's three keys too.
    let listed = app.get(&admin, "/api/v1/api-keys").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    assert_eq!(listed.json["data"].as_array().unwrap().len(), 4);
    assert_eq!(listed.json["data"][0]["id"], id.as_str());
    let text = String::from_utf8_lossy(&listed.raw);
    for k in [&key, &app.creds.keys.secret, &app.creds.keys.publishable] {
        assert!(!text.contains(k.as_str()), "the listing shows a key's text");
    }
    assert!(!text.contains("key_hash"), "{text}");

    // It works at once, with its own limit.
    let r = app.assess_with(&key, &json!({"amount": 100, "currency": "MXN"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.header("x-ratelimit-limit"), Some("50"));

    // Roles: analysts list, viewers do not, only admins create and revoke.
    let analyst = app.member_token("analyst").await;
    assert_eq!(app.get(&analyst, "/api/v1/api-keys").await.status, StatusCode::OK);
    let r = app.post(&analyst, "/api/v1/api-keys", &json!({"kind": "secret", "name": "x"})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    let r = app.delete(&analyst, &format!("/api/v1/api-keys/{id}")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let viewer = app.member_token("viewer").await;
    assert_eq!(app.get(&viewer, "/api/v1/api-keys").await.status, StatusCode::FORBIDDEN);

    for (body, field) in [
        (
            json!({"kind": "publishable", "name": "x", "permissions": ["fraud:report"]}),
            "permissions",
        ),
        (json!({"kind": "secret", "name": "x", "permissions": ["ingest"]}), "permissions"),
        (json!({"kind": "secret", "name": "   "}), "name"),
        (
            json!({"kind": "secret", "name": "x", "rate_limit_per_minute": 0}),
            "rate_limit_per_minute",
        ),
        (
            json!({"kind": "secret", "name": "x", "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ] {
        let r = app.post(&admin, "/api/v1/api-keys", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.json);
        assert_eq!(r.json["error"]["details"]["field"], field, "{body}");
    }
    // No mass assignment: a caller cannot choose the hash or the id.
    let r = app
        .post(&admin, "/api/v1/api-keys", &json!({"kind": "secret", "name": "x", "key_hash": "00"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);

    // Revoked: refused at once, listed as revoked, a repeat is harmless.
    let revoked = app.delete(&admin, &format!("/api/v1/api-keys/{id}")).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.json);
    assert_eq!(revoked.json["status"], "revoked");
    let r = app.assess_with(&key, &json!({"amount": 100, "currency": "MXN"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);
    let again = app.delete(&admin, &format!("/api/v1/api-keys/{id}")).await;
    assert_eq!(again.json["revoked_at"], revoked.json["revoked_at"]);

    let audit = app.get(&admin, "/api/v1/audit-log?resource_type=api_key").await;
    let actions: Vec<&str> = audit.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.iter().filter(|a| **a == "api_key.revoke").count(), 1, "{actions:?}");
    assert!(actions.contains(&"api_key.create"), "{actions:?}");
    assert!(
        !String::from_utf8_lossy(&audit.raw).contains(&key),
        "the audit log keeps a key's text"
    );
}

async fn dashboard_is_served_with_strict_headers(app: TestApp) {
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let home = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()["location"], "/dashboard");

    // Every application route answers the page; the browser routes.
    for path in ["/dashboard", "/dashboard/transactions", "/dashboard/cases/cas_1", "/invite/tok"] {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        let etag = r.headers()["etag"].clone();
        let body = r.text().await.unwrap();
        assert!(body.contains("<html"), "{path}: {body}");
        let again = client.get(app.url(path)).header("if-none-match", etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    // A missing asset is a JSON 404, never the page.
    let r = client.get(app.url("/dashboard/assets/nope.js")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    let r = client.get(app.url("/dashboard/assets/app.js")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the dashboard's script is embedded");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
}
