//! Browser SDK sessions: registration with the publishable key only, the
//! merge into a server-side assess, CORS for the browser-called endpoints
//! and the SDK's files.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{helpers::TestApp, stories};

stories!(
    publishable_key_registers_and_updates_a_session,
    secret_keys_are_refused_with_a_warning_never_to_ship_them,
    malformed_sessions_are_refused_naming_the_field,
    server_side_assess_merges_the_session_signals,
    sessions_of_another_organisation_are_not_merged,
    browser_endpoints_answer_cors_and_others_do_not,
    sdk_script_is_served_with_cache_headers,
);

pub(crate) const SESSION: &str = "ps_1716998400000_a1b2c3d4e";

/// The browser SDK's registration of session `id` (with one field from a
/// newer SDK, which the endpoint must accept).
pub(crate) fn signals(id: &str, mouse: u64, pastes: u64) -> Value {
    json!({
        "session_id": id,
        "device": {
            "fingerprint": "fp_0123456789abcdef0123",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36",
            "language": "es-MX", "languages": ["es-MX", "es"],
            "timezone": "America/Mexico_City", "timezone_offset_min": 360,
            "screen": {"width": 1920, "height": 1080, "avail_width": 1920, "avail_height": 1040,
                       "color_depth": 24, "pixel_ratio": 1.0},
            "webdriver": false, "plugins_count": 5, "automation": [],
            "a_signal_from_a_newer_sdk": true
        },
        "behavior": {
            "session_duration_ms": 900, "mouse_movements": mouse, "clicks": 2,
            "key_presses": 40, "paste_events": pastes,
            "pasted_fields": vec!["card_number"; pastes as usize]
        }
    })
}

async fn register(app: &TestApp, key: &str, body: &Value) -> crate::helpers::Reply {
    app.call(Method::POST, "/api/v1/sessions", Some(key), Some(body)).await
}

async fn publishable_key_registers_and_updates_a_session(app: TestApp) {
    let public = app.creds.keys.publishable.clone();
    let r = register(&app, &public, &signals(SESSION, 3, 0)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["session_id"], SESSION);
    assert_eq!(r.json["fingerprint"], "fp_0123456789abcdef0123");
    assert_eq!(r.json["behavior"]["mouse_movements"], 3);

    let r = register(&app, &public, &signals(SESSION, 57, 1)).await;
    assert_eq!(r.status, 200, "the same id again updates: {}", r.json);

    let r = app.get(app.secret(), &format!("/api/v1/sessions/{SESSION}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["behavior"]["mouse_movements"], 57);
    assert_eq!(r.json["behavior"]["paste_events"], 1);
    assert_eq!(r.json["behavior"]["pasted_fields"], json!(["card_number"]));
    assert_eq!(r.json["device"]["timezone"], "America/Mexico_City");

    let r = app.get(&public, &format!("/api/v1/sessions/{SESSION}")).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (403, "SECRET_KEY_REQUIRED"));
    let r = app.get(app.secret(), "/api/v1/sessions/ps_1716998400000_zzzzzzzzz").await;
    assert_eq!((r.status.as_u16(), r.error_code()), (404, "NOT_FOUND"));
}

async fn secret_keys_are_refused_with_a_warning_never_to_ship_them(app: TestApp) {
    let r = register(&app, app.secret(), &signals(SESSION, 1, 0)).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (403, "FORBIDDEN"));
    let message = r.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("Never ship a secret key to a browser"), "{message}");
    let r = register(&app, &app.creds.keys.ingest, &signals(SESSION, 1, 0)).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (401, "UNAUTHORIZED"));
    let r = app.call(Method::POST, "/api/v1/sessions", None, Some(&signals(SESSION, 1, 0))).await;
    assert_eq!(r.status, 401);
    let r = app.get(app.secret(), &format!("/api/v1/sessions/{SESSION}")).await;
    assert_eq!(r.status, 404, "nothing was stored");
}

async fn malformed_sessions_are_refused_naming_the_field(app: TestApp) {
    let public = app.creds.keys.publishable.clone();
    let mut bad = signals("sess_123", 1, 0);
    let r = register(&app, &public, &bad).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (400, "VALIDATION_ERROR"));
    assert!(r.json.to_string().contains("session_id"), "{}", r.json);
    bad = signals(SESSION, 1, 0);
    bad["device"]["user_agent"] = json!("x".repeat(2000));
    let r = register(&app, &public, &bad).await;
    assert!(r.json.to_string().contains("device.user_agent"), "{}", r.json);
    bad = signals(SESSION, 1, 0);
    bad["behavior"]["mouse_movements"] = json!(-1);
    let r = register(&app, &public, &bad).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (400, "VALIDATION_ERROR"));
}

