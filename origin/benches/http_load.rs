//! HTTP load benchmark: `POST /api/v1/assess` against a bare poem route that
//! only parses and echoes the same JSON, in one run, on one machine.
//!
//!     cargo bench -p clausum-origin --bench http_load
//!     cargo bench -p clausum-origin --bench http_load -- --seconds 5 --entries 100000
//!     BENCH_DB=postgres://postgres@127.0.0.1:5432/clausum_bench cargo bench -p clausum-origin --bench http_load
//!     cargo bench -p clausum-origin --bench http_load -- --payout   # POST /api/v1/assess/payout
//!
//! With `--payout`, half of the entries are payout lists (CLABE, IBAN,
//! account hash, SWIFT/BIC, beneficiary id) and the requests are payouts
//! (new and known beneficiaries, velocity and history per origin account);
//! the reference route parses the payout type instead.
//!
//! `BENCH_DB` names another database (an empty one: the benchmark loads
//! its organisation into it); by default a fresh SQLite file is used.
//!
//! The server runs on its own 2-thread runtime over a fresh SQLite file
//! (durable group commit, `synchronous = FULL`) holding one organisation
//! with 1,000,000 blocklist entries and 1,000 custom rules; velocity and
//! payer history are live on every dimension. The load generator runs on
//! a separate runtime over keep-alive HTTP/1.1 connections:
//! 1. saturation: closed loop, N connections, as fast as answers come;
//! 2. latency: open loop at half of assess's saturation rate (or at
//!    `--rate N` req/s, to compare builds at one load), latency
//!    measured from each request's scheduled send time (so a stalled
//!    server cannot hide queueing: no coordinated omission).
//!
//! Bodies are pre-serialised and cycled through. A payout body carries an
//! `idempotency_key`, so a cycled body would be a replay (answered from the
//! idempotency cache, decided and written once): payout requests carry an
//! `Idempotency-Key` header unique to each request instead, and every
//! request is decided and recorded.
//!
//! It reports figures and never fails on them.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use clausum_core::{
    catalog::Segment,
    synthetic,
    wire::{AssessRequest, PayoutRequest},
};
use clausum_origin::{
    api,
    bootstrap::{self, NewOrganization},
    config::Config,
    server,
    store::{BlocklistRow, RuleRow},
    time::now_ms,
};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::{Request, client::conn::http1};
use hyper_util::rt::TokioIo;
use poem::{
    EndpointExt, Route, handler,
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::Json,
};

/// The same allocator as the `clausum-origin` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    seconds: u64,
    connections: usize,
    entries: usize,
    rules: usize,
    /// Also drive assess at 1× and 2× its saturation rate, open loop.
    overload: bool,
    /// Payouts instead of pay-ins.
    payout: bool,
    /// The latency phase's rate; half of assess's saturation when absent.
    rate: Option<f64>,
}

fn args() -> Args {
    let mut a = Args {
        seconds: 10,
        connections: 32,
        entries: 1_000_000,
        rules: 1_000,
        overload: false,
        payout: false,
        rate: None,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let next = || argv.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match argv[i].as_str() {
            "--seconds" => a.seconds = next().unwrap_or(a.seconds),
            "--connections" => a.connections = next().map_or(a.connections, |v| v as usize),
            "--entries" => a.entries = next().map_or(a.entries, |v| v as usize),
            "--rules" => a.rules = next().map_or(a.rules, |v| v as usize),
            "--overload" => a.overload = true,
            "--payout" => a.payout = true,
            "--rate" => {
                let rate = argv.get(i + 1).and_then(|v| v.parse::<f64>().ok());
                match rate {
                    Some(r) if r.is_finite() && r > 0.0 => a.rate = Some(r),
                    _ => panic!("--rate takes a number of requests per second above 0"),
                }
            }
            _ => {}
        }
        i += 1;
    }
    a
}

/// The reference: parse the same JSON into the same type, echo it back.
#[handler]
fn echo_route(Json(body): Json<AssessRequest>) -> Json<AssessRequest> {
    Json(body)
}

/// The payout reference.
#[handler]
fn echo_payout_route(Json(body): Json<PayoutRequest>) -> Json<PayoutRequest> {
    Json(body)
}

struct Target {
    addr: std::net::SocketAddr,
    key: String,
    /// The fresh SQLite file's folder, removed when the run ends.
    dir: std::path::PathBuf,
}

