//! `POST /api/v1/assess` and its public catalogue `GET /api/v1/assess`.

use std::{sync::Arc, time::Instant};

use clausum_core::{
    catalog::{self, Level, Segment},
    keys::KeyKind,
    normalize::{Currency, MAX_AMOUNT_MINOR},
    wire::{
        AssessRequest, AssessResponse, ErrorBody, ErrorCode, Flow, PayoutChannel, PayoutRequest,
    },
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Header, payload::Json};

use super::{
    API_VERSION, Tag,
    common::{iso, not_found},
};
use crate::{
    assess,
    auth::PartnerKey,
    error::ApiError,
    limiter::Admission,
    payload::{JsonBody, JsonBytes},
    state::{AppState, KeyInfo},
    time::now_ms,
};

/// One of the node's assess slots, released on drop.
struct InflightSlot<'a>(&'a AppState);

impl<'a> InflightSlot<'a> {
    fn take(state: &'a AppState) -> Option<Self> {
        use std::sync::atomic::Ordering;
        let before = state.inflight_assess.fetch_add(1, Ordering::AcqRel);
        if before >= state.max_inflight_assess {
            state.inflight_assess.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(InflightSlot(state))
    }
}

impl Drop for InflightSlot<'_> {
    fn drop(&mut self) {
        self.0.inflight_assess.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// A decision, with the caller's rate-limit budget.
#[derive(ApiResponse)]
pub enum AssessOk {
    /// The decision. Enforce it before money moves.
    #[oai(status = 200)]
    Ok(
        JsonBytes<AssessResponse>,
        /// The key's per-minute limit.
        #[oai(header = "X-RateLimit-Limit")]
        u32,
        /// Requests the key may still make in the current sliding minute.
        #[oai(header = "X-RateLimit-Remaining")]
        u32,
        /// Unix time (seconds) when the oldest counted request leaves the window.
        #[oai(header = "X-RateLimit-Reset")]
        i64,
        /// `true` when this is the stored answer to an earlier request with
        /// the same idempotency key.
        #[oai(header = "Idempotent-Replayed")]
        Option<bool>,
        /// `true` for a publishable-key pre-check: not recorded, not
        /// authoritative; make the real assess from your backend.
        #[oai(header = "X-Clausum-Precheck")]
        Option<bool>,
    ),
}

/// Amount encoding rules.
#[derive(Object, Debug)]
pub struct AmountRules {
    /// Default unit: `minor` (integers in the smallest currency unit).
    pub default_unit: String,
    /// Accepted units.
    pub units: Vec<String>,
    /// Largest accepted amount in minor units.
    pub max_minor: i64,
    /// Decimals allowed with `amount_unit: "major"`, by currency.
    pub currency_exponents: std::collections::BTreeMap<String, u8>,
}

/// One field requirement.
#[derive(Object, Debug)]
pub struct FieldRequirementOut {
    /// Dotted field path.
    pub field: String,
    /// `required`, `recommended` or `optional`.
    pub level: Level,
    /// Why it matters.
    pub note: String,
}

/// Field requirements of each segment.
#[derive(Object, Debug)]
pub struct FieldRequirementsBySegment {
    /// Merchants.
    pub comercio: Vec<FieldRequirementOut>,
    /// Payment service providers.
    pub psp: Vec<FieldRequirementOut>,
    /// Banks.
    pub banco: Vec<FieldRequirementOut>,
    /// Alias of `banco` (the bank guide reads this name).
    pub bank: Vec<FieldRequirementOut>,
}

/// How idempotency works.
#[derive(Object, Debug)]
pub struct IdempotencyRules {
    /// Where the key may come from, in precedence order.
    pub sources: Vec<String>,
    /// What a replay returns.
    pub replay: String,
    /// What reusing a key with a different body returns.
    pub conflict: String,
}

/// One status a client must handle.
#[derive(Object, Debug)]
pub struct ResilienceCode {
    /// HTTP status.
    pub status: u16,
    /// Error code (or `OK`).
    pub code: String,
    /// What the client should do.
    pub action: String,
}

/// The public assess catalogue.
#[derive(Object, Debug)]
pub struct AssessCatalog {
    /// API version.
    pub version: String,
    /// Amount encoding.
    pub amount_rules: AmountRules,
    /// Fields each segment should send.
    pub field_requirements_by_segment: FieldRequirementsBySegment,
    /// Idempotency rules.
    pub idempotency: IdempotencyRules,
    /// Statuses and codes to handle, with the recommended action.
    pub resilience: Vec<ResilienceCode>,
}

/// An accepted `payout.channel`.
#[derive(Object, Debug)]
pub struct ChannelOut {
    /// The value.
    pub value: PayoutChannel,
    /// Whether it names a network (and so stands for `payout.rail` when that is absent).
    pub is_rail: bool,
    /// What it means.
    pub description: String,
}

/// A signal of the catalogue.
#[derive(Object, Debug)]
pub struct SignalOut {
    /// Its code.
    pub code: String,
    /// Default weight (points of risk score).
    pub weight: i32,
    /// What it means.
    pub description: String,
}

/// The public payout catalogue.
#[derive(Object, Debug)]
pub struct PayoutCatalogOut {
    /// API version.
    pub version: String,
    /// Always `payout`.
    pub flow: Flow,
    /// Amount encoding.
    pub amount_rules: AmountRules,
    /// Payout fields each segment should send.
    pub field_requirements_by_segment: FieldRequirementsBySegment,
    /// Beneficiary fields that identify it; at least one is required.
    pub beneficiary_identifiers: Vec<String>,
    /// Accepted `payout.channel` values.
    pub channels: Vec<ChannelOut>,
    /// Examples of `payout.rail` (free text).
    pub rail_examples: Vec<String>,
    /// Blocklist types a payout is matched against besides `country` and
    /// `customer_id`; load them with `flow_scope: payout`.
    pub blocklist_types: Vec<String>,
    /// Payout signals with their default weights.
    pub signals: Vec<SignalOut>,
    /// Default payout settings of a policy: `high_risk_countries`,
    /// `cross_border_min_minor` by currency, `generic_initiators`,
    /// `new_beneficiary_limit`, `new_beneficiary_window_hours`.
    pub defaults: serde_json::Value,
}

fn amount_rules() -> AmountRules {
    AmountRules {
        default_unit: "minor".into(),
        units: vec!["minor".into(), "major".into()],
        max_minor: MAX_AMOUNT_MINOR,
        currency_exponents: Currency::all().map(|c| (c.code().to_owned(), c.exponent())).collect(),
    }
}

/// Which assessment to release.
#[derive(Object, serde::Deserialize, Debug)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// The assessment's `transaction_id`.
    pub transaction_id: Option<String>,
    /// Or its `session_id` (the newest assessment of the session).
    pub session_id: Option<String>,
}

/// A released assessment.
#[derive(Object, Debug)]
pub struct ReleaseResult {
    /// Always `true`.
    pub released: bool,
    /// The released transaction.
    pub transaction_id: String,
    /// Its session id.
    pub session_id: Option<String>,
    /// `payin` or `payout`.
    pub flow: String,
    /// When it was (first) released, RFC 3339.
    pub released_at: String,
}

/// Catalogue answer.
#[derive(ApiResponse)]
pub enum CatalogResponse {
    /// The catalogue.
    #[oai(status = 200)]
    Ok(Json<AssessCatalog>),
}

/// Risk assessment.
pub struct AssessApi;

#[OpenApi]
impl AssessApi {
    /// Assess a pay-in
    ///
    /// Call it from your backend with a secret key (`clm_sk_…`) at the moment
    /// of decision, before capturing the payment. Only `amount` and
    /// `currency` are required; every other field unlocks more signals.
    /// A publishable key (`clm_pub_…`) gets a non-authoritative pre-check
    /// (`X-Clausum-Precheck: true`) that is neither recorded nor counted.
    /// Send an `Idempotency-Key` (or `idempotency_key`, or both `order_id`
    /// and `payment_id`) so a retry returns the same decision without
    /// counting twice.
    #[oai(
        path = "/api/v1/assess",
        method = "post",
        tag = "Tag::Risk",
        operation_id = "v1.assess.create"
    )]
    async fn assess(
        &self,
        state: Data<&Arc<AppState>>,
        req: &poem::Request,
        auth: PartnerKey,
        /// Makes retries safe: the same key and body return the stored decision.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<AssessRequest>,
    ) -> Result<AssessOk, ApiError> {
        let started = Instant::now();
        let (_slot, admission) = admit(&state, &auth.0).await?;
        // Only a browser's connection says anything of the payer.
        let edge = (auth.0.kind == KeyKind::Publishable).then(|| state.edge.context(req)).flatten();
        let work = assess::payin(&state, &auth.0, body.value, idempotency_key.0, started, edge);
        answer(&state, admission, work).await
    }

    /// Assess a payout
    ///
    /// Call it from your core or treasury backend with a secret key
    /// (`clm_sk_…`) before releasing funds (SPEI, wire, API disbursement).
    /// `amount` and `currency` are required, and the beneficiary needs at
    /// least one of `id`, `clabe`, `iban` or `account_hash`; CLABE (check
    /// digit), IBAN (country length, mod-97) and SWIFT/BIC are validated and
    /// an invalid one is a 400 naming the field. Both spellings of the guides
    /// are accepted: `payout.channel: "spei"`, or `payout.rail: "spei"` with
    /// `payout.channel: "api"`. The answer is pay-in's with `flow: "payout"`;
    /// on `decline`, do not release the funds. Blocklist entries scoped
    /// `payout` or `all` apply, `payin` ones do not. Idempotent like pay-in.
    #[oai(
        path = "/api/v1/assess/payout",
        method = "post",
        tag = "Tag::Payout",
        operation_id = "v1.assess.payout"
    )]
    async fn assess_payout(
        &self,
        state: Data<&Arc<AppState>>,
        auth: PartnerKey,
        /// Makes retries safe: the same key and body return the stored decision.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<PayoutRequest>,
    ) -> Result<AssessOk, ApiError> {
        let started = Instant::now();
        let (_slot, admission) = admit(&state, &auth.0).await?;
        let work = assess::payout(&state, &auth.0, body.value, idempotency_key.0, started);
        answer(&state, admission, work).await
    }

    /// Release a held assessment
    ///
    /// For a checkout or transfer that was abandoned after its assessment:
    /// marks the transaction released and frees its idempotency key, so a
    /// new attempt with the same key is decided afresh instead of replaying
    /// the held decision. Name the assessment by `transaction_id` or
    /// `session_id`. Idempotent: a repeat answers the first release. Secret
    /// key with `assess`.
    #[oai(
        path = "/api/v1/assess/release",
        method = "post",
        tag = "Tag::Risk",
        operation_id = "v1.assess.release"
    )]
    async fn release(
        &self,
        state: Data<&Arc<AppState>>,
        auth: PartnerKey,
        body: JsonBody<ReleaseRequest>,
    ) -> Result<Json<ReleaseResult>, ApiError> {
        let key = auth.0;
        if key.kind != KeyKind::Secret {
            return Err(ApiError::new(
                ErrorCode::SecretKeyRequired,
                "Releasing an assessment needs a secret key (clm_sk_).",
            ));
        }
        assess::require_assess(&key)?;
        let org = &key.organization_id;
        let row = match (body.value.transaction_id, body.value.session_id) {
            (Some(id), None) => state.store.transaction(org, id.trim()).await?,
            (None, Some(session)) => {
                state.store.transaction_by_session(org, session.trim()).await?
            }
            _ => {
                return Err(ApiError::field(
                    "transaction_id",
                    "send exactly one of `transaction_id` and `session_id`",
                ));
            }
        };
        let Some(row) = row.filter(|r| r.source == "assess") else {
            return Err(not_found("assessed transaction"));
        };
        let Some(released_at) = state.store.release_transaction(org, &row.id, now_ms()).await?
        else {
            return Err(not_found("assessed transaction"));
        };
        if let Some(k) = &row.idempotency_key {
            state.idempotency.forget(org, k);
        }
        Ok(Json(ReleaseResult {
            released: true,
            transaction_id: row.id,
            session_id: row.session_id,
            flow: row.flow,
            released_at: iso(released_at),
        }))
    }

    /// Payout catalogue
    ///
    /// No authentication. The payout fields each segment should send, amount
    /// rules, accepted channels, the blocklist types a payout is matched
    /// against, the payout signals with their default weights and the
    /// default payout settings.
    #[oai(
        path = "/api/v1/assess/payout",
        method = "get",
        tag = "Tag::Payout",
        operation_id = "v1.assess.payout_catalog"
    )]
    async fn payout_catalog(&self) -> Json<PayoutCatalogOut> {
        let c = catalog::payout_catalog();
        let reqs = |r: &[catalog::FieldRequirement]| {
            r.iter()
                .map(|r| FieldRequirementOut {
                    field: r.field.into(),
                    level: r.level,
                    note: r.note.into(),
                })
                .collect::<Vec<_>>()
        };
        let by = &c.field_requirements_by_segment;
        Json(PayoutCatalogOut {
            version: API_VERSION.into(),
            flow: c.flow,
            amount_rules: amount_rules(),
            field_requirements_by_segment: FieldRequirementsBySegment {
                comercio: reqs(by.comercio),
                psp: reqs(by.psp),
                banco: reqs(by.banco),
                bank: reqs(by.bank),
            },
            beneficiary_identifiers: c
                .beneficiary_identifiers
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            channels: c
                .channels
                .iter()
                .map(|ch| ChannelOut {
                    value: ch.value,
                    is_rail: ch.is_rail,
                    description: ch.description.into(),
                })
                .collect(),
            rail_examples: c.rail_examples.iter().map(|s| (*s).to_owned()).collect(),
            blocklist_types: c.blocklist_types.iter().map(|t| t.as_str().to_owned()).collect(),
            signals: c
                .signals
                .iter()
                .map(|d| SignalOut {
                    code: d.code.into(),
                    weight: d.weight,
                    description: d.description.into(),
                })
                .collect(),
            defaults: serde_json::to_value(&c.defaults).expect("policy serialises"),
        })
    }

    /// Assess catalogue
    ///
    /// No authentication. API version, amount encoding rules, the fields
    /// each segment (`comercio`, `psp`, `banco`) should send, idempotency
    /// rules and the resilience codes a client must handle.
    #[oai(
        path = "/api/v1/assess",
        method = "get",
        tag = "Tag::Risk",
        operation_id = "v1.assess.catalog"
    )]
    async fn catalog(&self) -> CatalogResponse {
        let reqs = |s: Segment| {
            catalog::requirements(s)
                .iter()
                .map(|r| FieldRequirementOut {
                    field: r.field.into(),
                    level: r.level,
                    note: r.note.into(),
                })
                .collect::<Vec<_>>()
        };
        CatalogResponse::Ok(Json(AssessCatalog {
            version: API_VERSION.into(),
            amount_rules: amount_rules(),
            field_requirements_by_segment: FieldRequirementsBySegment {
                comercio: reqs(Segment::Comercio),
                psp: reqs(Segment::Psp),
                banco: reqs(Segment::Banco),
                bank: reqs(Segment::Banco),
            },
            idempotency: IdempotencyRules {
                sources: vec![
                    "Idempotency-Key header".into(),
                    "idempotency_key body field".into(),
                    "order_id + payment_id, when both are sent".into(),
                ],
                replay: "The stored decision, byte for byte, with `Idempotent-Replayed: true`; velocity is not counted again.".into(),
                conflict: "422 IDEMPOTENCY_KEY_REUSED; a retry while the first is in flight waits for it.".into(),
            },
            resilience: catalog::RESILIENCE
                .iter()
                .map(|&(status, code, action)| ResilienceCode { status, code: code.into(), action: action.into() })
                .collect(),
        }))
    }
}

