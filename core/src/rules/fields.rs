//! The field catalogue: every value a rule can read, resolved from its dotted
//! path once, at compile time, so evaluation never looks at a string path.

use std::fmt;

use crate::velocity::{Dimension, Window};

/// A value a rule can read from the facts of one request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// `amount`: number, in minor units (cents).
    Amount,
    /// `amount_major`: number, in major units.
    AmountMajor,
    /// `currency`: string, upper-case ISO 4217 code.
    Currency,
    /// `transaction_type`: string.
    TransactionType,
    /// `email`: string, lower-case.
    Email,
    /// `email.domain`: string, lower-case.
    EmailDomain,
    /// `email.tld`: string, lower-case, without the dot.
    EmailTld,
    /// `phone`: string, E.164.
    Phone,
    /// `customer_id`: string.
    CustomerId,
    /// `order_id`: string.
    OrderId,
    /// `payment_id`: string.
    PaymentId,
    /// `submerchant_id`: string.
    SubmerchantId,
    /// `payment_method.type`: string.
    PmType,
    /// `payment_method.card_bin`: string.
    PmCardBin,
    /// `payment_method.card_last4`: string.
    PmCardLast4,
    /// `payment_method.card_country`: string, upper-case ISO 3166 code.
    PmCardCountry,
    /// `payment_method.card_brand`: string.
    PmCardBrand,
    /// `payment_method.bank_code`: string.
    PmBankCode,
    /// `payment_method.wallet_type`: string.
    PmWalletType,
    /// `device.ip`: string.
    DeviceIp,
    /// `device.ip_country`: string, upper-case ISO 3166 code.
    DeviceIpCountry,
    /// `device.fingerprint`: string.
    DeviceFingerprint,
    /// `device.user_agent`: string.
    DeviceUserAgent,
    /// `device.timezone`: string.
    DeviceTimezone,
    /// `device.webdriver`: bool.
    DeviceWebdriver,
    /// `behavior.session_duration_ms`: number.
    SessionDurationMs,
    /// `behavior.mouse_movements`: number.
    MouseMovements,
    /// `behavior.keyboard_events`: number.
    KeyboardEvents,
    /// `behavior.copy_paste_events`: number.
    CopyPasteEvents,
    /// `billing.country`: string, upper-case ISO 3166 code.
    BillingCountry,
    /// `billing.city`: string.
    BillingCity,
    /// `billing.postal_code`: string.
    BillingPostalCode,
    /// `shipping.country`: string, upper-case ISO 3166 code.
    ShippingCountry,
    /// `shipping.city`: string.
    ShippingCity,
    /// `shipping.postal_code`: string.
    ShippingPostalCode,
    /// `flow`: string, `payin` or `payout`.
    Flow,
    /// `beneficiary.id`: string (payouts).
    BeneficiaryId,
    /// `beneficiary.name`: string (payouts).
    BeneficiaryName,
    /// `beneficiary.country`: string, upper-case ISO 3166 code: as sent,
    /// else implied by the IBAN, CLABE (`MX`) or SWIFT/BIC (payouts).
    BeneficiaryCountry,
    /// `beneficiary.clabe`: string, 18 digits (payouts).
    BeneficiaryClabe,
    /// `beneficiary.iban`: string, upper-case electronic form (payouts).
    BeneficiaryIban,
    /// `beneficiary.account_hash`: string, lower-case (payouts).
    BeneficiaryAccountHash,
    /// `beneficiary.swift_bic`: string, upper-case, 8 characters for a
    /// primary office (payouts).
    BeneficiarySwiftBic,
    /// `origin.account_id`: string (payouts).
    OriginAccountId,
    /// `origin.country`: string, upper-case ISO 3166 code (payouts).
    OriginCountry,
    /// `payout.channel`: string, `spei`, `wire` or `api` (payouts).
    PayoutChannel,
    /// `payout.rail`: string, lower-case, e.g. `spei`, `sepa` (payouts).
    PayoutRail,
    /// `payout.initiated_by`: string (payouts).
    PayoutInitiatedBy,
    /// `payout.first_to_beneficiary`: bool, as the request says (payouts).
    PayoutFirstToBeneficiary,
    /// `payout.beneficiary_known`: bool, whether the origin account paid
    /// this beneficiary before, by the server's records (payouts; null when
    /// unknown).
    PayoutBeneficiaryKnown,
    /// `payout.new_beneficiaries`: number of beneficiaries the origin account
    /// paid for the first time within the policy's window, before this
    /// payout (payouts; null when unknown).
    PayoutNewBeneficiaries,
    /// `metadata.<key>`: whatever the merchant sent (string, number or bool),
    /// so static type checks are skipped for it.
    Metadata(Box<str>),
    /// `velocity.<dimension>.<count|sum>_<10m|1h|24h>`: number. Sums are in
    /// minor units.
    Velocity {
        /// Which payer dimension.
        dimension: Dimension,
        /// Which sliding window.
        window: Window,
        /// Count of earlier transactions or the sum of their amounts.
        stat: VelocityStat,
    },
    /// `history.fraud_reports`: number of earlier confirmed-fraud reports
    /// matching this payer.
    HistoryFraudReports,
    /// `history.approved_count`: number of earlier approved transactions of
    /// this payer.
    HistoryApprovedCount,
    /// `score`: number, the score of the built-in signals before rules.
    Score,
    /// `signal.<code>`: bool, whether that built-in signal fired.
    Signal(Box<str>),
}

