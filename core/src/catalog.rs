//! The public assess catalogue: segments and the fields each one should
//! send, one table per flow and segment. `GET /api/v1/assess` publishes the
//! pay-in tables, `GET /api/v1/assess/payout` the [`payout::PayoutCatalog`];
//! assess turns missing recommended (or required but not enforced) fields
//! into `field_warnings`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::normalize::{Currency, MAX_AMOUNT_MINOR};
use crate::transaction::Transaction;
use crate::wire::{AmountUnit, FieldWarning, Flow};

pub mod payout;

pub use payout::{PayoutCatalog, payout_catalog, payout_requirements};

/// The kind of organisation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
pub enum Segment {
    /// A merchant (e-commerce, marketplace).
    #[default]
    Comercio,
    /// A payment service provider with submerchants.
    Psp,
    /// A bank or core-banking platform.
    Banco,
}

impl Segment {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Comercio => "comercio",
            Segment::Psp => "psp",
            Segment::Banco => "banco",
        }
    }

    /// Parses a wire name; `bank` and `merchant` are accepted as aliases
    /// because the guides use them.
    pub fn parse(s: &str) -> Option<Segment> {
        match s {
            "comercio" | "merchant" => Some(Segment::Comercio),
            "psp" => Some(Segment::Psp),
            "banco" | "bank" => Some(Segment::Banco),
            _ => None,
        }
    }
}

/// How strongly a field is asked for.
///
/// `Required` fields the wire types or validation enforce (`amount`,
/// `currency`, a payout's `beneficiary`) are always present. A `Required`
/// field enforced by the server only in some cases (a PSP's
/// `submerchant_id`, once it has active submerchants) produces a field
/// warning when it was let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
pub enum Level {
    /// Refused without it.
    Required,
    /// Accepted without it, with a field warning.
    Recommended,
    /// Useful where it applies.
    Optional,
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldRequirement {
    /// Dotted field path.
    pub field: &'static str,
    /// How strongly it is asked for.
    pub level: Level,
    /// Why.
    pub note: &'static str,
}

pub(crate) const fn req(field: &'static str, level: Level, note: &'static str) -> FieldRequirement {
    FieldRequirement { field, level, note }
}

pub(crate) const AMOUNT: FieldRequirement =
    req("amount", Level::Required, "Amount in the chosen unit.");
pub(crate) const CURRENCY: FieldRequirement = req("currency", Level::Required, "ISO 4217 code.");

const COMERCIO: &[FieldRequirement] = &[
    AMOUNT,
    CURRENCY,
    req("order_id", Level::Recommended, "Correlates the decision with your order."),
    req(
        "device.ip",
        Level::Recommended,
        "The payer's IP seen by your server: geography, velocity and IP blocklists.",
    ),
    req("email", Level::Recommended, "Payer identity: blocklists, disposable domains, history."),
    req("payment_method.card_bin", Level::Optional, "BIN blocklists and card-country checks."),
    req(
        "session_id",
        Level::Optional,
        "From the browser SDK: merges device and behaviour signals.",
    ),
];

const PSP: &[FieldRequirement] = &[
    AMOUNT,
    CURRENCY,
    req(
        "submerchant_id",
        Level::Required,
        "Refused once the organisation has active submerchants; send it on every assessment.",
    ),
    req("device.ip", Level::Recommended, "Geography, velocity and IP blocklists."),
    req("email", Level::Recommended, "Payer identity."),
    req("order_id", Level::Optional, "Correlates the decision with the order."),
];

const BANCO: &[FieldRequirement] = &[
    AMOUNT,
    CURRENCY,
    req("payment_id", Level::Recommended, "Core or switch reference."),
    req("customer_id", Level::Recommended, "Account or party id: history and velocity."),
    req("order_id", Level::Optional, "Usually not applicable outside e-commerce."),
];

/// The pay-in catalogue of one segment.
pub fn requirements(segment: Segment) -> &'static [FieldRequirement] {
    match segment {
        Segment::Comercio => COMERCIO,
        Segment::Psp => PSP,
        Segment::Banco => BANCO,
    }
}

/// The catalogue of one flow and segment.
pub fn requirements_for(flow: Flow, segment: Segment) -> &'static [FieldRequirement] {
    match flow {
        Flow::Payin => requirements(segment),
        Flow::Payout => payout_requirements(segment),
    }
}

