//! Outbound webhooks against a real HTTP receiver on loopback: signed
//! deliveries of assess, report and case events; at-least-once delivery
//! through receiver outages and worker crashes; SSRF refusals.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use clausum_core::{catalog::Segment, webhook};
use poem::{
    EndpointExt, Request, Response, Route, handler,
    http::StatusCode as PoemStatus,
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::Data,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub delivery: String,
    pub event: String,
    pub signature: String,
    /// `X-Clausum-Request-Id`: the API request that caused the event.
    pub request_id: String,
    pub body: bytes::Bytes,
    pub answered: u16,
    pub at: std::time::Instant,
}

/// A webhook receiver on loopback that fails the first `fail_first`
/// attempts of every delivery (or everything while `down`).
#[derive(Default)]
pub struct Receiver {
    pub got: Mutex<Vec<Received>>,
    pub fail_first: AtomicUsize,
    pub down: std::sync::atomic::AtomicBool,
    /// When non-zero, every request is answered with this status (and a
    /// `Location` for 3xx, a `Retry-After: 2` for 503).
    pub answer: std::sync::atomic::AtomicU16,
    attempts: Mutex<HashMap<String, usize>>,
    /// Requests that reached the redirect target (must stay 0).
    pub redirects_followed: AtomicUsize,
    /// Milliseconds to wait before answering (a slow receiver).
    pub delay_ms: std::sync::atomic::AtomicU64,
    /// Requests that arrived, answered or not yet.
    pub arrived: AtomicUsize,
}

impl Receiver {
    pub async fn start() -> (Arc<Receiver>, String) {
        #[handler]
        async fn hook(req: &Request, body: bytes::Bytes, r: Data<&Arc<Receiver>>) -> Response {
            let h = |n: &str| {
                req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
            };
            let delivery = h("x-clausum-delivery");
            r.arrived.fetch_add(1, Ordering::SeqCst);
            let delay = r.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let n = {
                let mut a = r.attempts.lock().unwrap();
                let n = a.entry(delivery.clone()).or_default();
                *n += 1;
                *n
            };
            let fail = r.down.load(Ordering::SeqCst) || n <= r.fail_first.load(Ordering::SeqCst);
            let forced = r.answer.load(Ordering::SeqCst);
            let answered = if forced != 0 {
                forced
            } else if fail {
                500
            } else {
                200
            };
            r.got.lock().unwrap().push(Received {
                delivery,
                event: h("x-clausum-event"),
                signature: h("x-clausum-signature"),
                request_id: h("x-clausum-request-id"),
                body,
                answered,
                at: std::time::Instant::now(),
            });
            let mut resp = Response::builder().status(PoemStatus::from_u16(answered).unwrap());
            if (300..400).contains(&answered) {
                resp = resp.header("location", "/redirected");
            }
            if answered == 503 {
                resp = resp.header("retry-after", "2");
            }
            resp.body("ok")
        }
        #[handler]
        fn redirected(r: Data<&Arc<Receiver>>) -> &'static str {
            r.redirects_followed.fetch_add(1, Ordering::SeqCst);
            "followed"
        }
        let r = Arc::new(Receiver::default());
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        let app = Route::new()
            .at("/hook", post(hook))
            .at("/redirected", poem::get(redirected).post(redirected))
            .data(r.clone());
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
        (r, format!("http://127.0.0.1:{}/hook", addr.port()))
    }

    /// Deliveries answered 2xx, by delivery id.
    pub fn delivered(&self) -> HashMap<String, Received> {
        let got = self.got.lock().unwrap();
        got.iter().filter(|r| r.answered == 200).map(|r| (r.delivery.clone(), r.clone())).collect()
    }

    /// Waits until `n` distinct deliveries succeeded (or panics after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) -> HashMap<String, Received> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let d = self.delivered();
            if d.len() >= n {
                return d;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of {n} deliveries arrived",
                d.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A server that may call loopback receivers, with a fast retry schedule
/// and short leases.
pub async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_configured(backend, Segment::Comercio, |c| {
        c.webhooks_allow_http_loopback = true;
        c.webhook_retry_scale = 0.0002;
        c.webhook_lease_ms = 1_500;
        c.webhook_resolve = "hooks.internal.example=10.1.2.3,hooks.public.example=127.0.0.1".into();
    })
    .await
}