async fn setup(a: &Args) -> Target {
    let dir = std::env::temp_dir().join(format!("clausum-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = Config::for_database(
        &std::env::var("BENCH_DB")
            .unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.display())),
    );
    config.assess_timeout_ms = 10_000;
    let store = server::open_store(&config.database_url).await.unwrap();
    let creds = bootstrap::create_organization(
        store.as_ref(),
        NewOrganization {
            name: "Bench".into(),
            segment: if a.payout { Segment::Banco } else { Segment::Comercio },
            admin_email: None,
            rate_limit_per_minute: i64::from(u32::MAX),
        },
    )
    .await
    .unwrap();
    let org = creds.organization_id.clone();

    let t = Instant::now();
    let entries = if a.payout {
        let mut e = synthetic::blocklist(a.entries / 2, 1);
        e.extend(synthetic::payout_blocklist(a.entries - a.entries / 2, 1));
        e
    } else {
        synthetic::blocklist(a.entries, 1)
    };
    let rows: Vec<BlocklistRow> = entries
        .into_iter()
        .enumerate()
        .map(|(i, (lt, raw, sev, scope))| BlocklistRow {
            id: format!("bl_{i}"),
            organization_id: org.clone(),
            list_type: lt.as_str().into(),
            value: lt.normalize(&raw).unwrap(),
            severity: sev.as_str().into(),
            flow_scope: scope.as_str().into(),
            reason: None,
            source: "manual".into(),
            is_active: true,
            expires_at: None,
            created_at: 0,
            created_by: None,
            updated_at: 0,
        })
        .collect();
    for chunk in rows.chunks(50_000) {
        store.insert_blocklist_entries(chunk).await.unwrap();
    }
    let now = now_ms();
    let rules: Vec<RuleRow> = synthetic::rules(a.rules, 1)
        .into_iter()
        .enumerate()
        .map(|(i, (name, source))| RuleRow {
            id: format!("rule_{i}"),
            organization_id: org.clone(),
            name,
            source,
            priority: i as i64,
            enabled: true,
            created_at: now,
            updated_at: now,
        })
        .collect();
    store.insert_rules(&rules).await.unwrap();
    let state = server::load_state(store, &config).await.unwrap();
    {
        let o = state.org(&org).unwrap();
        let loaded_entries = o.blocklist.read().unwrap().len();
        let loaded_rules = o.settings.read().unwrap().rules.len();
        eprintln!(
            "loaded {loaded_entries} blocklist entries and {loaded_rules} rules in {:.1?}",
            t.elapsed()
        );
    }

    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let app = Route::new()
        .at("/bench/echo", post(echo_route))
        .at("/bench/echo_payout", post(echo_payout_route))
        .nest("/", api::app(state, config.max_body_bytes))
        .boxed();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    Target { addr, key: creds.keys.secret, dir }
}

/// Requests for one route: pre-serialised bodies cycled through.
#[derive(Clone)]
struct Load {
    addr: std::net::SocketAddr,
    path: &'static str,
    key: Arc<str>,
    bodies: Arc<Vec<Bytes>>,
    /// Send an `Idempotency-Key` header unique to each request (see the
    /// module docs: payout bodies name a key of their own).
    fresh_keys: bool,
}

/// The next unique `Idempotency-Key` of the run.
static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

fn fresh_key() -> String {
    format!("bench-{}", NEXT_KEY.fetch_add(1, Ordering::Relaxed))
}

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(addr: std::net::SocketAddr) -> Sender {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    sender
}

/// Sends one request, reads the whole answer; returns whether it was 200.
async fn send(sender: &mut Sender, load: &Load, i: u64) -> bool {
    let body = load.bodies[(i % load.bodies.len() as u64) as usize].clone();
    let mut req = Request::post(load.path)
        .header("host", "bench")
        .header("authorization", format!("Bearer {}", load.key))
        .header("content-type", "application/json");
    if load.fresh_keys {
        req = req.header("idempotency-key", fresh_key());
    }
    let req = req.body(Full::new(body)).unwrap();
    match sender.send_request(req).await {
        Ok(res) => {
            let ok = res.status() == 200;
            let _ = res.into_body().collect().await;
            ok
        }
        Err(_) => false,
    }
}

