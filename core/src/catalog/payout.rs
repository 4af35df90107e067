//! The payout catalogue: the fields each segment should send to
//! `POST /api/v1/assess/payout`, and everything `GET /api/v1/assess/payout`
//! publishes ([`payout_catalog`]), from this one source.

use serde::Serialize;

use super::{AMOUNT, AmountRules, CURRENCY, FieldRequirement, Level, Segment, amount_rules, req};
use crate::blocklist::ListType;
use crate::policy::PayoutPolicy;
use crate::signals::{self, Category, SignalDef};
use crate::transaction::Transaction;
use crate::wire::{Flow, PayoutChannel};

/// Pseudo-path of "an account number": any of `beneficiary.clabe`,
/// `beneficiary.iban`, `beneficiary.account_hash`.
pub const BENEFICIARY_ACCOUNT: &str = "beneficiary.account";

const BENEFICIARY: FieldRequirement = req(
    "beneficiary",
    Level::Required,
    "At least one of beneficiary.id, beneficiary.clabe, beneficiary.iban or beneficiary.account_hash.",
);
const ACCOUNT: FieldRequirement = req(
    BENEFICIARY_ACCOUNT,
    Level::Recommended,
    "One of beneficiary.clabe, beneficiary.iban or beneficiary.account_hash: blocklists and \
     known-beneficiary checks follow the account the money lands in, not your id.",
);
const BENEFICIARY_COUNTRY: FieldRequirement = req(
    "beneficiary.country",
    Level::Recommended,
    "High-risk jurisdiction and cross-border checks (implied by an IBAN, CLABE or SWIFT/BIC when absent).",
);
const INITIATED_BY: FieldRequirement = req(
    "payout.initiated_by",
    Level::Recommended,
    "The person or service that released the payout: missing or generic values weigh.",
);

const COMERCIO: &[FieldRequirement] = &[
    AMOUNT,
    CURRENCY,
    BENEFICIARY,
    ACCOUNT,
    BENEFICIARY_COUNTRY,
    INITIATED_BY,
    req(
        "origin.account_id",
        Level::Optional,
        "The balance paid from: velocity, amount history and known beneficiaries per account.",
    ),
    req("payout.channel", Level::Optional, "spei, wire or api."),
    req("idempotency_key", Level::Optional, "A retry returns the same decision."),
];

const PSP: &[FieldRequirement] = &[
    AMOUNT,
    CURRENCY,
    BENEFICIARY,
    req(
        "submerchant_id",
        Level::Required,
        "Refused once the organisation has active submerchants; send it on every payout.",
    ),
    ACCOUNT,
    BENEFICIARY_COUNTRY,
    req(
        "origin.account_id",
        Level::Recommended,
        "The submerchant balance or account paid from: velocity, amount history and known beneficiaries.",
    ),
    req("payout.channel", Level::Recommended, "spei, wire or api."),
    INITIATED_BY,
    req("origin.country", Level::Optional, "Cross-border checks."),
];

const BANCO: &[FieldRequirement] = &[
    AMOUNT,
    CURRENCY,
    BENEFICIARY,
    BENEFICIARY_COUNTRY,
    req("beneficiary.name", Level::Recommended, "Who is paid, for review and cases."),
    ACCOUNT,
    req(
        "origin.account_id",
        Level::Recommended,
        "The debited account: velocity, amount history and known beneficiaries.",
    ),
    req("origin.country", Level::Recommended, "Cross-border checks."),
    req(
        "payout.channel",
        Level::Recommended,
        "spei, wire or api (the network may also be sent as payout.rail).",
    ),
    INITIATED_BY,
    req("payment_id", Level::Optional, "Core or switch reference."),
];

/// The payout catalogue of one segment.
pub fn payout_requirements(segment: Segment) -> &'static [FieldRequirement] {
    match segment {
        Segment::Comercio => COMERCIO,
        Segment::Psp => PSP,
        Segment::Banco => BANCO,
    }
}

