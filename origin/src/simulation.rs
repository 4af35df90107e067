//! Simulation: a request through exactly the live pipeline — the same
//! engine, lists, rules, weights and thresholds — with nothing moved.
//!
//! Velocity is read, never counted; history is read, never recorded; no
//! transaction is written (the run goes to its own table, labelled) and no
//! webhook is queued. A burst preset replays its earlier attempts into a
//! scratch counter, so it shows the signals a real burst would without
//! touching the live one.

use std::sync::Arc;

use clausum_core::{
    engine::{
        Assessment,
        backtest::{self, Recorded, Tally},
    },
    policy::Policy,
    rules::RuleSet,
    scoring::Decision,
    session,
    simulation::EarlierAttempt,
    transaction::Transaction,
    velocity::{MemoryVelocity, Observation, VelocityStore},
    wire::{AssessRequest, AssessResponse, Flow, PayoutRequest, SignalDetail},
};

use crate::{
    assess::{Facts, evaluate, gather},
    error::ApiError,
    state::AppState,
    store::{RecordedRow, SimulationRow},
    time::now_ms,
};

/// A finished run: the answer, and the row that labels it.
#[derive(Debug)]
pub struct Run {
    /// The answer, shaped as the live endpoint's.
    pub response: AssessResponse,
    /// The stored run.
    pub row: SimulationRow,
}

/// Simulates `tx` for `org_id`. `earlier` are attempts to replay into a
/// scratch velocity counter first (burst presets); without them, the live
/// counters are read.
pub async fn run(
    state: &AppState,
    org_id: &str,
    actor: String,
    flow: Flow,
    preset: Option<&str>,
    tx: &Transaction,
    earlier: &[EarlierAttempt],
) -> Result<Run, ApiError> {
    let started = std::time::Instant::now();
    let org = state.org_or_load(org_id).await?;
    let settings = org.settings_now();
    let submerchant_name = settings.submerchant(tx.submerchant_id.as_deref())?;
    let now = now_ms();
    let g = gather(state, org_id, &settings, tx, now, false).await?;
    let velocity = if earlier.is_empty() {
        g.velocity
    } else {
        let mut scratch = MemoryVelocity::new();
        for (i, a) in earlier.iter().enumerate() {
            scratch.observe(&Observation {
                keys: g.observation.keys.clone(),
                at_ms: now - a.ms_before,
                amount_minor: a.amount_minor,
                id: i as u64,
            });
        }
        scratch.peek(&Observation { id: earlier.len() as u64, ..g.observation.clone() })
    };
    let facts = Facts {
        velocity: &velocity,
        history: &g.history,
        ip_country: g.ip_country,
        payout: g.payout,
    };
    let assessment: Assessment = evaluate(&org, &settings, tx, flow, &facts, now);

    let id = crate::api::common::new_id("sim");
    let response = AssessResponse {
        decision: assessment.decision,
        risk_score: assessment.risk_score,
        signals: assessment.signal_codes(),
        signal_details: assessment.signal_details(),
        session_id: tx.session_id.clone().unwrap_or_else(|| session::generate(now, rand::random())),
        blocked_by: assessment.blocked_by.clone(),
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        flow,
        field_warnings: assessment.field_warnings.clone(),
        transaction_id: id.clone(),
        order_id: tx.order_id.clone(),
        payment_id: tx.payment_id.clone(),
        idempotency_key: None,
        submerchant_id: tx.submerchant_id.clone(),
        submerchant_name,
    };
    let row = SimulationRow {
        id,
        organization_id: org_id.to_owned(),
        actor,
        flow: flow.as_str().to_owned(),
        preset: preset.map(str::to_owned),
        amount_minor: tx.amount.minor(),
        currency: tx.amount.currency().code().to_owned(),
        decision: assessment.decision.as_str().to_owned(),
        risk_score: i64::from(assessment.risk_score),
        request: match tx.to_payout_wire() {
            Some(w) => serde_json::to_string(&w),
            None => serde_json::to_string(&tx.to_wire()),
        }
        .expect("wire types serialise"),
        response: serde_json::to_string(&response).expect("response serialises"),
        created_at: now,
    };
    state.store.insert_simulation(&row).await?;
    Ok(Run { response, row })
}

/// Rows read per database round trip in a backtest.
const BACKTEST_PAGE: i64 = 5_000;

/// A changed decision, as an example.
#[derive(Debug, Clone)]
pub struct Changed {
    /// The recorded transaction.
    pub row: RecordedRow,
    /// What was decided.
    pub recorded: Decision,
    /// What the draft would have decided.
    pub replayed: Decision,
}

