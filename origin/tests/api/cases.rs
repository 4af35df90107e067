//! Cases (expedientes): create, list, lifecycle, evidence, transactions,
//! activity, statistics, permissions and organisation scoping.

use clausum_origin::store::AuditFilter;
use serde_json::{Value, json};

use crate::{
    helpers::{Reply, TestApp},
    stories,
};

stories!(
    created_cases_are_listed_filtered_searched_sorted_and_read,
    the_lifecycle_runs_from_draft_to_resolved_and_archived,
    submission_needs_review_and_a_jurisdiction,
    fields_are_edited_cleared_and_audited,
    evidence_is_added_and_listed,
    transactions_of_the_organisation_are_linked_once,
    activity_lists_every_change_with_its_actor,
    statistics_count_every_status_and_priority,
    viewers_read_but_cannot_write,
    ids_of_another_organisation_are_404,
    malformed_bodies_and_queries_are_400,
    fraud_reports_open_cases_in_the_list,
    concurrent_changes_have_one_winner,
);

const CASES: &str = "/api/v1/cases";

/// Creates a case; panics unless it is 201.
async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post(token, CASES, &body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json
}

fn id(case: &Value) -> String {
    case["id"].as_str().expect("id").to_owned()
}

fn case_path(case: &Value, tail: &str) -> String {
    format!("{CASES}/{}{tail}", id(case))
}

async fn patch(app: &TestApp, token: &str, case: &Value, body: Value) -> Reply {
    app.patch(token, &case_path(case, ""), &body).await
}

async fn set_status(app: &TestApp, token: &str, case: &Value, status: &str) -> Value {
    let r = patch(app, token, case, json!({"status": status})).await;
    assert_eq!(r.status, 200, "→ {status}: {}", r.json);
    assert_eq!(r.json["status"], status);
    r.json
}

