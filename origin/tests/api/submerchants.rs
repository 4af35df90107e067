//! PSP submerchants: the registry, and the rule that a `psp` organisation
//! with active submerchants must name one in every assess.

use clausum_core::catalog::Segment;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, TestApp};

macro_rules! psp_stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::psp(super::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::psp(super::Backend::Postgres).await).await;
                }
            )*
        }
    };
}

psp_stories!(
    registry_lifecycle_with_either_credential,
    a_psp_must_name_an_active_submerchant,
    overview_splits_by_submerchant_and_flow,
    velocity_counts_each_submerchant_apart_when_asked,
);

async fn psp(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, Segment::Psp).await
}

async fn registry_lifecycle_with_either_credential(app: TestApp) {
    let admin = app.admin_token().await;
    // A secret key registers one…
    let created = app
        .call(
            Method::POST,
            "/api/v1/submerchants",
            Some(app.secret()),
            Some(&json!({"id": "sub_tacos_01", "name": "Tacos El Güero", "country": "mx", "mcc": "5812",
                         "metadata": {"contract": "C-1"}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["id"], "sub_tacos_01");
    assert_eq!(created.json["country"], "MX");
    assert_eq!(created.json["status"], "active");
    // …a dashboard user another.
    let second = app
        .post(&admin, "/api/v1/submerchants", &json!({"id": "sub_books", "name": "Libros"}))
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.json);

    let dup =
        app.post(&admin, "/api/v1/submerchants", &json!({"id": "sub_books", "name": "X"})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.error_code(), "DUPLICATE");

    for (body, field) in [
        (json!({"id": "has space", "name": "X"}), "id"),
        (json!({"id": "ok", "name": "  "}), "name"),
        (json!({"id": "ok", "name": "X", "country": "XX"}), "country"),
        (json!({"id": "ok", "name": "X", "mcc": "58"}), "mcc"),
    ] {
        let r = app.post(&admin, "/api/v1/submerchants", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.json);
        assert_eq!(r.json["error"]["details"]["field"], field, "{body}");
    }
    let unknown_field = app
        .post(&admin, "/api/v1/submerchants", &json!({"id": "ok", "name": "X", "rfc": "1"}))
        .await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);

    let list = app.get(&admin, "/api/v1/submerchants?search=TACOS").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    assert_eq!(list.json["pagination"]["total"], 1);
    assert_eq!(list.json["data"][0]["name"], "Tacos El Güero");

    let patched = app
        .patch(
            &admin,
            "/api/v1/submerchants/sub_books",
            &json!({"name": "Libros SA", "mcc": "5942"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.json);
    assert_eq!(patched.json["name"], "Libros SA");
    let cleared = app.patch(&admin, "/api/v1/submerchants/sub_books", &json!({"mcc": null})).await;
    assert_eq!(cleared.json["mcc"], serde_json::Value::Null);
    assert_eq!(cleared.json["name"], "Libros SA", "absent fields are kept");

    let gone = app.delete(&admin, "/api/v1/submerchants/sub_books").await;
    assert_eq!(gone.status, StatusCode::OK);
    assert_eq!(gone.json["status"], "inactive");
    let active = app.get(&admin, "/api/v1/submerchants?status=active").await;
    assert_eq!(active.json["pagination"]["total"], 1);
    assert_eq!(app.delete(&admin, "/api/v1/submerchants/nope").await.status, StatusCode::NOT_FOUND);

    // Permissions: viewers read but do not write; other organisations see nothing.
    let viewer = app.member_token("viewer").await;
    assert_eq!(app.get(&viewer, "/api/v1/submerchants").await.status, StatusCode::OK);
    let denied = app.post(&viewer, "/api/v1/submerchants", &json!({"id": "v", "name": "V"})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let (other, _) = app.other_org().await;
    let foreign = app
        .call(
            Method::PATCH,
            "/api/v1/submerchants/sub_tacos_01",
            Some(&other.keys.secret),
            Some(&json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let none = app.call(Method::GET, "/api/v1/submerchants", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.error_code(), "UNAUTHORIZED");

    // Every change is audited with its actor.
    let audit = app.get(&admin, "/api/v1/audit-log?resource_type=submerchant").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.json);
    let actors: Vec<&str> = audit.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert!(actors.iter().any(|a| a.starts_with("api_key:")), "{actors:?}");
    assert!(actors.iter().any(|a| a.starts_with("user:")), "{actors:?}");
}

async fn a_psp_must_name_an_active_submerchant(app: TestApp) {
    let admin = app.admin_token().await;
    // Before any submerchant exists, org-level assessment works.
    let before = app.assess(&json!({"amount": 1000, "currency": "MXN"})).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.json);

    let r = app.post(&admin, "/api/v1/submerchants", &json!({"id": "sub_1", "name": "Uno"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let transactions = app.count_transactions().await;

    let missing = app.assess(&json!({"amount": 1000, "currency": "MXN"})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.json);
    assert_eq!(missing.error_code(), "VALIDATION_ERROR");
    assert_eq!(missing.json["error"]["details"]["field"], "submerchant_id");
    let unknown =
        app.assess(&json!({"amount": 1000, "currency": "MXN", "submerchant_id": "sub_x"})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.count_transactions().await, transactions, "refused assessments record nothing");

    let ok =
        app.assess(&json!({"amount": 1000, "currency": "MXN", "submerchant_id": "sub_1"})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
    assert_eq!(ok.json["submerchant_id"], "sub_1");
    assert_eq!(ok.json["submerchant_name"], "Uno");

    // Deactivated: refused again, at once.
    assert_eq!(app.delete(&admin, "/api/v1/submerchants/sub_1").await.status, StatusCode::OK);
    let inactive =
        app.assess(&json!({"amount": 1000, "currency": "MXN", "submerchant_id": "sub_1"})).await;
    assert_eq!(inactive.status, StatusCode::OK, "no active submerchant left: org-level again");
    assert_eq!(inactive.json["submerchant_name"], serde_json::Value::Null);
    let r = app.post(&admin, "/api/v1/submerchants", &json!({"id": "sub_2", "name": "Dos"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let inactive =
        app.assess(&json!({"amount": 1000, "currency": "MXN", "submerchant_id": "sub_1"})).await;
    assert_eq!(inactive.status, StatusCode::BAD_REQUEST, "{}", inactive.json);
    // Reactivated by PATCH.
    let r = app.patch(&admin, "/api/v1/submerchants/sub_1", &json!({"status": "active"})).await;
    assert_eq!(r.status, StatusCode::OK);
    let back =
        app.assess(&json!({"amount": 1000, "currency": "MXN", "submerchant_id": "sub_1"})).await;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(back.json["submerchant_name"], "Uno");
}

async fn overview_splits_by_submerchant_and_flow(app: TestApp) {
    let admin = app.admin_token().await;
    for id in ["sub_a", "sub_b"] {
        let r = app.post(&admin, "/api/v1/submerchants", &json!({"id": id, "name": id})).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    for (sub, n) in [("sub_a", 3), ("sub_b", 2)] {
        for _ in 0..n {
            let r =
                app.assess(&json!({"amount": 500, "currency": "MXN", "submerchant_id": sub})).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        }
    }
    let evaluations = |path: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let r = app.get(&admin, &path).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.json);
            r.json["evaluations"].as_i64().unwrap()
        }
    };
    assert_eq!(evaluations("/api/v1/dashboard/overview".into()).await, 5);
    assert_eq!(evaluations("/api/v1/dashboard/overview?submerchant_id=sub_a".into()).await, 3);
    assert_eq!(evaluations("/api/v1/dashboard/overview?submerchant_id=sub_b".into()).await, 2);
    assert_eq!(evaluations("/api/v1/dashboard/overview?flow=payin".into()).await, 5);
    assert_eq!(evaluations("/api/v1/dashboard/overview?flow=payout".into()).await, 0);
    let bad = app.get(&admin, "/api/v1/dashboard/overview?flow=sideways").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn velocity_counts_each_submerchant_apart_when_asked(app: TestApp) {
    let admin = app.admin_token().await;
    for id in ["sub_a", "sub_b"] {
        let r = app.post(&admin, "/api/v1/submerchants", &json!({"id": id, "name": id})).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let fires = |sub: &'static str, email: &'static str| {
        let app = &app;
        async move {
            let r = app
                .assess(&json!({"amount": 500, "currency": "MXN", "email": email, "submerchant_id": sub}))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.json);
            r.json["signals"].as_array().unwrap().contains(&json!("high_velocity"))
        }
    };
    // Two earlier transactions of one email in 10 minutes fire velocity.
    let limits = |per_submerchant: bool| {
        json!({"velocity": {"count_10m": 2, "count_1h": 0, "count_24h": 0,
                            "per_submerchant": per_submerchant}})
    };
    let r = app.put(&admin, "/api/v1/settings/scoring", &limits(false)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["velocity"]["count_10m"], 2);
    assert_eq!(r.json["velocity"]["per_submerchant"], false);
    // Organisation-wide (the default): the third use fires, wherever it is.
    assert!(!fires("sub_a", "org@example.com").await);
    assert!(!fires("sub_b", "org@example.com").await);
    assert!(fires("sub_a", "org@example.com").await);

    // Split: each submerchant counts its own.
    let r = app.put(&admin, "/api/v1/settings/scoring", &limits(true)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["velocity"]["per_submerchant"], true);
    assert_eq!(
        app.get(&admin, "/api/v1/settings/scoring").await.json["velocity"],
        r.json["velocity"]
    );
    for sub in ["sub_a", "sub_b", "sub_a", "sub_b"] {
        assert!(!fires(sub, "split@example.com").await, "two uses at {sub} are not a burst");
    }
    // The split survives a restart (velocity is rebuilt from the database
    // under the same keys) and the third use at one submerchant fires.
    let app = app.restart().await;
    let r = app
        .assess(&json!({"amount": 500, "currency": "MXN", "email": "split@example.com", "submerchant_id": "sub_b"}))
        .await;
    assert!(r.json["signals"].as_array().unwrap().contains(&json!("high_velocity")), "{}", r.json);

    // Bad limits are refused, naming the field, and change nothing.
    let admin = app.admin_token().await;
    for (body, field) in [
        (
            json!({"velocity": {"count_10m": -1, "count_1h": 0, "count_24h": 0}}),
            "velocity.count_10m",
        ),
        (
            json!({"velocity": {"count_10m": 1, "count_1h": 0, "count_24h": 0, "sum_24h_minor": 0}}),
            "velocity.sum_24h_minor",
        ),
        (
            json!({"payout": {"high_risk_countries": ["Narnia"], "cross_border_min_minor": {},
                           "generic_initiators": [], "new_beneficiary_limit": 3,
                           "new_beneficiary_window_hours": 24}}),
            "payout.high_risk_countries",
        ),
        (
            json!({"payout": {"high_risk_countries": vec!["MX"; 301], "cross_border_min_minor": {},
                           "generic_initiators": [], "new_beneficiary_limit": 3,
                           "new_beneficiary_window_hours": 24}}),
            "payout.high_risk_countries",
        ),
        (
            json!({"payout": {"high_risk_countries": [], "cross_border_min_minor": {"XXZ": 5},
                           "generic_initiators": [], "new_beneficiary_limit": 3,
                           "new_beneficiary_window_hours": 24}}),
            "payout.cross_border_min_minor.XXZ",
        ),
        (
            json!({"payout": {"high_risk_countries": [], "cross_border_min_minor": {},
                           "generic_initiators": [], "new_beneficiary_limit": 3,
                           "new_beneficiary_window_hours": 0}}),
            "payout.new_beneficiary_window_hours",
        ),
    ] {
        let r = app.put(&admin, "/api/v1/settings/scoring", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.json);
        assert_eq!(r.json["error"]["details"]["field"], field, "{body}: {}", r.json);
    }
    let now = app.get(&admin, "/api/v1/settings/scoring").await.json;
    assert_eq!(now["velocity"]["per_submerchant"], true);
    assert_eq!(now["payout"]["new_beneficiary_window_hours"], 24);
}