/// What a backtest found.
#[derive(Debug, Default)]
pub struct BacktestOutcome {
    /// The counts.
    pub tally: Tally,
    /// The first changed decisions, in time order.
    pub examples: Vec<Changed>,
    /// Rows whose stored request or answer no longer parses (skipped).
    pub unreadable: u64,
}

/// Replays the recorded assessments of `[since, until)` with `draft` rules
/// and the organisation's current policy. Reads in keyset pages; each page
/// is replayed on the blocking pool, split across the available cores.
pub async fn backtest(
    state: &AppState,
    org_id: &str,
    draft: Arc<RuleSet>,
    since: i64,
    until: i64,
    flow: Option<Flow>,
    examples: usize,
) -> Result<BacktestOutcome, ApiError> {
    let org = state.org_or_load(org_id).await?;
    let policy = Arc::new(org.settings.read().expect("settings lock").policy.clone());
    let flow = flow.map(Flow::as_str);
    let mut out = BacktestOutcome::default();
    let fetch = |after: Option<(i64, String)>| {
        state.store.recorded_page(org_id, since, until, flow, after, BACKTEST_PAGE)
    };
    let mut rows = fetch(None).await?;
    // Each page is replayed on the blocking pool while the next is read.
    while let Some(last) = rows.last() {
        let next_after = Some((last.created_at, last.id.clone()));
        let full = rows.len() as i64 == BACKTEST_PAGE;
        let (policy, draft) = (policy.clone(), draft.clone());
        let want = examples.saturating_sub(out.examples.len());
        let replay = tokio::task::spawn_blocking(move || replay_page(&policy, &draft, rows, want));
        let next = async {
            match full {
                true => fetch(next_after).await.map(Some),
                false => Ok(None),
            }
        };
        let (page, next) = tokio::join!(replay, next);
        let page = page.map_err(|e| ApiError::internal(&e))?;
        out.tally.merge(page.tally);
        out.examples.extend(page.examples);
        out.unreadable += page.unreadable;
        match next? {
            Some(r) => rows = r,
            None => break,
        }
    }
    Ok(out)
}

fn replay_page(
    policy: &Policy,
    draft: &RuleSet,
    rows: Vec<RecordedRow>,
    want: usize,
) -> BacktestOutcome {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = rows.len().div_ceil(threads).max(1);
    let parts: Vec<BacktestOutcome> = std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .chunks(chunk)
            .map(|part| s.spawn(move || replay_rows(policy, draft, part, want)))
            .collect();
        handles.into_iter().map(|h| h.join().expect("replay thread")).collect()
    });
    // Chunks are in time order: the first `want` examples across them are
    // the page's first.
    let mut out = BacktestOutcome::default();
    for p in parts {
        out.tally.merge(p.tally);
        out.unreadable += p.unreadable;
        let room = want.saturating_sub(out.examples.len());
        out.examples.extend(p.examples.into_iter().take(room));
    }
    out
}

fn replay_rows(
    policy: &Policy,
    draft: &RuleSet,
    rows: &[RecordedRow],
    want: usize,
) -> BacktestOutcome {
    let mut out = BacktestOutcome::default();
    for row in rows {
        let Some(rec) = recorded(row) else {
            out.unreadable += 1;
            continue;
        };
        let replayed = backtest::replay(policy, draft, &rec);
        if out.tally.add(rec.decision, replayed) && out.examples.len() < want {
            out.examples.push(Changed { row: row.clone(), recorded: rec.decision, replayed });
        }
    }
    out
}

/// The parts of a stored answer a replay needs.
#[derive(serde::Deserialize)]
struct StoredAnswer {
    decision: Decision,
    #[serde(default)]
    signal_details: Vec<SignalDetail>,
    blocked_by: Option<String>,
}

/// Reads a stored transaction back; `None` when it no longer parses.
fn recorded(row: &RecordedRow) -> Option<Recorded> {
    let answer: StoredAnswer = serde_json::from_str(&row.response).ok()?;
    let (flow, tx) = if row.flow == "payout" {
        let request: PayoutRequest = serde_json::from_str(&row.request).ok()?;
        (Flow::Payout, Transaction::from_payout_wire(&request).ok()?)
    } else {
        let request: AssessRequest = serde_json::from_str(&row.request).ok()?;
        (Flow::Payin, Transaction::from_wire(&request).ok()?)
    };
    Some(Recorded {
        tx,
        flow,
        decision: answer.decision,
        signals: answer.signal_details,
        blocked_by: answer.blocked_by,
        at_ms: row.created_at,
    })
}