/// Which velocity statistic a [`Field::Velocity`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VelocityStat {
    /// Number of earlier transactions in the window.
    Count,
    /// Sum of their amounts, in minor units.
    Sum,
}

impl VelocityStat {
    /// The name used in rules: `count` or `sum`.
    pub fn as_str(self) -> &'static str {
        match self {
            VelocityStat::Count => "count",
            VelocityStat::Sum => "sum",
        }
    }
}

/// The static type of a field, checked at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A number (integers and decimals alike).
    Number,
    /// A string.
    String,
    /// `true` or `false`.
    Bool,
    /// Unknown until run time (metadata): checks are skipped.
    Dynamic,
}

/// How string literals compared with a field are rewritten at compile time,
/// because the engine feeds that field already normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LiteralCase {
    /// Currencies, countries, IBANs and SWIFT/BIC codes.
    Upper,
    /// Emails and their parts, the flow, payout channels and rails,
    /// account hashes.
    Lower,
}

/// A value read from the facts of one request. Absent fields are Null.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// The field is absent from the request.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string, already normalised by the engine.
    Str(&'a str),
}

/// What the rules read. The engine implements it over its per-request context.
pub trait Facts {
    /// The value of `field` for this request, or [`Value::Null`] if absent.
    fn get(&self, field: &Field) -> Value<'_>;
}

/// Every path without a variable part. One table serves parsing, printing
/// and suggestions, so they cannot drift apart.
pub(super) const FIXED: &[(&str, Field)] = &[
    ("amount", Field::Amount),
    ("amount_major", Field::AmountMajor),
    ("currency", Field::Currency),
    ("transaction_type", Field::TransactionType),
    ("email", Field::Email),
    ("email.domain", Field::EmailDomain),
    ("email.tld", Field::EmailTld),
    ("phone", Field::Phone),
    ("customer_id", Field::CustomerId),
    ("order_id", Field::OrderId),
    ("payment_id", Field::PaymentId),
    ("submerchant_id", Field::SubmerchantId),
    ("payment_method.type", Field::PmType),
    ("payment_method.card_bin", Field::PmCardBin),
    ("payment_method.card_last4", Field::PmCardLast4),
    ("payment_method.card_country", Field::PmCardCountry),
    ("payment_method.card_brand", Field::PmCardBrand),
    ("payment_method.bank_code", Field::PmBankCode),
    ("payment_method.wallet_type", Field::PmWalletType),
    ("device.ip", Field::DeviceIp),
    ("device.ip_country", Field::DeviceIpCountry),
    ("device.fingerprint", Field::DeviceFingerprint),
    ("device.user_agent", Field::DeviceUserAgent),
    ("device.timezone", Field::DeviceTimezone),
    ("device.webdriver", Field::DeviceWebdriver),
    ("behavior.session_duration_ms", Field::SessionDurationMs),
    ("behavior.mouse_movements", Field::MouseMovements),
    ("behavior.keyboard_events", Field::KeyboardEvents),
    ("behavior.copy_paste_events", Field::CopyPasteEvents),
    ("billing.country", Field::BillingCountry),
    ("billing.city", Field::BillingCity),
    ("billing.postal_code", Field::BillingPostalCode),
    ("shipping.country", Field::ShippingCountry),
    ("shipping.city", Field::ShippingCity),
    ("shipping.postal_code", Field::ShippingPostalCode),
    ("flow", Field::Flow),
    ("beneficiary.id", Field::BeneficiaryId),
    ("beneficiary.name", Field::BeneficiaryName),
    ("beneficiary.country", Field::BeneficiaryCountry),
    ("beneficiary.clabe", Field::BeneficiaryClabe),
    ("beneficiary.iban", Field::BeneficiaryIban),
    ("beneficiary.account_hash", Field::BeneficiaryAccountHash),
    ("beneficiary.swift_bic", Field::BeneficiarySwiftBic),
    ("origin.account_id", Field::OriginAccountId),
    ("origin.country", Field::OriginCountry),
    ("payout.channel", Field::PayoutChannel),
    ("payout.rail", Field::PayoutRail),
    ("payout.initiated_by", Field::PayoutInitiatedBy),
    ("payout.first_to_beneficiary", Field::PayoutFirstToBeneficiary),
    ("payout.beneficiary_known", Field::PayoutBeneficiaryKnown),
    ("payout.new_beneficiaries", Field::PayoutNewBeneficiaries),
    ("history.fraud_reports", Field::HistoryFraudReports),
    ("history.approved_count", Field::HistoryApprovedCount),
    ("score", Field::Score),
];

