//! `POST /api/v1/assess`: the pay-in request and the decision response.
//!
//! These structs mirror the JSON integrators send, field for field. They are
//! deliberately raw (strings and numbers): validation and normalisation happen
//! once, in [`crate::transaction::Transaction::from_wire`], so that an error
//! can name the field and the reason.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::scoring::Decision;

/// Free-form key/value context the merchant attaches (`order_id`, `channel`, …).
/// Stored with the transaction and readable from custom rules as `metadata.<key>`.
pub type Metadata = BTreeMap<String, serde_json::Value>;

/// A pay-in assessment request. Only `amount` and `currency` are required;
/// every other field unlocks more signals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example, deny_unknown_fields))]
pub struct AssessRequest {
    /// Transaction amount. In the smallest currency unit (cents) unless
    /// `amount_unit` is `major`, in which case decimals such as `150.00` are
    /// allowed (at most the currency's number of decimals). Must be ≥ 0.
    #[cfg_attr(feature = "openapi", oai(validator(minimum(value = "0"))))]
    pub amount: f64,
    /// ISO 4217 currency code, e.g. `MXN`. Case-insensitive.
    pub currency: String,
    /// `minor` (default: smallest unit, integers only) or `major` (decimals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_unit: Option<AmountUnit>,
    /// Kind of transaction: `payment` (default), `refund`, `subscription`, `payout`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_type: Option<String>,
    /// Payer email. Normalised to lower case before any comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Payer phone number in E.164 form (`+5215512345678`); spaces and dashes are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Your stable id for the payer (account or party id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Your order reference; echoed in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Your payment / core-banking reference; echoed in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// Idempotency key (the `Idempotency-Key` header takes precedence). A replay
    /// with the same key and body returns the stored decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// A session id issued by the browser SDK (`ps_<ms>_<random>`); when absent
    /// the server issues one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// PSP submerchant the transaction belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submerchant_id: Option<String>,
    /// How the payer pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<PaymentMethod>,
    /// The payer's device, as seen by your server or the browser SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// How the payer behaved on the page (from the browser SDK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<Behavior>,
    /// Billing address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<Address>,
    /// Shipping address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Address>,
    /// Free-form context; values must be JSON scalars, arrays or objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// Unit of `amount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
pub enum AmountUnit {
    /// Smallest currency unit (cents, centavos); integers only.
    #[default]
    Minor,
    /// Main currency unit; decimals allowed up to the currency's exponent.
    Major,
}

/// Payment instrument. Never send a full card number: `card_bin` and
/// `card_last4` are all Clausum needs, and a full PAN is refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(deny_unknown_fields))]
pub struct PaymentMethod {
    /// `card`, `bank_transfer`, `wallet`, `cash`, … (free text, lower-cased).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", oai(rename = "type"))]
    pub kind: Option<String>,
    /// First 6 or 8 digits of the card number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_bin: Option<String>,
    /// Last 4 digits of the card number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_last4: Option<String>,
    /// ISO 3166-1 alpha-2 country of the issuing bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_country: Option<String>,
    /// Card brand: `visa`, `mastercard`, `amex`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_brand: Option<String>,
    /// Bank code for transfers (e.g. the 3-digit SPEI participant code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_code: Option<String>,
    /// Wallet: `apple_pay`, `google_pay`, `mercadopago`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_type: Option<String>,
}

/// The payer's device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(deny_unknown_fields))]
pub struct Device {
    /// Payer IP address (IPv4 or IPv6) as seen by your server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Device fingerprint from the browser SDK (`fp_…`) or your own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The browser's user agent string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// IANA time zone of the device, e.g. `America/Mexico_City`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// `navigator.webdriver` as reported by the browser SDK: `true` means the
    /// browser is driven by automation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webdriver: Option<bool>,
}

/// How the payer behaved on the page. Counts only: the SDK never collects
/// what was typed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(deny_unknown_fields))]
pub struct Behavior {
    /// Milliseconds from page load to the assess call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_duration_ms: Option<u64>,
    /// Number of mouse movement events observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mouse_movements: Option<u64>,
    /// Number of key presses observed (never the keys themselves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyboard_events: Option<u64>,
    /// Number of copy or paste events into form fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_paste_events: Option<u64>,
}

/// A billing or shipping address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(deny_unknown_fields))]
pub struct Address {
    /// ISO 3166-1 alpha-2 country code (`MX`). Case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

/// `pay-in` or `payout`: which way the money moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
pub enum Flow {
    /// Money coming in: card payments, transfers to the merchant.
    Payin,
    /// Money going out: SPEI, wires, disbursements.
    Payout,
}

impl Flow {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Payin => "payin",
            Flow::Payout => "payout",
        }
    }
}

