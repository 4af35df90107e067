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
    beneficiaries::{PayoutFacts, PayoutKeys},
    engine::{self, Assessment, Context, OrgConfig, PayerIdentity},
    history::{HistoryView, PayerKey},
    keys::{self, KeyKind},
    normalize::{Country, text},
    scoring::Decision,
    session,
    transaction::Transaction,
    velocity::{Observation, VelocitySnapshot, VelocityStore},
    webhook::EventType,
    wire::{AssessRequest, AssessResponse, ErrorCode, Flow, PayoutRequest, edge::EdgeContext},
};
use sha2::{Digest, Sha256};

use crate::{
    error::ApiError,
    idempotency::{Begin, Stored},
    state::{AppState, KeyInfo, OrgRuntime, OrgSettings},
    store::{InsertOutcome, TransactionRow, writer::Pending},
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
/// `edge` is what the edge worker saw of the connection, when the request
/// came through it: for a browser's pre-check that connection is the
/// payer's, so its address stands in for a missing `device.ip` and its
/// country for a GeoIP lookup that has no answer
/// ([`EdgeContext::payer_country`]). A backend's call through
/// the edge shows the backend's connection, which says nothing of the payer.
pub async fn payin(
    state: &Arc<AppState>,
    key: &KeyInfo,
    req: AssessRequest,
    header_key: Option<String>,
    started: Instant,
    edge: Option<EdgeContext>,
) -> Result<Answer, ApiError> {
    let precheck = match key.kind {
        KeyKind::Ingest => return Err(ingest_key_refused()),
        KeyKind::Publishable => true,
        KeyKind::Secret => false,
    };
    require_assess(key)?;
    let mut tx =
        Transaction::from_wire(&req).map_err(|e| ApiError::field(&e.field, e.to_string()))?;
    let mut connection_country = None;
    if let Some(ctx) = edge.filter(|_| precheck) {
        if tx.device.ip.is_none() {
            tx.device.ip = ctx.payer_ip();
        }
        connection_country = ctx.payer_country(tx.device.ip.as_ref());
    }
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
            stored_request = canonical_request(&merged.tx).0;
            connection_country = connection_country.or(merged.connection_country);
            merged.tx
        }
        None => tx,
    };
    let prepared = Prepared { tx, stored_request, request_hash, precheck, connection_country };
    run(state, key, prepared, idem_key, started).await
}

/// Assesses a payout for `key` (secret keys only: payouts are decided by
/// the bank's or PSP's backend, never in a browser).
pub async fn payout(
    state: &Arc<AppState>,
    key: &KeyInfo,
    req: PayoutRequest,
    header_key: Option<String>,
    started: Instant,
) -> Result<Answer, ApiError> {
    match key.kind {
        KeyKind::Ingest => return Err(ingest_key_refused()),
        KeyKind::Publishable => {
            return Err(ApiError::new(
                ErrorCode::SecretKeyRequired,
                "Payouts are assessed from your backend with a secret key (clm_sk_); publishable keys cannot assess payouts.",
            ));
        }
        KeyKind::Secret => {}
    }
    require_assess(key)?;
    let tx = Transaction::from_payout_wire(&req)
        .map_err(|e| ApiError::field(&e.field, e.to_string()))?;
    let idem_key = idempotency_key(header_key, &tx)?;
    let (stored_request, request_hash) = canonical_request(&tx);
    let prepared =
        Prepared { tx, stored_request, request_hash, precheck: false, connection_country: None };
    run(state, key, prepared, idem_key, started).await
}

/// 401 for an ingest key, 403 for a key without the `assess` permission.
pub(crate) fn refuse_wrong_key(key: &KeyInfo) -> Result<(), ApiError> {
    if key.kind == KeyKind::Ingest {
        return Err(ingest_key_refused());
    }
    require_assess(key)
}

fn ingest_key_refused() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "Event-ingest keys (clm_wh_) can only call the event ingest endpoint; use a secret key (clm_sk_) for assess.",
    )
}

pub(crate) fn require_assess(key: &KeyInfo) -> Result<(), ApiError> {
    if keys::grants(&key.permissions, keys::PERM_ASSESS) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::Forbidden, "This API key lacks the `assess` permission."))
    }
}