/// Closed loop: `connections` clients sending back to back for `secs`.
async fn saturate(load: &Load, connections: usize, secs: u64) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (load, done, errors, stop, seq) =
            (load.clone(), done.clone(), errors.clone(), stop.clone(), seq.clone());
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(load.addr).await;
            while !stop.load(Ordering::Relaxed) {
                let i = seq.fetch_add(1, Ordering::Relaxed);
                if send(&mut sender, &load, i).await {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // A short warm-up is excluded from the count.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let start_count = done.load(Ordering::Relaxed);
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let n = done.load(Ordering::Relaxed) - start_count;
    let rate = n as f64 / t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    (rate, errors.load(Ordering::Relaxed))
}

/// Latencies of an open-loop run, in microseconds.
struct Latencies {
    /// From each request's scheduled send time: includes any queueing and
    /// the client timer's 1 ms granularity.
    scheduled: Histogram<u64>,
    /// From the moment the request was actually written.
    service: Histogram<u64>,
    errors: u64,
}

fn histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// Open loop at `rate` requests/s spread over `connections`.
async fn fixed_rate(load: &Load, connections: usize, rate: f64, secs: u64) -> Latencies {
    let per_conn_interval = Duration::from_secs_f64(connections as f64 / rate);
    let mut tasks = Vec::new();
    let start = Instant::now() + Duration::from_millis(200);
    let end = start + Duration::from_secs(secs);
    for c in 0..connections {
        let load = load.clone();
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(load.addr).await;
            let (mut scheduled, mut service) = (histogram(), histogram());
            let mut errors = 0u64;
            // Stagger connections across one interval.
            let mut next = start + per_conn_interval.mul_f64(c as f64 / connections as f64);
            let mut i = c as u64;
            while next < end {
                tokio::time::sleep_until(next.into()).await;
                let sent = Instant::now();
                if !send(&mut sender, &load, i).await {
                    errors += 1;
                }
                let done = Instant::now();
                scheduled
                    .record((done.saturating_duration_since(next).as_micros() as u64).max(1))
                    .unwrap();
                service
                    .record((done.saturating_duration_since(sent).as_micros() as u64).max(1))
                    .unwrap();
                next += per_conn_interval;
                i += connections as u64;
            }
            Latencies { scheduled, service, errors }
        }));
    }
    let mut all = Latencies { scheduled: histogram(), service: histogram(), errors: 0 };
    for t in tasks {
        let l = t.await.unwrap();
        all.scheduled.add(&l.scheduled).unwrap();
        all.service.add(&l.service).unwrap();
        all.errors += l.errors;
    }
    all
}

/// What an overload phase saw.
struct Overload {
    sent: u64,
    /// Answers by kind: `200`, `429`, `503`, `504`, `other`, `timeout`.
    outcomes: std::collections::BTreeMap<&'static str, u64>,
    /// Latency of every answer (any status), microseconds.
    answered: Histogram<u64>,
    /// Answers (of any status) within one second.
    within_1s: u64,
}

/// True open loop at `rate`/s for `secs`: each request leaves on schedule
/// whether or not earlier ones were answered (as many independent
/// checkouts do), with the 1 s client timeout merchants are advised to use.
async fn overload(load: &Load, rate: f64, secs: u64) -> Overload {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .pool_max_idle_per_host(4096)
        .build()
        .unwrap();
    let url = format!("http://{}{}", load.addr, load.path);
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let mut next = start;
    let mut tasks = Vec::new();
    let mut i = 0u64;
    while next < start + Duration::from_secs(secs) {
        tokio::time::sleep_until(next.into()).await;
        let (client, url, key) = (client.clone(), url.clone(), load.key.clone());
        let body = load.bodies[(i % load.bodies.len() as u64) as usize].clone();
        let fresh = load.fresh_keys.then(fresh_key);
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let mut r = client
                .post(&url)
                .bearer_auth(&*key)
                .header("content-type", "application/json")
                .body(body);
            if let Some(k) = fresh {
                r = r.header("idempotency-key", k);
            }
            let r = r.send().await;
            let kind = match &r {
                Ok(r) => match r.status().as_u16() {
                    200 => "200",
                    429 => "429",
                    503 => "503",
                    504 => "504",
                    _ => "other",
                },
                Err(_) => "timeout",
            };
            if let Ok(r) = r {
                let _ = r.bytes().await;
            }
            (kind, sent.elapsed())
        }));
        next += interval;
        i += 1;
    }
    let mut out =
        Overload { sent: i, outcomes: Default::default(), answered: histogram(), within_1s: 0 };
    for t in tasks {
        let (kind, took) = t.await.unwrap();
        *out.outcomes.entry(kind).or_default() += 1;
        if kind != "timeout" {
            out.answered.record((took.as_micros() as u64).max(1)).unwrap();
            if took <= Duration::from_secs(1) {
                out.within_1s += 1;
            }
        }
    }
    out
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

