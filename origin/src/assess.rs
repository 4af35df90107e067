//! The pay-in assess pipeline: validate, de-duplicate, count, decide,
//! record, answer. The decision itself is `clausum_core::engine`'s; this
//! module supplies the state around it and makes the write durable before
//! the answer leaves.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Instant,
};

use bytes::Bytes;
use clausum_core::{
    engine::{self, Context, OrgConfig, PayerIdentity},
    history::HistoryView,
    keys::{self, KeyKind},
    normalize::text,
    scoring::Decision,
    session,
    transaction::Transaction,
    velocity::{Observation, VelocitySnapshot, VelocityStore},
    webhook::EventType,
    wire::{AssessRequest, AssessResponse, ErrorCode, Flow},
};
use sha2::{Digest, Sha256};

use crate::{
    error::ApiError,
    idempotency::{Begin, Stored},
    state::{AppState, KeyInfo},
    store::{InsertOutcome, TransactionRow},
    time::now_ms,
};

/// An answer ready to send.
#[derive(Debug)]
pub struct Answer {
    /// The exact JSON body.
    pub body: Bytes,
    /// True when it replays an earlier answer for the same idempotency key.
    pub replayed: bool,
    /// True for a publishable-key pre-check (not recorded, not authoritative).
    pub precheck: bool,
}

/// Assesses a pay-in for `key`. `header_key` is the `Idempotency-Key` header.
pub async fn payin(
    state: &Arc<AppState>,
    key: &KeyInfo,
    req: AssessRequest,
    header_key: Option<String>,
    started: Instant,
) -> Result<Answer, ApiError> {
    let precheck = match key.kind {
        KeyKind::Ingest => {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "Event-ingest keys (clm_wh_) can only call the event ingest endpoint; use a secret key (clm_sk_) for assess.",
            ));
        }
        KeyKind::Publishable => true,
        KeyKind::Secret => false,
    };
    if !keys::grants(&key.permissions, keys::PERM_ASSESS) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "This API key lacks the `assess` permission.",
        ));
    }
    let tx = Transaction::from_wire(&req).map_err(|e| ApiError::field(&e.field, e.to_string()))?;
    if let Some(id) = &tx.session_id
        && !session::is_valid(id)
    {
        return Err(ApiError::field(
            "session_id",
            "session_id must be an id issued by the browser SDK (ps_<milliseconds>_<random>)",
        ));
    }
    let idem_key = idempotency_key(header_key, &tx)?;
    let (mut stored_request, request_hash) = canonical_request(&tx);
    // A browser session named by the request fills the device and behaviour
    // fields it left out (what the caller sent wins). The hash stays that of
    // what the caller sent: a retry matches even if the page re-registered
    // the session in between.
    let tx = match crate::api::sessions::merged(state, &key.organization_id, &req).await? {
        Some(merged) => {
            stored_request = canonical_request(&merged).0;
            merged
        }
        None => tx,
    };
    let prepared = Prepared { tx, stored_request, request_hash, precheck };

    if precheck || idem_key.is_none() {
        return decide_and_record(state, key, &prepared, None, started).await;
    }
    let idem = idem_key.expect("checked");
    loop {
        match state.idempotency.begin(&key.organization_id, &idem) {
            Begin::Replay(stored) => return replay(stored, &prepared.request_hash),
            Begin::Wait(notify) => {
                // Woken when the first request finishes (the claim is then
                // gone or answered); the handler's deadline bounds the wait.
                let notified = notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if state.idempotency.in_flight(&key.organization_id, &idem) {
                    notified.await;
                }
            }
            Begin::Fresh => {
                let claim = Claim { state, org: &key.organization_id, key: &idem, stored: None };
                return decide_and_record(state, key, &prepared, Some(claim), started).await;
            }
        }
    }
}

/// Releases an idempotency claim on every path out, even a cancelled one.
struct Claim<'a> {
    state: &'a AppState,
    org: &'a str,
    key: &'a str,
    stored: Option<Stored>,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.state.idempotency.finish(self.org, self.key, self.stored.take());
    }
}

fn replay(stored: Stored, request_hash: &str) -> Result<Answer, ApiError> {
    if stored.request_hash != request_hash {
        return Err(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            "This idempotency key was already used with a different request body.",
        ));
    }
    Ok(Answer { body: stored.response, replayed: true, precheck: false })
}