/// Whether a payout carries the field at `path`; `None` for paths that are
/// not payout fields.
pub(super) fn has(tx: &Transaction, path: &str) -> Option<bool> {
    let p = tx.payout.as_ref();
    let b = p.map(|p| &p.beneficiary);
    Some(match path {
        // Validation refuses a payout without one.
        "beneficiary" => b.is_some(),
        BENEFICIARY_ACCOUNT => {
            b.is_some_and(|b| b.clabe.is_some() || b.iban.is_some() || b.account_hash.is_some())
        }
        "beneficiary.country" => b.is_some_and(|b| b.effective_country().is_some()),
        "beneficiary.name" => b.is_some_and(|b| b.name.is_some()),
        "origin.account_id" => p.is_some_and(|p| p.origin.account_id.is_some()),
        "origin.country" => p.is_some_and(|p| p.origin.country.is_some()),
        "payout.channel" => p.is_some_and(|p| p.channel.is_some()),
        "payout.initiated_by" => p.is_some_and(|p| p.initiated_by.is_some()),
        "idempotency_key" => tx.idempotency_key.is_some(),
        _ => return None,
    })
}

/// The three segments' payout tables; `bank` repeats `banco` because the
/// bank guide reads `field_requirements_by_segment.bank`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequirementsBySegment {
    /// Merchants (marketplaces paying sellers).
    pub comercio: &'static [FieldRequirement],
    /// Payment service providers.
    pub psp: &'static [FieldRequirement],
    /// Banks and core-banking platforms.
    pub banco: &'static [FieldRequirement],
    /// Alias of `banco`.
    pub bank: &'static [FieldRequirement],
}

/// One accepted `payout.channel`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelInfo {
    /// The value.
    pub value: PayoutChannel,
    /// Whether it names a network, and so stands for `payout.rail` when
    /// that is absent.
    pub is_rail: bool,
    /// What it means.
    pub description: &'static str,
}

