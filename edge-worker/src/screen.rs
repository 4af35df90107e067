//! Pre-screening one assess request: parse and normalise it exactly as the
//! origin does (`clausum_core::transaction`), probe the snapshot with the
//! engine's own probing (`clausum_core::engine::prescreen`), and on a
//! `block` hit build the decline the origin would have answered.
//!
//! Pay-ins and payouts alike: a payout's beneficiary account (CLABE, IBAN,
//! account hash, SWIFT/BIC, beneficiary id) is probed like a pay-in's
//! email or card. Anything the edge cannot decide with certainty — a body
//! that does not parse or validate, no hit — is forwarded untouched: the
//! origin has the last word.
//!
//! So is a request that carries an idempotency key
//! ([`carries_idempotency_key`]): a retry must get the answer its first
//! attempt got, and only the origin holds that answer.

use clausum_core::{
    blocklist::snapshot::Snapshot,
    engine::{Context, prescreen::prescreen},
    history::HistoryView,
    scoring::Decision,
    session,
    transaction::Transaction,
    velocity::VelocitySnapshot,
    wire::{AssessRequest, AssessResponse, Flow, PayoutRequest, SignalDetail},
};

/// Name of the body field that marks an answer the edge gave itself.
pub const DECIDED_BY_FIELD: &str = "decided_by";

/// The outcome of screening.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// Not decided here: forward to the origin.
    Forward,
    /// Declined here.
    Decline(Box<Decline>),
}

/// A decline decided at the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Decline {
    /// The response body: the origin's shape plus `"decided_by": "edge"`.
    pub body: serde_json::Value,
    /// What blocked it.
    pub blocked_by: String,
    /// The transaction id answered (the origin records under it).
    pub transaction_id: String,
    /// The session id answered.
    pub session_id: String,
}

/// Ids for a decline, made only when one is needed.
pub struct FreshIds {
    /// `txn_…`.
    pub transaction_id: String,
    /// `ps_…`, used when the request carries no session id.
    pub session_id: String,
}

/// One assess request as the worker received it.
pub struct Incoming<'a> {
    /// Which endpoint.
    pub flow: Flow,
    /// The raw body.
    pub body: &'a [u8],
    /// The `Idempotency-Key` header, if the request has one.
    pub idempotency_header: Option<&'a str>,
    /// When the worker started on it (unix ms), for `latency_ms`.
    pub started_ms: i64,
}

/// Screens `req` against `snapshot` at `now_ms`.
pub fn screen(
    snapshot: &Snapshot,
    req: &Incoming<'_>,
    now_ms: i64,
    ids: impl FnOnce() -> FreshIds,
) -> Screen {
    if snapshot.is_empty() {
        return Screen::Forward;
    }
    let Some(tx) = parse(req) else { return Screen::Forward };
    if tx.session_id.as_deref().is_some_and(|s| !session::is_valid(s))
        || carries_idempotency_key(req.idempotency_header, &tx)
    {
        return Screen::Forward;
    }
    let (velocity, history) = (VelocitySnapshot::default(), HistoryView::default());
    // ip_country stays unknown: the origin's geolocation decides country
    // entries, so an edge decline is always one the origin would make too.
    let ctx = Context {
        flow: req.flow,
        ip_country: None,
        velocity: &velocity,
        history: &history,
        now_ms,
        payout: None,
    };
    let Some(decline) = prescreen(snapshot, &tx, &ctx) else { return Screen::Forward };

    let FreshIds { transaction_id, session_id } = ids();
    let session_id = tx.session_id.clone().unwrap_or(session_id);
    let response = AssessResponse {
        decision: Decision::Decline,
        risk_score: 100,
        signals: decline.signals.iter().map(|s| s.code.clone().into_owned()).collect(),
        signal_details: decline
            .signals
            .iter()
            .map(|s| SignalDetail {
                code: s.code.clone().into_owned(),
                weight: s.weight,
                description: s.description.clone(),
            })
            .collect(),
        session_id: session_id.clone(),
        blocked_by: Some(decline.blocked_by.clone()),
        latency_ms: u64::try_from(now_ms.saturating_sub(req.started_ms)).unwrap_or(0),
        flow: req.flow,
        // Field warnings depend on the organisation's segment, which the
        // edge does not hold; the recorded transaction carries them.
        field_warnings: Vec::new(),
        transaction_id: transaction_id.clone(),
        order_id: tx.order_id.clone(),
        payment_id: tx.payment_id.clone(),
        // Never one: a request with an idempotency key is the origin's.
        idempotency_key: None,
        submerchant_id: tx.submerchant_id.clone(),
        // The snapshot holds no submerchant names; the recorded transaction does.
        submerchant_name: None,
    };
    let mut body = serde_json::to_value(&response).expect("response serialises");
    body[DECIDED_BY_FIELD] = serde_json::Value::from("edge");
    Screen::Decline(Box::new(Decline {
        body,
        blocked_by: decline.blocked_by,
        transaction_id,
        session_id,
    }))
}

/// Whether a request carries an idempotency key by the origin's rule
/// (`origin/src/assess.rs`, `idempotency_key`): an `Idempotency-Key`
/// header (any value: a malformed one is the origin's 400 to explain), else
/// the body's `idempotency_key`, else both `order_id` and `payment_id`.
/// Such a request is never declined at the edge: a retry must get exactly
/// the answer its first attempt got — which may have been the origin's
/// approval before the payer was blocklisted, or a conflict for a
/// different body under the same key — and only the origin knows it.
pub fn carries_idempotency_key(header: Option<&str>, tx: &Transaction) -> bool {
    header.is_some() || tx.body_idempotency_key().is_some()
}

/// The request normalised exactly as the origin would, or `None` when it
/// would refuse it (the origin then explains why).
fn parse(req: &Incoming<'_>) -> Option<Transaction> {
    match req.flow {
        Flow::Payin => {
            let wire = serde_json::from_slice::<AssessRequest>(req.body).ok()?;
            Transaction::from_wire(&wire).ok()
        }
        Flow::Payout => {
            let wire = serde_json::from_slice::<PayoutRequest>(req.body).ok()?;
            Transaction::from_payout_wire(&wire).ok()
        }
    }
}

#[cfg(test)]
#[path = "screen_tests.rs"]
mod tests;