/// Registers `url` for `events`; returns (endpoint id, secret).
pub async fn register(app: &TestApp, admin: &str, url: &str, events: Value) -> (String, String) {
    let r =
        app.post(admin, "/api/v1/webhooks/endpoints", &json!({"url": url, "events": events})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    (
        r.json["endpoint"]["id"].as_str().unwrap().to_owned(),
        r.json["secret"].as_str().unwrap().to_owned(),
    )
}

pub fn verified(r: &Received, secret: &str) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
        as i64;
    webhook::verify(&r.body, &r.signature, secret.as_bytes(), now, webhook::DEFAULT_TOLERANCE_S)
        .unwrap_or_else(|e| panic!("delivery {} does not verify: {e}", r.delivery));
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["event"], r.event.as_str(), "X-Clausum-Event matches the body");
    assert!(body["timestamp"].is_string() && body["data"].is_object(), "{body}");
    body
}

macro_rules! webhook_stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::spawn(crate::helpers::Backend::Sqlite).await).await; }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::spawn(crate::helpers::Backend::Postgres).await).await; }
        )* }
    };
}

webhook_stories!(
    decisions_reports_and_cases_reach_a_signed_endpoint,
    an_outage_and_a_worker_crash_lose_nothing,
    a_stopping_worker_finishes_its_sends_and_hands_back_its_claims,
    ten_thousand_events_survive_a_failing_receiver,
    dangerous_destinations_are_refused,
    rotation_signs_with_both_secrets,
);

