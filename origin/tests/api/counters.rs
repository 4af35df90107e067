//! Shared counters in Redis: the same arithmetic as the in-memory ones,
//! shared by replicas, and the documented error when Redis goes away.

use std::time::Duration;

use clausum_core::{
    beneficiaries::{KnownBeneficiaries, PayoutKeys},
    digest::Digest,
    ratelimit::SlidingWindow,
    velocity::{Dimension, MemoryVelocity, Observation, VelocityKey, VelocityStore},
};
use clausum_origin::{counters::RedisCounters, server};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, Reply, TestApp};

/// Where the Redis test server is (`scripts/services.sh` starts it).
pub fn redis_url() -> String {
    std::env::var("CLAUSUM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

async fn counters() -> RedisCounters {
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    RedisCounters::connect(&redis_url(), &prefix).await.unwrap_or_else(|e| {
        panic!("Redis is not reachable ({e}); run scripts/test.sh, which starts it")
    })
}

/// A deterministic pseudo-random sequence (no extra dependency).
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *seed >> 33
}

#[tokio::test]
async fn redis_velocity_matches_the_in_memory_arithmetic() {
    let redis = counters().await;
    let mut memory = MemoryVelocity::new();
    let keys: Vec<VelocityKey> = (0..3u8)
        .map(|i| VelocityKey { dimension: Dimension::ALL[i as usize], digest: Digest([i; 16]) })
        .collect();
    let mut seed = 7;
    let mut now = 1_700_000_000_000i64;
    for id in 0..300u64 {
        // Steps from a second to three hours: events cross every window edge.
        now += (lcg(&mut seed) % 10_800_000) as i64 / if id % 3 == 0 { 1 } else { 40 };
        let n = 1 + (lcg(&mut seed) % 3) as usize;
        let obs = Observation {
            keys: keys[..n].to_vec(),
            at_ms: now,
            amount_minor: (lcg(&mut seed) % 100_000) as i64,
            id,
        };
        let peek = id % 7 == 0;
        let expected = if peek { memory.peek(&obs) } else { memory.observe(&obs) };
        let got = redis.observe(&obs, !peek, "node").await.unwrap();
        assert_eq!(got, expected, "observation {id}");
        if id % 11 == 0 && !peek {
            memory.withdraw(&obs);
            redis.withdraw(&obs, "node").await.unwrap();
        }
    }
}

#[tokio::test]
async fn redis_rate_limits_match_the_sliding_window() {
    let redis = counters().await;
    let mut local = SlidingWindow::new(5, 60_000);
    let mut seed = 3;
    let mut now = 1_700_000_000_000i64;
    for i in 0..200 {
        now += (lcg(&mut seed) % 20_000) as i64;
        let expected = local.check(now);
        let got = redis.admit("key_x", 5, 60_000, now, &format!("n:{i}")).await.unwrap();
        assert_eq!(got, expected, "request {i}");
    }
}

#[tokio::test]
async fn redis_beneficiaries_match_the_in_memory_bookkeeping() {
    const KNOWN_FOR: i64 = 90 * 24 * 3_600_000;
    let redis = counters().await;
    let mut memory = KnownBeneficiaries::new();
    // Three origins (one absent: the organisation pays) and five
    // beneficiaries; a pair digest per (origin, beneficiary).
    let keys = |o: u8, b: u8| PayoutKeys {
        origin: (o > 0).then_some(Digest([o; 16])),
        beneficiary: Digest([100 + b; 16]),
        pair: Digest([o * 10 + b + 1; 16]),
    };
    let mut seed = 11;
    let mut now = 1_700_000_000_000i64;
    let (mut known, mut counted) = (0, 0);
    for i in 0..400 {
        // Steps from seconds to hours: first payments cross window edges.
        now += (lcg(&mut seed) % 7_200_000) as i64 / if i % 4 == 0 { 1 } else { 30 };
        let k = keys((lcg(&mut seed) % 3) as u8, (lcg(&mut seed) % 5) as u8);
        let window = [3_600_000, 24 * 3_600_000, 7 * 24 * 3_600_000][i % 3];
        let expected = memory.facts(&k, now, window);
        let got = redis.beneficiary_facts(&k, now, window).await.unwrap();
        assert_eq!(got, expected, "payout {i}");
        known += usize::from(expected.beneficiary_known == Some(true));
        counted += usize::from(expected.new_beneficiaries_in_window > 0);
        // Some payouts are declined: nothing is recorded for them.
        if !lcg(&mut seed).is_multiple_of(4) {
            memory.record(&k, now);
            redis.remember_beneficiaries(&[(k, now)], KNOWN_FOR).await.unwrap();
        }
    }
    assert!(known > 50 && counted > 50, "the sequence exercises both facts: {known}, {counted}");

    // Seeding many at once (a replica's start) gives the same answers,
    // and seeding again changes nothing.
    let seeded = counters().await;
    let mut fresh = KnownBeneficiaries::new();
    let payouts: Vec<(PayoutKeys, i64)> = (0..1_200)
        .map(|i| {
            (keys((i % 3) as u8, (i % 5) as u8), now - 3_600_000 * 200 + i64::from(i) * 600_000)
        })
        .collect();
    for (k, at) in &payouts {
        fresh.record(k, *at);
    }
    for _ in 0..2 {
        seeded.remember_beneficiaries(&payouts, KNOWN_FOR).await.unwrap();
    }
    for o in 0..3 {
        for b in 0..6 {
            let k = keys(o, b);
            assert_eq!(
                seeded.beneficiary_facts(&k, now, 24 * 3_600_000).await.unwrap(),
                fresh.facts(&k, now, 24 * 3_600_000),
                "origin {o}, beneficiary {b}"
            );
        }
    }
}

/// A server counting in the shared Redis.
async fn with_redis(app_db: Option<&TestApp>) -> TestApp {
    let _ = app_db;
    TestApp::spawn_configured(Backend::Postgres, clausum_core::catalog::Segment::Comercio, |c| {
        c.redis_url = Some(redis_url());
        c.single_node = false;
    })
    .await
}

async fn second_node(app: &TestApp) -> String {
    let store = server::open_store(&app.config.database_url).await.unwrap();
    let state = server::load_state(store, &app.config).await.unwrap();
    let running = server::start(&app.config, state).await.unwrap();
    format!("http://{}", running.addr)
}

async fn assess_on(app: &TestApp, base: &str, key: &str, body: &serde_json::Value) -> Reply {
    let res = app
        .client
        .post(format!("{base}/api/v1/assess"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    Reply::read(res).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_count_velocity_and_rate_limits_together() {
    let app = with_redis(None).await;
    let b = second_node(&app).await;
    let a = app.base.clone();
    // Velocity: the org's 10-minute limit is 3 per payer; alternate replicas.
    let body = json!({"amount": 100, "currency": "MXN", "email": "busy@example.com"});
    let mut last = None;
    for i in 0..5 {
        let base = if i % 2 == 0 { &a } else { &b };
        last = Some(assess_on(&app, base, app.secret(), &body).await);
    }
    let last = last.unwrap();
    let codes: Vec<&str> =
        last.json["signals"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(
        codes.iter().any(|c| c.contains("velocity")),
        "five payments across two replicas are counted together: {}",
        last.json
    );

    // Rate limit: a key allowed 6 a minute gets 6 across both replicas.
    let limited = app.other_org_with_rate_limit(6).await;
    // The new key reaches replica B through a change notification.
    app.state.publish(clausum_origin::sync::Change::Keys);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let base = if i % 2 == 0 { &a } else { &b };
        statuses.push(
            assess_on(&app, base, &limited, &json!({"amount": 1, "currency": "MXN"}))
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_know_each_others_beneficiaries() {
    let app = with_redis(None).await;
    let b = second_node(&app).await;
    let a = app.base.clone();
    let payout = |base: &str, account: &str, beneficiary: &str| {
        let body = json!({
            "amount": 2500, "currency": "MXN",
            "beneficiary": {"id": beneficiary, "name": "Beneficiario SA", "country": "MX"},
            "origin": {"account_id": account, "country": "MX"},
            "payout": {"channel": "spei", "initiated_by": "ops@bank.example"}
        });
        let (client, url, key) =
            (app.client.clone(), format!("{base}/api/v1/assess/payout"), app.secret().to_owned());
        async move {
            let r =
                Reply::read(client.post(url).bearer_auth(key).json(&body).send().await.unwrap())
                    .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.json);
            r.json["signals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let first = payout(&a, "acct_r", "ben_1").await;
    assert!(first.contains(&"payout_first_beneficiary".to_owned()), "{first:?}");
    // Paid through replica A: replica B knows the beneficiary at once.
    let again = payout(&b, "acct_r", "ben_1").await;
    assert!(!again.contains(&"payout_first_beneficiary".to_owned()), "{again:?}");
    // New beneficiaries of one account count across replicas: the default
    // limit fires on the 4th new one in 24 h, paid alternately.
    let mut last = Vec::new();
    for (i, ben) in ["ben_2", "ben_3", "ben_4"].into_iter().enumerate() {
        last = payout(if i % 2 == 0 { &b } else { &a }, "acct_r", ben).await;
    }
    assert!(last.contains(&"payout_new_beneficiary_velocity".to_owned()), "{last:?}");
    assert!(last.contains(&"payout_first_beneficiary".to_owned()), "{last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_redis_answers_the_documented_error_and_never_hangs() {
    // A Redis of our own, so it can be stopped.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (scripts/services.sh installs it)");
    let url = format!("redis://127.0.0.1:{port}/0");
    for _ in 0..50 {
        if RedisCounters::connect(&url, "x:").await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let app = TestApp::spawn_configured(
        Backend::Postgres,
        clausum_core::catalog::Segment::Comercio,
        |c| {
            c.redis_url = Some(url.clone());
            c.single_node = false;
        },
    )
    .await;
    let body = json!({"amount": 100, "currency": "MXN", "email": "x@example.com"});
    assert_eq!(app.assess(&body).await.status, StatusCode::OK);
    child.kill().unwrap();
    child.wait().unwrap();
    let started = std::time::Instant::now();
    let r = app.assess(&body).await;
    assert_eq!(
        (r.status, r.error_code()),
        (StatusCode::SERVICE_UNAVAILABLE, "RATE_LIMIT_STORE_UNAVAILABLE")
    );
    assert!(started.elapsed() < Duration::from_secs(3), "answered in {:?}", started.elapsed());
    assert_eq!(
        app.count_transactions().await,
        1,
        "nothing recorded while counters are unavailable"
    );

    // And a replica sharing PostgreSQL without Redis refuses to start.
    let mut config = app.config.clone();
    config.redis_url = None;
    config.single_node = false;
    let store = server::open_store(&config.database_url).await.unwrap();
    let err = server::load_state(store, &config).await.expect_err("refused");
    assert!(err.to_string().contains("CLAUSUM_REDIS_URL"), "{err}");
}
