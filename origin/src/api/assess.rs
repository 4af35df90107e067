//! `POST /api/v1/assess` and its public catalogue `GET /api/v1/assess`.

use std::{sync::Arc, time::Instant};

use clausum_core::{
    catalog::{self, Level, Segment},
    normalize::{Currency, MAX_AMOUNT_MINOR},
    wire::{AssessRequest, AssessResponse, ErrorBody, ErrorCode},
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Header, payload::Json};

use super::{API_VERSION, Tag};
use crate::{
    assess,
    auth::PartnerKey,
    error::ApiError,
    payload::{JsonBody, JsonBytes},
    state::AppState,
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
        auth: PartnerKey,
        /// Makes retries safe: the same key and body return the stored decision.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<AssessRequest>,
    ) -> Result<AssessOk, ApiError> {
        let started = Instant::now();
        // Past capacity, answer at once rather than queue until the client
        // gives up: it can retry (with the same idempotency key) or fail open.
        let Some(_slot) = InflightSlot::take(&state) else {
            state.metrics.shed();
            return Err(ApiError::Unavailable(
                Json(ErrorBody::new(
                    ErrorCode::AssessMaintenance,
                    "Assess is at capacity; retry after the given seconds with the same idempotency key.",
                )),
                1,
            ));
        };
        let key = auth.0;
        let admission = state.admit_key(&key, now_ms()).await?;
        if !admission.allowed {
            return Err(ApiError::rate_limited(ErrorCode::RateLimitExceeded, &admission));
        }
        let work = assess::payin(&state, &key, body.value, idempotency_key.0, started);
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
            amount_rules: AmountRules {
                default_unit: "minor".into(),
                units: vec!["minor".into(), "major".into()],
                max_minor: MAX_AMOUNT_MINOR,
                currency_exponents: Currency::all().map(|c| (c.code().to_owned(), c.exponent())).collect(),
            },
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