/// Everything `GET /api/v1/assess/payout` publishes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PayoutCatalog {
    /// Always `payout`: the flow of responses and webhooks.
    pub flow: Flow,
    /// How `amount` is encoded.
    pub amount_rules: AmountRules,
    /// The fields each segment should send.
    pub field_requirements_by_segment: RequirementsBySegment,
    /// The beneficiary fields that identify it; at least one is required.
    pub beneficiary_identifiers: [&'static str; 4],
    /// Accepted `payout.channel` values.
    pub channels: Vec<ChannelInfo>,
    /// Examples of `payout.rail` (free text).
    pub rail_examples: [&'static str; 6],
    /// The blocklist types a payout is matched against besides `country`
    /// and `customer_id`; load them with `flow_scope: payout`.
    pub blocklist_types: [ListType; 5],
    /// The payout signals with their default weights.
    pub signals: Vec<SignalDef>,
    /// The default payout settings of a policy (high-risk countries,
    /// cross-border thresholds, generic initiators, new-beneficiary limit).
    pub defaults: PayoutPolicy,
}

/// The payout catalogue.
pub fn payout_catalog() -> PayoutCatalog {
    PayoutCatalog {
        flow: Flow::Payout,
        amount_rules: amount_rules(),
        field_requirements_by_segment: RequirementsBySegment {
            comercio: COMERCIO,
            psp: PSP,
            banco: BANCO,
            bank: BANCO,
        },
        beneficiary_identifiers: ["id", "clabe", "iban", "account_hash"],
        channels: PayoutChannel::ALL
            .into_iter()
            .map(|value| ChannelInfo {
                value,
                is_rail: value.is_rail(),
                description: match value {
                    PayoutChannel::Spei => "Mexico's SPEI instant transfer to a CLABE.",
                    PayoutChannel::Wire => "A bank wire, domestic or SWIFT.",
                    PayoutChannel::Api => {
                        "Ordered through your API; say the network in payout.rail."
                    }
                },
            })
            .collect(),
        rail_examples: ["spei", "wire", "ach", "sepa", "pix", "swift"],
        blocklist_types: [
            ListType::Clabe,
            ListType::Iban,
            ListType::AccountHash,
            ListType::SwiftBic,
            ListType::BeneficiaryId,
        ],
        signals: signals::ALL
            .iter()
            .filter(|s| s.category == Category::Payout || s.code == "amount_outlier")
            .copied()
            .collect(),
        defaults: PayoutPolicy::default(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalog::{field_warnings, requirements_for};

    fn payout(v: serde_json::Value) -> Transaction {
        Transaction::from_payout_wire(&serde_json::from_value(v).unwrap()).unwrap()
    }

    fn warned(segment: Segment, tx: &Transaction) -> Vec<String> {
        field_warnings(segment, tx).into_iter().map(|w| w.field).collect()
    }

    #[test]
    fn every_payout_path_is_known_to_the_presence_check() {
        let tx = payout(json!({"amount": 1, "currency": "MXN", "beneficiary": {"id": "b"}}));
        for segment in [Segment::Comercio, Segment::Psp, Segment::Banco] {
            for r in payout_requirements(segment) {
                let known = has(&tx, r.field).is_some()
                    || ["amount", "currency", "submerchant_id", "payment_id"].contains(&r.field);
                assert!(known, "{}", r.field);
            }
            assert_eq!(requirements_for(Flow::Payout, segment), payout_requirements(segment));
        }
    }

    #[test]
    fn a_bare_payout_warns_per_segment() {
        let tx = payout(json!({"amount": 1, "currency": "MXN", "beneficiary": {"id": "b"}}));
        assert_eq!(
            warned(Segment::Banco, &tx),
            [
                "beneficiary.country",
                "beneficiary.name",
                "beneficiary.account",
                "origin.account_id",
                "origin.country",
                "payout.channel",
                "payout.initiated_by",
            ]
        );
        let psp = warned(Segment::Psp, &tx);
        assert_eq!(psp[0], "submerchant_id");
        let w = &field_warnings(Segment::Psp, &tx)[0];
        assert!(w.message.starts_with("Required for psp organisations"), "{}", w.message);
        assert_eq!(
            warned(Segment::Comercio, &tx),
            ["beneficiary.account", "beneficiary.country", "payout.initiated_by"]
        );
    }

    #[test]
    fn the_bank_guide_example_warns_about_nothing() {
        let tx = payout(json!({
            "amount": 25000.00, "amount_unit": "major", "currency": "MXN",
            "beneficiary": {"id": "ben_core_001", "name": "Beneficiary SA", "country": "MX",
                "clabe": "032180000118359719"},
            "origin": {"account_id": "acct_orig_01", "country": "MX"},
            "payout": {"channel": "spei", "initiated_by": "ops@bank.com", "first_to_beneficiary": false}
        }));
        assert!(warned(Segment::Banco, &tx).is_empty(), "{:?}", warned(Segment::Banco, &tx));
    }

    #[test]
    fn implied_country_and_rail_channel_satisfy_the_catalogue() {
        let tx = payout(json!({"amount": 1, "currency": "MXN",
            "beneficiary": {"iban": "DE89370400440532013000", "name": "B"},
            "origin": {"account_id": "a", "country": "MX"},
            "payout": {"rail": "wire", "initiated_by": "ana"}}));
        assert!(warned(Segment::Banco, &tx).is_empty(), "{:?}", warned(Segment::Banco, &tx));
    }

    #[test]
    fn the_catalogue_serialises_for_the_server() {
        let v = serde_json::to_value(payout_catalog()).unwrap();
        assert_eq!(v["flow"], "payout");
        assert_eq!(
            v["field_requirements_by_segment"]["bank"],
            v["field_requirements_by_segment"]["banco"]
        );
        assert_eq!(v["field_requirements_by_segment"]["psp"][3]["field"], "submerchant_id");
        assert_eq!(v["field_requirements_by_segment"]["psp"][3]["level"], "required");
        assert_eq!(
            v["channels"][0],
            json!({"value": "spei", "is_rail": true,
            "description": "Mexico's SPEI instant transfer to a CLABE."})
        );
        assert_eq!(
            v["blocklist_types"],
            json!(["clabe", "iban", "account_hash", "swift_bic", "beneficiary_id"])
        );
        assert_eq!(v["amount_rules"]["currency_exponents"]["MXN"], 2);
        assert_eq!(v["amount_rules"]["default_unit"], "minor");
        assert_eq!(v["defaults"]["new_beneficiary_limit"], 3);
        assert_eq!(v["defaults"]["cross_border_min_minor"]["USD"], 300_000);
        let codes: Vec<&str> =
            v["signals"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
        assert!(
            codes.contains(&"payout_unattributed_initiator") && codes.contains(&"amount_outlier")
        );
        assert_eq!(codes.len(), 6);
        assert!(v["signals"][0]["weight"].is_i64());
    }
}
