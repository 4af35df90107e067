//! Email alerts against a real SMTP listener on loopback: the parties a
//! fraud report flags get one email per configured recipient, without the
//! payer's address or card data; a server answering 451 gets the email on a
//! retry; without SMTP the alerts are recorded and listed; a worker told to
//! stop finishes its sends and hands back its other claims; settings are
//! validated, admin-only and per organisation.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use clausum_core::catalog::Segment;
use clausum_origin::notify::{Mailer, worker::WorkerConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

use crate::helpers::{Backend, TestApp};

/// A message the listener accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// A small SMTP server: greeting, EHLO/HELO, MAIL FROM, RCPT TO, DATA, ".",
/// RSET, NOOP, QUIT. It answers `451` to the first `fail_first` MAIL FROM
/// commands it gets, and `550` to RCPT TO any `nobody@` address.
#[derive(Default)]
pub struct SmtpListener {
    pub mails: Mutex<Vec<Mail>>,
    pub fail_first: AtomicUsize,
    /// MAIL FROM commands received (refused ones included).
    pub transactions: AtomicUsize,
    /// Milliseconds to wait before accepting a message once its data is in
    /// (a slow server); 0 accepts at once.
    pub delay_ms: AtomicU64,
    /// Messages whose data arrived, accepted or not yet.
    pub arrived: AtomicUsize,
}

impl SmtpListener {
    /// Listens on `127.0.0.1:0`; returns the listener and its `smtp://` URL.
    pub async fn start(fail_first: usize) -> (Arc<SmtpListener>, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = Arc::new(SmtpListener { fail_first: fail_first.into(), ..Default::default() });
        let server = me.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    let _ = server.session(socket).await;
                });
            }
        });
        (me, format!("smtp://127.0.0.1:{port}"))
    }

    async fn session(&self, socket: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 test.local ESMTP ready\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let cmd = line.trim_end().to_owned();
            let upper = cmd.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250 test.local\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                let n = self.transactions.fetch_add(1, Ordering::SeqCst) + 1;
                if n <= self.fail_first.load(Ordering::SeqCst) {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    from = cmd[10..].trim().to_owned();
                    to.clear();
                    b"250 2.1.0 ok\r\n"
                }
            } else if upper.starts_with("RCPT TO:<NOBODY@") {
                b"550 5.1.1 no such user\r\n"
            } else if upper.starts_with("RCPT TO:") {
                to.push(cmd[8..].trim().trim_matches(['<', '>']).to_owned());
                b"250 2.1.5 ok\r\n"
            } else if upper == "DATA" {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(&line);
                }
                self.arrived.fetch_add(1, Ordering::SeqCst);
                let delay = self.delay_ms.load(Ordering::SeqCst);
                if delay > 0 {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                self.mails.lock().unwrap().push(Mail {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
                b"250 2.0.0 queued\r\n"
            } else if upper == "RSET" || upper == "NOOP" {
                b"250 2.0.0 ok\r\n"
            } else if upper == "QUIT" {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            } else {
                b"502 5.5.2 not implemented\r\n"
            };
            write.write_all(reply).await?;
        }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits until `n` messages arrived (panics after `secs`).
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Mail> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.mails();
            if got.len() >= n {
                return got;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of {n} emails arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A server sending alerts to `smtp` (none: alerts are recorded), with a
/// fast retry schedule.
async fn spawn(backend: Backend, smtp: Option<&str>) -> TestApp {
    let smtp = smtp.map(str::to_owned);
    TestApp::spawn_configured(backend, Segment::Comercio, move |c| {
        c.smtp_url = smtp;
        c.email_retry_scale = 0.0002;
    })
    .await
}

async fn put_settings(app: &TestApp, token: &str, body: &Value) -> crate::helpers::Reply {
    app.call(Method::PUT, "/api/v1/settings/notifications", Some(token), Some(body)).await
}

/// Reports an inline transaction of `tania@example.com` (BIN 411111, last 4
/// 1111) with `notify`, using `key`; returns the case reference.
async fn report(app: &TestApp, key: &str, notify: Value) -> String {
    let r = app
        .call(
            Method::POST,
            "/api/v1/report-fraud",
            Some(key),
            Some(&json!({
                "amount": 150000, "currency": "MXN", "email": "Tania@Example.com",
                "card_bin": "411111", "card_last4": "1111", "reason": "chargeback",
                "notify": notify,
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json["data"]["case"]["reference_number"].as_str().unwrap().to_owned()
}

/// The alert emails listed for `token`'s organisation (with a query string).
async fn listed(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app.get(token, &format!("/api/v1/notifications/emails{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json
}

/// Polls the listing until `n` emails have `status` (panics after `secs`).
async fn wait_status(app: &TestApp, token: &str, status: &str, n: usize, secs: u64) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let page = listed(app, token, &format!("?status={status}")).await;
        if page["data"].as_array().unwrap().len() >= n {
            return page;
        }
        assert!(std::time::Instant::now() < deadline, "not {n} {status} emails: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

macro_rules! email_stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(crate::helpers::Backend::Sqlite).await; }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(crate::helpers::Backend::Postgres).await; }
        )* }
    };
}

email_stories!(
    flagged_parties_get_one_email_per_recipient,
    a_temporarily_failing_server_gets_the_email_on_a_retry,
    without_smtp_alerts_are_recorded_listed_and_sent_later,
    settings_are_validated_admin_only_and_audited,
    each_organisation_sees_only_its_own_emails,
    a_stopping_worker_finishes_its_sends_and_hands_back_its_claims,
);

async fn flagged_parties_get_one_email_per_recipient(backend: Backend) {
    let (smtp, url) = SmtpListener::start(0).await;
    let app = spawn(backend, Some(&url)).await;
    let admin = app.admin_token().await;
    let r = put_settings(
        &app,
        &admin,
        &json!({
            "merchant": ["ops@shop.example", "Owner@Shop.example", "nobody@shop.example"],
            "acquirer": ["risk@acquirer.example"],
            "issuer": ["fraud@issuer.example"],
            "compliance": ["cco@shop.example", "ops@shop.example"],
        }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        r.json["merchant"],
        json!(["ops@shop.example", "owner@shop.example", "nobody@shop.example"])
    );

    let reference = report(&app, app.secret(), json!({"merchant": true, "compliance": true})).await;
    // ops@ is a merchant and a compliance contact: one email, not two;
    // nobody@ is refused for good (550) and not retried.
    let mails = smtp.wait_for(3, 20).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let mails_after = smtp.mails();
    assert_eq!(mails_after.len(), 3, "no further emails: {mails_after:?}");
    let to: BTreeSet<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(
        to,
        BTreeSet::from(
            ["cco@shop.example", "ops@shop.example", "owner@shop.example"].map(String::from)
        )
    );
    for m in &mails {
        assert_eq!(m.to.len(), 1, "one recipient per message");
        assert!(m.from.starts_with("<alerts@clausum.local>"), "{}", m.from);
        let subject = m.data.lines().find(|l| l.starts_with("Subject: ")).unwrap();
        assert!(subject.contains(&reference), "{subject}");
        assert!(m.data.contains("Content-Transfer-Encoding: 7bit"), "readable as sent: {}", m.data);
        assert!(m.data.contains("t***@example.com"), "payer masked: {}", m.data);
        assert!(m.data.contains("1500.00 MXN"), "{}", m.data);
        assert!(m.data.contains("/dashboard/cases/case_"), "{}", m.data);
        let lower = m.data.to_lowercase();
        assert!(!lower.contains("tania"), "no payer address: {}", m.data);
        assert!(!m.data.contains("411111"), "no card BIN: {}", m.data);
        assert!(!lower.contains("card"), "no card data at all: {}", m.data);
    }

    let page = wait_status(&app, &admin, "sent", 3, 10).await;
    assert_eq!(page["pagination"]["total"], 3);
    for e in page["data"].as_array().unwrap() {
        assert_eq!(e["attempts"], 1);
        assert!(e["sent_at"].is_string() && e["last_error"].is_null(), "{e}");
        assert!(["merchant", "compliance"].contains(&e["party"].as_str().unwrap()), "{e}");
        assert!(e["event_id"].as_str().unwrap().starts_with("evt_"));
        assert!(e.get("claimed_until").is_none() && e.get("organization_id").is_none(), "{e}");
    }
    let failed = wait_status(&app, &admin, "failed", 1, 10).await;
    let e = &failed["data"][0];
    assert_eq!(
        (e["recipient"].as_str(), e["attempts"].as_i64()),
        (Some("nobody@shop.example"), Some(1))
    );
    assert!(e["last_error"].as_str().unwrap().contains("550"), "{e}");
    assert_eq!(smtp.transactions.load(Ordering::SeqCst), 4, "the refusal was not retried");
    // Nothing flagged, nothing sent.
    report(&app, app.secret(), json!({})).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(listed(&app, &admin, "").await["pagination"]["total"], 4);
}

async fn a_temporarily_failing_server_gets_the_email_on_a_retry(backend: Backend) {
    let (smtp, url) = SmtpListener::start(2).await;
    let app = spawn(backend, Some(&url)).await;
    let admin = app.admin_token().await;
    let r = put_settings(&app, &admin, &json!({"issuer": ["fraud@issuer.example"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let reference = report(&app, app.secret(), json!({"issuer": true})).await;
    let mails = smtp.wait_for(1, 20).await;
    assert_eq!(mails[0].to, ["fraud@issuer.example"]);
    assert!(mails[0].data.contains(&reference));
    assert_eq!(smtp.transactions.load(Ordering::SeqCst), 3, "two refusals, then accepted");
    let page = wait_status(&app, &admin, "sent", 1, 10).await;
    let e = &page["data"][0];
    assert_eq!(e["attempts"], 3, "{e}");
    // A success clears the error of the failed attempts before it.
    assert!(e["last_error"].is_null(), "{e}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.mails().len(), 1, "sent once");
}

async fn without_smtp_alerts_are_recorded_listed_and_sent_later(backend: Backend) {
    let mut app = spawn(backend, None).await;
    let admin = app.admin_token().await;
    let r = put_settings(
        &app,
        &admin,
        &json!({"merchant": ["ops@shop.example"], "acquirer": ["risk@acquirer.example"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let reference =
        report(&app, app.secret(), json!({"merchant": true, "acquirer": true, "issuer": true}))
            .await;
    let page = wait_status(&app, &admin, "recorded", 2, 10).await;
    assert_eq!(page["pagination"]["total"], 2);
    for e in page["data"].as_array().unwrap() {
        assert_eq!(e["attempts"], 0);
        assert!(e["subject"].as_str().unwrap().contains(&reference));
        assert!(e["body_text"].as_str().unwrap().contains("t***@example.com"));
        assert!(e["last_error"].as_str().unwrap().contains("SMTP"), "{e}");
    }
    assert_eq!(listed(&app, &admin, "?status=sent").await["pagination"]["total"], 0);
    assert_eq!(listed(&app, &admin, "?limit=1").await["data"].as_array().unwrap().len(), 1);
    let bad = app.get(&admin, "/api/v1/notifications/emails?status=lost").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.json);
    assert_eq!(bad.error_code(), "VALIDATION_ERROR");

    // SMTP configured later: what was recorded goes out.
    let (smtp, url) = SmtpListener::start(0).await;
    app.config.smtp_url = Some(url);
    let app = app.restart().await;
    let mails = smtp.wait_for(2, 20).await;
    let to: BTreeSet<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(to, BTreeSet::from(["ops@shop.example", "risk@acquirer.example"].map(String::from)));
    let admin = app.admin_token().await;
    wait_status(&app, &admin, "sent", 2, 10).await;
}

/// The `Message-ID` header of a message as it arrived.
fn message_id(m: &Mail) -> String {
    m.data
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("message-id").then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no Message-ID: {}", m.data))
}

async fn a_stopping_worker_finishes_its_sends_and_hands_back_its_claims(backend: Backend) {
    let (smtp, url) = SmtpListener::start(0).await;
    let app = spawn(backend, Some(&url)).await;
    let admin = app.admin_token().await;
    let org = app.creds.organization_id.clone();
    // The server's own worker is stopped (nothing is queued yet), so all 10
    // alerts wait in the outbox and the next worker's first claim takes them
    // all (a batch is 16) while it sends at most 4 at a time.
    app.state.stop_email_worker();
    let merchants: Vec<String> = (0..5).map(|i| format!("ops{i}@shop.example")).collect();
    let r = put_settings(&app, &admin, &json!({ "merchant": merchants })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    for _ in 0..2 {
        report(&app, app.secret(), json!({"merchant": true})).await;
    }
    let queued = app.store.email_alerts(&org, Some("pending"), 100, 0).await.unwrap();
    assert_eq!(queued.total, 10, "{:?}", queued.rows);
    // Leases long enough that only a release, not their expiry, frees a claim.
    let config = WorkerConfig {
        lease_ms: 60_000,
        retry_scale: app.config.email_retry_scale,
        ..WorkerConfig::default()
    };
    let mailer = Mailer::new(&url, &app.config.smtp_from).unwrap();
    smtp.delay_ms.store(1_500, Ordering::SeqCst);
    app.state.start_email_worker(Some(mailer.clone()), config.clone());
    // Sends are under way: the replica is told to stop (a rolling restart),
    // as `serve_forever` does after the HTTP drain.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while smtp.arrived.load(Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "no send started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(app.state.drain_workers(Duration::from_secs(10)).await, "drained in time");

    // Every send it started was accepted and recorded; none was cut.
    let sent = smtp.transactions.load(Ordering::SeqCst);
    assert_eq!(smtp.arrived.load(Ordering::SeqCst), sent, "a send stopped before its data");
    assert_eq!(smtp.mails().len(), sent, "a send was cut");
    assert!((1..=4).contains(&sent), "it stopped midway ({sent} sent, at most 4 at a time)");
    let rows = app.store.email_alerts(&org, None, 100, 0).await.unwrap().rows;
    assert_eq!(rows.len(), 10);
    let recorded = rows.iter().filter(|e| e.status == "sent").count();
    assert_eq!(recorded, sent, "each accepted send is recorded: {rows:?}");
    // What it claimed but did not send is free again, long before the lease ends.
    let pending: Vec<_> = rows.iter().filter(|e| e.status == "pending").collect();
    assert_eq!(pending.len(), 10 - sent, "{rows:?}");
    assert!(
        pending.iter().all(|e| e.claimed_until.is_none() && e.attempts == 0),
        "claims kept: {pending:?}"
    );

    // The next worker (another replica, or this one restarted) sends the
    // rest at once, each exactly once.
    smtp.delay_ms.store(0, Ordering::SeqCst);
    app.state.start_email_worker(Some(mailer), config);
    smtp.wait_for(10, 20).await;
    wait_status(&app, &admin, "sent", 10, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 10, "no email was sent twice");
    let ids: BTreeSet<String> = mails.iter().map(message_id).collect();
    let expected: BTreeSet<String> = rows.iter().map(|e| format!("<{}@clausum>", e.id)).collect();
    assert_eq!(ids, expected, "each email once, under its own Message-ID");
}

async fn settings_are_validated_admin_only_and_audited(backend: Backend) {
    let app = spawn(backend, None).await;
    let admin = app.admin_token().await;
    let empty = app.get(&admin, "/api/v1/settings/notifications").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.json, json!({"merchant": [], "acquirer": [], "issuer": [], "compliance": []}));

    let r = put_settings(&app, &admin, &json!({"compliance": ["ok@shop.example", "not an email"]}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    assert_eq!(r.error_code(), "VALIDATION_ERROR");
    assert_eq!(r.json["error"]["details"]["field"], "compliance[1]");
    let many: Vec<String> = (0..21).map(|i| format!("a{i}@shop.example")).collect();
    let r = put_settings(&app, &admin, &json!({"merchant": many})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    assert_eq!(r.json["error"]["details"]["field"], "merchant");
    let r = put_settings(&app, &admin, &json!({"regulator": ["x@y.example"]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    assert_eq!(r.error_code(), "VALIDATION_ERROR");
    let r = put_settings(&app, &admin, &json!({"merchant": "ops@shop.example"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    // Nothing was stored by the refused requests.
    let now = app.get(&admin, "/api/v1/settings/notifications").await;
    assert_eq!(now.json, empty.json);

    let viewer = app.member_token("viewer").await;
    let analyst = app.member_token("analyst").await;
    for token in [&viewer, &analyst] {
        let r = put_settings(&app, token, &json!({"merchant": ["ops@shop.example"]})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
        assert_eq!(r.error_code(), "FORBIDDEN");
        let r = app.get(token, "/api/v1/settings/notifications").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        let r = app.get(token, "/api/v1/notifications/emails").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    }
    let r = app.call(Method::GET, "/api/v1/notifications/emails", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let r = put_settings(&app, &admin, &json!({"merchant": ["ops@shop.example"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let viewer_view = app.get(&viewer, "/api/v1/settings/notifications").await;
    assert_eq!(viewer_view.json["merchant"], json!(["ops@shop.example"]));
    let log = app.get(&admin, "/api/v1/audit-log?resource_type=notification_settings").await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.json);
    let rows = log.json["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", log.json);
    assert_eq!(rows[0]["action"], "notifications.update");
}

async fn each_organisation_sees_only_its_own_emails(backend: Backend) {
    let app = spawn(backend, None).await;
    let admin = app.admin_token().await;
    let r = put_settings(&app, &admin, &json!({"merchant": ["ops@shop.example"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    report(&app, app.secret(), json!({"merchant": true})).await;
    wait_status(&app, &admin, "recorded", 1, 10).await;

    let (other, other_admin) = app.other_org().await;
    let theirs = listed(&app, &other_admin, "").await;
    assert_eq!(theirs["pagination"]["total"], 0, "{theirs}");
    let settings = app.get(&other_admin, "/api/v1/settings/notifications").await;
    assert_eq!(settings.json["merchant"], json!([]));
    // The other organisation's report alerts its own (absent) recipients, not ours.
    report(&app, &other.keys.secret, json!({"merchant": true})).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(listed(&app, &other_admin, "").await["pagination"]["total"], 0);
    assert_eq!(listed(&app, &admin, "").await["pagination"]["total"], 1);
    // Its settings change nothing of ours.
    let r = put_settings(&app, &other_admin, &json!({"merchant": ["them@other.example"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let ours = app.get(&admin, "/api/v1/settings/notifications").await;
    assert_eq!(ours.json["merchant"], json!(["ops@shop.example"]));
}