/// Whether the transaction carries the field at `path`.
fn has(tx: &Transaction, path: &str) -> bool {
    if let Some(present) = payout::has(tx, path) {
        return present;
    }
    match path {
        "amount" | "currency" => true,
        "order_id" => tx.order_id.is_some(),
        "payment_id" => tx.payment_id.is_some(),
        "customer_id" => tx.customer_id.is_some(),
        "submerchant_id" => tx.submerchant_id.is_some(),
        "session_id" => tx.session_id.is_some(),
        "email" => tx.email.is_some(),
        "device.ip" => tx.device.ip.is_some(),
        "payment_method.card_bin" => tx.payment_method.card_bin.is_some(),
        _ => true,
    }
}

/// Warnings for the recommended and required fields of `segment`, in the
/// table of the transaction's flow, that `tx` lacks.
pub fn field_warnings(segment: Segment, tx: &Transaction) -> Vec<FieldWarning> {
    requirements_for(tx.flow(), segment)
        .iter()
        .filter(|r| r.level != Level::Optional && !has(tx, r.field))
        .map(|r| {
            let level = if r.level == Level::Required { "Required" } else { "Recommended" };
            FieldWarning {
                field: r.field.to_owned(),
                message: format!("{level} for {} organisations: {}", segment.as_str(), r.note),
            }
        })
        .collect()
}

/// How amounts are encoded, for the catalogues.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AmountRules {
    /// The unit when `amount_unit` is absent.
    pub default_unit: AmountUnit,
    /// Every accepted unit.
    pub units: [AmountUnit; 2],
    /// Largest amount, in minor units.
    pub max_minor: i64,
    /// Decimals of each supported currency's minor unit (`MXN`: 2, `JPY`: 0).
    pub currency_exponents: BTreeMap<&'static str, u8>,
}

/// The amount rules both assess endpoints apply.
pub fn amount_rules() -> AmountRules {
    AmountRules {
        default_unit: AmountUnit::Minor,
        units: [AmountUnit::Minor, AmountUnit::Major],
        max_minor: MAX_AMOUNT_MINOR,
        currency_exponents: Currency::all().map(|c| (c.code(), c.exponent())).collect(),
    }
}

/// Every status and code the assess endpoints answer with, published so
/// integrators can write their fail-open / fail-closed policy against them.
/// A retry of an idempotency key still in flight is not among them: it
/// waits for the first request's answer.
pub const RESILIENCE: &[(u16, &str, &str)] = &[
    (200, "OK", "Completed: enforce the decision."),
    (400, "VALIDATION_ERROR", "Fix the payload; do not retry unchanged."),
    (
        401,
        "UNAUTHORIZED",
        "Fix the API key: missing, unknown, revoked, or an ingest key (clm_wh_).",
    ),
    (403, "FORBIDDEN", "The key lacks the `assess` permission."),
    (403, "SECRET_KEY_REQUIRED", "Payouts and releases need a secret key (clm_sk_)."),
    (413, "PAYLOAD_TOO_LARGE", "The body is over the size limit; send less metadata."),
    (415, "UNSUPPORTED_MEDIA_TYPE", "Send `Content-Type: application/json`."),
    (422, "IDEMPOTENCY_KEY_REUSED", "The idempotency key was used with a different body."),
    (429, "RATE_LIMIT_EXCEEDED", "Back off until X-RateLimit-Reset, then retry."),
    (503, "ASSESS_MAINTENANCE", "Fail open or queue, per your policy; honour Retry-After."),
    (
        503,
        "RATE_LIMIT_STORE_UNAVAILABLE",
        "The shared rate-limit store is unreachable: fail open or queue, per your policy.",
    ),
    (504, "ASSESS_TIMEOUT", "Retry with the same idempotency key."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ErrorCode;

    #[test]
    fn every_resilience_code_is_sent_with_its_status() {
        for &(status, code, _) in RESILIENCE {
            if status == 200 {
                continue;
            }
            let parsed: ErrorCode = serde_json::from_value(serde_json::json!(code))
                .unwrap_or_else(|e| panic!("{code} is no error code: {e}"));
            assert_eq!(parsed.status(), status, "{code}");
        }
    }

    #[test]
    fn a_psp_is_told_submerchant_id_is_required() {
        let psp = requirements_for(Flow::Payin, Segment::Psp);
        let sub = psp.iter().find(|r| r.field == "submerchant_id").unwrap();
        assert_eq!(sub.level, Level::Required);
    }
}
