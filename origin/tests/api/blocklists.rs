//! `/api/v1/blocklists`: management, normalisation, imports, and the live
//! effect of every change on the next assess.

use reqwest::StatusCode;
use serde_json::json;

use crate::{helpers::TestApp, stories};

stories!(
    entries_are_normalised_and_invalid_values_refused_with_the_reason,
    changes_apply_to_the_next_assess,
    listing_filters_and_paginates,
    imports_keep_good_rows_and_report_the_rest,
    another_organisations_entries_are_invisible,
);

async fn entries_are_normalised_and_invalid_values_refused_with_the_reason(app: TestApp) {
    let admin = app.admin_token().await;
    let cases = [
        ("email", " Fraud@Example.COM ", "fraud@example.com"),
        ("email_domain", "Mailinator.com", "mailinator.com"),
        ("country", "ng", "NG"),
        ("ip_range", "203.0.113.7/24", "203.0.113.0/24"),
        ("ip_address", "2001:DB8::1", "2001:db8::1"),
        ("card_bin", "411111", "411111"),
        ("clabe", "032180000118359719", "032180000118359719"),
        ("iban", "gb82 west 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("swift_bic", "deutdeffxxx", "DEUTDEFF"),
    ];
    for (list_type, raw, stored) in cases {
        let r = app
            .post(&admin, "/api/v1/blocklists", &json!({"list_type": list_type, "value": raw}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{list_type}: {}", r.json);
        assert_eq!(r.json["value"], stored, "{list_type}");
        assert_eq!(r.json["severity"], "block");
        assert_eq!(r.json["source"], "manual");
        assert_eq!(r.json["flow_scope"], "all");
    }
    let dup = app
        .post(
            &admin,
            "/api/v1/blocklists",
            &json!({"list_type": "email", "value": "FRAUD@example.com", "severity": "flag"}),
        )
        .await;
    assert_eq!((dup.status, dup.error_code()), (StatusCode::CONFLICT, "DUPLICATE"));

    let refused = [
        (json!({"list_type": "ip_address", "value": "300.1.1.1"}), "VALIDATION_ERROR"),
        (json!({"list_type": "ip_range", "value": "10.0.0.0/33"}), "VALIDATION_ERROR"),
        (json!({"list_type": "card_bin", "value": "4111"}), "VALIDATION_ERROR"),
        (json!({"list_type": "card_bin", "value": "4111111111111111"}), "VALIDATION_ERROR"),
        (json!({"list_type": "clabe", "value": "032180000118359710"}), "VALIDATION_ERROR"),
        (json!({"list_type": "iban", "value": "GB82WEST12345698765431"}), "VALIDATION_ERROR"),
        (json!({"list_type": "email", "value": "nope"}), "VALIDATION_ERROR"),
        (json!({"list_type": "passport", "value": "x"}), "INVALID_TYPE"),
        (json!({"list_type": "email", "value": "a@b.co", "severity": "nuke"}), "INVALID_SEVERITY"),
        (
            json!({"list_type": "email", "value": "a@b.co", "flow_scope": "both"}),
            "VALIDATION_ERROR",
        ),
        (
            json!({"list_type": "email", "value": "a@b.co", "expires_at": "tomorrow"}),
            "VALIDATION_ERROR",
        ),
        (json!({"list_type": "email", "value": "a@b.co", "extra": true}), "VALIDATION_ERROR"),
        (json!({"list_type": "email", "value": "x".repeat(600)}), "VALIDATION_ERROR"),
    ];
    for (body, code) in refused {
        let r = app.post(&admin, "/api/v1/blocklists", &body).await;
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}: {}",
            r.json
        );
        let text = String::from_utf8_lossy(&r.raw);
        assert!(
            !text.contains("4111111111111111") && !text.contains("GB82WEST"),
            "value echoed: {text}"
        );
    }
    let msg = app
        .post(
            &admin,
            "/api/v1/blocklists",
            &json!({"list_type": "clabe", "value": "032180000118359710"}),
        )
        .await;
    assert!(msg.json["error"]["message"].as_str().unwrap().contains("check digit"), "{}", msg.json);
}

async fn changes_apply_to_the_next_assess(app: TestApp) {
    let admin = app.admin_token().await;
    let probe = json!({"amount": 100, "currency": "MXN", "email": "mule@example.com"});
    let assess = || app.assess(&probe);
    assert_eq!(assess().await.json["decision"], "approve");

    let r = app
        .post(
            &admin,
            "/api/v1/blocklists",
            &json!({"list_type": "email", "value": "mule@example.com", "reason": "mule"}),
        )
        .await;
    let id = r.json["id"].as_str().unwrap().to_owned();
    let d = assess().await;
    assert_eq!(d.json["decision"], "decline");
    assert_eq!(d.json["blocked_by"], format!("blocklist:email:{id}"));

    // Downgrade to review: no hard block, at least review.
    let r = app
        .patch(
            &admin,
            "/api/v1/blocklists",
            &json!({"id": id, "severity": "review", "reason": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["reason"], serde_json::Value::Null);
    let d = assess().await;
    assert!(d.json["blocked_by"].is_null(), "{}", d.json);
    assert_ne!(d.json["decision"], "approve", "{}", d.json);

    // (The payer's earlier declines now weigh in its history, so "not
    // blocked by the entry" is what each step checks, not "approve".)
    let blocked = || async { assess().await.json["blocked_by"].as_str().map(str::to_owned) };
    let by_entry = Some(format!("blocklist:email:{id}"));
    // Payout-only scope leaves pay-ins alone.
    app.patch(
        &admin,
        "/api/v1/blocklists",
        &json!({"id": id, "severity": "block", "flow_scope": "payout"}),
    )
    .await;
    assert_eq!(blocked().await, None);
    // Back to all, then deactivated, then expired: only "all" blocks.
    app.patch(&admin, "/api/v1/blocklists", &json!({"id": id, "flow_scope": "all"})).await;
    assert_eq!(blocked().await, by_entry);
    app.patch(&admin, "/api/v1/blocklists", &json!({"id": id, "is_active": false})).await;
    assert_eq!(blocked().await, None);
    app.patch(
        &admin,
        "/api/v1/blocklists",
        &json!({"id": id, "is_active": true, "expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(blocked().await, None);
    app.patch(&admin, "/api/v1/blocklists", &json!({"id": id, "expires_at": null})).await;
    assert_eq!(blocked().await, by_entry);
    // Deleted: gone from the index too.
    let r = app.delete(&admin, &format!("/api/v1/blocklists?id={id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(blocked().await, None);
    let r = app.get(&admin, &format!("/api/v1/blocklists/{id}")).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let r = app.patch(&admin, "/api/v1/blocklists", &json!({"id": id, "severity": "flag"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn listing_filters_and_paginates(app: TestApp) {
    let admin = app.admin_token().await;
    for i in 0..7 {
        let sev = if i % 2 == 0 { "flag" } else { "block" };
        let r = app
            .post(&admin, "/api/v1/blocklists", &json!({"list_type": "email", "value": format!("user{i}@example.com"), "severity": sev}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    app.post(&admin, "/api/v1/blocklists", &json!({"list_type": "country", "value": "KP"})).await;
    let all = app.get(&admin, "/api/v1/blocklists?limit=3").await;
    assert_eq!(all.json["pagination"]["total"], 8);
    assert_eq!(all.json["data"].as_array().unwrap().len(), 3);
    assert_eq!(all.json["data"][0]["value"], "KP", "newest first");
    let page3 = app.get(&admin, "/api/v1/blocklists?limit=3&offset=6").await;
    assert_eq!(page3.json["data"].as_array().unwrap().len(), 2);
    let flags = app.get(&admin, "/api/v1/blocklists?severity=flag&list_type=email").await;
    assert_eq!(flags.json["pagination"]["total"], 4);
    let search = app.get(&admin, "/api/v1/blocklists?search=USER3").await;
    assert_eq!(search.json["pagination"]["total"], 1);
    // LIKE wildcards in the search are literal.
    let wild = app.get(&admin, "/api/v1/blocklists?search=%25").await;
    assert_eq!(wild.json["pagination"]["total"], 0);
    for bad in
        ["limit=0", "limit=501", "offset=-1", "severity=nuke", "list_type=x", "is_active=maybe"]
    {
        let r = app.get(&admin, &format!("/api/v1/blocklists?{bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.json);
        r.error_code();
    }
}

async fn imports_keep_good_rows_and_report_the_rest(app: TestApp) {
    let admin = app.admin_token().await;
    app.post(
        &admin,
        "/api/v1/blocklists",
        &json!({"list_type": "email", "value": "old@example.com"}),
    )
    .await;
    let csv = "list_type,value,severity,reason\n\
               email,new1@example.com,block,imported\n\
               ip_address,not-an-ip,block,\n\
               email,OLD@example.com,flag,\n\
               card_bin,45717360,flag,\n\
               email,new1@example.com,block,repeated\n\
               passport,X1,,\n";
    let r = app
        .client
        .post(app.url("/api/v1/blocklists/import"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let r = crate::helpers::Reply::read(r).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["rows"], 6);
    assert_eq!(r.json["imported"], 2);
    assert_eq!(r.json["duplicates"], 2);
    assert_eq!(r.json["rejected_count"], 2);
    let lines: Vec<u64> = r.json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 7]);
    assert!(!String::from_utf8_lossy(&r.raw).contains("not-an-ip"));
    // Imported entries are live.
    let d =
        app.assess(&json!({"amount": 100, "currency": "MXN", "email": "new1@example.com"})).await;
    assert_eq!(d.json["decision"], "decline");

    let ndjson =
        "{\"list_type\":\"ip_range\",\"value\":\"198.51.100.0/24\"}\n{\"list_type\":\"email\"}\n";
    let r = app
        .client
        .post(app.url("/api/v1/blocklists/import"))
        .bearer_auth(&admin)
        .header("content-type", "application/x-ndjson")
        .body(ndjson)
        .send()
        .await
        .unwrap();
    let r = crate::helpers::Reply::read(r).await;
    assert_eq!(
        (r.json["imported"].as_u64(), r.json["rejected_count"].as_u64()),
        (Some(1), Some(1)),
        "{}",
        r.json
    );
    let d = app
        .assess(&json!({"amount": 100, "currency": "MXN", "device": {"ip": "198.51.100.4"}}))
        .await;
    assert_eq!(d.json["decision"], "decline");

    let r = app
        .client
        .post(app.url("/api/v1/blocklists/import"))
        .bearer_auth(&admin)
        .header("content-type", "application/pdf")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let viewer = app.member_token("viewer").await;
    let r = app
        .client
        .post(app.url("/api/v1/blocklists/import"))
        .bearer_auth(&viewer)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn another_organisations_entries_are_invisible(app: TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post(
            &admin,
            "/api/v1/blocklists",
            &json!({"list_type": "email", "value": "mine@example.com"}),
        )
        .await;
    let id = r.json["id"].as_str().unwrap().to_owned();
    let (other, other_admin) = app.other_org().await;
    assert_eq!(app.get(&other_admin, "/api/v1/blocklists").await.json["pagination"]["total"], 0);
    assert_eq!(
        app.get(&other_admin, &format!("/api/v1/blocklists/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r =
        app.patch(&other_admin, "/api/v1/blocklists", &json!({"id": id, "is_active": false})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let r = app.delete(&other_admin, &format!("/api/v1/blocklists?id={id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Still active for its owner; and it never affects the other organisation's assess.
    assert_eq!(app.get(&admin, &format!("/api/v1/blocklists/{id}")).await.json["is_active"], true);
    let d = app
        .assess_with(
            &other.keys.secret,
            &json!({"amount": 100, "currency": "MXN", "email": "mine@example.com"}),
        )
        .await;
    assert_eq!(d.json["decision"], "approve", "{}", d.json);
}
