//! Blocklists: what an entry is, how its value is normalised, the
//! in-memory [`index::BlocklistIndex`] the engine matches requests against,
//! and the frozen [`snapshot::Snapshot`] of `block` entries the edge worker
//! matches against with the same probing code ([`lookup::BlocklistLookup`]).

pub mod index;
pub mod lookup;
pub mod snapshot;
mod snapshot_build;
#[cfg(test)]
mod snapshot_tests;

use serde::{Deserialize, Serialize};

pub use index::{BlocklistIndex, EntryMeta, Hit};
pub use lookup::BlocklistLookup;

use crate::normalize::{
    CardBin, Clabe, Country, Email, EmailDomain, Iban, Invalid, IpAddress, IpRange, Phone,
    SwiftBic, text,
};
use crate::wire::Flow;

/// What kind of value an entry holds. The first ten apply to pay-ins, the
/// last five to payouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum ListType {
    /// A full email address.
    Email,
    /// An email domain; also matches its subdomains.
    EmailDomain,
    /// One IP address.
    IpAddress,
    /// A CIDR range (IPv4 or IPv6).
    IpRange,
    /// A device fingerprint.
    DeviceFingerprint,
    /// A card BIN (6 or 8 digits); a 6-digit entry matches every 8-digit BIN under it.
    CardBin,
    /// A merchant-computed hash of a full card number.
    CardHash,
    /// An ISO country: matches card, billing, shipping and IP countries, and
    /// a payout's beneficiary country.
    Country,
    /// A phone number (E.164).
    Phone,
    /// A merchant customer id.
    CustomerId,
    /// Mexican CLABE account (payouts).
    Clabe,
    /// IBAN (payouts).
    Iban,
    /// A hash of a beneficiary account (payouts).
    AccountHash,
    /// SWIFT / BIC code (payouts).
    SwiftBic,
    /// A beneficiary id (payouts).
    BeneficiaryId,
}

impl ListType {
    /// Every list type.
    pub const ALL: [ListType; 15] = [
        ListType::Email,
        ListType::EmailDomain,
        ListType::IpAddress,
        ListType::IpRange,
        ListType::DeviceFingerprint,
        ListType::CardBin,
        ListType::CardHash,
        ListType::Country,
        ListType::Phone,
        ListType::CustomerId,
        ListType::Clabe,
        ListType::Iban,
        ListType::AccountHash,
        ListType::SwiftBic,
        ListType::BeneficiaryId,
    ];

    /// The wire name (`email`, `ip_range`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::Email => "email",
            ListType::EmailDomain => "email_domain",
            ListType::IpAddress => "ip_address",
            ListType::IpRange => "ip_range",
            ListType::DeviceFingerprint => "device_fingerprint",
            ListType::CardBin => "card_bin",
            ListType::CardHash => "card_hash",
            ListType::Country => "country",
            ListType::Phone => "phone",
            ListType::CustomerId => "customer_id",
            ListType::Clabe => "clabe",
            ListType::Iban => "iban",
            ListType::AccountHash => "account_hash",
            ListType::SwiftBic => "swift_bic",
            ListType::BeneficiaryId => "beneficiary_id",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<ListType> {
        ListType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Normalises a raw entry value exactly as the engine normalises the
    /// matching request field, so that equal things compare equal.
    pub fn normalize(self, raw: &str) -> Result<String, Invalid> {
        Ok(match self {
            ListType::Email => Email::parse(raw)?.as_str().to_owned(),
            ListType::EmailDomain => EmailDomain::parse(raw)?.as_str().to_owned(),
            ListType::IpAddress => IpAddress::parse(raw)?.to_string(),
            ListType::IpRange => IpRange::parse(raw)?.to_string(),
            ListType::CardBin => CardBin::parse(raw)?.as_str().to_owned(),
            ListType::Country => Country::parse(raw)?.as_str().to_owned(),
            ListType::Phone => Phone::parse(raw)?.as_str().to_owned(),
            ListType::CardHash | ListType::AccountHash => {
                text::clean_token(raw, 256)?.to_ascii_lowercase()
            }
            ListType::Clabe => Clabe::parse(raw)?.as_str().to_owned(),
            ListType::Iban => Iban::parse(raw)?.as_str().to_owned(),
            ListType::SwiftBic => SwiftBic::parse(raw)?.as_str().to_owned(),
            ListType::DeviceFingerprint | ListType::CustomerId | ListType::BeneficiaryId => {
                text::clean_token(raw, 256)?
            }
        })
    }
}

/// The compact form of an entry id (`bl_` + 32 hex digits, a UUID) kept in
/// the index: 16 bytes instead of a heap string per entry. Ids of any other
/// shape map to 0, "unknown".
pub fn entry_key(id: &str) -> u128 {
    id.strip_prefix("bl_")
        .filter(|h| h.len() == 32)
        .and_then(|h| u128::from_str_radix(h, 16).ok())
        .unwrap_or(0)
}

/// The entry id of an [`entry_key`], if known.
pub fn entry_id(key: u128) -> Option<String> {
    (key != 0).then(|| format!("bl_{key:032x}"))
}

/// How hard an entry hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum Severity {
    /// Moderate weight; routes the transaction to review at least.
    Review,
    /// Heavy weight.
    Flag,
    /// Hard decline, score 100. The default.
    Block,
}