/// Decides a prepared request once per idempotency key: a replay returns
/// the stored answer, a concurrent duplicate waits for the first.
async fn run(
    state: &Arc<AppState>,
    key: &KeyInfo,
    prepared: Prepared,
    idem_key: Option<String>,
    started: Instant,
) -> Result<Answer, ApiError> {
    let Some(idem) = idem_key.filter(|_| !prepared.precheck) else {
        return decide_and_record(state, key, &prepared, None, started).await;
    };
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
    Ok(tx.body_idempotency_key())
}

/// The normalised request as stored, and the SHA-256 of it without its
/// idempotency key: two bodies that mean the same thing hash the same.
fn canonical_request(tx: &Transaction) -> (String, String) {
    fn stored_and_hash<T: serde::Serialize>(wire: &T, without_key: Option<&T>) -> (String, String) {
        let stored = serde_json::to_string(wire).expect("wire types serialise");
        let hash = match without_key {
            Some(w) => {
                hex::encode(Sha256::digest(serde_json::to_vec(w).expect("wire types serialise")))
            }
            None => hex::encode(Sha256::digest(stored.as_bytes())),
        };
        (stored, hash)
    }
    match tx.to_payout_wire() {
        Some(wire) => {
            let bare = wire
                .idempotency_key
                .is_some()
                .then(|| PayoutRequest { idempotency_key: None, ..wire.clone() });
            stored_and_hash(&wire, bare.as_ref())
        }
        None => {
            let wire = tx.to_wire();
            let bare = wire
                .idempotency_key
                .is_some()
                .then(|| AssessRequest { idempotency_key: None, ..wire.clone() });
            stored_and_hash(&wire, bare.as_ref())
        }
    }
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
    /// Where the edge saw the payer's browser connect from (see [`payin`]).
    connection_country: Option<Country>,
}

async fn decide_and_record(
    state: &Arc<AppState>,
    key: &KeyInfo,
    prepared: &Prepared,
    mut claim: Option<Claim<'_>>,
    started: Instant,
) -> Result<Answer, ApiError> {
    let Prepared { tx, stored_request, request_hash, precheck, connection_country } = prepared;
    let precheck = *precheck;
    let org = state.org_or_load(&key.organization_id).await?;
    let settings = org.settings_now();
    let submerchant_name = settings.submerchant(tx.submerchant_id.as_deref())?;
    let now = now_ms();
    // Velocity: a pre-check peeks, an authoritative assess counts itself.
    let Gathered {
        payer,
        observation,
        velocity,
        history,
        ip_text,
        ip_country,
        payout_keys,
        payout,
    } = gather(state, &org.id, &settings, tx, now, !precheck).await?;
    // From here the request counts in velocity. If it is dropped (its
    // deadline passed) before its row reaches the writer, the count is
    // taken back, or the client's retry would count it twice.
    let mut counted = Counted {
        state,
        observation: (!precheck && !payer.is_empty()).then_some(&observation),
        pending: None,
    };
    let ip_country = ip_country.or(*connection_country);
    let flow = tx.flow();
    let facts = Facts { velocity: &velocity, history: &history, ip_country, payout };
    let assessment = evaluate(&org, &settings, tx, flow, &facts, now);

    let assigned = crate::edge::assigned();
    let session_id = tx
        .session_id
        .clone()
        .or_else(|| assigned.as_ref().map(|a| a.session_id.clone()))
        .unwrap_or_else(|| session::generate(now, rand::random()));
    // Time-ordered (UUIDv7): new rows land at the end of the primary-key
    // index instead of on a random page, so a batch dirties few pages.
    let transaction_id =
        assigned.map(|a| a.transaction_id).unwrap_or_else(|| crate::api::common::new_id("txn"));
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
        flow,
        field_warnings: assessment.field_warnings.clone(),
        transaction_id: transaction_id.clone(),
        order_id: tx.order_id.clone(),
        payment_id: tx.payment_id.clone(),
        idempotency_key: claim
            .as_ref()
            .map(|c| c.key.to_owned())
            .or_else(|| tx.idempotency_key.clone()),
        submerchant_id: tx.submerchant_id.clone(),
        submerchant_name,
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
        flow: flow.as_str().to_owned(),
        session_id: Some(session_id),
        amount_minor: tx.amount.minor(),
        currency: tx.amount.currency().code().to_owned(),
        email: tx.email.as_ref().map(|e| e.as_str().to_owned()),
        card_bin: tx.payment_method.card_bin.as_ref().map(|b| b.as_str().to_owned()),
        card_last4: tx.payment_method.card_last4.as_ref().map(|b| b.as_str().to_owned()),
        ip: ip_text,
        device_fingerprint: tx.device.fingerprint.clone(),
        customer_id: tx.customer_id.clone(),
        account_id: tx.payout.as_ref().and_then(|p| p.origin.account_id.clone()),
        order_id: tx.order_id.clone(),
        payment_id: tx.payment_id.clone(),
        submerchant_id: tx.submerchant_id.clone(),
        decision: Some(assessment.decision.as_str().to_owned()),
        risk_score: Some(i64::from(assessment.risk_score)),
        blocked_by: assessment.blocked_by.clone(),
        // The codes are the response's `signals`: stored once, there.
        signals: None,
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
        released_at: None,
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
    let written = match state.writer.enqueue(row, event).await {
        Ok(pending) => counted.outcome(pending).await,
        Err(e) => Err(e),
    };
    match written {
        Ok(InsertOutcome::Inserted) => {
            counted.keep();
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
            // A declined payout moved no money: its beneficiary stays new.
            if let Some(k) = &payout_keys
                && assessment.decision != Decision::Decline
            {
                state.remember_payout(k, now).await;
            }
            if let Some(c) = claim.as_mut() {
                c.stored =
                    Some(Stored { request_hash: request_hash.clone(), response: body.clone() });
            }
            Ok(Answer { body, replayed: false, precheck: false })
        }
        Ok(InsertOutcome::IdempotencyConflict) => {
            // Another node (or an evicted earlier attempt) owns this key: our
            // evaluation must not count, and the stored answer wins.
            counted.withdraw();
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
            counted.withdraw();
            Err(ApiError::unavailable(&e))
        }
    }
}

