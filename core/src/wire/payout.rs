//! `POST /api/v1/assess/payout`: the payout (disbursement) request.
//!
//! The answer is the same [`super::AssessResponse`] as a pay-in's, with
//! `flow: "payout"`. Like [`super::AssessRequest`], these structs mirror
//! the JSON field for field and stay raw: validation happens once, in
//! [`crate::transaction::Transaction::from_payout_wire`].
//!
//! # `payout.channel` and `payout.rail`
//!
//! The two integration guides spell the same SPEI transfer differently: the
//! payout guide sends `"rail": "spei", "channel": "api"` (the rail is the
//! network, the channel how the order reached you), the bank guide sends
//! `"channel": "spei"`. Both are accepted: `channel` is one of `spei`,
//! `wire`, `api`; `rail` is free text (`spei`, `wire`, `ach`, `sepa`, …).
//! When `channel` is absent and `rail` is one of the channel names, the
//! rail is taken as the channel; when `rail` is absent and the channel is
//! a network (`spei`, `wire`), the channel is taken as the rail. Rules and
//! signals therefore see `payout.rail == "spei"` whichever guide the
//! integrator followed.

use serde::{Deserialize, Serialize};

use super::{AmountUnit, Metadata};

/// A payout assessment request. `amount`, `currency` and a `beneficiary`
/// carrying at least one of `id`, `clabe`, `iban` or `account_hash` are
/// required; every other field unlocks more signals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example, deny_unknown_fields))]
pub struct PayoutRequest {
    /// Amount to disburse. In the smallest currency unit (cents) unless
    /// `amount_unit` is `major`, in which case decimals such as `25000.00`
    /// are allowed (at most the currency's number of decimals). Must be ≥ 0.
    #[cfg_attr(feature = "openapi", oai(validator(minimum(value = "0"))))]
    pub amount: f64,
    /// ISO 4217 currency code, e.g. `MXN`. Case-insensitive.
    pub currency: String,
    /// `minor` (default: smallest unit, integers only) or `major` (decimals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_unit: Option<AmountUnit>,
    /// Kind of transaction; `payout` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_type: Option<String>,
    /// Who receives the money. At least one of `id`, `clabe`, `iban` or
    /// `account_hash` identifies the beneficiary.
    pub beneficiary: Beneficiary,
    /// The account the money leaves from. Velocity and history are kept per
    /// origin account, so send it whenever you can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<PayoutOrigin>,
    /// How the payout is sent and who ordered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout: Option<PayoutDetails>,
    /// Idempotency key (the `Idempotency-Key` header takes precedence). A replay
    /// with the same key and body returns the stored decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Your payment / core-banking reference; echoed in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// Your stable id for the party ordering the payout (customer or party id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// PSP submerchant the payout belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submerchant_id: Option<String>,
    /// Free-form context; values must be JSON scalars, arrays or objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// The beneficiary of a payout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(deny_unknown_fields))]
pub struct Beneficiary {
    /// Your stable id for the beneficiary (matches `beneficiary_id` blocklists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The beneficiary's name (person or company) as registered with the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// ISO 3166-1 alpha-2 country of the beneficiary's account, e.g. `MX`.
    /// When absent, the country of the IBAN, CLABE (`MX`) or SWIFT/BIC is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// 18-digit Mexican CLABE; the check digit is verified. Spaces and dashes are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clabe: Option<String>,
    /// IBAN, paper (grouped by four) or electronic form; country, length,
    /// layout and check digits are verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    /// Your hash of an account number Clausum should not see in clear (any
    /// other scheme); compared case-insensitively with `account_hash` blocklists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_hash: Option<String>,
    /// SWIFT / BIC of the beneficiary's bank, 8 or 11 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swift_bic: Option<String>,
}

/// The account a payout is paid from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(deny_unknown_fields))]
pub struct PayoutOrigin {
    /// Your id of the debited account. Velocity, amount history and the
    /// known-beneficiary check are kept per origin account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// ISO 3166-1 alpha-2 country of the debited account; a beneficiary in
    /// another country makes the payout cross-border.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// How a payout is sent and who ordered it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(deny_unknown_fields))]
pub struct PayoutDetails {
    /// `spei`, `wire` or `api`. When absent, a `rail` of one of those values is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<PayoutChannel>,
    /// The payment network: `spei`, `wire`, `ach`, `sepa`, … (free text,
    /// lower-cased). When absent, a `channel` of `spei` or `wire` is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rail: Option<String>,
    /// The person or service that ordered the payout (user id or email).
    /// Missing or generic values (`system`, `api`, `admin`, …) fire
    /// `payout_unattributed_initiator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiated_by: Option<String>,
    /// `true` when the origin account has never paid this beneficiary before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_to_beneficiary: Option<bool>,
}

/// Through which channel a payout is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
pub enum PayoutChannel {
    /// Mexico's SPEI instant transfers (to a CLABE).
    Spei,
    /// A bank wire (domestic or SWIFT).
    Wire,
    /// Ordered through your API (the rail says which network carries it).
    Api,
}

impl PayoutChannel {
    /// Every channel.
    pub const ALL: [PayoutChannel; 3] =
        [PayoutChannel::Spei, PayoutChannel::Wire, PayoutChannel::Api];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutChannel::Spei => "spei",
            PayoutChannel::Wire => "wire",
            PayoutChannel::Api => "api",
        }
    }