fn main() {
    let a = args();
    let server_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let target = server_rt.block_on(setup(&a));
    let client_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    let body = |i: u64| {
        if a.payout {
            serde_json::to_vec(&synthetic::payout_request(i)).unwrap()
        } else {
            serde_json::to_vec(&synthetic::request(i)).unwrap()
        }
    };
    let bodies: Arc<Vec<Bytes>> = Arc::new((0..20_000).map(|i| Bytes::from(body(i))).collect());
    let key: Arc<str> = target.key.into();
    let dir = target.dir;
    let (route, echo_path) = if a.payout {
        ("/api/v1/assess/payout", "/bench/echo_payout")
    } else {
        ("/api/v1/assess", "/bench/echo")
    };
    let fresh_keys = a.payout;
    let assess = Load {
        addr: target.addr,
        path: route,
        key: key.clone(),
        bodies: bodies.clone(),
        fresh_keys,
    };
    let echo = Load { addr: target.addr, path: echo_path, key, bodies, fresh_keys };

    client_rt.block_on(async {
        eprintln!("saturation: {} connections, {} s per route", a.connections, a.seconds);
        let (echo_rps, echo_err) = saturate(&echo, a.connections, a.seconds).await;
        let (assess_rps, assess_err) = saturate(&assess, a.connections, a.seconds).await;
        let half = a.rate.unwrap_or(assess_rps / 2.0);
        eprintln!("latency: open loop at {half:.0} req/s for {} s per route", a.seconds);
        let assess_lat = fixed_rate(&assess, a.connections, half, a.seconds).await;
        let echo_lat = fixed_rate(&echo, a.connections, half, a.seconds).await;

        println!();
        println!("Saturation (closed loop, {} connections):", a.connections);
        println!();
        println!("| route | req/s | errors |");
        println!("|---|---|---|");
        println!("| POST {route} | {assess_rps:.0} | {assess_err} |");
        println!("| POST {echo_path} (parse + echo) | {echo_rps:.0} | {echo_err} |");
        println!();
        let at = if a.rate.is_some() { "as given by --rate" } else { "half of assess saturation" };
        println!("Latency at {half:.0} req/s ({at}, open loop):");
        println!();
        println!("| route | measured from | p50 | p90 | p99 | p99.9 | max | errors |");
        println!("|---|---|---|---|---|---|---|---|");
        for (name, l) in [(route, &assess_lat), (echo_path, &echo_lat)] {
            for (from, h) in [("send", &l.service), ("schedule", &l.scheduled)] {
                println!(
                    "| {name} | {from} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
                    ms(h, 0.5),
                    ms(h, 0.9),
                    ms(h, 0.99),
                    ms(h, 0.999),
                    h.max() as f64 / 1000.0,
                    l.errors
                );
            }
        }
        if a.overload {
            println!();
            println!("Overload (open loop, every request its own checkout with a 1 s timeout):");
            println!();
            println!("| offered load | sent | answered within 1 s | p50 | p99 | outcomes |");
            println!("|---|---|---|---|---|---|");
            for factor in [1.0, 2.0] {
                let o = overload(&assess, assess_rps * factor, a.seconds).await;
                println!(
                    "| {factor:.0}× ({:.0} req/s) | {} | {:.1} % | {:.2} ms | {:.2} ms | {:?} |",
                    assess_rps * factor,
                    o.sent,
                    100.0 * o.within_1s as f64 / o.sent.max(1) as f64,
                    ms(&o.answered, 0.5),
                    ms(&o.answered, 0.99),
                    o.outcomes
                );
            }
        }
        println!();
        println!("assess / echo throughput ratio: {:.2}", assess_rps / echo_rps);
        println!(
            "organisation: {} blocklist entries, {} rules; {} connections; {} s per phase",
            a.entries, a.rules, a.connections, a.seconds
        );
    });
    // Hundreds of megabytes: gone with the run, not left in the temp folder.
    let _ = std::fs::remove_dir_all(&dir);
}