/// The ids of a listing, in order.
async fn listed(app: &TestApp, token: &str, query: &str) -> (Vec<String>, i64) {
    let r = app.get(token, &format!("{CASES}?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.json);
    let ids = r.json["data"].as_array().unwrap().iter().map(id).collect();
    (ids, r.json["pagination"]["total"].as_i64().unwrap())
}

fn today() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

async fn created_cases_are_listed_filtered_searched_sorted_and_read(app: TestApp) {
    let admin = app.admin_token().await;
    let a = create(
        &app,
        &admin,
        json!({
            "title": "Phishing contra cliente", "incident_type": "phishing", "jurisdiction": "mx",
            "amount": 150_000, "victim_name": "Ana Pérez", "victim_email": "Ana@Example.COM",
            "priority": "alta", "incident_date": "2026-01-15", "description": "Llamada falsa del banco"
        }),
    )
    .await;
    let reference = a["reference_number"].as_str().unwrap();
    assert!(reference.starts_with("CLM-") && reference.len() == 10, "{reference}");
    assert!(reference[4..].bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
    assert_eq!(a["status"], "borrador");
    assert_eq!(a["source"], "manual");
    assert_eq!(a["jurisdiction"], "MX");
    assert_eq!(a["currency"], "MXN", "defaults to the jurisdiction's currency");
    assert_eq!(a["amount_minor"], 150_000);
    assert_eq!(a["victim_email"], "ana@example.com");
    assert_eq!(a["incident_date"], "2026-01-15");
    assert_eq!(a["notify"], json!({}));
    assert_eq!(a["allowed_transitions"], json!(["en_revision", "archivado"]));
    assert!(a["created_by"].as_str().unwrap().starts_with("user:"));
    assert!(a["submitted_at"].is_null() && a["resolved_at"].is_null());
    assert!(a["id"].as_str().unwrap().starts_with("case_"));

    let b = create(
        &app,
        &admin,
        json!({"title": "Robo de identidad", "incident_type": "robo_identidad",
               "amount": 5_000, "currency": "usd", "jurisdiction": "CL"}),
    )
    .await;
    assert_eq!((b["currency"].as_str(), b["jurisdiction"].as_str()), (Some("USD"), Some("CL")));
    assert_eq!(b["priority"], "media", "the default priority");
    let c = create(&app, &admin, json!({"title": "Otro caso", "incident_type": "otro"})).await;
    assert!(c["amount_minor"].is_null() && c["currency"].is_null() && c["jurisdiction"].is_null());
    let (a, b, c) = (id(&a), id(&b), id(&c));

    // Newest first by default.
    assert_eq!(listed(&app, &admin, "").await, (vec![c.clone(), b.clone(), a.clone()], 3));
    assert_eq!(listed(&app, &admin, "sort_order=asc").await.0, [a.clone(), b.clone(), c.clone()]);
    // Priority sorts by urgency; amounts numerically.
    assert_eq!(listed(&app, &admin, "sort_by=priority").await.0[0], a);
    let by_amount = listed(&app, &admin, "sort_by=amount_minor&sort_order=asc").await.0;
    let pos = |x: &String| by_amount.iter().position(|y| y == x).unwrap();
    assert!(pos(&b) < pos(&a));
    assert_eq!(listed(&app, &admin, "sort_by=updated_at&sort_order=desc").await.1, 3);
    assert_eq!(listed(&app, &admin, "sort_by=status").await.1, 3);
    // Filters.
    assert_eq!(listed(&app, &admin, "status=borrador").await.1, 3);
    assert_eq!(listed(&app, &admin, "status=enviado").await.1, 0);
    assert_eq!(listed(&app, &admin, "priority=alta").await, (vec![a.clone()], 1));
    assert_eq!(listed(&app, &admin, "jurisdiction=cl").await, (vec![b.clone()], 1));
    assert_eq!(listed(&app, &admin, "incident_type=robo_identidad").await, (vec![b.clone()], 1));
    assert_eq!(
        listed(&app, &admin, "incident_type=otro&status=borrador").await,
        (vec![c.clone()], 1)
    );
    assert_eq!(listed(&app, &admin, "search=IDENTIDAD").await, (vec![b.clone()], 1));
    assert_eq!(
        listed(&app, &admin, "search=banco").await.0,
        std::slice::from_ref(&a),
        "description"
    );
    assert_eq!(
        listed(&app, &admin, "search=ana%20p").await.0,
        std::slice::from_ref(&a),
        "victim name"
    );
    let search_ref = format!("search={}", reference.to_lowercase());
    assert_eq!(
        listed(&app, &admin, &search_ref).await.0,
        std::slice::from_ref(&a),
        "reference number"
    );
    assert_eq!(listed(&app, &admin, "search=%25").await.1, 0, "wildcards are literal");
    assert_eq!(listed(&app, &admin, "status=borrador&priority=media&search=caso").await.0, [c]);
    // Dates: a plain to_date includes its whole day; a timestamp is an exclusive end.
    let (day, yesterday) = (today(), today().yesterday().unwrap());
    assert_eq!(listed(&app, &admin, &format!("from_date={day}&to_date={day}")).await.1, 3);
    assert_eq!(listed(&app, &admin, &format!("to_date={yesterday}")).await.1, 0);
    assert_eq!(listed(&app, &admin, &format!("from_date={}", day.tomorrow().unwrap())).await.1, 0);
    assert_eq!(listed(&app, &admin, "from_date=2020-01-01T00:00:00Z").await.1, 3);
    assert_eq!(listed(&app, &admin, &format!("to_date={day}T00:00:00Z")).await.1, 0);
    // Pages.
    let r = app.get(&admin, &format!("{CASES}?limit=2&offset=0")).await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 2);
    assert_eq!(r.json["pagination"], json!({"total": 3, "limit": 2, "offset": 0}));
    assert_eq!(listed(&app, &admin, "limit=2&offset=2").await, (vec![a.clone()], 3));

    let r = app.get(&admin, &format!("{CASES}/{a}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["title"], "Phishing contra cliente");
    assert_eq!(r.json["reference_number"], reference);
    assert_eq!(r.json["blocklist_entries"], json!([]));
    assert_eq!(
        (r.json["evidence_count"].as_i64(), r.json["transaction_count"].as_i64()),
        (Some(0), Some(0))
    );
    let r = app.get(&admin, &format!("{CASES}/case_0000")).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (404, "NOT_FOUND"));
}

async fn the_lifecycle_runs_from_draft_to_resolved_and_archived(app: TestApp) {
    let admin = app.admin_token().await;
    let case = create(
        &app,
        &admin,
        json!({"title": "Fraude", "incident_type": "phishing", "jurisdiction": "PE"}),
    )
    .await;
    let submit = case_path(&case, "/submit");

    let r = set_status(&app, &admin, &case, "en_revision").await;
    assert_eq!(r["allowed_transitions"], json!(["enviado", "borrador", "archivado"]));
    // Illegal: the answer names what is allowed.
    let r = patch(&app, &admin, &case, json!({"status": "resuelto"})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "INVALID_STATUS_TRANSITION"));
    assert_eq!(
        r.json["error"]["details"],
        json!({"from": "en_revision", "to": "resuelto", "allowed": ["enviado", "borrador", "archivado"]})
    );
    let message = r.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("`enviado`, `borrador` or `archivado`"), "{message}");
    // Staying put is refused too.
    let r = patch(&app, &admin, &case, json!({"status": "en_revision"})).await;
    assert_eq!(r.error_code(), "INVALID_STATUS_TRANSITION");

    let r = app.post(&admin, &submit, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["status"], "enviado");
    let submitted_at = r.json["submitted_at"].as_str().expect("submitted_at").to_owned();
    assert!(r.json["resolved_at"].is_null());
    assert_eq!(r.json["allowed_transitions"], json!(["resuelto", "archivado"]));
    let r = app.post(&admin, &submit, &json!({})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "ALREADY_SUBMITTED"));
    let r = patch(&app, &admin, &case, json!({"status": "borrador"})).await;
    assert_eq!(r.error_code(), "INVALID_STATUS_TRANSITION");
    assert_eq!(r.json["error"]["details"]["allowed"], json!(["resuelto", "archivado"]));

    let r = set_status(&app, &admin, &case, "resuelto").await;
    assert!(r["resolved_at"].is_string());
    assert_eq!(r["submitted_at"], submitted_at.as_str(), "kept");
    let r = app.post(&admin, &submit, &json!({})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "ALREADY_SUBMITTED"));

    // Archived is final and read-only.
    let r = set_status(&app, &admin, &case, "archivado").await;
    assert_eq!(r["allowed_transitions"], json!([]));
    assert!(r["resolved_at"].is_string());
    for to in ["borrador", "en_revision", "enviado", "resuelto", "archivado"] {
        let r = patch(&app, &admin, &case, json!({"status": to})).await;
        assert_eq!((r.status.as_u16(), r.error_code()), (409, "INVALID_STATUS_TRANSITION"), "{to}");
        assert_eq!(r.json["error"]["details"]["allowed"], json!([]));
    }
    let r = patch(&app, &admin, &case, json!({"status": "borrador"})).await;
    assert!(r.json["error"]["message"].as_str().unwrap().contains("final"));
    let r = patch(&app, &admin, &case, json!({"title": "Otro título"})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "INVALID_STATUS_TRANSITION"));
    let r = app.post(&admin, &submit, &json!({})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "INVALID_STATUS_TRANSITION"));
    let r = app.get(&admin, &case_path(&case, "")).await;
    assert_eq!(
        (r.json["status"].as_str(), r.json["title"].as_str()),
        (Some("archivado"), Some("Fraude"))
    );

    // A draft may be archived directly, and a case in review returned to draft.
    let other = create(&app, &admin, json!({"title": "Duplicado", "incident_type": "otro"})).await;
    set_status(&app, &admin, &other, "en_revision").await;
    set_status(&app, &admin, &other, "borrador").await;
    set_status(&app, &admin, &other, "archivado").await;
}