impl Severity {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Review => "review",
            Severity::Flag => "flag",
            Severity::Block => "block",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Severity> {
        [Severity::Review, Severity::Flag, Severity::Block].into_iter().find(|v| v.as_str() == s)
    }
}

/// Which flows an entry applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum FlowScope {
    /// Pay-ins only.
    Payin,
    /// Payouts only.
    Payout,
    /// Both. The default.
    All,
}

impl FlowScope {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowScope::Payin => "payin",
            FlowScope::Payout => "payout",
            FlowScope::All => "all",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<FlowScope> {
        [FlowScope::Payin, FlowScope::Payout, FlowScope::All].into_iter().find(|v| v.as_str() == s)
    }

    /// Whether an entry with this scope applies to a request of `flow`.
    pub fn covers(self, flow: Flow) -> bool {
        matches!(
            (self, flow),
            (FlowScope::All, _)
                | (FlowScope::Payin, Flow::Payin)
                | (FlowScope::Payout, Flow::Payout)
        )
    }
}

/// Where an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum Source {
    /// Added by a person in the dashboard or management API. The default.
    Manual,
    /// Added by a rule.
    Rule,
    /// Added automatically by a fraud report.
    FraudReport,
    /// Added from a chargeback.
    Chargeback,
    /// Added through the API.
    Api,
}

impl Source {
    /// Every source.
    pub const ALL: [Source; 5] =
        [Source::Manual, Source::Rule, Source::FraudReport, Source::Chargeback, Source::Api];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Rule => "rule",
            Source::FraudReport => "fraud_report",
            Source::Chargeback => "chargeback",
            Source::Api => "api",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_keys_round_trip_uuid_ids_only() {
        let id = "bl_0192f3a4b5c6d7e8f90a1b2c3d4e5f60";
        assert_eq!(entry_id(entry_key(id)).as_deref(), Some(id));
        assert_eq!(entry_key("bl_7"), 0);
        assert_eq!(entry_key("xx_0192f3a4b5c6d7e8f90a1b2c3d4e5f60"), 0);
        assert_eq!(entry_id(0), None);
    }

    #[test]
    fn names_round_trip() {
        for t in ListType::ALL {
            assert_eq!(ListType::parse(t.as_str()), Some(t));
        }
        assert_eq!(Severity::parse("flag"), Some(Severity::Flag));
        assert_eq!(FlowScope::parse("all"), Some(FlowScope::All));
        assert_eq!(Source::parse("fraud_report"), Some(Source::FraudReport));
        assert_eq!(ListType::parse("ssn"), None);
    }

    #[test]
    fn values_normalise_like_requests() {
        assert_eq!(ListType::Email.normalize(" Fraud@Example.COM ").unwrap(), "fraud@example.com");
        assert_eq!(ListType::Country.normalize("mx").unwrap(), "MX");
        assert_eq!(ListType::IpRange.normalize("10.1.2.3/8").unwrap(), "10.0.0.0/8");
        assert_eq!(
            ListType::Iban.normalize("de89 3704 0044 0532 0130 00").unwrap(),
            "DE89370400440532013000"
        );
        assert!(ListType::Iban.normalize("de89 3704 0044").is_err());
        assert_eq!(
            ListType::Clabe.normalize("032 180 000118359719").unwrap(),
            "032180000118359719"
        );
        assert!(ListType::Clabe.normalize("032180000118359718").is_err());
        assert_eq!(ListType::SwiftBic.normalize("deutdeffxxx").unwrap(), "DEUTDEFF");
        assert!(ListType::CardBin.normalize("4111111111111111").is_err());
        assert!(ListType::Clabe.normalize("123").is_err());
    }

    #[test]
    fn scope_coverage() {
        assert!(FlowScope::All.covers(Flow::Payout));
        assert!(FlowScope::Payin.covers(Flow::Payin));
        assert!(!FlowScope::Payin.covers(Flow::Payout));
        assert!(!FlowScope::Payout.covers(Flow::Payin));
    }
}