    /// Parses a wire name, ignoring case and surrounding whitespace.
    pub fn parse(s: &str) -> Option<PayoutChannel> {
        let s = s.trim();
        PayoutChannel::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether the channel names a payment network, and so doubles as the rail.
    pub fn is_rail(self) -> bool {
        matches!(self, PayoutChannel::Spei | PayoutChannel::Wire)
    }
}

/// A complete payout request in the payout guide's spelling (`rail` +
/// `channel: "api"`). The spec's example and the tests share it.
pub const EXAMPLE_PAYOUT_JSON: &str = r#"{
    "amount": 25000.00,
    "currency": "MXN",
    "amount_unit": "major",
    "transaction_type": "payout",
    "beneficiary": {
        "id": "ben_core_001",
        "name": "Beneficiary SA",
        "country": "MX",
        "clabe": "002010077777777771",
        "swift_bic": "BNMXMXMM"
    },
    "origin": { "account_id": "acct_orig_01", "country": "MX" },
    "payout": {
        "channel": "api",
        "rail": "spei",
        "initiated_by": "ops@bank.com",
        "first_to_beneficiary": false
    },
    "idempotency_key": "payout-7781-attempt-1",
    "payment_id": "pay_spei_7781",
    "customer_id": "party_001",
    "metadata": { "batch": "2025-06-01" }
}"#;

#[cfg(feature = "openapi")]
impl poem_openapi::types::Example for PayoutRequest {
    fn example() -> Self {
        serde_json::from_str(EXAMPLE_PAYOUT_JSON).expect("the example is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_and_round_trips() {
        let r: PayoutRequest = serde_json::from_str(EXAMPLE_PAYOUT_JSON).unwrap();
        assert_eq!(r.payout.as_ref().unwrap().channel, Some(PayoutChannel::Api));
        assert_eq!(r.amount_unit, Some(AmountUnit::Major));
        let again: PayoutRequest =
            serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn unknown_fields_and_channels_are_refused() {
        let base = r#"{"amount":1,"currency":"MXN","beneficiary":{"id":"b"}"#;
        assert!(serde_json::from_str::<PayoutRequest>(&format!("{base}}}")).is_ok());
        for bad in [
            format!("{base},\"email\":\"a@b.co\"}}"),
            format!("{base},\"payout\":{{\"channel\":\"ach\"}}}}"),
            format!("{base},\"origin\":{{\"iban\":\"x\"}}}}"),
            r#"{"amount":1,"currency":"MXN","beneficiary":{"id":"b","bic":"x"}}"#.to_owned(),
            // The beneficiary is required.
            r#"{"amount":1,"currency":"MXN"}"#.to_owned(),
        ] {
            assert!(serde_json::from_str::<PayoutRequest>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn channel_names() {
        for c in PayoutChannel::ALL {
            assert_eq!(PayoutChannel::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(PayoutChannel::parse(" SPEI "), Some(PayoutChannel::Spei));
        assert_eq!(PayoutChannel::parse("sepa"), None);
        assert!(PayoutChannel::Wire.is_rail() && !PayoutChannel::Api.is_rail());
    }
}
