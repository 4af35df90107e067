//! The backtest over a large recorded history: seeds an organisation with
//! recorded assessments (pay-ins and one in ten payouts, each decided by
//! the real engine and stored as live assess stores it), then times
//! `POST /api/v1/simulation/backtest`'s work — read every row of the
//! period, replay it with a draft of 100 rules — end to end.
//!
//!     cargo bench -p clausum-origin --bench backtest
//!     # options: -- --transactions 1000000 --rules 100
//!     # BENCH_DB=postgres://… for PostgreSQL (an empty database)

use std::{sync::Arc, time::Instant};

use clausum_core::{
    blocklist::BlocklistIndex,
    catalog::Segment,
    digest::DigestKey,
    engine::{self, Context, OrgConfig},
    history::HistoryView,
    policy::Policy,
    rules::{Rule, RuleSet},
    synthetic,
    transaction::Transaction,
    velocity::VelocitySnapshot,
};
use clausum_origin::{
    bootstrap::{self, NewOrganization},
    config::Config,
    server, simulation,
    store::{TransactionRow, packed::PackedDocs},
};

/// The same allocator as the `clausum-origin` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DAY_MS: i64 = 86_400_000;

struct Args {
    transactions: u64,
    rules: usize,
}

fn args() -> Args {
    let mut a = Args { transactions: 1_000_000, rules: 100 };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = || argv.get(i + 1).expect("a value follows the option");
        match argv[i].as_str() {
            "--transactions" => a.transactions = value().parse().expect("a count"),
            "--rules" => a.rules = value().parse().expect("a count"),
            _ => {}
        }
        i += 1;
    }
    a
}

/// One recorded row, decided by the engine (no lists, no velocity) as live
/// assess would store it.
fn recorded(org: &str, i: u64, at: i64, policy: &Policy, index: &BlocklistIndex) -> TransactionRow {
    let tx = if i % 10 == 9 {
        Transaction::from_payout_wire(&synthetic::payout_request(i)).expect("valid payout")
    } else {
        Transaction::from_wire(&synthetic::request(i)).expect("valid pay-in")
    };
    let (velocity, history, rules) =
        (VelocitySnapshot::default(), HistoryView::default(), RuleSet::default());
    let ctx = Context {
        flow: tx.flow(),
        ip_country: None,
        velocity: &velocity,
        history: &history,
        now_ms: at,
        payout: None,
    };
    let a = engine::assess(&OrgConfig { policy, blocklist: index, rules: &rules }, &tx, &ctx);
    let response = serde_json::json!({
        "decision": a.decision, "risk_score": a.risk_score, "signals": a.signal_codes(),
        "signal_details": a.signal_details(), "blocked_by": a.blocked_by, "flow": tx.flow(),
        "transaction_id": format!("txn_{i:012}"),
    });
    let request = match tx.to_payout_wire() {
        Some(w) => serde_json::to_string(&w),
        None => serde_json::to_string(&tx.to_wire()),
    }
    .expect("serialises");
    TransactionRow {
        id: format!("txn_{i:012}"),
        organization_id: org.to_owned(),
        api_key_id: "key_bench".into(),
        source: "assess".into(),
        flow: tx.flow().as_str().into(),
        session_id: None,
        amount_minor: tx.amount.minor(),
        currency: tx.amount.currency().code().into(),
        email: tx.email.as_ref().map(|e| e.as_str().into()),
        card_bin: None,
        card_last4: None,
        ip: None,
        device_fingerprint: None,
        customer_id: tx.customer_id.clone(),
        account_id: None,
        order_id: None,
        payment_id: None,
        submerchant_id: None,
        decision: Some(a.decision.as_str().into()),
        risk_score: Some(i64::from(a.risk_score)),
        blocked_by: a.blocked_by,
        signals: None,
        request,
        response: Some(response.to_string()),
        idempotency_key: None,
        request_hash: None,
        is_fraudulent: false,
        created_at: at,
        provider: None,
        external_id: None,
        fraud_reason: None,
        fraud_reported_at: None,
        released_at: None,
    }
}

fn main() {
    let a = args();
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("clausum-backtest-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = std::env::var("BENCH_DB")
            .unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.display()));
        let config = Config::for_database(&url);
        let store = server::open_store(&config.database_url).await.unwrap();
        let creds = bootstrap::create_organization(
            store.as_ref(),
            NewOrganization {
                name: "Backtest".into(),
                segment: Segment::Banco,
                admin_email: None,
                rate_limit_per_minute: 100,
            },
        )
        .await
        .unwrap();
        let org = creds.organization_id.clone();

        // Recorded 100–200 days ago: older than the 90 days a start replays
        // into velocity and history, so loading the state stays quick.
        let t = Instant::now();
        let (policy, index) = (Policy::default(), BlocklistIndex::new(DigestKey::new([1; 16])));
        let now = clausum_origin::time::now_ms();
        let start = now - 200 * DAY_MS;
        let step = (100 * DAY_MS) / i64::try_from(a.transactions.max(1)).unwrap();
        // Through the assess writer's own path where there is one (SQLite:
        // its connection, responses compressed), so the rows read back
        // are stored as live ones are.
        let mut direct = store.batch_writer().unwrap();
        let mut batch = Vec::with_capacity(10_000);
        let mut write = async |batch: &mut Vec<TransactionRow>| {
            match &mut direct {
                Some(w) => {
                    let packed: Vec<_> = batch.iter().map(|r| Some(PackedDocs::of(r))).collect();
                    w.write(batch, &packed, &vec![None; batch.len()]).unwrap();
                }
                None => drop(store.insert_transactions(batch).await.unwrap()),
            }
            batch.clear();
        };
        for i in 0..a.transactions {
            batch.push(recorded(&org, i, start + i64::try_from(i).unwrap() * step, &policy, &index));
            if batch.len() == 10_000 {
                write(&mut batch).await;
            }
        }
        write(&mut batch).await;
        drop(direct);
        eprintln!("seeded {} recorded transactions in {:.1?}", a.transactions, t.elapsed());

        let state = server::load_state(store, &config).await.unwrap();
        let draft: Vec<(String, Rule)> = synthetic::rules(a.rules, 7)
            .into_iter()
            .map(|(name, source)| (name, Rule::compile(&source).expect("synthetic rules compile")))
            .collect();
        let draft = Arc::new(RuleSet::new(draft));
        for run in 1..=3 {
            let t = Instant::now();
            let out = simulation::backtest(&state, &org, draft.clone(), start, now, None, 10)
                .await
                .unwrap();
            let secs = t.elapsed().as_secs_f64();
            println!(
                "run {run}: {} transactions, {} rules: {} changed, {} unreadable, {:.2} s ({:.0} tx/s)",
                out.tally.total,
                a.rules,
                out.tally.changed,
                out.unreadable,
                secs,
                out.tally.total as f64 / secs
            );
            assert_eq!(out.tally.total, a.transactions, "every recorded transaction replayed");
            assert_eq!(out.unreadable, 0, "every stored row reads back");
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}