/// Admits one assess: a key that may assess, a capacity slot (held until
/// the answer), then the key's rate limit.
async fn admit<'a>(
    state: &'a AppState,
    key: &KeyInfo,
) -> Result<(InflightSlot<'a>, Admission), ApiError> {
    // The wrong key is told so whatever the load or its budget: the guides
    // promise 401 for an ingest key and 403 for a key without `assess`,
    // and a refused call takes no slot and spends none of the key's budget.
    assess::refuse_wrong_key(key)?;
    // Past capacity, answer at once rather than queue until the client
    // gives up: it can retry (with the same idempotency key) or fail open.
    let Some(slot) = InflightSlot::take(state) else {
        state.metrics.shed();
        return Err(ApiError::Unavailable(
            Json(ErrorBody::new(
                ErrorCode::AssessMaintenance,
                "Assess is at capacity; retry after the given seconds with the same idempotency key.",
            )),
            1,
        ));
    };
    let admission = state.admit_key(key, now_ms()).await?;
    if !admission.allowed {
        return Err(ApiError::rate_limited(ErrorCode::RateLimitExceeded, &admission));
    }
    Ok((slot, admission))
}

/// Runs an admitted assess under the deadline and shapes its answer.
async fn answer(
    state: &AppState,
    admission: Admission,
    work: impl std::future::Future<Output = Result<assess::Answer, ApiError>>,
) -> Result<AssessOk, ApiError> {
    let answer = match tokio::time::timeout(state.assess_timeout, work).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(ApiError::new(
                ErrorCode::AssessTimeout,
                "The assessment did not finish in time. Retry with the same idempotency key.",
            ));
        }
    };
    Ok(AssessOk::Ok(
        JsonBytes::from_bytes(answer.body),
        admission.limit,
        admission.remaining,
        admission.reset_at_s,
        answer.replayed.then_some(true),
        answer.precheck.then_some(true),
    ))
}