/// A velocity observation counted for a request whose row is not yet
/// written. It is taken back when the write fails or finds the key taken
/// ([`Counted::withdraw`]), and also when the request is dropped (its
/// deadline passed): at once if its row never reached the writer, else
/// once the writer says the row was not written.
struct Counted<'a> {
    state: &'a Arc<AppState>,
    /// `None`: nothing to take back (a pre-check, no payer keys, or taken).
    observation: Option<&'a Observation>,
    /// The queued row's outcome while this request waits for it.
    pending: Option<Pending>,
}

impl Counted<'_> {
    /// Waits for the queued row's outcome, ready to hand the wait over
    /// if this request is dropped meanwhile.
    async fn outcome(&mut self, pending: Pending) -> Result<InsertOutcome, String> {
        let waiting = self.pending.insert(pending);
        let outcome = waiting.wait().await;
        self.pending = None;
        outcome
    }

    /// The row is written: the count stands.
    fn keep(&mut self) {
        self.observation = None;
    }

    /// Takes the count back now.
    fn withdraw(&mut self) {
        if let Some(observation) = self.observation.take() {
            take_back(self.state, observation);
        }
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        let Some(observation) = self.observation.take() else { return };
        match self.pending.take() {
            // Never queued: nothing will be written.
            None => take_back(self.state, observation),
            // Queued: the writer decides; a row not written must not count.
            Some(mut pending) => {
                let (state, observation) = (Arc::clone(self.state), observation.clone());
                tokio::spawn(async move {
                    if !matches!(pending.wait().await, Ok(InsertOutcome::Inserted)) {
                        take_back(&state, &observation);
                    }
                });
            }
        }
    }
}

/// Removes a velocity observation, here or in the shared store.
fn take_back(state: &AppState, observation: &Observation) {
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
        None => state.velocity.lock().expect("velocity lock").withdraw(observation),
    }
}