async fn submission_needs_review_and_a_jurisdiction(app: TestApp) {
    let admin = app.admin_token().await;
    let case = create(&app, &admin, json!({"title": "Sin país", "incident_type": "otro"})).await;
    let submit = case_path(&case, "/submit");
    // From a draft: not yet.
    let r = app.post(&admin, &submit, &json!({})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "INVALID_STATUS_TRANSITION"));
    assert_eq!(r.json["error"]["details"]["from"], "borrador");
    assert_eq!(r.json["error"]["details"]["to"], "enviado");
    set_status(&app, &admin, &case, "en_revision").await;
    // In review but without a jurisdiction: neither path submits.
    let r = app.post(&admin, &submit, &json!({})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (400, "VALIDATION_ERROR"));
    assert_eq!(r.json["error"]["details"]["field"], "jurisdiction");
    let r = patch(&app, &admin, &case, json!({"status": "enviado"})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (400, "VALIDATION_ERROR"));
    let r = app.get(&admin, &case_path(&case, "")).await;
    assert_eq!(r.json["status"], "en_revision");

    let r = patch(&app, &admin, &case, json!({"jurisdiction": "br"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        (r.json["jurisdiction"].as_str(), r.json["currency"].as_str()),
        (Some("BR"), Some("BRL"))
    );
    // PATCH to enviado is a submission too.
    let r = set_status(&app, &admin, &case, "enviado").await;
    assert!(r["submitted_at"].is_string());
    let r = app.post(&admin, &submit, &json!({})).await;
    assert_eq!(r.error_code(), "ALREADY_SUBMITTED");
}

async fn fields_are_edited_cleared_and_audited(app: TestApp) {
    let admin = app.admin_token().await;
    let case = create(&app, &admin, json!({"title": "Caso", "incident_type": "otro"})).await;
    let r = patch(&app, &admin, &case, json!({"jurisdiction": "co"})).await;
    assert_eq!(
        (r.json["jurisdiction"].as_str(), r.json["currency"].as_str()),
        (Some("CO"), Some("COP"))
    );
    let r = patch(&app, &admin, &case, json!({"amount": 100, "currency": "usd"})).await;
    assert_eq!(
        (r.json["amount_minor"].as_i64(), r.json["currency"].as_str()),
        (Some(100), Some("USD"))
    );
    let r = patch(&app, &admin, &case, json!({"jurisdiction": "MX"})).await;
    assert_eq!(r.json["currency"], "USD", "an existing currency is kept");
    // An amount needs a currency.
    let r = patch(&app, &admin, &case, json!({"currency": null})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (400, "VALIDATION_ERROR"));
    assert_eq!(r.json["error"]["details"]["field"], "currency");

    let r = patch(
        &app,
        &admin,
        &case,
        json!({"title": "Nuevo", "victim_name": "Ana", "victim_email": "ANA@EXAMPLE.COM",
               "description": "d", "incident_date": "2026-02-03", "priority": "urgente",
               "incident_type": "phishing"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    for (k, v) in [
        ("title", "Nuevo"),
        ("victim_name", "Ana"),
        ("victim_email", "ana@example.com"),
        ("description", "d"),
        ("incident_date", "2026-02-03"),
        ("priority", "urgente"),
        ("incident_type", "phishing"),
        ("status", "borrador"),
    ] {
        assert_eq!(r.json[k], v, "{k}");
    }
    let r = patch(
        &app,
        &admin,
        &case,
        json!({"description": null, "amount": null, "victim_name": null}),
    )
    .await;
    assert!(
        r.json["description"].is_null()
            && r.json["amount_minor"].is_null()
            && r.json["victim_name"].is_null()
    );
    assert_eq!(r.json["currency"], "USD");
    // A patch that changes nothing writes nothing.
    let updated_at = r.json["updated_at"].clone();
    let r = patch(&app, &admin, &case, json!({"title": "Nuevo", "priority": "urgente"})).await;
    assert_eq!((r.status.as_u16(), &r.json["updated_at"]), (200, &updated_at));

    let r = app.get(&admin, &case_path(&case, "/activity")).await;
    let rows = r.json["data"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "created + 5 changes: {}", r.json);
    assert!(rows[..5].iter().all(|a| a["action"] == "updated"));
    assert_eq!(rows[0]["details"], json!({"fields": ["description", "amount", "victim_name"]}));
    assert_eq!(rows[3]["details"], json!({"fields": ["currency", "amount"]}));
    assert_eq!(rows[4]["details"], json!({"fields": ["jurisdiction", "currency"]}));

    let audit = app
        .store
        .audit_log(
            &app.creds.organization_id,
            &AuditFilter {
                resource_type: Some("case".into()),
                resource_id: Some(id(&case)),
                limit: 50,
                offset: 0,
            },
        )
        .await
        .unwrap();
    let actions: Vec<_> = audit.rows.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["case.update"; 5].into_iter().chain(["case.create"]).collect::<Vec<_>>());
    let last = &audit.rows[0];
    let before: Value = serde_json::from_str(last.before_state.as_deref().unwrap()).unwrap();
    let after: Value = serde_json::from_str(last.after_state.as_deref().unwrap()).unwrap();
    assert_eq!(
        (before["victim_name"].as_str(), after["victim_name"].as_str()),
        (Some("Ana"), None)
    );
    assert!(last.actor.starts_with("user:"));
}

async fn evidence_is_added_and_listed(app: TestApp) {
    let admin = app.admin_token().await;
    let case =
        create(&app, &admin, json!({"title": "Con pruebas", "incident_type": "phishing"})).await;
    let path = case_path(&case, "/evidence");
    let r = app
        .post(&admin, &path, &json!({"kind": "url", "url": "https://evidence.example.com/a.png?x=1", "description": "Captura"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["kind"], "url");
    assert_eq!(r.json["url"], "https://evidence.example.com/a.png?x=1");
    assert_eq!(r.json["case_id"], case["id"]);
    assert!(r.json["id"].as_str().unwrap().starts_with("ev_"));
    assert!(r.json["added_by"].as_str().unwrap().starts_with("user:"));
    let r = app
        .post(&admin, &path, &json!({"kind": "note", "description": "El cliente llamó dos veces"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert!(r.json["url"].is_null());

    for (body, field) in [
        (json!({"kind": "url", "url": "ftp://files.example.com/a"}), "url"),
        (json!({"kind": "url", "url": "javascript:alert(1)"}), "url"),
        (json!({"kind": "url", "url": "https://"}), "url"),
        (json!({"kind": "url", "url": "https://exa mple.com"}), "url"),
        (json!({"kind": "url", "url": "/relative/path"}), "url"),
        (json!({"kind": "url", "url": format!("https://example.com/{}", "a".repeat(2048))}), "url"),
        (json!({"kind": "url"}), "url"),
        (json!({"kind": "note"}), "description"),
        (json!({"kind": "note", "description": "x".repeat(1001)}), "description"),
        (json!({"kind": "video", "url": "https://example.com"}), "kind"),
        (json!({"kind": "url", "url": "https://example.com", "fetch": true}), ""),
    ] {
        let r = app.post(&admin, &path, &body).await;
        assert_eq!((r.status.as_u16(), r.error_code()), (400, "VALIDATION_ERROR"), "{body}");
        if !field.is_empty() {
            assert_eq!(r.json["error"]["details"]["field"], field, "{body}: {}", r.json);
        }
    }

    let r = app.get(&admin, &path).await;
    assert_eq!(r.status, 200);
    let kinds: Vec<_> =
        r.json["data"].as_array().unwrap().iter().map(|e| e["kind"].clone()).collect();
    assert_eq!(kinds, [json!("url"), json!("note")], "oldest first");
    assert_eq!(app.get(&admin, &case_path(&case, "")).await.json["evidence_count"], 2);

    set_status(&app, &admin, &case, "archivado").await;
    let r = app.post(&admin, &path, &json!({"kind": "note", "description": "tarde"})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "INVALID_STATUS_TRANSITION"));
    assert_eq!(app.get(&admin, &path).await.json["data"].as_array().unwrap().len(), 2);
}

async fn transactions_of_the_organisation_are_linked_once(app: TestApp) {
    let admin = app.admin_token().await;
    let case = create(
        &app,
        &admin,
        json!({"title": "Cargos", "incident_type": "transferencia_no_autorizada"}),
    )
    .await;
    let path = case_path(&case, "/transactions");
    let t = app
        .assess(&json!({"amount": 25_000, "currency": "MXN", "email": "Buyer@Example.com"}))
        .await;
    assert_eq!(t.status, 200, "{}", t.json);
    let txn = t.json["transaction_id"].as_str().unwrap();

    let r = app.post(&admin, &path, &json!({"transaction_id": txn})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["id"], txn);
    assert_eq!(
        (r.json["amount_minor"].as_i64(), r.json["currency"].as_str()),
        (Some(25_000), Some("MXN"))
    );
    assert_eq!(r.json["source"], "assess");
    assert_eq!(r.json["email"], "buyer@example.com");
    assert_eq!(r.json["decision"], t.json["decision"]);
    assert_eq!(r.json["risk_score"], t.json["risk_score"]);
    assert_eq!(r.json["is_fraudulent"], false);
    let keys: Vec<_> = r.json.as_object().unwrap().keys().cloned().collect();
    for k in ["card_bin", "card_last4", "created_at", "fraud_reason"] {
        assert!(keys.iter().any(|x| x == k), "{k} missing: {keys:?}");
    }
    assert!(!keys.iter().any(|k| k.contains("number") || k == "request"), "{keys:?}");

    let r = app.post(&admin, &path, &json!({"transaction_id": txn})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "DUPLICATE"));
    let r = app.post(&admin, &path, &json!({"transaction_id": "txn_missing"})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (404, "NOT_FOUND"));
    // Another organisation's transaction is invisible.
    let (other, _) = app.other_org().await;
    let t = app
        .assess_with(
            &other.keys.secret,
            &json!({"amount": 100, "currency": "MXN", "email": "x@example.com"}),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.json);
    let r = app.post(&admin, &path, &json!({"transaction_id": t.json["transaction_id"]})).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (404, "NOT_FOUND"));
    for body in [json!({}), json!({"transaction_id": 5}), json!({"transaction_id": " "})] {
        let r = app.post(&admin, &path, &body).await;
        assert_eq!((r.status.as_u16(), r.error_code()), (400, "VALIDATION_ERROR"), "{body}");
    }

    let r = app.get(&admin, &path).await;
    assert_eq!(r.status, 200);
    let data = r.json["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["id"], txn);
    assert_eq!(app.get(&admin, &case_path(&case, "")).await.json["transaction_count"], 1);
}

async fn activity_lists_every_change_with_its_actor(app: TestApp) {
    let admin = app.admin_token().await;
    let analyst = app.member_token("analyst").await;
    let case = create(
        &app,
        &admin,
        json!({"title": "Historia", "incident_type": "otro", "jurisdiction": "UY"}),
    )
    .await;
    let admin_actor = case["created_by"].as_str().unwrap().to_owned();
    patch(&app, &admin, &case, json!({"title": "Historia completa"})).await;
    set_status(&app, &admin, &case, "en_revision").await;
    let r = app
        .post(
            &analyst,
            &case_path(&case, "/evidence"),
            &json!({"kind": "note", "description": "nota"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let analyst_actor = r.json["added_by"].as_str().unwrap().to_owned();
    assert_ne!(analyst_actor, admin_actor);
    let t = app.assess(&json!({"amount": 900, "currency": "UYU", "email": "h@example.com"})).await;
    let r = app
        .post(
            &admin,
            &case_path(&case, "/transactions"),
            &json!({"transaction_id": t.json["transaction_id"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = app.post(&analyst, &case_path(&case, "/submit"), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);

    let r = app.get(&admin, &case_path(&case, "/activity")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["pagination"], json!({"total": 6, "limit": 50, "offset": 0}));
    let rows = r.json["data"].as_array().unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["actor"].as_str().unwrap()))
        .collect();
    let (ad, an) = (admin_actor.as_str(), analyst_actor.as_str());
    assert_eq!(
        got,
        [
            ("submitted", an),
            ("transaction_linked", ad),
            ("evidence_added", an),
            ("status_changed", ad),
            ("updated", ad),
            ("created", ad)
        ]
    );
    assert_eq!(
        rows[0]["details"],
        json!({"from": "en_revision", "to": "enviado", "jurisdiction": "UY"})
    );
    assert_eq!(rows[1]["details"], json!({"transaction_id": t.json["transaction_id"]}));
    assert_eq!(rows[2]["details"]["kind"], "note");
    assert_eq!(rows[3]["details"], json!({"from": "borrador", "to": "en_revision"}));
    assert_eq!(rows[4]["details"], json!({"fields": ["title"]}));
    assert_eq!(rows[5]["details"]["reference_number"], case["reference_number"]);
    assert!(
        rows.iter()
            .all(|a| a["id"].as_str().unwrap().starts_with("act_") && a["created_at"].is_string())
    );

    let r = app.get(&admin, &case_path(&case, "/activity?limit=2&offset=4")).await;
    let actions: Vec<_> =
        r.json["data"].as_array().unwrap().iter().map(|a| a["action"].clone()).collect();
    assert_eq!(actions, [json!("updated"), json!("created")]);
    assert_eq!(r.json["pagination"]["total"], 6);
    let r = app.get(&admin, &case_path(&case, "/activity?limit=0")).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (400, "VALIDATION_ERROR"));
}

async fn statistics_count_every_status_and_priority(app: TestApp) {
    let admin = app.admin_token().await;
    // `/statistics` is its own route, not a case id.
    let r = app.get(&admin, "/api/v1/cases/statistics").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["total"], 0);
    assert_eq!(r.json["open"], 0);
    assert_eq!(
        r.json["by_status"],
        json!({"borrador": 0, "en_revision": 0, "enviado": 0, "resuelto": 0, "archivado": 0})
    );
    assert_eq!(r.json["by_priority"], json!({"baja": 0, "media": 0, "alta": 0, "urgente": 0}));
    assert_eq!(r.json["by_jurisdiction"]["MX"], 0);
    assert_eq!(r.json["by_incident_type"]["phishing"], 0);

    let a = create(&app, &admin, json!({"title": "A", "incident_type": "phishing", "jurisdiction": "MX", "priority": "alta"})).await;
    let b =
        create(&app, &admin, json!({"title": "B", "incident_type": "otro", "jurisdiction": "CL"}))
            .await;
    create(&app, &admin, json!({"title": "C", "incident_type": "otro", "priority": "urgente"}))
        .await;
    set_status(&app, &admin, &a, "en_revision").await;
    set_status(&app, &admin, &b, "archivado").await;

    let r = app.get(&admin, "/api/v1/cases/statistics").await;
    assert_eq!(r.json["total"], 3);
    assert_eq!(r.json["open"], 2);
    assert_eq!(
        r.json["by_status"],
        json!({"borrador": 1, "en_revision": 1, "enviado": 0, "resuelto": 0, "archivado": 1})
    );
    assert_eq!(r.json["by_priority"], json!({"baja": 0, "media": 1, "alta": 1, "urgente": 1}));
    assert_eq!(
        r.json["by_jurisdiction"],
        json!({"AR": 0, "BR": 0, "CL": 1, "CO": 0, "MX": 1, "PE": 0, "UY": 0, "none": 1})
    );
    let types = &r.json["by_incident_type"];
    assert_eq!(
        (types["phishing"].as_i64(), types["otro"].as_i64(), types["robo_identidad"].as_i64()),
        (Some(1), Some(2), Some(0))
    );
    assert_eq!(types.as_object().unwrap().len(), 6);

    let (_, other) = app.other_org().await;
    assert_eq!(app.get(&other, "/api/v1/cases/statistics").await.json["total"], 0);
}

async fn viewers_read_but_cannot_write(app: TestApp) {
    let admin = app.admin_token().await;
    let viewer = app.member_token("viewer").await;
    let case = create(
        &app,
        &admin,
        json!({"title": "Visible", "incident_type": "otro", "jurisdiction": "AR"}),
    )
    .await;
    for path in [
        CASES.to_owned(),
        "/api/v1/cases/statistics".to_owned(),
        case_path(&case, ""),
        case_path(&case, "/evidence"),
        case_path(&case, "/transactions"),
        case_path(&case, "/activity"),
    ] {
        let r = app.get(&viewer, &path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.json);
    }
    let new = json!({"title": "No", "incident_type": "otro"});
    let writes = [
        app.post(&viewer, CASES, &new).await,
        patch(&app, &viewer, &case, json!({"title": "No"})).await,
        patch(&app, &viewer, &case, json!({"status": "en_revision"})).await,
        app.post(&viewer, &case_path(&case, "/submit"), &json!({})).await,
        app.post(
            &viewer,
            &case_path(&case, "/evidence"),
            &json!({"kind": "note", "description": "x"}),
        )
        .await,
        app.post(&viewer, &case_path(&case, "/transactions"), &json!({"transaction_id": "txn_x"}))
            .await,
    ];
    for r in writes {
        assert_eq!((r.status.as_u16(), r.error_code()), (403, "FORBIDDEN"), "{}", r.json);
    }
    let r = app.get(&admin, &case_path(&case, "")).await;
    assert_eq!(
        (r.json["title"].as_str(), r.json["status"].as_str()),
        (Some("Visible"), Some("borrador"))
    );
    assert_eq!(app.get(&admin, CASES).await.json["pagination"]["total"], 1);
    // Analysts and compliance officers work cases.
    let analyst = app.member_token("analyst").await;
    create(&app, &analyst, new.clone()).await;
    let compliance = app.member_token("compliance_officer").await;
    set_status(&app, &compliance, &case, "en_revision").await;
    // Without a token: 401.
    let r = app.call(reqwest::Method::GET, CASES, None, None).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (401, "UNAUTHORIZED"));
}

async fn ids_of_another_organisation_are_404(app: TestApp) {
    let admin = app.admin_token().await;
    let case = create(
        &app,
        &admin,
        json!({"title": "Privado", "incident_type": "otro", "jurisdiction": "MX"}),
    )
    .await;
    set_status(&app, &admin, &case, "en_revision").await;
    let (other_creds, other) = app.other_org().await;
    let t = app
        .assess_with(
            &other_creds.keys.secret,
            &json!({"amount": 100, "currency": "MXN", "email": "o@example.com"}),
        )
        .await;
    let their_txn = json!({"transaction_id": t.json["transaction_id"]});
    let replies = [
        app.get(&other, &case_path(&case, "")).await,
        patch(&app, &other, &case, json!({"title": "Mío"})).await,
        patch(&app, &other, &case, json!({"status": "archivado"})).await,
        app.post(&other, &case_path(&case, "/submit"), &json!({})).await,
        app.get(&other, &case_path(&case, "/evidence")).await,
        app.post(
            &other,
            &case_path(&case, "/evidence"),
            &json!({"kind": "note", "description": "x"}),
        )
        .await,
        app.get(&other, &case_path(&case, "/transactions")).await,
        app.post(&other, &case_path(&case, "/transactions"), &their_txn).await,
        app.get(&other, &case_path(&case, "/activity")).await,
    ];
    let missing = app.get(&other, "/api/v1/cases/case_does_not_exist").await;
    for r in replies {
        assert_eq!((r.status.as_u16(), r.error_code()), (404, "NOT_FOUND"), "{}", r.json);
        assert_eq!(
            r.json["error"]["message"], missing.json["error"]["message"],
            "indistinguishable"
        );
    }
    assert_eq!(app.get(&other, CASES).await.json["pagination"]["total"], 0);
    let r = app.get(&admin, &case_path(&case, "")).await;
    assert_eq!(
        (r.json["title"].as_str(), r.json["status"].as_str()),
        (Some("Privado"), Some("en_revision"))
    );
    assert_eq!(r.json["evidence_count"], 0);
    assert_eq!(
        app.get(&admin, &case_path(&case, "/activity")).await.json["pagination"]["total"],
        2
    );
}

async fn malformed_bodies_and_queries_are_400(app: TestApp) {
    let admin = app.admin_token().await;
    let ok = json!({"title": "T", "incident_type": "phishing"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("colour", json!("red")), None),
        (with("title", json!(5)), Some("title")),
        (with("title", json!("x".repeat(201))), Some("title")),
        (with("title", json!("   ")), Some("title")),
        (json!({"title": "T"}), None),
        (with("incident_type", json!("vishing")), Some("incident_type")),
        (with("incident_type", json!(null)), Some("incident_type")),
        (with("priority", json!("high")), Some("priority")),
        (with("jurisdiction", json!("US")), Some("jurisdiction")),
        (with("currency", json!("XXQ")), Some("currency")),
        (with("amount", json!(-1)), Some("amount")),
        (with("amount", json!(12.5)), Some("amount")),
        (with("amount", json!("100")), Some("amount")),
        (with("amount", json!(100)), Some("currency")),
        (with("victim_email", json!("not-an-email")), Some("victim_email")),
        (with("incident_date", json!("15/01/2026")), Some("incident_date")),
        (with("description", json!("d".repeat(4001))), Some("description")),
        (with("status", json!("enviado")), None),
        (json!([ok.clone()]), None),
    ];
    for (body, field) in cases {
        let r = app.post(&admin, CASES, &body).await;
        assert_eq!(
            (r.status.as_u16(), r.error_code()),
            (400, "VALIDATION_ERROR"),
            "{body}: {}",
            r.json
        );
        if let Some(f) = field {
            assert_eq!(r.json["error"]["details"]["field"], f, "{body}: {}", r.json);
        }
    }
    let r = app.post(&admin, CASES, &with("incident_type", json!("vishing"))).await;
    let message = r.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("phishing, ingenieria_social"), "names the allowed values: {message}");
    let r = app.post(&admin, CASES, &with("priority", json!("high"))).await;
    assert!(r.json["error"]["message"].as_str().unwrap().contains("baja, media, alta, urgente"));
    let r = Reply::read(
        app.client
            .post(app.url(CASES))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body("{\"title\": ")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.error_code()), (400, "VALIDATION_ERROR"));
    assert_eq!(app.get(&admin, CASES).await.json["pagination"]["total"], 0, "nothing was created");

    let case = create(&app, &admin, ok.clone()).await;
    for body in [
        json!({}),
        json!({"status": "abierto"}),
        json!({"status": 3}),
        json!({"reference_number": "CLM-222222"}),
        json!({"source": "fraud_report"}),
        json!({"title": ""}),
        json!({"amount": -5}),
        json!({"victim_email": "@"}),
        json!({"jurisdiction": "XX"}),
    ] {
        let r = patch(&app, &admin, &case, body.clone()).await;
        assert_eq!(
            (r.status.as_u16(), r.error_code()),
            (400, "VALIDATION_ERROR"),
            "{body}: {}",
            r.json
        );
    }
    let r = patch(&app, &admin, &case, json!({"status": "abierto"})).await;
    assert!(r.json["error"]["message"].as_str().unwrap().contains("borrador, en_revision"));

    for query in [
        "sort_by=title",
        "sort_by=id;DROP TABLE cases",
        "sort_order=sideways",
        "status=abierto",
        "priority=high",
        "jurisdiction=US",
        "incident_type=hacking",
        "limit=0",
        "limit=501",
        "offset=-1",
        "limit=abc",
        "from_date=yesterday",
        "to_date=2026-13-40",
        "from_date=2026-02-01&to_date=2026-01-01",
    ] {
        let r = app.get(&admin, &format!("{CASES}?{query}")).await;
        assert_eq!(
            (r.status.as_u16(), r.error_code()),
            (400, "VALIDATION_ERROR"),
            "{query}: {}",
            r.json
        );
    }
    let r = app.get(&admin, &format!("{CASES}?sort_by=title")).await;
    assert_eq!(r.json["error"]["details"]["field"], "sort_by");
    let message = r.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("created_at, updated_at, priority, status, amount_minor"),
        "{message}"
    );
}

async fn fraud_reports_open_cases_in_the_list(app: TestApp) {
    let admin = app.admin_token().await;
    create(&app, &admin, json!({"title": "Manual", "incident_type": "otro"})).await;
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/report-fraud",
            Some(app.secret()),
            Some(&json!({"reason": "chargeback", "amount": 1500, "currency": "MXN", "email": "thief@example.com"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let reported = r.json["data"]["case"].clone();
    let txn = r.json["data"]["transaction"]["id"].clone();

    let r = app.get(&admin, CASES).await;
    assert_eq!(r.json["pagination"]["total"], 2);
    let case = &r.json["data"][0];
    assert_eq!(case["id"], reported["id"]);
    assert_eq!(case["source"], "fraud_report");
    assert_eq!(case["fraud_reason"], "chargeback");
    assert_eq!(case["source_transaction_id"], txn);
    assert_eq!(case["status"], "borrador");
    assert_eq!(case["incident_type"], "transferencia_no_autorizada");
    assert_eq!(
        (case["amount_minor"].as_i64(), case["currency"].as_str()),
        (Some(1500), Some("MXN"))
    );
    assert!(case["notify"].is_object());
    assert!(case["created_by"].as_str().unwrap().starts_with("key:"));
    assert_eq!(r.json["data"][1]["source"], "manual");
    let search = format!("{CASES}?search={}", reported["reference_number"].as_str().unwrap());
    assert_eq!(app.get(&admin, &search).await.json["data"][0]["id"], reported["id"]);

    let detail = app.get(&admin, &case_path(case, "")).await;
    assert_eq!(detail.status, 200, "{}", detail.json);
    let entries = detail.json["blocklist_entries"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["list_type"] == "email" && e["value"] == "thief@example.com"),
        "{entries:?}"
    );
    assert_eq!(detail.json["transaction_count"], 1);
    let r = app.get(&admin, &case_path(case, "/transactions")).await;
    assert_eq!(r.json["data"][0]["id"], txn);
    assert_eq!(r.json["data"][0]["is_fraudulent"], true);
    assert_eq!(r.json["data"][0]["fraud_reason"], "chargeback");
    assert_eq!(r.json["data"][0]["email"], "thief@example.com");
    let r = app.get(&admin, &case_path(case, "/activity")).await;
    assert_eq!(r.json["data"][0]["action"], "opened_by_fraud_report");
    assert!(r.json["data"][0]["actor"].as_str().unwrap().starts_with("key:"));
    // It goes through the same lifecycle.
    set_status(&app, &admin, case, "en_revision").await;
}

async fn concurrent_changes_have_one_winner(app: TestApp) {
    let admin = app.admin_token().await;
    let case = create(
        &app,
        &admin,
        json!({"title": "Carrera", "incident_type": "otro", "jurisdiction": "CL"}),
    )
    .await;
    // Eight reviewers move the draft at once: one wins, the rest are told
    // the transition no longer applies.
    let path = case_path(&case, "");
    let replies =
        at_once(&app, &admin, reqwest::Method::PATCH, &path, json!({"status": "en_revision"}))
            .await;
    let won = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(won, 1, "{:?}", replies.iter().map(|r| &r.json).collect::<Vec<_>>());
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(
            (r.status.as_u16(), r.error_code()),
            (409, "INVALID_STATUS_TRANSITION"),
            "{}",
            r.json
        );
    }
    // Eight submissions at once: one wins, the rest see ALREADY_SUBMITTED.
    let submit = case_path(&case, "/submit");
    let replies = at_once(&app, &admin, reqwest::Method::POST, &submit, json!({})).await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1);
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_eq!((r.status.as_u16(), r.error_code()), (409, "ALREADY_SUBMITTED"), "{}", r.json);
    }
    let r = app.get(&admin, &case_path(&case, "/activity")).await;
    let actions: Vec<_> =
        r.json["data"].as_array().unwrap().iter().map(|a| a["action"].clone()).collect();
    assert_eq!(actions, [json!("submitted"), json!("status_changed"), json!("created")]);
}

/// Sends the same request eight times at once.
async fn at_once(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Vec<Reply> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let req = app.client.request(method.clone(), app.url(path)).bearer_auth(token).json(&body);
        set.spawn(async move { Reply::read(req.send().await.unwrap()).await });
    }
    set.join_all().await
}
