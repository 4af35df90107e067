//! Personal data never reaches the logs: everything the server logs while
//! handling payer data is captured (at TRACE, every target) and searched.

use std::sync::{Arc, Mutex, OnceLock};

use reqwest::StatusCode;
use serde_json::json;

use crate::{helpers::TestApp, stories};

stories!(logs_carry_no_personal_data);

/// Everything logged by this test process.
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            // Timestamps' digits would match short needles such as `4242`.
            .without_time()
            .with_writer(move || Sink(sink.clone()))
            .finish();
        // Another test binary might have installed one first; this binary
        // installs only this one.
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        buf
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn logs_carry_no_personal_data(app: TestApp) {
    let log = captured();
    let email = format!("private.person.{}@example.org", uuid::Uuid::new_v4().simple());
    let ip = "203.0.113.199";
    let a = app
        .assess(&json!({"amount": 100, "currency": "MXN", "email": email, "phone": "+5215512345678",
                        "device": {"ip": ip}, "payment_method": {"type": "card", "card_bin": "411111", "card_last4": "4242"}}))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/report-fraud",
            Some(app.secret()),
            Some(&json!({"transaction_id": a.json["transaction_id"], "reason": "chargeback"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let bad = app
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"email": email, "password": "wrong password"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let admin = app.admin_token().await;
    let dup = app
        .post(&admin, "/api/v1/blocklists", &json!({"list_type": "email", "value": email}))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let search = app.get(&admin, &format!("/api/v1/blocklists?search={email}")).await;
    assert_eq!(search.json["pagination"]["total"], 1);

    let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(!text.is_empty(), "the capture works (the server logs something at TRACE)");
    for secret in [email.as_str(), ip, "5512345678", app.secret(), &app.creds.admin_password] {
        assert!(!text.contains(secret), "`{secret}` appeared in the logs");
    }
    // The capture holds every concurrent test's logs, whose random ids and
    // durations contain any four or six digits by chance; a card fragment
    // leaked as a value stands alone, as its own token.
    for fragment in ["411111", "4242"] {
        assert!(!has_token(&text, fragment), "`{fragment}` appeared in the logs as a value");
    }
}

/// Whether `needle` occurs in `text` with no letter or digit on either side.
fn has_token(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[test]
fn card_fragments_are_found_only_as_tokens() {
    assert!(has_token("card_last4=4242 ok", "4242"));
    assert!(has_token("\"card_last4\":\"4242\"", "4242"));
    assert!(!has_token("id=8f4242ab elapsed=14242", "4242"));
}