impl Field {
    /// A few valid paths, for error messages and documentation.
    pub const EXAMPLE_PATHS: &[&str] = &[
        "amount",
        "currency",
        "email.domain",
        "payment_method.card_country",
        "billing.country",
        "device.webdriver",
        "behavior.session_duration_ms",
        "velocity.email.count_1h",
        "velocity.card.sum_24h",
        "flow",
        "beneficiary.country",
        "payout.rail",
        "velocity.account.count_24h",
        "history.fraud_reports",
        "score",
        "metadata.<key>",
        "signal.<code>",
    ];

    /// Resolves a dotted path (`email.domain`, `velocity.ip.count_10m`,
    /// `metadata.channel`, `signal.disposable_email`). `None` if unknown.
    pub fn parse_path(path: &str) -> Option<Field> {
        if let Some((_, field)) = FIXED.iter().find(|(p, _)| *p == path) {
            return Some(field.clone());
        }
        let (root, rest) = path.split_once('.')?;
        match root {
            "metadata" if is_segment(rest) => Some(Field::Metadata(rest.into())),
            // Only catalogued signals: a typo would otherwise never fire.
            "signal" if crate::signals::find(rest).is_some() => Some(Field::Signal(rest.into())),
            "velocity" => {
                let (dimension, stat_window) = rest.split_once('.')?;
                let dimension = Dimension::parse(dimension)?;
                let (stat, window) = stat_window.split_once('_')?;
                let stat = match stat {
                    "count" => VelocityStat::Count,
                    "sum" => VelocityStat::Sum,
                    _ => return None,
                };
                Some(Field::Velocity { dimension, window: Window::parse(window)?, stat })
            }
            _ => None,
        }
    }

    /// The dotted path, as written in rules.
    pub fn path(&self) -> String {
        match self {
            Field::Metadata(key) => format!("metadata.{key}"),
            Field::Signal(code) => format!("signal.{code}"),
            Field::Velocity { dimension, window, stat } => {
                format!("velocity.{}.{}_{}", dimension.as_str(), stat.as_str(), window.as_str())
            }
            fixed => FIXED
                .iter()
                .find(|(_, f)| f == fixed)
                .map(|(p, _)| (*p).to_owned())
                .unwrap_or_default(),
        }
    }

    /// The static type rules are checked against.
    pub fn field_type(&self) -> FieldType {
        use Field::*;
        match self {
            Amount
            | AmountMajor
            | SessionDurationMs
            | MouseMovements
            | KeyboardEvents
            | CopyPasteEvents
            | Velocity { .. }
            | HistoryFraudReports
            | HistoryApprovedCount
            | PayoutNewBeneficiaries
            | Score => FieldType::Number,
            DeviceWebdriver | PayoutFirstToBeneficiary | PayoutBeneficiaryKnown | Signal(_) => {
                FieldType::Bool
            }
            Metadata(_) => FieldType::Dynamic,
            // Listed, not wildcarded: a new field must choose its type.
            Currency
            | TransactionType
            | Email
            | EmailDomain
            | EmailTld
            | Phone
            | CustomerId
            | OrderId
            | PaymentId
            | SubmerchantId
            | PmType
            | PmCardBin
            | PmCardLast4
            | PmCardCountry
            | PmCardBrand
            | PmBankCode
            | PmWalletType
            | DeviceIp
            | DeviceIpCountry
            | DeviceFingerprint
            | DeviceUserAgent
            | DeviceTimezone
            | BillingCountry
            | BillingCity
            | BillingPostalCode
            | ShippingCountry
            | ShippingCity
            | ShippingPostalCode
            | Flow
            | BeneficiaryId
            | BeneficiaryName
            | BeneficiaryCountry
            | BeneficiaryClabe
            | BeneficiaryIban
            | BeneficiaryAccountHash
            | BeneficiarySwiftBic
            | OriginAccountId
            | OriginCountry
            | PayoutChannel
            | PayoutRail
            | PayoutInitiatedBy => FieldType::String,
        }
    }

    /// How literals compared with this field are normalised, if at all.
    pub(super) fn literal_case(&self) -> Option<LiteralCase> {
        use Field::*;
        match self {
            Currency | PmCardCountry | DeviceIpCountry | BillingCountry | ShippingCountry
            | BeneficiaryCountry | OriginCountry | BeneficiaryIban | BeneficiarySwiftBic => {
                Some(LiteralCase::Upper)
            }
            Email
            | EmailDomain
            | EmailTld
            | Flow
            | PayoutChannel
            | PayoutRail
            | BeneficiaryAccountHash => Some(LiteralCase::Lower),
            _ => None,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// A metadata key: one lower-case path segment.
fn is_segment(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
