//! Simulation: a request through exactly the live pipeline — the same
//! engine, lists, rules, weights and thresholds — with nothing moved.
//!
//! Velocity is read, never counted; history is read, never recorded; no
//! transaction is written (the run goes to its own table, labelled) and no
//! webhook is queued. A burst preset replays its earlier attempts into a
//! scratch counter, so it shows the signals a real burst would without
//! touching the live one.

use clausum_core::{
    engine::Assessment,
    session,
    simulation::EarlierAttempt,
    transaction::Transaction,
    velocity::{MemoryVelocity, Observation, VelocityStore},
    wire::{AssessResponse, Flow},
};

use crate::{
    assess::{Facts, evaluate, gather},
    error::ApiError,
    state::AppState,
    store::SimulationRow,
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
    let org = match state.org(org_id) {
        Some(org) => org,
        None => {
            state.reload_org(org_id).await?;
            state
                .org(org_id)
                .ok_or_else(|| ApiError::internal(&format!("organisation {org_id} not found")))?
        }
    };
    let settings = org.settings.read().expect("settings lock").clone();
    let submerchant_name = settings.submerchant(tx.submerchant_id.as_deref())?;
    let now = now_ms();
    let g = gather(state, org_id, tx, now, false).await?;
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
    let facts = Facts { velocity: &velocity, history: &g.history, ip_country: g.ip_country };
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
        request: serde_json::to_string(&tx.to_wire()).expect("wire types serialise"),
        response: serde_json::to_string(&response).expect("response serialises"),
        created_at: now,
    };
    state.store.insert_simulation(&row).await?;
    Ok(Run { response, row })
}
