//! Dashboard sign-in, tokens (own and an external identity provider's),
//! roles and invitations.

use std::sync::Arc;

use clausum_core::catalog::Segment;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp},
    stories,
};

stories!(
    login_issues_a_token_and_refuses_wrong_credentials,
    forged_expired_and_confused_tokens_are_refused,
    invites_create_members_with_their_role,
    roles_limit_what_members_may_do,
    admins_keep_the_organisation_administered,
);

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn login_issues_a_token_and_refuses_wrong_credentials(app: TestApp) {
    let app = &app;
    let token = app.admin_token().await;
    let me = app.get(&token, "/api/v1/auth/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.json);
    assert_eq!(me.json["email"], app.creds.admin_email.as_str());
    assert_eq!(me.json["role"], "admin");
    assert_eq!(me.json["organization_id"], app.creds.organization_id.as_str());
    assert!(me.json.get("password_hash").is_none());

    let login = |email: String, password: &str| {
        let body = json!({"email": email, "password": password});
        async move { app.call(reqwest::Method::POST, "/api/v1/auth/login", None, Some(&body)).await }
    };
    let wrong = login(app.creds.admin_email.clone(), "not the password").await;
    assert_eq!((wrong.status, wrong.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    let unknown = login("nobody@example.com".into(), "whatever").await;
    assert_eq!(
        unknown.json["error"]["message"], wrong.json["error"]["message"],
        "no user enumeration"
    );
    // The same address is throttled after 10 attempts a minute.
    let mut last = None;
    for _ in 0..10 {
        last = Some(login("victim@example.com".into(), "guess").await.status);
    }
    assert_eq!(last, Some(StatusCode::UNAUTHORIZED));
    let r = login("victim@example.com".into(), "guess").await;
    assert_eq!((r.status, r.error_code()), (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"));
    assert!(r.header("x-ratelimit-reset").is_some());

    // One address gets 60 attempts a minute, however many connections it
    // opens (each from a new port) and whichever emails it tries.
    let fresh = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let mut statuses = Vec::new();
    for i in 0..61 {
        let r = fresh
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": format!("spray{i}@example.com"), "password": "guess"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    // 11 attempts above came from this address too.
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));

    // Management routes without, or with a garbage, token.
    let r = app.call(reqwest::Method::GET, "/api/v1/blocklists", None, None).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    let r = app.get("not.a.jwt", "/api/v1/blocklists").await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
    // A Partner API key is not a dashboard token.
    let r = app.get(app.secret(), "/api/v1/blocklists").await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"));
}

async fn forged_expired_and_confused_tokens_are_refused(app: TestApp) {
    let secret = app.store.setting("jwt_secret").await.unwrap().expect("generated on start");
    let user = app.store.user_by_email(&app.creds.admin_email).await.unwrap().unwrap();
    let sign = |claims: Value, key: &[u8], kid: Option<&str>| {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = kid.map(str::to_owned);
        encode(&h, &claims, &EncodingKey::from_secret(key)).unwrap()
    };
    let claims = |iss: &str, aud: &str, nbf: i64, exp: i64| {
        json!({"sub": user.id, "org": user.organization_id, "iss": iss, "aud": aud,
               "iat": now(), "nbf": nbf, "exp": exp, "jti": "t"})
    };
    let good = sign(
        claims("clausum", "clausum-dashboard", now(), now() + 60),
        secret.as_bytes(),
        Some("clausum"),
    );
    assert_eq!(app.get(&good, "/api/v1/auth/me").await.status, StatusCode::OK);
    let refused = [
        (
            "expired",
            sign(
                claims("clausum", "clausum-dashboard", now() - 600, now() - 300),
                secret.as_bytes(),
                Some("clausum"),
            ),
        ),
        (
            "not yet valid",
            sign(
                claims("clausum", "clausum-dashboard", now() + 600, now() + 900),
                secret.as_bytes(),
                Some("clausum"),
            ),
        ),
        (
            "wrong issuer",
            sign(
                claims("evil", "clausum-dashboard", now(), now() + 60),
                secret.as_bytes(),
                Some("clausum"),
            ),
        ),
        (
            "wrong audience",
            sign(
                claims("clausum", "other-app", now(), now() + 60),
                secret.as_bytes(),
                Some("clausum"),
            ),
        ),
        (
            "wrong secret",
            sign(
                claims("clausum", "clausum-dashboard", now(), now() + 60),
                b"an attacker's guess of a secret!",
                Some("clausum"),
            ),
        ),
        (
            "unknown kid, no provider",
            sign(
                claims("clausum", "clausum-dashboard", now(), now() + 60),
                secret.as_bytes(),
                Some("k1"),
            ),
        ),
        (
            "no exp",
            sign(
                json!({"sub": user.id, "iss": "clausum", "aud": "clausum-dashboard", "nbf": now()}),
                secret.as_bytes(),
                Some("clausum"),
            ),
        ),
    ];
    for (what, token) in refused {
        let r = app.get(&token, "/api/v1/auth/me").await;
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            "{what}: {}",
            r.json
        );
    }
    // alg: none with otherwise perfect claims.
    let body = good.split('.').nth(1).unwrap();
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoiY2xhdXN1bSJ9.{body}.");
    assert_eq!(app.get(&none, "/api/v1/auth/me").await.status, StatusCode::UNAUTHORIZED);
    // A removed user's valid token stops working at once.
    let viewer = app.member_token("viewer").await;
    let admin = app.admin_token().await;
    let me = app.get(&viewer, "/api/v1/auth/me").await;
    let id = me.json["id"].as_str().unwrap();
    let r =
        app.patch(&admin, &format!("/api/v1/team/members/{id}"), &json!({"disabled": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(app.get(&viewer, "/api/v1/auth/me").await.status, StatusCode::UNAUTHORIZED);
}

async fn invites_create_members_with_their_role(app: TestApp) {
    let app = &app;
    let admin = app.admin_token().await;
    let r = app
        .post(
            &admin,
            "/api/v1/team/invites",
            &json!({"email": "Ana@Example.com", "role": "analyst"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["invite"]["email"], "ana@example.com");
    assert_eq!(r.json["invite"]["status"], "pending");
    let token = r.json["token"].as_str().unwrap().to_owned();
    let accept = move |body: Value| async move {
        app.call(reqwest::Method::POST, "/api/v1/auth/accept-invite", None, Some(&body)).await
    };
    let short = accept(json!({"token": token, "password": "short"})).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let ok =
        accept(json!({"token": token, "password": "a long enough password", "name": "Ana"})).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.json);
    assert_eq!(ok.json["user"]["role"], "analyst");
    let again = accept(json!({"token": token, "password": "a long enough password"})).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "an invitation works once");
    let forged = accept(json!({"token": "inv_0000", "password": "a long enough password"})).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let ana = app.login("ana@example.com", "a long enough password").await;
    assert_eq!(app.get(&ana, "/api/v1/auth/me").await.json["name"], "Ana");
    let members = app.get(&admin, "/api/v1/team/members").await;
    assert_eq!(members.json.as_array().unwrap().len(), 2);
    let invites = app.get(&admin, "/api/v1/team/invites").await;
    assert_eq!(invites.json[0]["status"], "accepted");
    // Only admins invite; an existing user cannot be invited again.
    let r = app
        .post(&ana, "/api/v1/team/invites", &json!({"email": "x@example.com", "role": "viewer"}))
        .await;
    assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    let r = app
        .post(
            &admin,
            "/api/v1/team/invites",
            &json!({"email": "ana@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (StatusCode::CONFLICT, "DUPLICATE"));
    let r = app
        .post(&admin, "/api/v1/team/invites", &json!({"email": "x@example.com", "role": "owner"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

async fn roles_limit_what_members_may_do(app: TestApp) {
    let entry = json!({"list_type": "email", "value": "r@example.com"});
    let viewer = app.member_token("viewer").await;
    let analyst = app.member_token("analyst").await;
    let compliance = app.member_token("compliance_officer").await;
    let admin = app.admin_token().await;
    assert_eq!(app.get(&viewer, "/api/v1/blocklists").await.status, StatusCode::OK);
    let r = app.post(&viewer, "/api/v1/blocklists", &entry).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    let r = app.post(&compliance, "/api/v1/blocklists", &entry).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let id = r.json["id"].as_str().unwrap();
    for who in [&viewer, &analyst, &compliance] {
        let r = app.delete(who, &format!("/api/v1/blocklists?id={id}")).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    }
    let r = app.delete(&admin, &format!("/api/v1/blocklists?id={id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = app.get(&viewer, "/api/v1/team/members").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .patch(
            &analyst,
            &format!("/api/v1/team/members/{}", r.json[0]["id"].as_str().unwrap()),
            &json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn admins_keep_the_organisation_administered(app: TestApp) {
    let admin = app.admin_token().await;
    let me = app.get(&admin, "/api/v1/auth/me").await;
    let id = me.json["id"].as_str().unwrap();
    for patch in [json!({"role": "viewer"}), json!({"disabled": true})] {
        let r = app.patch(&admin, &format!("/api/v1/team/members/{id}"), &patch).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    }
    // Another organisation's member is invisible.
    let (_, other_admin) = app.other_org().await;
    let r = app
        .patch(&other_admin, &format!("/api/v1/team/members/{id}"), &json!({"role": "viewer"}))
        .await;
    assert_eq!((r.status, r.error_code()), (StatusCode::NOT_FOUND, "NOT_FOUND"));
}

// ---- external identity provider -------------------------------------------------

include!("rsa_test_key.rs");

/// Serves `keys` as a JWKS on loopback; returns its URL.
async fn jwks_server(keys: Value) -> String {
    use poem::{
        EndpointExt, Route, get, handler,
        listener::{Acceptor, Listener, TcpListener},
        web::{Data, Json},
    };
    #[handler]
    fn jwks(keys: Data<&Arc<Value>>) -> Json<Value> {
        Json(keys.0.as_ref().clone())
    }
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let app = Route::new().at("/jwks.json", get(jwks)).data(Arc::new(keys));
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    format!("http://{addr}/jwks.json")
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_der(&hex::decode(TEST_RSA_DER_HEX).unwrap())
}

fn idp_token(kid: &str, sub: &str, email: &str, aud: &str) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid.into());
    let claims = json!({"sub": sub, "email": email, "iss": "https://idp.example.com/auth/v1", "aud": aud,
                        "iat": now(), "nbf": now(), "exp": now() + 300});
    encode(&h, &claims, &rsa_key()).unwrap()
}

async fn spawn_with_idp(backend: Backend) -> TestApp {
    let url = jwks_server(json!({"keys": [
        {"kty": "RSA", "kid": "idp-1", "alg": "RS256", "use": "sig", "n": TEST_RSA_N, "e": TEST_RSA_E}
    ]}))
    .await;
    TestApp::spawn_configured(backend, Segment::Comercio, |c| {
        c.idp_issuer = Some("https://idp.example.com/auth/v1".into());
        c.idp_audience = "authenticated".into();
        c.idp_jwks_url = Some(url);
    })
    .await
}

async fn external_provider_tokens(app: TestApp) {
    let email = app.creds.admin_email.clone();
    let token = idp_token("idp-1", "7f0c-user", &email, "authenticated");
    let me = app.get(&token, "/api/v1/auth/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.json);
    assert_eq!(me.json["email"], email.as_str());
    // Linked by subject now: a token without email still works.
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("idp-1".into());
    let no_email = encode(&h, &json!({"sub": "7f0c-user", "iss": "https://idp.example.com/auth/v1", "aud": "authenticated",
        "nbf": now(), "exp": now() + 300}), &rsa_key()).unwrap();
    assert_eq!(app.get(&no_email, "/api/v1/auth/me").await.status, StatusCode::OK);

    let refused = [
        ("unknown kid", idp_token("idp-2", "7f0c-user", &email, "authenticated")),
        ("wrong audience", idp_token("idp-1", "7f0c-user", &email, "anon")),
        (
            "valid token, no Clausum user",
            idp_token("idp-1", "stranger", "stranger@example.com", "authenticated"),
        ),
    ];
    for (what, t) in refused {
        let r = app.get(&t, "/api/v1/auth/me").await;
        assert_eq!(
            (r.status, r.error_code()),
            (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            "{what}: {}",
            r.json
        );
    }
    // Algorithm confusion: HS256 "signed" with the provider's public key material.
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("idp-1".into());
    let confused = encode(&h, &json!({"sub": "7f0c-user", "iss": "https://idp.example.com/auth/v1", "aud": "authenticated",
        "nbf": now(), "exp": now() + 300}), &EncodingKey::from_secret(TEST_RSA_N.as_bytes())).unwrap();
    let r = app.get(&confused, "/api/v1/auth/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_provider_tokens_sqlite() {
    external_provider_tokens(spawn_with_idp(Backend::Sqlite).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_provider_tokens_postgres() {
    external_provider_tokens(spawn_with_idp(Backend::Postgres).await).await;
}

/// A provider that signs with a shared HS256 secret (Supabase's legacy mode).
async fn external_hs256_provider(backend: Backend) {
    let app = TestApp::spawn_configured(backend, Segment::Comercio, |c| {
        c.idp_issuer = Some("https://project.supabase.co/auth/v1".into());
        c.idp_hs256_secret = Some("the project's JWT secret, 32+ bytes".into());
    })
    .await;
    let email = app.creds.admin_email.clone();
    let sign = |secret: &[u8], aud: &str| {
        let claims = json!({"sub": "supa-1", "email": email, "iss": "https://project.supabase.co/auth/v1",
                            "aud": aud, "nbf": now(), "exp": now() + 300});
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).unwrap()
    };
    let good = sign(b"the project's JWT secret, 32+ bytes", "authenticated");
    assert_eq!(app.get(&good, "/api/v1/auth/me").await.status, StatusCode::OK);
    let forged = sign(b"a different secret, 32+ bytes long", "authenticated");
    assert_eq!(app.get(&forged, "/api/v1/auth/me").await.status, StatusCode::UNAUTHORIZED);
    let wrong_aud = sign(b"the project's JWT secret, 32+ bytes", "service_role");
    assert_eq!(app.get(&wrong_aud, "/api/v1/auth/me").await.status, StatusCode::UNAUTHORIZED);
    // The provider's secret cannot mint the origin's own tokens.
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("clausum".into());
    let user = app.store.user_by_email(&email).await.unwrap().unwrap();
    let own = encode(
        &h,
        &json!({"sub": user.id, "iss": "clausum", "aud": "clausum-dashboard",
                                 "nbf": now(), "exp": now() + 300}),
        &EncodingKey::from_secret(b"the project's JWT secret, 32+ bytes"),
    )
    .unwrap();
    assert_eq!(app.get(&own, "/api/v1/auth/me").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_hs256_provider_sqlite() {
    external_hs256_provider(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_hs256_provider_postgres() {
    external_hs256_provider(Backend::Postgres).await;
}

/// An identity provider whose JWKS never answers costs one request the
/// fetch's 5 s timeout; the next ones are refused at once, not each after
/// a fetch of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_identity_provider_is_not_asked_on_every_request() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let app = TestApp::spawn_configured(Backend::Sqlite, Segment::Comercio, |c| {
        c.idp_issuer = Some("https://idp.example.com/auth/v1".into());
        c.idp_audience = "authenticated".into();
        c.idp_jwks_url = Some(url);
    })
    .await;
    let token = idp_token("idp-1", "7f0c-user", &app.creds.admin_email, "authenticated");
    let started = std::time::Instant::now();
    let r = app.get(&token, "/api/v1/auth/me").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.json);
    assert!(
        r.json["error"]["message"].as_str().unwrap().contains("identity provider"),
        "{}",
        r.json
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(4),
        "the first waited for the fetch"
    );
    let started = std::time::Instant::now();
    for _ in 0..3 {
        let r = app.get(&token, "/api/v1/auth/me").await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.json);
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
}