/// The key that makes a retry safe: the header, else the body's
/// `idempotency_key`, else a stable `order_id` + `payment_id` pair.
fn idempotency_key(header: Option<String>, tx: &Transaction) -> Result<Option<String>, ApiError> {
    if let Some(h) = header {
        let clean = text::clean_token(&h, 255).map_err(|e| {
            ApiError::field("Idempotency-Key", format!("Idempotency-Key header: {e}"))
        })?;
        return Ok(Some(clean));
    }
    if let Some(k) = &tx.idempotency_key {
        return Ok(Some(k.clone()));
    }
    Ok(match (&tx.order_id, &tx.payment_id) {
        (Some(o), Some(p)) => Some(format!("order:{o}:payment:{p}")),
        _ => None,
    })
}

/// The normalised request as stored, and the SHA-256 of it without its
/// idempotency key: two bodies that mean the same thing hash the same.
fn canonical_request(tx: &Transaction) -> (String, String) {
    let mut wire = tx.to_wire();
    let stored = serde_json::to_string(&wire).expect("wire types serialise");
    let hash = if wire.idempotency_key.is_some() {
        wire.idempotency_key = None;
        hex::encode(Sha256::digest(serde_json::to_vec(&wire).expect("wire types serialise")))
    } else {
        hex::encode(Sha256::digest(stored.as_bytes()))
    };
    (stored, hash)
}

/// A validated request, ready to decide.
struct Prepared {
    tx: Transaction,
    /// The normalised request as stored.
    stored_request: String,
    /// Its hash without the idempotency key.
    request_hash: String,
    /// A publishable-key pre-check.
    precheck: bool,
}

