//! The dashboard overview over HTTP.

use serde_json::{Value, json};

use crate::{helpers::TestApp, stories};

stories!(
    assessments_and_declines_show_up_in_the_counters_and_the_last_bucket,
    the_overview_validates_its_parameters_and_is_scoped_to_the_organisation,
);

fn hour_now() -> i64 {
    clausum_origin::time::now_ms() / 3_600_000
}

fn count(v: &Value, field: &str) -> i64 {
    v[field].as_i64().unwrap_or_else(|| panic!("{field} missing in {v}"))
}

async fn assessments_and_declines_show_up_in_the_counters_and_the_last_bucket(app: TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post(
            &admin,
            "/api/v1/blocklists",
            &json!({"list_type": "email", "value": "Fraud@Example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);

    let hour_before = hour_now();
    for (amount, currency, email) in [
        (1000, "MXN", "a@example.com"),
        (2000, "MXN", "b@example.com"),
        (500, "USD", "c@example.com"),
        (7000, "MXN", "fraud@example.com"),
        (300, "USD", "fraud@example.com"),
    ] {
        let r = app.assess(&json!({"amount": amount, "currency": currency, "email": email})).await;
        assert_eq!(r.status, 200, "{}", r.json);
        let expected = if email.starts_with("fraud") { "decline" } else { "approve" };
        assert_eq!(r.json["decision"], expected, "{}", r.json);
    }

    let r = app.get(&admin, "/api/v1/dashboard/overview").await;
    let same_hour = hour_before == hour_now();
    assert_eq!(r.status, 200, "{}", r.json);
    let o = &r.json;
    assert_eq!((o["range"].as_str(), o["tz"].as_str()), (Some("24h"), Some("UTC")));
    assert_eq!(count(o, "evaluations"), 5);
    assert_eq!(count(o, "approved"), 3);
    assert_eq!(count(o, "blocked"), 2);
    assert_eq!((count(o, "reviewed"), count(o, "challenged")), (0, 0));
    assert_eq!(o["approval_rate"], 0.6);
    assert_eq!(
        o["money_protected"],
        json!([{"currency": "MXN", "amount_minor": 7000}, {"currency": "USD", "amount_minor": 300}])
    );
    let trend = o["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 24);
    assert!(trend[0]["start"].as_str().unwrap().ends_with(":00:00+00:00"), "{}", trend[0]);
    let last = &trend[23];
    if same_hour {
        assert_eq!((count(last, "approved"), count(last, "blocked")), (3, 2), "{last}");
        assert_eq!(count(last, "evaluations"), 5);
        assert_eq!(last["approval_rate"], 0.6);
    }
    let in_trend: i64 = trend.iter().map(|b| count(b, "evaluations")).sum();
    assert_eq!(in_trend, 5);

    // Daily in Tokyo: seven local days, the last one holding today's figures.
    let r = app.get(&admin, "/api/v1/dashboard/overview?range=7d&tz=Asia/Tokyo").await;
    assert_eq!(r.status, 200, "{}", r.json);
    let trend = r.json["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 7);
    for b in trend {
        assert!(b["start"].as_str().unwrap().ends_with("T00:00:00+09:00"), "{b}");
    }
    let last = &trend[6];
    if same_hour {
        assert_eq!((count(last, "approved"), count(last, "blocked")), (3, 2), "{last}");
    }
    assert_eq!(r.json["tz"], "Asia/Tokyo");
    assert!(r.json["since"].as_str().unwrap().ends_with("T00:00:00+09:00"));

    let r = app.get(&admin, "/api/v1/dashboard/overview?range=30d&tz=America/Mexico_City").await;
    assert_eq!(r.status, 200, "{}", r.json);
    let trend = r.json["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 30);
    assert!(trend[29]["start"].as_str().unwrap().ends_with("T00:00:00-06:00"), "{}", trend[29]);
    assert_eq!(count(&trend[29], "evaluations") + count(&trend[28], "evaluations"), 5);
    assert_eq!(count(&r.json, "evaluations"), 5);
}

async fn the_overview_validates_its_parameters_and_is_scoped_to_the_organisation(app: TestApp) {
    let admin = app.admin_token().await;
    let r = app.get(&admin, "/api/v1/dashboard/overview?tz=Mars/Olympus_Mons").await;
    assert_eq!(r.status, 400, "{}", r.json);
    assert_eq!(r.error_code(), "VALIDATION_ERROR");
    assert_eq!(r.json["error"]["details"]["field"], "tz");
    assert!(r.json["error"]["message"].as_str().unwrap().contains("Mars/Olympus_Mons"));
    for q in ["range=1y", "range=", "range=24H&tz=UTC"] {
        let r = app.get(&admin, &format!("/api/v1/dashboard/overview?{q}")).await;
        assert_eq!(r.status, 400, "{q}: {}", r.json);
        assert_eq!(r.json["error"]["details"]["field"], "range");
    }

    // Empty: zeros, not errors; every role may read it.
    assert_eq!(app.assess(&json!({"amount": 100, "currency": "MXN"})).await.status, 200);
    let viewer = app.member_token("viewer").await;
    let r = app.get(&viewer, "/api/v1/dashboard/overview?range=7d").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(count(&r.json, "evaluations"), 1);
    assert_eq!(r.json["approval_rate"], 1.0);
    let (_, other) = app.other_org().await;
    let r = app.get(&other, "/api/v1/dashboard/overview").await;
    assert_eq!(r.status, 200);
    assert_eq!(count(&r.json, "evaluations"), 0);
    assert_eq!(r.json["approval_rate"], 0.0);
    assert_eq!(r.json["money_protected"], json!([]));
    assert!(r.json["trend"].as_array().unwrap().iter().all(|b| count(b, "evaluations") == 0));

    for token in [None, Some("garbage")] {
        let r = app.call(reqwest::Method::GET, "/api/v1/dashboard/overview", token, None).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.error_code(), "UNAUTHORIZED");
    }
}
