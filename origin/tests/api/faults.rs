//! PostgreSQL cut off under steady assess load (through a TCP proxy on
//! loopback that the test can sever): every answer stays within the
//! deadline and is a decision or a documented error, no acknowledged
//! decision is lost and none is recorded twice.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::json;
use tokio::{
    io::copy_bidirectional,
    net::{TcpListener, TcpStream},
    sync::Mutex,
};

use crate::helpers::{Backend, TestApp};

/// A loopback TCP proxy to PostgreSQL that can be cut (open connections
/// dropped, new ones refused) and restored.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (u, c, target) = (up.clone(), conns.clone(), target.to_owned());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { continue };
                if !u.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let h = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                c.lock().await.push(h);
            }
        });
        Proxy { port, up, conns }
    }

    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for h in self.conns.lock().await.drain(..) {
            h.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_under_load_loses_and_duplicates_nothing() {
    // The organisation is created directly; the server reaches the same
    // database only through the proxy.
    let direct = TestApp::spawn(Backend::Postgres).await;
    let admin_url = direct.config.database_url.clone();
    let (authority, _) = admin_url.trim_start_matches("postgres://").split_once('/').unwrap();
    let host_port = authority.rsplit('@').next().unwrap();
    let proxy = Proxy::start(host_port).await;
    let via_proxy = admin_url.replace(host_port, &format!("127.0.0.1:{}", proxy.port));
    let app = {
        let mut config = direct.config.clone();
        config.database_url = via_proxy;
        config.assess_timeout_ms = 1_000;
        let store = clausum_origin::server::open_store(&config.database_url).await.unwrap();
        let state = clausum_origin::server::load_state(store, &config).await.unwrap();
        let running = clausum_origin::server::start(&config, state).await.unwrap();
        format!("http://{}", running.addr)
    };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let secret = direct.secret().to_owned();

    // 8 clients, each sending distinct payments with their own idempotency
    // keys and retrying a failed one with the same key, as the docs advise.
    let acknowledged: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let outcomes: Arc<Mutex<BTreeMap<String, u32>>> = Arc::default();
    let slowest = Arc::new(Mutex::new(Duration::ZERO));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (client, app, secret) = (client.clone(), app.clone(), secret.clone());
        let (ack, outcomes, slowest, stop) =
            (acknowledged.clone(), outcomes.clone(), slowest.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let key = format!("fault-{c}-{n}");
                let body = json!({"amount": 100 + n, "currency": "MXN", "email": format!("c{c}@example.com")});
                for _attempt in 0..200 {
                    let started = Instant::now();
                    let r = client
                        .post(format!("{app}/api/v1/assess"))
                        .bearer_auth(&secret)
                        .header("Idempotency-Key", &key)
                        .json(&body)
                        .send()
                        .await;
                    let took = started.elapsed();
                    {
                        let mut s = slowest.lock().await;
                        *s = (*s).max(took);
                    }
                    let outcome = match r {
                        Ok(r) => {
                            let status = r.status();
                            let v: serde_json::Value = r.json().await.unwrap_or_default();
                            if status == StatusCode::OK {
                                ack.lock().await.insert(key.clone(), v["transaction_id"].as_str().unwrap().to_owned());
                                *outcomes.lock().await.entry("200".into()).or_default() += 1;
                                break;
                            }
                            format!("{} {}", status.as_u16(), v["error"]["code"].as_str().unwrap_or("?"))
                        }
                        Err(e) => format!("transport: {e}"),
                    };
                    *outcomes.lock().await.entry(outcome).or_default() += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    proxy.cut().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.restore();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }

    let outcomes = outcomes.lock().await.clone();
    eprintln!("outcomes: {outcomes:?}; slowest answer {:?}", *slowest.lock().await);
    // Every outcome is one the public catalogue lists.
    let documented: Vec<String> = clausum_core::catalog::RESILIENCE
        .iter()
        .map(
            |(status, code, _)| {
                if *status == 200 { "200".into() } else { format!("{status} {code}") }
            },
        )
        .collect();
    for kind in outcomes.keys() {
        assert!(documented.contains(kind), "undocumented outcome {kind}");
    }
    assert!(outcomes.keys().any(|k| k != "200"), "the cut was felt: {outcomes:?}");
    assert!(
        *slowest.lock().await < Duration::from_secs(3),
        "an answer took {:?}",
        *slowest.lock().await
    );

    // Every acknowledged decision is in the database, exactly once.
    let acknowledged = acknowledged.lock().await.clone();
    assert!(acknowledged.len() > 20, "load kept flowing: {}", acknowledged.len());
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&direct.config.database_url).await.unwrap();
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, idempotency_key FROM transactions")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let stored: HashSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    let lost: Vec<_> = acknowledged.values().filter(|id| !stored.contains(id.as_str())).collect();
    assert!(lost.is_empty(), "{} acknowledged decisions lost: {lost:?}", lost.len());
    let mut keys = HashSet::new();
    for (_, k) in &rows {
        let k = k.as_deref().expect("every request had a key");
        assert!(keys.insert(k), "idempotency key {k} recorded twice");
    }
    eprintln!(
        "acknowledged {} decisions, all stored once; {} rows",
        acknowledged.len(),
        rows.len()
    );
}

/// Requests whose deadline passes while their rows wait on a locked SQLite
/// database, rows the writer then fails to write, do not count in
/// velocity: the payer's count stays the number of rows kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_requests_whose_rows_fail_do_not_count_in_velocity() {
    use sqlx::{ConnectOptions, Executor, sqlite::SqliteConnectOptions};
    let app =
        TestApp::spawn_configured(Backend::Sqlite, clausum_core::catalog::Segment::Comercio, |c| {
            c.assess_timeout_ms = 2_000;
        })
        .await;
    // `vel_k` fires when the payer has k earlier transactions in the hour.
    let admin = app.admin_token().await;
    for k in 1..=6 {
        let source = format!("when velocity.email.count_1h >= {k}\nthen add 1 as vel_{k}");
        let r = app
            .post(&admin, "/api/v1/rules", &json!({"name": format!("vel {k}"), "source": source}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    }
    let body = |n: u32| json!({"amount": 100 + n, "currency": "MXN", "email": "slow@example.com"});
    let fired = |r: &crate::helpers::Reply| {
        r.json["signals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s.as_str().unwrap().starts_with("vel_"))
            .count()
    };
    let r = app.assess(&body(0)).await;
    assert_eq!((r.status, fired(&r)), (StatusCode::OK, 0), "{}", r.json);

    // Hold the write lock past the writer's 5 s busy timeout.
    let opts: SqliteConnectOptions = app.config.database_url.parse().unwrap();
    let mut holder = opts.connect().await.unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    let bodies: Vec<_> = (1..=3).map(body).collect();
    let timed_out = futures_util::future::join_all(bodies.iter().map(|b| app.assess(b))).await;
    for r in &timed_out {
        assert_eq!((r.status.as_u16(), r.error_code()), (504, "ASSESS_TIMEOUT"), "{}", r.json);
    }
    // Two busy timeouts: a batch queued behind the first fails too.
    tokio::time::sleep(Duration::from_millis(11_000)).await;
    holder.execute("ROLLBACK").await.unwrap();
    // Another payer's row queues behind anything still pending: once it is
    // answered, every batch of the slow payer has been written or failed.
    let other =
        app.assess(&json!({"amount": 100, "currency": "MXN", "email": "other@example.com"})).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.json);

    // Some rows were not written (the case under test), and the next
    // request's count of earlier transactions is exactly the rows kept.
    let kept = app.count_transactions().await - 1;
    assert!(kept < 4, "the lock failed no write: {kept} rows");
    let r = app.assess(&body(4)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(fired(&r) as i64, kept, "{}", r.json);
}