/// The stateful context of one request: its payer keys, what velocity and
/// history know of them, and where its IP is.
pub(crate) struct Gathered {
    /// Digested payer keys.
    pub payer: Vec<PayerKey>,
    /// This request as a velocity observation.
    pub observation: Observation,
    /// Earlier transactions of the payer's keys.
    pub velocity: VelocitySnapshot,
    /// The payer's history.
    pub history: HistoryView,
    /// `device.ip` as text.
    pub ip_text: Option<String>,
    /// Its country, when the geolocation database knows it.
    pub ip_country: Option<Country>,
    /// A payout's known-beneficiary digests.
    pub payout_keys: Option<PayoutKeys>,
    /// What this node knows of its beneficiary.
    pub payout: Option<PayoutFacts>,
}

/// Gathers the context of `tx`. With `count`, the request is counted in
/// velocity (an authoritative assess); without, velocity is only read (a
/// pre-check or a simulation).
pub(crate) async fn gather(
    state: &AppState,
    org_id: &str,
    settings: &OrgSettings,
    tx: &Transaction,
    now: i64,
    count: bool,
) -> Result<Gathered, ApiError> {
    let ip_text = tx.device.ip.as_ref().map(|ip| ip.to_string());
    let payer =
        engine::payer_keys(&state.digest_key, org_id, &PayerIdentity::of(tx, ip_text.as_deref()));
    let observation = Observation {
        keys: engine::velocity_keys_for(
            &state.digest_key,
            &payer,
            &settings.policy,
            tx.payout.is_some(),
            tx.submerchant_id.as_deref(),
        ),
        at_ms: now,
        amount_minor: tx.amount.minor(),
        id: state.observation_seq.fetch_add(1, Ordering::Relaxed),
    };
    let payout_keys =
        tx.payout.as_ref().and_then(|p| engine::payout_keys(&state.digest_key, org_id, p));
    let velocity = async {
        if payer.is_empty() {
            Ok(VelocitySnapshot::default())
        } else if let Some(redis) = &state.redis {
            // Shared by every replica: one round trip for all dimensions.
            redis
                .observe(&observation, count, &state.node_id)
                .await
                .map_err(|e| crate::state::counters_unavailable(&e))
        } else {
            let mut v = state.velocity.lock().expect("velocity lock");
            Ok(if count { v.observe(&observation) } else { v.peek(&observation) })
        }
    };
    let payout = async {
        let window = settings.policy.payout.new_beneficiary_window_ms();
        match &payout_keys {
            Some(k) => state.beneficiary_facts(k, now, window).await.map(Some),
            None => Ok(None),
        }
    };
    // With Redis, the two round trips go out together.
    let (velocity, payout) = tokio::join!(velocity, payout);
    let velocity: VelocitySnapshot = velocity?;
    let payout = match payout {
        Ok(p) => p,
        Err(e) => {
            // Counted, but the request ends here: take the count back.
            if count && !payer.is_empty() {
                take_back(state, &observation);
            }
            return Err(e);
        }
    };
    let history: HistoryView =
        state.history.lock().expect("history lock").view(&payer, engine::primary_key(&payer));
    let ip_country =
        tx.device.ip.as_ref().zip(state.geo.as_ref()).and_then(|(ip, geo)| geo.country(ip.addr()));
    Ok(Gathered { payer, observation, velocity, history, ip_text, ip_country, payout_keys, payout })
}

/// What [`evaluate`] reads besides the transaction.
pub(crate) struct Facts<'a> {
    /// Earlier transactions of the payer's keys.
    pub velocity: &'a VelocitySnapshot,
    /// The payer's history.
    pub history: &'a HistoryView,
    /// Country of `device.ip`.
    pub ip_country: Option<Country>,
    /// Known-beneficiary facts of a payout.
    pub payout: Option<PayoutFacts>,
}

/// Runs the engine on `tx` with the organisation's live lists, rules and policy.
pub(crate) fn evaluate(
    org: &OrgRuntime,
    settings: &OrgSettings,
    tx: &Transaction,
    flow: Flow,
    facts: &Facts<'_>,
    now: i64,
) -> Assessment {
    let blocklist = org.blocklist.read().expect("blocklist lock");
    let config =
        OrgConfig { policy: &settings.policy, blocklist: &blocklist, rules: &settings.rules };
    let ctx = Context {
        flow,
        ip_country: facts.ip_country,
        velocity: facts.velocity,
        history: facts.history,
        now_ms: now,
        payout: facts.payout,
    };
    engine::assess(&config, tx, &ctx)
}
