//! The origin's side of an edge deployment: the endpoints the worker
//! downloads from and records to need the edge token and revalidate by
//! ETag, and what the edge saw of a browser's connection becomes that
//! browser's device context — only next to the token.

use clausum_core::{
    catalog::Segment,
    keys::hash_key,
    wire::edge::{
        EDGE_BOT_SCORE_HEADER, EDGE_CLIENT_IP_HEADER, EDGE_COUNTRY_HEADER, EDGE_TOKEN_HEADER,
    },
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp};

const TOKEN: &str = "edge-test-token-0123456789abcdef0123";
const SESSION: &str = "ps_1716998400000_e1d2g3e4x";
/// The address the edge saw the browser connect from.
const BROWSER_IP: &str = "189.203.4.7";

macro_rules! edge_stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::spawn(crate::helpers::Backend::Sqlite).await).await; }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::spawn(crate::helpers::Backend::Postgres).await).await; }
            )*
        }
    };
}

edge_stories!(
    edge_endpoints_need_the_token_and_revalidate_by_etag,
    records_come_only_from_the_edge_and_only_for_secret_keys,
    what_the_edge_saw_is_the_browsers_device_context_only_next_to_the_token,
);

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_configured(backend, Segment::Comercio, |c| c.edge_token = Some(TOKEN.into()))
        .await
}

/// A GET with the edge token (or another one) and optional `If-None-Match`.
async fn edge_get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    etag: Option<&str>,
) -> reqwest::Response {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.header(EDGE_TOKEN_HEADER, t);
    }
    if let Some(e) = etag {
        req = req.header("if-none-match", e);
    }
    req.send().await.unwrap()
}

