//! Custom rules, scoring settings and the audit log over HTTP.

use serde_json::{Value, json};

use crate::{
    helpers::{Reply, TestApp},
    stories,
};

stories!(
    a_new_rule_changes_the_next_decision_until_disabled_or_deleted,
    rules_that_do_not_compile_are_refused_with_their_position,
    rules_are_guarded_by_role_organisation_and_token,
    scoring_settings_change_the_next_decision,
    invalid_scoring_settings_change_nothing,
    every_change_is_in_the_audit_log_of_its_organisation_only,
);

const BIG_TICKET: &str = "when amount > 1000 then decline as big_ticket";

async fn decision(app: &TestApp, amount: i64) -> Value {
    let r = app.assess(&json!({"amount": amount, "currency": "MXN"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json
}

async fn create_rule(app: &TestApp, token: &str, name: &str, source: &str) -> Reply {
    app.post(token, "/api/v1/rules", &json!({"name": name, "source": source})).await
}

async fn a_new_rule_changes_the_next_decision_until_disabled_or_deleted(app: TestApp) {
    let admin = app.admin_token().await;
    assert_eq!(decision(&app, 5000).await["decision"], "approve");

    let r = create_rule(&app, &admin, "Big ticket", BIG_TICKET).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("rule_"));
    assert_eq!(r.json["name"], "Big ticket");
    assert_eq!(r.json["source"], BIG_TICKET);
    assert_eq!(r.json["priority"], 100);
    assert_eq!(r.json["enabled"], true);
    assert!(r.json["created_at"].is_string());

    // The very next assessment uses it.
    let d = decision(&app, 5000).await;
    assert_eq!(d["decision"], "decline");
    assert_eq!(d["blocked_by"], "rule:Big ticket");
    assert!(d["signals"].as_array().unwrap().contains(&json!("big_ticket")), "{d}");
    assert_eq!(decision(&app, 500).await["decision"], "approve");

    let r = app.get(&admin, &format!("/api/v1/rules/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["source"], BIG_TICKET);

    // Disabled: kept, listed, not evaluated.
    let r = app.patch(&admin, &format!("/api/v1/rules/{id}"), &json!({"enabled": false})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["enabled"], false);
    assert_eq!(decision(&app, 5000).await["decision"], "approve");
    let r = create_rule(&app, &admin, "A second", "when currency == \"USD\" then review").await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = app.get(&admin, "/api/v1/rules").await;
    assert_eq!(r.status, 200);
    let names: Vec<&str> =
        r.json["data"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["A second", "Big ticket"], "by priority then name, disabled included");

    // New text and priority, re-enabled.
    let r = app
        .patch(
            &admin,
            &format!("/api/v1/rules/{id}"),
            &json!({"enabled": true, "priority": 5, "source": "when amount > 10000 then review as big_ticket"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["priority"], 5);
    assert_eq!(decision(&app, 5000).await["decision"], "approve");
    assert_eq!(decision(&app, 20000).await["decision"], "review");

    // Deleted: gone, and no longer applied.
    let r = app.delete(&admin, &format!("/api/v1/rules/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json, json!({"deleted": true, "id": id}));
    assert_eq!(decision(&app, 20000).await["decision"], "approve");
    let r = app.get(&admin, &format!("/api/v1/rules/{id}")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "NOT_FOUND");
    let r = app.delete(&admin, &format!("/api/v1/rules/{id}")).await;
    assert_eq!(r.status, 404);
}

async fn rules_that_do_not_compile_are_refused_with_their_position(app: TestApp) {
    let admin = app.admin_token().await;
    let bad = "when amount > 1000\nthen explode";
    let r = create_rule(&app, &admin, "Broken", bad).await;
    assert_eq!(r.status, 400, "{}", r.json);
    assert_eq!(r.error_code(), "VALIDATION_ERROR");
    let d = &r.json["error"]["details"];
    assert_eq!(
        (d["field"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("source"), Some(2), Some(6))
    );
    assert!(d["expected"].as_str().unwrap().contains("decline"), "{d}");
    assert!(
        r.json["error"]["message"].as_str().unwrap().contains("line 2, column 6"),
        "{}",
        r.json
    );

    // The same verdict without saving.
    let r = app.post(&admin, "/api/v1/rules/validate", &json!({"source": bad})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["valid"], false);
    assert_eq!(
        (r.json["error"]["line"].as_u64(), r.json["error"]["column"].as_u64()),
        (Some(2), Some(6))
    );
    assert!(r.json["error"]["message"].as_str().unwrap().starts_with("expected"));
    let r = app
        .post(&admin, "/api/v1/rules/validate", &json!({"source": "when nope > 1 then review"}))
        .await;
    assert_eq!(r.json["valid"], false);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("unknown field"), "{}", r.json);
    assert!(r.json["error"]["expected"].is_null());
    let r = app.post(&admin, "/api/v1/rules/validate", &json!({"source": BIG_TICKET})).await;
    assert_eq!(r.json, json!({"valid": true, "error": null}));

    // Other malformed bodies.
    let long = format!("{BIG_TICKET} {}", "#".repeat(10_001));
    for body in [
        json!({"name": "", "source": BIG_TICKET}),
        json!({"name": "x".repeat(101), "source": BIG_TICKET}),
        json!({"name": "Long", "source": long}),
        json!({"name": "Prio", "source": BIG_TICKET, "priority": -1}),
        json!({"name": "Extra", "source": BIG_TICKET, "action": "decline"}),
        json!({"name": "No source"}),
        json!({"name": 5, "source": BIG_TICKET}),
        json!([]),
    ] {
        let r = app.post(&admin, "/api/v1/rules", &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.json);
        assert_eq!(r.error_code(), "VALIDATION_ERROR");
    }
    let r = Reply::read(
        app.client
            .post(app.url("/api/v1/rules"))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body("{\"name\": \"x\", ")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "VALIDATION_ERROR");

    // Names are unique; a failed change leaves the rule as it was.
    let r = create_rule(&app, &admin, "Big ticket", BIG_TICKET).await;
    assert_eq!(r.status, 201);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = create_rule(&app, &admin, " Big ticket ", BIG_TICKET).await;
    assert_eq!(r.status, 409, "{}", r.json);
    assert_eq!(r.error_code(), "DUPLICATE");
    let r = create_rule(&app, &admin, "Other", BIG_TICKET).await;
    assert_eq!(r.status, 201);
    let other = r.json["id"].as_str().unwrap().to_owned();
    let r =
        app.patch(&admin, &format!("/api/v1/rules/{other}"), &json!({"name": "Big ticket"})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "DUPLICATE");
    let r = app.patch(&admin, &format!("/api/v1/rules/{id}"), &json!({"source": bad})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json["error"]["details"]["line"], 2);
    for body in [json!({}), json!({"enabled": "yes"}), json!({"id": "x"})] {
        let r = app.patch(&admin, &format!("/api/v1/rules/{id}"), &body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.error_code(), "VALIDATION_ERROR");
    }
    let r = app.get(&admin, &format!("/api/v1/rules/{id}")).await;
    assert_eq!(r.json["source"], BIG_TICKET);
    assert_eq!(app.get(&admin, "/api/v1/rules").await.json["data"].as_array().unwrap().len(), 2);
    assert_eq!(decision(&app, 5000).await["decision"], "decline");
}

async fn rules_are_guarded_by_role_organisation_and_token(app: TestApp) {
    let admin = app.admin_token().await;
    let r = create_rule(&app, &admin, "Big ticket", BIG_TICKET).await;
    let id = r.json["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/rules/{id}");

    let viewer = app.member_token("viewer").await;
    assert_eq!(app.get(&viewer, "/api/v1/rules").await.status, 200);
    assert_eq!(app.get(&viewer, &path).await.status, 200);
    assert_eq!(app.get(&viewer, "/api/v1/settings/scoring").await.status, 200);
    let r = create_rule(&app, &viewer, "Viewer rule", BIG_TICKET).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.error_code(), "FORBIDDEN");
    assert_eq!(app.patch(&viewer, &path, &json!({"enabled": false})).await.status, 403);
    assert_eq!(app.delete(&viewer, &path).await.status, 403);
    let compliance = app.member_token("compliance_officer").await;
    assert_eq!(create_rule(&app, &compliance, "C rule", BIG_TICKET).await.status, 403);
    let analyst = app.member_token("analyst").await;
    let r = create_rule(&app, &analyst, "Analyst rule", BIG_TICKET).await;
    assert_eq!(r.status, 201, "{}", r.json);

    // Another organisation's admin cannot see or touch it.
    let (_, other) = app.other_org().await;
    for r in [
        app.get(&other, &path).await,
        app.patch(&other, &path, &json!({"enabled": false})).await,
        app.delete(&other, &path).await,
    ] {
        assert_eq!(r.status, 404, "{}", r.json);
        assert_eq!(r.error_code(), "NOT_FOUND");
    }
    assert_eq!(app.get(&other, "/api/v1/rules").await.json["data"], json!([]));
    assert_eq!(app.get(&admin, &path).await.json["enabled"], true);

    // Missing or garbage credentials.
    let m = reqwest::Method::GET;
    for token in [None, Some("garbage"), Some(app.secret())] {
        for path in
            ["/api/v1/rules", path.as_str(), "/api/v1/settings/scoring", "/api/v1/audit-log"]
        {
            let r = app.call(m.clone(), path, token, None).await;
            assert_eq!(r.status, 401, "{path} {token:?}");
            assert_eq!(r.error_code(), "UNAUTHORIZED");
        }
    }
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/rules",
            None,
            Some(&json!({"name": "x", "source": BIG_TICKET})),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "UNAUTHORIZED");
}

async fn scoring_settings_change_the_next_decision(app: TestApp) {
    let admin = app.admin_token().await;
    let r = app.get(&admin, "/api/v1/settings/scoring").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["thresholds"], json!({"review": 30, "challenge": 60, "decline": 80}));
    assert_eq!(r.json["weights"], json!({}));
    let signals = r.json["signals"].as_array().unwrap();
    assert_eq!(signals.len(), clausum_core::signals::ALL.len());
    let disposable = signals.iter().find(|s| s["code"] == "disposable_email").unwrap();
    assert_eq!(
        (disposable["default_weight"].as_i64(), disposable["weight"].as_i64()),
        (Some(20), Some(20))
    );
    assert!(disposable["description"].is_string());

    let body = json!({"amount": 1500, "currency": "MXN", "email": "someone@mailinator.com"});
    let r = app.assess(&body).await;
    assert_eq!(
        (r.json["risk_score"].as_i64(), r.json["decision"].as_str()),
        (Some(20), Some("approve")),
        "{}",
        r.json
    );

    // A heavier weight: the next assessment declines on score.
    let r = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/settings/scoring",
            Some(&admin),
            Some(&json!({"weights": {"disposable_email": 85}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["weights"], json!({"disposable_email": 85}));
    let disposable = r.json["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "disposable_email")
        .unwrap()
        .clone();
    assert_eq!(
        (disposable["default_weight"].as_i64(), disposable["weight"].as_i64()),
        (Some(20), Some(85))
    );
    let r = app.assess(&body).await;
    assert_eq!(
        (r.json["risk_score"].as_i64(), r.json["decision"].as_str()),
        (Some(85), Some("decline")),
        "{}",
        r.json
    );
    assert!(r.json["blocked_by"].is_null());

    // Back to the default weight, and a lower decline threshold instead.
    let r = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/settings/scoring",
            Some(&admin),
            Some(&json!({"weights": {}, "thresholds": {"review": 5, "challenge": 10, "decline": 15}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["thresholds"], json!({"review": 5, "challenge": 10, "decline": 15}));
    assert_eq!(r.json["weights"], json!({}));
    let r = app.assess(&body).await;
    assert_eq!(
        (r.json["risk_score"].as_i64(), r.json["decision"].as_str()),
        (Some(20), Some("decline"))
    );
    // Only the thresholds: the weights stay.
    let r = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/settings/scoring",
            Some(&admin),
            Some(&json!({"thresholds": {"review": 10, "challenge": 20, "decline": 90}})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.assess(&body).await.json["decision"], "challenge");
    let r = app.get(&admin, "/api/v1/settings/scoring").await;
    assert_eq!(r.json["thresholds"], json!({"review": 10, "challenge": 20, "decline": 90}));

    // Survives a restart: it was saved, not only applied.
    let app = app.restart().await;
    assert_eq!(app.assess(&body).await.json["decision"], "challenge");
}

async fn invalid_scoring_settings_change_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let put = |token: String, body: Value| {
        let app = &app;
        async move {
            app.call(reqwest::Method::PUT, "/api/v1/settings/scoring", Some(&token), Some(&body))
                .await
        }
    };
    let before = app.get(&admin, "/api/v1/settings/scoring").await.json;
    for (body, field) in [
        (json!({"thresholds": {"review": 60, "challenge": 30, "decline": 80}}), "thresholds"),
        (
            json!({"thresholds": {"review": 30, "challenge": 60, "decline": 101}}),
            "thresholds.decline",
        ),
        (json!({"thresholds": {"review": 0, "challenge": 60, "decline": 80}}), "thresholds.review"),
        (json!({"weights": {"high_velocity": 101}}), "weights.high_velocity"),
        (json!({"weights": {"disposable_email": 90, "made_up": 5, "also_made_up": 1}}), "weights"),
    ] {
        let r = put(admin.clone(), body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.json);
        assert_eq!(r.error_code(), "VALIDATION_ERROR");
        assert_eq!(r.json["error"]["details"]["field"], field, "{}", r.json);
    }
    let r = put(admin.clone(), json!({"weights": {"made_up": 5}})).await;
    assert_eq!(r.json["error"]["details"]["unknown"], json!(["made_up"]));
    assert!(r.json["error"]["message"].as_str().unwrap().contains("made_up"));
    for body in [json!({}), json!({"thresholds": {"review": 1}}), json!({"policy": {}}), json!("x")]
    {
        let r = put(admin.clone(), body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.error_code(), "VALIDATION_ERROR");
    }
    assert_eq!(app.get(&admin, "/api/v1/settings/scoring").await.json, before);
    let body = json!({"amount": 1500, "currency": "MXN", "email": "someone@mailinator.com"});
    assert_eq!(app.assess(&body).await.json["decision"], "approve");

    let good = json!({"weights": {"disposable_email": 90}});
    for role in ["analyst", "viewer", "compliance_officer"] {
        let token = app.member_token(role).await;
        let r = put(token, good.clone()).await;
        assert_eq!(r.status, 403, "{role}");
        assert_eq!(r.error_code(), "FORBIDDEN");
    }
    assert_eq!(app.get(&admin, "/api/v1/settings/scoring").await.json, before);
    let r = app.call(reqwest::Method::PUT, "/api/v1/settings/scoring", None, Some(&good)).await;
    assert_eq!(r.status, 401);
}

async fn every_change_is_in_the_audit_log_of_its_organisation_only(app: TestApp) {
    let admin = app.admin_token().await;
    let r = create_rule(&app, &admin, "Big ticket", BIG_TICKET).await;
    let id = r.json["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/rules/{id}");
    assert_eq!(app.patch(&admin, &path, &json!({"priority": 7})).await.status, 200);
    assert_eq!(app.delete(&admin, &path).await.status, 200);
    let r = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/settings/scoring",
            Some(&admin),
            Some(&json!({"thresholds": {"review": 20, "challenge": 50, "decline": 70}})),
        )
        .await;
    assert_eq!(r.status, 200);

    let r = app.get(&admin, "/api/v1/audit-log").await;
    assert_eq!(r.status, 200, "{}", r.json);
    let data = r.json["data"].as_array().unwrap();
    let actions: Vec<&str> = data.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["settings.scoring.update", "rule.delete", "rule.update", "rule.create"],
        "newest first"
    );
    assert_eq!(r.json["pagination"], json!({"total": 4, "limit": 50, "offset": 0}));
    for e in data {
        assert!(e["actor"].as_str().unwrap().starts_with("user:"));
        assert!(e["id"].as_str().unwrap().starts_with("aud_"));
        assert!(e["created_at"].is_string());
    }
    let (settings, delete, update, create) = (&data[0], &data[1], &data[2], &data[3]);
    assert_eq!(create["resource_type"], "rule");
    assert_eq!(create["resource_id"], id.as_str());
    assert!(create["before"].is_null());
    assert_eq!(create["after"]["source"], BIG_TICKET);
    assert_eq!(
        (update["before"]["priority"].as_i64(), update["after"]["priority"].as_i64()),
        (Some(100), Some(7))
    );
    assert_eq!(delete["before"]["priority"], 7);
    assert!(delete["after"].is_null());
    assert_eq!(settings["resource_type"], "scoring_settings");
    assert_eq!(
        settings["before"]["thresholds"],
        json!({"review": 30, "challenge": 60, "decline": 80})
    );
    assert_eq!(
        settings["after"]["thresholds"],
        json!({"review": 20, "challenge": 50, "decline": 70})
    );

    // Filters and paging.
    let r = app
        .get(&admin, &format!("/api/v1/audit-log?resource_type=rule&resource_id={id}&limit=2"))
        .await;
    assert_eq!(r.json["pagination"]["total"], 3);
    assert_eq!(r.json["data"].as_array().unwrap().len(), 2);
    let r = app.get(&admin, "/api/v1/audit-log?resource_type=rule&limit=2&offset=2").await;
    assert_eq!(r.json["data"][0]["action"], "rule.create");
    for q in ["limit=0", "limit=501", "offset=-1", "limit=abc"] {
        let r = app.get(&admin, &format!("/api/v1/audit-log?{q}")).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.error_code(), "VALIDATION_ERROR");
    }

    // Who may read it.
    let compliance = app.member_token("compliance_officer").await;
    assert_eq!(
        app.get(&compliance, "/api/v1/audit-log?resource_type=rule").await.json["pagination"]["total"],
        3
    );
    for role in ["analyst", "viewer"] {
        let token = app.member_token(role).await;
        let r = app.get(&token, "/api/v1/audit-log").await;
        assert_eq!(r.status, 403, "{role}");
        assert_eq!(r.error_code(), "FORBIDDEN");
    }
    let (_, other) = app.other_org().await;
    let r = app.get(&other, "/api/v1/audit-log").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["data"], json!([]));
    assert_eq!(r.json["pagination"]["total"], 0);
    let r = app.get(&other, &format!("/api/v1/audit-log?resource_id={id}")).await;
    assert_eq!(r.json["pagination"]["total"], 0);
}