async fn server_side_assess_merges_the_session_signals(app: TestApp) {
    let public = app.creds.keys.publishable.clone();
    assert_eq!(register(&app, &public, &signals(SESSION, 0, 2)).await.status, 201);
    let r = app.assess(&json!({"amount": 1500, "currency": "MXN", "session_id": SESSION})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["session_id"], SESSION);
    let fired: Vec<&str> =
        r.json["signals"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    for s in ["short_session", "no_mouse_movement", "copy_paste"] {
        assert!(fired.contains(&s), "{s} missing from {fired:?}");
    }
    let id = r.json["transaction_id"].as_str().unwrap();
    let row = app.store.transaction(&app.creds.organization_id, id).await.unwrap().unwrap();
    let stored: Value = serde_json::from_str(&row.request).unwrap();
    assert_eq!(stored["behavior"]["copy_paste_events"], 2, "{stored}");
    assert_eq!(stored["behavior"]["keyboard_events"], 40);
    assert_eq!(stored["device"]["fingerprint"], "fp_0123456789abcdef0123");
    assert_eq!(row.device_fingerprint.as_deref(), Some("fp_0123456789abcdef0123"));

    // What the backend sends wins over the stored session.
    let r = app
        .assess(&json!({"amount": 1500, "currency": "MXN", "session_id": SESSION,
                        "behavior": {"mouse_movements": 80, "copy_paste_events": 0}}))
        .await;
    let fired = r.json["signals"].to_string();
    assert!(!fired.contains("no_mouse_movement") && !fired.contains("copy_paste"), "{fired}");
    assert!(fired.contains("short_session"), "the rest still merged: {fired}");
}

async fn sessions_of_another_organisation_are_not_merged(app: TestApp) {
    let (other, _) = app.other_org().await;
    assert_eq!(register(&app, &other.keys.publishable, &signals(SESSION, 0, 3)).await.status, 201);
    let r = app.assess(&json!({"amount": 1500, "currency": "MXN", "session_id": SESSION})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["signals"], json!([]), "another organisation's session leaked");
    let r = app.get(app.secret(), &format!("/api/v1/sessions/{SESSION}")).await;
    assert_eq!(r.status, 404);
}

async fn browser_endpoints_answer_cors_and_others_do_not(app: TestApp) {
    for path in ["/api/v1/sessions", "/api/v1/assess"] {
        let r = app
            .client
            .request(Method::OPTIONS, app.url(path))
            .header("Origin", "http://shop.example")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{path}");
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], "*");
        assert!(h["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    }
    let public = app.creds.keys.publishable.clone();
    let r = app
        .client
        .post(app.url("/api/v1/assess"))
        .bearer_auth(&public)
        .header("Origin", "http://shop.example")
        .json(&json!({"amount": 1500, "currency": "MXN", "session_id": SESSION}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.headers()["x-clausum-precheck"], "true");
    assert!(r.headers()["access-control-expose-headers"].to_str().unwrap().contains("precheck"));
    // Errors too, so the SDK can tell why.
    let r = register(&app, app.secret(), &signals(SESSION, 1, 0)).await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let r = app.call(Method::OPTIONS, "/api/v1/blocklists", None, None).await;
    assert!(r.header("access-control-allow-origin").is_none(), "management API has no CORS");
}

async fn sdk_script_is_served_with_cache_headers(app: TestApp) {
    let built = clausum_origin::api::browser::sdk_dir().join("clausum.js").exists();
    let r = app.call(Method::GET, "/sdk/clausum.js", None, None).await;
    if !built {
        // scripts/test.sh builds it first; a bare `cargo test` may not have.
        assert_eq!((r.status.as_u16(), r.error_code()), (404, "NOT_FOUND"));
        return;
    }
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/javascript"));
    assert!(r.header("cache-control").unwrap().contains("max-age=300"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(String::from_utf8_lossy(&r.raw).contains("data-clausum-key"));
    let etag = r.header("etag").unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/sdk/clausum.js"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let wasm = app.call(Method::GET, "/sdk/clausum.wasm", None, None).await;
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(&wasm.raw[..4], b"\0asm");
    let r = app.call(Method::GET, "/sdk/../Cargo.toml", None, None).await;
    assert_eq!(r.status, 404);
}