async fn edge_endpoints_need_the_token_and_revalidate_by_etag(app: TestApp) {
    let org = app.creds.organization_id.clone();
    let snapshot_path = format!("/api/v1/edge/snapshot/{org}");
    for path in ["/api/v1/edge/keys", snapshot_path.as_str()] {
        for token in [None, Some("edge-test-token-0123456789abcdef0124"), Some("")] {
            let r = Reply::read(edge_get(&app, path, token, None).await).await;
            assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
        }
    }

    // The manifest: hashes of the keys, never the keys.
    let res = edge_get(&app, "/api/v1/edge/keys", Some(TOKEN), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let text = res.text().await.unwrap();
    assert!(!text.contains(app.secret()), "the manifest holds no key text");
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let ours = manifest["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["hash"] == hash_key(app.secret()))
        .unwrap_or_else(|| panic!("the secret key's hash is listed: {manifest}"));
    assert_eq!(
        (ours["organization_id"].as_str(), ours["kind"].as_str()),
        (Some(&*org), Some("secret"))
    );
    let again = edge_get(&app, "/api/v1/edge/keys", Some(TOKEN), Some(&etag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // The snapshot: unchanged → 304; a new `block` entry → new bytes.
    let first = edge_get(&app, &snapshot_path, Some(TOKEN), None).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = first.bytes().await.unwrap();
    let unchanged = edge_get(&app, &snapshot_path, Some(TOKEN), Some(&etag)).await;
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    let admin = app.admin_token().await;
    let email = "edge.blocked@example.com";
    let r = app
        .post(&admin, "/api/v1/blocklists", &json!({"list_type": "email", "value": email}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let changed = edge_get(&app, &snapshot_path, Some(TOKEN), Some(&etag)).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    let changed = changed.bytes().await.unwrap();
    assert!(changed.len() > bytes.len());
    assert!(
        !changed.windows(email.len()).any(|w| w == email.as_bytes()),
        "the snapshot holds keyed digests, never the value"
    );

    let r = Reply::read(edge_get(&app, "/api/v1/edge/snapshot/org_nope", Some(TOKEN), None).await)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn records_come_only_from_the_edge_and_only_for_secret_keys(app: TestApp) {
    let record = |key: &str| {
        json!({
            "key_hash": hash_key(key),
            "flow": "payin",
            "transaction_id": format!("txn_{}", uuid::Uuid::now_v7().simple()),
            "session_id": "ps_1716998400000_r3c0rd3d0",
            "blocked_by": "blocklist:email:bl_x",
            "request": {"amount": 1000, "currency": "MXN", "email": "a@example.com"},
        })
    };
    let send = |token: Option<&'static str>, body: Value| {
        let mut req = app.client.post(app.url("/api/v1/edge/record")).json(&body);
        if let Some(t) = token {
            req = req.header(EDGE_TOKEN_HEADER, t);
        }
        async move { Reply::read(req.send().await.unwrap()).await }
    };
    let r = send(None, record(app.secret())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = send(Some(TOKEN), record(&app.creds.keys.publishable)).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    let r = send(Some(TOKEN), json!({"flow": "payin"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.count_transactions().await, 0, "nothing refused was recorded");

    let body = record(app.secret());
    let r = send(Some(TOKEN), body.clone()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    assert_eq!(
        (&r.json["transaction_id"], &r.json["recorded"]),
        (&body["transaction_id"], &json!(true))
    );
    assert_eq!(app.count_transactions().await, 1);
    // Sent again (an answer lost on the way, or kept by the edge through an
    // outage): already history, recorded once.
    let r = send(Some(TOKEN), body.clone()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    assert_eq!(r.json["recorded"], false);
    assert_eq!(app.count_transactions().await, 1);
}

/// POST `path` with `key`, the edge's headers and, when `token`, the edge token.
async fn through_edge(app: &TestApp, path: &str, key: &str, token: bool, body: &Value) -> Reply {
    let mut req = app
        .client
        .request(Method::POST, app.url(path))
        .bearer_auth(key)
        .header(EDGE_CLIENT_IP_HEADER, BROWSER_IP)
        .header(EDGE_COUNTRY_HEADER, "MX")
        .header(EDGE_BOT_SCORE_HEADER, "12")
        .json(body);
    if token {
        req = req.header(EDGE_TOKEN_HEADER, TOKEN);
    }
    Reply::read(req.send().await.unwrap()).await
}

async fn what_the_edge_saw_is_the_browsers_device_context_only_next_to_the_token(app: TestApp) {
    let publishable = app.creds.keys.publishable.clone();
    let signals = |id: &str| {
        json!({
            "session_id": id,
            "device": {"fingerprint": "fp_0123456789abcdef0123", "user_agent": "Mozilla/5.0"},
            "behavior": {"session_duration_ms": 30000, "mouse_movements": 50},
            // A browser cannot claim a connection: the origin replaces it.
            "connection": {"client_ip": "203.0.113.9", "country": "US"},
        })
    };
    // Through the edge, the session records the connection the edge saw.
    let r = through_edge(&app, "/api/v1/sessions", &publishable, true, &signals(SESSION)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = app.get(app.secret(), &format!("/api/v1/sessions/{SESSION}")).await;
    assert_eq!(r.json["connection"]["client_ip"], BROWSER_IP, "{}", r.json);
    assert_eq!(r.json["connection"]["country"], "MX");
    assert_eq!(r.json["connection"]["bot_score"], 12);
    // The same headers without the token are anyone's words: ignored.
    let spoofed = "ps_1716998400000_n0t0k3n00";
    let r = through_edge(&app, "/api/v1/sessions", &publishable, false, &signals(spoofed)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = app.get(app.secret(), &format!("/api/v1/sessions/{spoofed}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert!(r.json["connection"].is_null(), "{}", r.json);

    // The backend's assess names the session and sends no IP: the payer's
    // address is the one the edge saw, and a blocklisted one declines.
    let admin = app.admin_token().await;
    let r = app
        .post(
            &admin,
            "/api/v1/blocklists",
            &json!({"list_type": "ip_address", "value": BROWSER_IP}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let body = json!({"amount": 1500, "currency": "MXN", "session_id": SESSION});
    let r = app.assess(&body).await;
    assert_eq!(r.json["decision"], "decline", "{}", r.json);
    assert!(r.json["blocked_by"].as_str().unwrap().starts_with("blocklist:ip_address:"));
    let id = r.json["transaction_id"].as_str().unwrap();
    let t = app.get(&admin, &format!("/api/v1/transactions/{id}")).await;
    assert_eq!(t.json["ip"], BROWSER_IP, "{}", t.json);
    let r = app.assess(&json!({"amount": 1500, "currency": "MXN", "session_id": spoofed})).await;
    assert_eq!(r.json["decision"], "approve", "{}", r.json);

    // A browser's pre-check through the edge: the same.
    let precheck = json!({"amount": 1500, "currency": "MXN"});
    let r = through_edge(&app, "/api/v1/assess", &publishable, true, &precheck).await;
    assert_eq!(r.json["decision"], "decline", "{}", r.json);
    let r = through_edge(&app, "/api/v1/assess", &publishable, false, &precheck).await;
    assert_eq!(r.json["decision"], "approve", "{}", r.json);
    // A backend's call through the edge shows the backend's connection,
    // which says nothing of the payer: not used.
    let r = through_edge(&app, "/api/v1/assess", app.secret(), true, &precheck).await;
    assert_eq!(r.json["decision"], "approve", "{}", r.json);
}