async fn decisions_reports_and_cases_reach_a_signed_endpoint(app: TestApp) {
    let admin = app.admin_token().await;
    let (rx, url) = Receiver::start().await;
    let (_, secret) = register(&app, &admin, &url, json!([])).await;
    // The caller's request id travels with the events its request caused.
    let req = app
        .client
        .post(app.url("/api/v1/assess"))
        .bearer_auth(app.secret())
        .header("X-Request-Id", "req-checkout-42")
        .json(&json!({"amount": 1500, "currency": "MXN", "email": "hook@example.com"}));
    let a = crate::helpers::Reply::read(req.send().await.unwrap()).await;
    assert_eq!(a.json["decision"], "approve");
    assert_eq!(a.headers["x-request-id"], "req-checkout-42");
    let txn = a.json["transaction_id"].as_str().unwrap();
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/report-fraud",
            Some(app.secret()),
            Some(&json!({"transaction_id": txn, "reason": "chargeback"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let report_request = r.headers["x-request-id"].to_str().unwrap().to_owned();
    let case_id = r.json["data"]["case"]["id"].as_str().unwrap().to_owned();
    let blocked =
        app.assess(&json!({"amount": 100, "currency": "MXN", "email": "hook@example.com"})).await;
    assert_eq!(blocked.json["decision"], "decline");
    let p = app
        .patch(&admin, &format!("/api/v1/cases/{case_id}"), &json!({"status": "en_revision"}))
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.json);

    let got = rx.wait_for(5, 20).await;
    let mut by_event: HashMap<String, Value> = HashMap::new();
    for r in got.values() {
        by_event.insert(r.event.clone(), verified(r, &secret));
    }
    let mut events: Vec<&str> = by_event.keys().map(String::as_str).collect();
    events.sort();
    assert_eq!(
        events,
        [
            "case.created",
            "case.updated",
            "fraud.detected",
            "transaction.blocked",
            "transaction.created"
        ]
    );
    assert_eq!(by_event["transaction.created"]["data"]["transaction_id"], txn);
    assert_eq!(by_event["transaction.blocked"]["data"]["decision"], "decline");
    assert_eq!(by_event["fraud.detected"]["data"]["transaction"]["id"], txn);
    assert_eq!(by_event["case.updated"]["data"]["status"], "en_revision");
    // Each delivery names the request that caused its event; one the server
    // named itself (no header sent) carries the id it answered with.
    let request_of = |event: &str| {
        got.values().find(|r| r.event == event).map(|r| r.request_id.clone()).unwrap()
    };
    assert_eq!(request_of("transaction.created"), "req-checkout-42");
    assert_eq!(request_of("fraud.detected"), report_request);
    assert_eq!(request_of("case.created"), report_request);
    assert!(request_of("case.updated").starts_with("req_"), "{}", request_of("case.updated"));
    assert_ne!(request_of("case.updated"), report_request);
    // A wrong secret does not verify.
    let any = got.values().next().unwrap();
    assert!(webhook::verify(&any.body, &any.signature, b"whsec_wrong", 0, i64::MAX).is_err());
    // The delivery log shows them.
    let endpoints = app.get(&admin, "/api/v1/webhooks/endpoints").await;
    let id = endpoints.json[0]["id"].as_str().unwrap();
    let log = app.get(&admin, &format!("/api/v1/webhooks/endpoints/{id}/deliveries")).await;
    assert_eq!(log.json["pagination"]["total"], 5, "{}", log.json);
    let first = &log.json["data"][0];
    assert_eq!(first["status"], "succeeded");
    let detail = app
        .get(&admin, &format!("/api/v1/webhooks/deliveries/{}", first["id"].as_str().unwrap()))
        .await;
    assert_eq!(detail.json["attempts"][0]["status_code"], 200, "{}", detail.json);
    assert_eq!(detail.json["attempts"][0]["response_excerpt"], "ok");
}

async fn an_outage_and_a_worker_crash_lose_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let (rx, url) = Receiver::start().await;
    register(&app, &admin, &url, json!(["transaction.created"])).await;
    rx.down.store(true, Ordering::SeqCst);
    for i in 0..40 {
        let r = app.assess(&json!({"amount": 100 + i, "currency": "MXN"})).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // Let a few failures happen, then crash the worker mid-run.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.state.stop_webhook_worker();
    rx.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before_restart = rx.delivered().len();
    assert!(before_restart < 40, "the worker was stopped before finishing");
    app.state.start_webhook_worker(app.config.webhook_worker_config());
    let got = rx.wait_for(40, 30).await;
    assert_eq!(got.len(), 40, "every event, once per delivery id");
    // Duplicates, if any, carry a delivery id already seen.
    let all = rx.got.lock().unwrap().clone();
    let ids: HashSet<&str> = all.iter().map(|r| r.delivery.as_str()).collect();
    assert_eq!(ids.len(), 40);
    // The log catches up with the last answers.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let counts = app.store.delivery_counts(&app.creds.organization_id).await.unwrap();
        if counts == (0, 40, 0) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "(pending, succeeded, failed) = {counts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_stopping_worker_finishes_its_sends_and_hands_back_its_claims(app: TestApp) {
    let admin = app.admin_token().await;
    let (rx, url) = Receiver::start().await;
    let (endpoint, _) = register(&app, &admin, &url, json!(["transaction.created"])).await;
    // Leases long enough that only a release, not their expiry, frees a claim.
    let config = clausum_origin::webhooks::WorkerConfig {
        lease_ms: 60_000,
        ..app.config.webhook_worker_config()
    };
    // All 40 events wait in the outbox, so the worker's first claim takes a
    // full batch (32) while it sends at most 16 at a time.
    app.state.stop_webhook_worker();
    for i in 0..40 {
        let r = app.assess(&json!({"amount": 100 + i, "currency": "MXN"})).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    rx.delay_ms.store(700, Ordering::SeqCst);
    app.state.start_webhook_worker(config.clone());
    // Sends are under way: a replica is told to stop (a rolling restart).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rx.arrived.load(Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "no send started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(app.state.drain_webhook_worker(Duration::from_secs(10)).await, "drained in time");

    // Every send it started was answered and recorded; none was cut.
    let sent = rx.arrived.load(Ordering::SeqCst);
    assert_eq!(rx.got.lock().unwrap().len(), sent, "a send was cut");
    assert!(sent <= 16, "it stopped midway ({sent} sent, at most 16 at a time)");
    let log = app.store.deliveries(&app.creds.organization_id, &endpoint, 100, 0).await.unwrap();
    let succeeded = log.rows.iter().filter(|d| d.status == "succeeded").count();
    assert_eq!(succeeded, sent, "each answered send is recorded");
    // What it claimed but did not send is free again, long before the lease ends.
    let pending: Vec<_> = log.rows.iter().filter(|d| d.status == "pending").collect();
    assert_eq!(pending.len(), 40 - sent);
    assert!(pending.iter().all(|d| d.claimed_until.is_none()), "claims kept: {pending:?}");

    // The next worker (another replica, or this one restarted) sends the rest
    // at once, each exactly once.
    rx.delay_ms.store(0, Ordering::SeqCst);
    app.state.start_webhook_worker(config);
    let got = rx.wait_for(40, 20).await;
    assert_eq!(got.len(), 40);
    // Long enough for a second send of any of them to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.got.lock().unwrap().len(), 40, "no delivery was sent twice");
}

async fn ten_thousand_events_survive_a_failing_receiver(app: TestApp) {
    let admin = app.admin_token().await;
    let (rx, url) = Receiver::start().await;
    register(&app, &admin, &url, json!(["transaction.created"])).await;
    rx.fail_first.store(2, Ordering::SeqCst);
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for w in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..1_250 {
                let r =
                    app.assess(&json!({"amount": 100 + w * 10_000 + i, "currency": "MXN"})).await;
                assert_eq!(r.status, StatusCode::OK);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let got = rx.wait_for(10_000, 240).await;
    assert_eq!(got.len(), 10_000);
    let all = rx.got.lock().unwrap();
    let ids: HashSet<&str> = all.iter().map(|r| r.delivery.as_str()).collect();
    assert_eq!(ids.len(), 10_000, "no delivery id outside the 10,000");
    assert!(all.len() >= 30_000, "each delivery failed twice first: {}", all.len());
}

async fn dangerous_destinations_are_refused(app: TestApp) {
    let admin = app.admin_token().await;
    // Without the loopback allowance for development, loopback itself is refused.
    let strict = TestApp::spawn(app.backend).await;
    let strict_admin = strict.admin_token().await;
    for url in [
        "https://127.0.0.1/hook",
        "http://127.0.0.1:9/hook",
        "https://[::1]/hook",
        "https://localhost/hook",
    ] {
        let r =
            strict.post(&strict_admin, "/api/v1/webhooks/endpoints", &json!({"url": url})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.json);
    }
    drop(strict);
    for url in [
        "https://10.0.0.7/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://100.64.0.1/hook",
        "https://hooks.internal.example/hook",
        "https://0x7f000001/hook",
        "ftp://example.com/hook",
        "https://user:pw@example.com/hook",
    ] {
        let r = app.post(&admin, "/api/v1/webhooks/endpoints", &json!({"url": url})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.json);
        assert_eq!(r.json["error"]["details"]["field"], "url");
    }
    // A name that resolves to loopback is refused on https too (only the
    // loopback-development allowance admits it, and only for http://localhost-like hosts).
    let r = app
        .post(
            &admin,
            "/api/v1/webhooks/endpoints",
            &json!({"url": "https://hooks.public.example/x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);

    // Checked again at send time: an endpoint stored with a private address
    // (as if its DNS changed after registration) is never called.
    let (_, url) = Receiver::start().await;
    let (id, _) = register(&app, &admin, &url, json!(["transaction.created"])).await;
    let mut row = app.store.endpoint(&id).await.unwrap().unwrap();
    row.url = "https://10.1.2.3/hook".into();
    let audit = clausum_origin::store::AuditRow {
        id: "aud_test_ssrf".into(),
        organization_id: row.organization_id.clone(),
        actor: "test".into(),
        action: "test".into(),
        resource_type: "webhook_endpoint".into(),
        resource_id: Some(id.clone()),
        before_state: None,
        after_state: None,
        created_at: 0,
    };
    assert!(app.store.update_endpoint(&row, &audit).await.unwrap());
    app.assess(&json!({"amount": 100, "currency": "MXN"})).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log = app.get(&admin, &format!("/api/v1/webhooks/endpoints/{id}/deliveries")).await;
        if let Some(d) = log.json["data"]
            .as_array()
            .and_then(|a| a.first())
            .filter(|d| d["attempts"].as_i64() > Some(0))
        {
            assert!(d["last_error"].as_str().unwrap().starts_with("refused destination"), "{d}");
            assert_eq!(d["last_status"], Value::Null);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no attempt recorded: {}", log.json);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn rotation_signs_with_both_secrets(app: TestApp) {
    let admin = app.admin_token().await;
    let (rx, url) = Receiver::start().await;
    let (id, old) = register(&app, &admin, &url, json!(["transaction.created"])).await;
    let r = app
        .post(
            &admin,
            &format!("/api/v1/webhooks/endpoints/{id}/rotate-secret?overlap_hours=1"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let new = r.json["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    app.assess(&json!({"amount": 100, "currency": "MXN"})).await;
    let got = rx.wait_for(1, 20).await;
    let d = got.values().next().unwrap();
    assert_eq!(d.signature.matches("v1=").count(), 2, "{}", d.signature);
    verified(d, &new);
    verified(d, &old);
    // Without overlap the old secret stops signing at once.
    app.post(
        &admin,
        &format!("/api/v1/webhooks/endpoints/{id}/rotate-secret?overlap_hours=0"),
        &json!({}),
    )
    .await;
    let viewer = app.member_token("viewer").await;
    let r = app.get(&viewer, "/api/v1/webhooks/endpoints").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "viewers do not see integrations");
}
