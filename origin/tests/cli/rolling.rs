//! A rolling restart of two real replicas under steady load loses no
//! payment and records none twice.
//!
//! Two `clausum-origin serve` processes share one PostgreSQL database and
//! one Redis. Clients pay steadily, each payment with its own idempotency
//! key, sending to one replica and — as a load balancer or a retrying
//! client would — going to the other when a replica refuses the
//! connection or closes it. Meanwhile each replica in turn gets SIGTERM,
//! drains, exits and is started again. Every payment must end with one
//! decision, the database must hold exactly one row per payment, and
//! nothing but refused or closed connections may be seen on the way.

use std::{
    collections::BTreeMap,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::Connection;

use super::{BIN, free_port};

fn postgres_admin_url() -> String {
    std::env::var("CLAUSUM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn redis_url() -> String {
    std::env::var("CLAUSUM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

/// A fresh PostgreSQL database, dropped when the test ends.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    async fn fresh() -> Database {
        let admin = postgres_admin_url();
        let name = format!("clausum_roll_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {admin} ({e}); run scripts/test.sh, which starts it"
            )
        });
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
        let url = format!("{base}/{name}");
        Database { admin, name, url }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop cannot await, and the test's runtime may be gone: a thread
        // of its own with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}

/// One replica process on a fixed port (it comes back on the same one).
struct Replica {
    port: u16,
    db_url: String,
    child: Option<Child>,
}

impl Replica {
    fn start(port: u16, db_url: &str) -> Replica {
        let mut r = Replica { port, db_url: db_url.to_owned(), child: None };
        r.spawn();
        r
    }

    fn spawn(&mut self) {
        let child = Command::new(BIN)
            .arg("serve")
            .env("CLAUSUM_DATABASE_URL", &self.db_url)
            .env("CLAUSUM_REDIS_URL", redis_url())
            .env("CLAUSUM_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("CLAUSUM_NO_BOOTSTRAP", "true")
            .env("CLAUSUM_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        self.child = Some(child);
    }

    async fn wait_ready(&self, client: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("http://127.0.0.1:{}/api/v1/health", self.port);
        while Instant::now() < deadline {
            if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("replica on port {} never became ready", self.port);
    }

    /// SIGTERM, as an orchestrator stops a pod; returns how long it took
    /// to exit, and asserts it exited cleanly.
    async fn terminate(&mut self) -> Duration {
        let mut child = self.child.take().expect("running");
        let started = Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
        assert!(exit.success(), "the replica exits cleanly on SIGTERM: {exit}");
        started.elapsed()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// Payment number → the transaction id of its decision.
    decided: BTreeMap<u64, String>,
    /// Attempts that were retried, by what happened.
    retried: BTreeMap<String, u64>,
    /// Answers that are not allowed during a rolling restart.
    wrong: Vec<String>,
}

/// Pays payment `n` until one replica decides it (or the 30 s budget runs out).
async fn pay(client: &reqwest::Client, ports: [u16; 2], secret: &str, n: u64, seen: &Mutex<Seen>) {
    let body = serde_json::json!({
        "amount": 1000 + n,
        "currency": "MXN",
        "email": format!("payer{}@example.com", n % 97),
        "order_id": format!("ORD-{n}"),
    });
    let key = format!("roll-{n}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut attempt = n as usize;
    while Instant::now() < deadline {
        let port = ports[attempt % 2];
        attempt += 1;
        let sent = client
            .post(format!("http://127.0.0.1:{port}/api/v1/assess"))
            .bearer_auth(secret)
            .header("Idempotency-Key", &key)
            .json(&body)
            .send()
            .await;
        let kind = match sent {
            Ok(r) if r.status() == 200 => {
                let json: serde_json::Value = r.json().await.unwrap();
                let id = json["transaction_id"].as_str().unwrap().to_owned();
                seen.lock().unwrap().decided.insert(n, id);
                return;
            }
            Ok(r) if r.status() == 503 => "503".to_owned(),
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                seen.lock().unwrap().wrong.push(format!("payment {n}: {status} {text}"));
                return;
            }
            Err(e) if e.is_timeout() => {
                seen.lock().unwrap().wrong.push(format!("payment {n}: timed out ({e})"));
                return;
            }
            Err(e) if e.is_connect() => "connection refused".to_owned(),
            // A request written just as the replica closed its connection:
            // the client cannot know whether it was decided, so it retries
            // with the same idempotency key (which is what makes that safe).
            Err(e) => format!("connection closed ({})", e.is_request()),
        };
        *seen.lock().unwrap().retried.entry(kind).or_default() += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen.lock().unwrap().wrong.push(format!("payment {n}: never decided within 30 s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_load_loses_no_payment_and_records_none_twice() {
    let db = Database::fresh().await;
    let out = Command::new(BIN)
        .args(["init", "--org", "Rolling SA", "--json", "--rate-limit-per-minute", "1000000"])
        .args(["--database-url", &db.url])
        .output()
        .expect("init runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret: Arc<str> = creds["keys"]["secret"].as_str().unwrap().into();

    let ports = [free_port(), free_port()];
    let mut replicas = [Replica::start(ports[0], &db.url), Replica::start(ports[1], &db.url)];
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    for r in &replicas {
        r.wait_ready(&client).await;
    }

    // Eight clients pay one payment after another until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (client, secret, stop, seen, next) =
                (client.clone(), secret.clone(), stop.clone(), seen.clone(), next.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    pay(&client, ports, &secret, n, &seen).await;
                }
            })
        })
        .collect();

    // Each replica in turn: stopped under load, then started again.
    let mut stops = Vec::new();
    for r in &mut replicas {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let before = seen.lock().unwrap().decided.len();
        stops.push(r.terminate().await);
        r.spawn();
        r.wait_ready(&client).await;
        let after = seen.lock().unwrap().decided.len();
        assert!(after > before, "the other replica kept deciding while this one restarted");
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }

    // Every client task has ended: the record is ours alone now.
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(seen.wrong.is_empty(), "{:#?}", seen.wrong);
    // A stopping replica refuses new connections and closes idle ones;
    // anything else on the way (a 503, a timeout) is a failure.
    let unexpected: Vec<&String> = seen
        .retried
        .keys()
        .filter(|k| *k != "connection refused" && !k.starts_with("connection closed"))
        .collect();
    assert!(unexpected.is_empty(), "retried for {unexpected:?}: {:?}", seen.retried);
    let payments = next.load(Ordering::Relaxed);
    assert_eq!(seen.decided.len() as u64, payments, "every payment was decided");
    let mut ids: Vec<&String> = seen.decided.values().collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len() as u64, payments, "one transaction per payment");

    // The database agrees: one row per payment, none twice.
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let (rows, keys): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT idempotency_key) FROM transactions")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!((rows, keys), (payments as i64, payments as i64));
    let stored: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM transactions").fetch_all(&mut conn).await.unwrap();
    let mut stored: Vec<String> = stored.into_iter().map(|(id,)| id).collect();
    stored.sort();
    assert_eq!(stored.iter().collect::<Vec<_>>(), ids, "the answers name the stored rows");
    conn.close().await.unwrap();

    eprintln!(
        "rolling restart: {payments} payments decided, {rows} rows; stops took {stops:?}; retried: {:?}",
        seen.retried
    );
}