async fn decide_and_record(
    state: &Arc<AppState>,
    key: &KeyInfo,
    prepared: &Prepared,
    mut claim: Option<Claim<'_>>,
    started: Instant,
) -> Result<Answer, ApiError> {
    let Prepared { tx, stored_request, request_hash, precheck } = prepared;
    let precheck = *precheck;
    let org = match state.org(&key.organization_id) {
        Some(org) => org,
        // Created by another process (the CLI, another replica) since this
        // one loaded: load it now rather than wait for the reconcile.
        None => {
            state.reload_org(&key.organization_id).await?;
            state.org(&key.organization_id).ok_or_else(|| {
                ApiError::internal(&format!("organisation {} not found", key.organization_id))
            })?
        }
    };
    let now = now_ms();
    let ip_text = tx.device.ip.as_ref().map(|ip| ip.to_string());
    let payer =
        engine::payer_keys(&state.digest_key, &org.id, &PayerIdentity::of(tx, ip_text.as_deref()));

    // Velocity: a pre-check peeks, an authoritative assess counts itself.
    let observation = Observation {
        keys: engine::velocity_keys(&payer),
        at_ms: now,
        amount_minor: tx.amount.minor(),
        id: state.observation_seq.fetch_add(1, Ordering::Relaxed),
    };
    let velocity: VelocitySnapshot = if payer.is_empty() {
        VelocitySnapshot::default()
    } else if let Some(redis) = &state.redis {
        // Shared by every replica: one round trip for all dimensions.
        redis
            .observe(&observation, !precheck, &state.node_id)
            .await
            .map_err(|e| crate::state::counters_unavailable(&e))?
    } else {
        let mut v = state.velocity.lock().expect("velocity lock");
        if precheck { v.peek(&observation) } else { v.observe(&observation) }
    };
    let history: HistoryView =
        state.history.lock().expect("history lock").view(&payer, engine::primary_key(&payer));

    let ip_country =
        tx.device.ip.as_ref().zip(state.geo.as_ref()).and_then(|(ip, geo)| geo.country(ip.addr()));
    let settings = org.settings.read().expect("settings lock").clone();
    let assessment = {
        let blocklist = org.blocklist.read().expect("blocklist lock");
        let config =
            OrgConfig { policy: &settings.policy, blocklist: &blocklist, rules: &settings.rules };
        let ctx = Context {
            flow: Flow::Payin,
            ip_country,
            velocity: &velocity,
            history: &history,
            now_ms: now,
            payout: None,
        };
        engine::assess(&config, tx, &ctx)
    };

    let session_id =
        tx.session_id.clone().unwrap_or_else(|| session::generate(now, rand::random()));
    // Time-ordered (UUIDv7): new rows land at the end of the primary-key
    // index instead of on a random page, so a batch dirties few pages.
    let transaction_id = crate::edge::assigned_transaction_id()
        .unwrap_or_else(|| format!("txn_{}", uuid::Uuid::now_v7().simple()));
    let response = AssessResponse {
        decision: assessment.decision,
        risk_score: assessment.risk_score,
        signals: assessment.signal_codes(),
        signal_details: assessment.signal_details(),
        session_id: session_id.clone(),
        blocked_by: assessment.blocked_by.clone(),
        // Time to decide; the durable write that follows is not included,
        // so that a replay can return these exact bytes.
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        flow: Flow::Payin,
        field_warnings: assessment.field_warnings.clone(),
        transaction_id: transaction_id.clone(),
        order_id: tx.order_id.clone(),
        payment_id: tx.payment_id.clone(),
        idempotency_key: claim
            .as_ref()
            .map(|c| c.key.to_owned())
            .or_else(|| tx.idempotency_key.clone()),
        submerchant_id: tx.submerchant_id.clone(),
        submerchant_name: None,
    };
    let body: Bytes = serde_json::to_vec(&response).expect("response serialises").into();
    if precheck {
        return Ok(Answer { body, replayed: false, precheck: true });
    }

    let row = TransactionRow {
        id: transaction_id,
        organization_id: org.id.clone(),
        api_key_id: key.id.clone(),
        source: "assess".to_owned(),
        flow: Flow::Payin.as_str().to_owned(),
        session_id: Some(session_id),
        amount_minor: tx.amount.minor(),
        currency: tx.amount.currency().code().to_owned(),
        email: tx.email.as_ref().map(|e| e.as_str().to_owned()),
        card_bin: tx.payment_method.card_bin.as_ref().map(|b| b.as_str().to_owned()),
        card_last4: tx.payment_method.card_last4.as_ref().map(|b| b.as_str().to_owned()),
        ip: ip_text,
        device_fingerprint: tx.device.fingerprint.clone(),
        customer_id: tx.customer_id.clone(),
        order_id: tx.order_id.clone(),
        payment_id: tx.payment_id.clone(),
        submerchant_id: tx.submerchant_id.clone(),
        decision: Some(assessment.decision.as_str().to_owned()),
        risk_score: Some(i64::from(assessment.risk_score)),
        blocked_by: assessment.blocked_by.clone(),
        signals: Some(serde_json::to_string(&response.signals).expect("serialises")),
        request: stored_request.clone(),
        response: Some(String::from_utf8(body.to_vec()).expect("JSON is UTF-8")),
        idempotency_key: claim.as_ref().map(|c| c.key.to_owned()),
        request_hash: Some(request_hash.clone()),
        is_fraudulent: false,
        created_at: now,
        provider: None,
        external_id: None,
        fraud_reason: None,
        fraud_reported_at: None,
    };
    let withdraw = |state: &AppState| {
        if payer.is_empty() {
            return;
        }
        match &state.redis {
            Some(redis) => {
                let (redis, observation, node) =
                    (redis.clone(), observation.clone(), state.node_id.clone());
                tokio::spawn(async move {
                    if let Err(e) = redis.withdraw(&observation, &node).await {
                        tracing::warn!(error = %e, "withdrawing a velocity observation from Redis failed");
                    }
                });
            }
            None => state.velocity.lock().expect("velocity lock").withdraw(&observation),
        }
    };
    // Announce the decision only to organisations with a listening endpoint:
    // everyone else pays nothing for webhooks on the hot path.
    let event_type = if assessment.decision == Decision::Decline {
        EventType::TransactionBlocked
    } else {
        EventType::TransactionCreated
    };
    let event = state.subscribed(&org.id, event_type.as_str()).then(|| {
        let json = String::from_utf8(body.to_vec()).expect("JSON is UTF-8");
        crate::events::new_event_raw(&org.id, event_type, json, now)
    });
    let announced = event.is_some();
    match state.writer.write(row, event).await {
        Ok(InsertOutcome::Inserted) => {
            state.metrics.decision(assessment.decision);
            if announced {
                state.deliveries_queued.notify_one();
            }
            state.history.lock().expect("history lock").record(
                &payer,
                tx.amount.minor(),
                assessment.decision,
                now,
            );
            if let Some(c) = claim.as_mut() {
                c.stored =
                    Some(Stored { request_hash: request_hash.clone(), response: body.clone() });
            }
            Ok(Answer { body, replayed: false, precheck: false })
        }
        Ok(InsertOutcome::IdempotencyConflict) => {
            // Another node (or an evicted earlier attempt) owns this key: our
            // evaluation must not count, and the stored answer wins.
            withdraw(state);
            let c = claim.as_ref().expect("conflicts need a key");
            let stored =
                state.store.idempotent_replay(c.org, c.key).await?.ok_or_else(|| {
                    ApiError::internal(&"idempotency conflict without a stored row")
                })?;
            let stored =
                Stored { request_hash: stored.request_hash, response: stored.response.into() };
            if let Some(c) = claim.as_mut() {
                c.stored = Some(stored.clone());
            }
            replay(stored, request_hash)
        }
        Err(e) => {
            withdraw(state);
            Err(ApiError::unavailable(&e))
        }
    }
}