/// One fired signal with its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct SignalDetail {
    /// Signal code, e.g. `high_velocity`.
    pub code: String,
    /// Points this signal added to the score (negative for trust signals).
    pub weight: i32,
    /// Human-readable explanation, e.g. "6 transactions in the last hour".
    pub description: String,
}

/// The decision. Enforce it before money moves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct AssessResponse {
    /// `approve`, `review`, `challenge` or `decline`.
    pub decision: Decision,
    /// Risk score from 0 (no risk) to 100.
    pub risk_score: u8,
    /// Codes of the signals that fired.
    pub signals: Vec<String>,
    /// Every fired signal with its weight and description.
    pub signal_details: Vec<SignalDetail>,
    /// The assessment session id (`ps_<ms>_<random>`). Store it with the order.
    pub session_id: String,
    /// What forced a decline, or null: `blocklist:<list_type>:<entry id>` (e.g. `blocklist:email:bl_…`), `amount_max` or `rule:<name>`.
    pub blocked_by: Option<String>,
    /// Server-side processing time in milliseconds.
    pub latency_ms: u64,
    /// `payin` for `POST /api/v1/assess`, `payout` for `POST /api/v1/assess/payout`.
    pub flow: Flow,
    /// Recommended fields for your segment that were missing. The assessment
    /// still succeeded; send them to sharpen the decision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", oai(default, skip_serializing_if_is_empty))]
    pub field_warnings: Vec<FieldWarning>,
    /// Clausum's id for the recorded transaction. A pre-check with a
    /// publishable key is not recorded: its id names nothing stored.
    pub transaction_id: String,
    /// Echo of the request's `order_id` (always null for a payout).
    pub order_id: Option<String>,
    /// Echo of the request's `payment_id`.
    pub payment_id: Option<String>,
    /// The idempotency key that applied to this request, if any. A
    /// pre-check echoes the body's key but is never stored or replayed.
    pub idempotency_key: Option<String>,
    /// Echo of the request's `submerchant_id`.
    pub submerchant_id: Option<String>,
    /// The submerchant's display name, when the request named a known
    /// submerchant (PSP organisations); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    pub submerchant_name: Option<String>,
}

/// A recommended field that was not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct FieldWarning {
    /// Dotted path of the missing field, e.g. `device.ip`.
    pub field: String,
    /// Why it matters.
    pub message: String,
}

/// A complete pay-in request: every documented field, as an integrator
/// would send it. The spec's example and the tests share it.
pub const EXAMPLE_REQUEST_JSON: &str = r#"{
    "amount": 1500,
    "currency": "MXN",
    "amount_unit": "minor",
    "transaction_type": "payment",
    "email": "customer@example.com",
    "phone": "+5215512345678",
    "customer_id": "cus_abc123",
    "order_id": "ORD-123",
    "payment_id": "pay_789",
    "idempotency_key": "ORD-123-attempt-1",
    "session_id": "ps_1716998400000_a1b2c3d4e",
    "submerchant_id": "sub_001",
    "payment_method": {
        "type": "card", "card_bin": "411111", "card_last4": "4242",
        "card_country": "MX", "card_brand": "visa",
        "bank_code": "012", "wallet_type": "apple_pay"
    },
    "device": {
        "ip": "201.150.10.22", "fingerprint": "fp_9a8b7c6d",
        "user_agent": "Mozilla/5.0", "timezone": "America/Mexico_City",
        "webdriver": false
    },
    "behavior": {
        "session_duration_ms": 18230, "mouse_movements": 142,
        "keyboard_events": 61, "copy_paste_events": 0
    },
    "billing": { "country": "MX", "city": "CDMX", "postal_code": "06600" },
    "shipping": { "country": "MX", "city": "CDMX", "postal_code": "06600" },
    "metadata": { "channel": "web" }
}"#;

#[cfg(feature = "openapi")]
impl poem_openapi::types::Example for AssessRequest {
    fn example() -> Self {
        serde_json::from_str(EXAMPLE_REQUEST_JSON).expect("the example is valid")
    }
}

#[cfg(feature = "openapi")]
impl poem_openapi::types::Example for AssessResponse {
    fn example() -> Self {
        AssessResponse {
            decision: Decision::Approve,
            risk_score: 8,
            signals: vec!["short_session".into()],
            signal_details: vec![SignalDetail {
                code: "short_session".into(),
                weight: 8,
                description: "Session lasted 2.1 s before checkout".into(),
            }],
            session_id: "ps_1716998400000_a1b2c3d4e".into(),
            blocked_by: None,
            latency_ms: 3,
            flow: Flow::Payin,
            field_warnings: vec![],
            transaction_id: "txn_01hx5v3k9q7m2d8r4t6y0w1b3c".into(),
            order_id: Some("ORD-123".into()),
            payment_id: None,
            idempotency_key: Some("ORD-123-attempt-1".into()),
            submerchant_id: None,
            submerchant_name: None,
        }
    }
}
