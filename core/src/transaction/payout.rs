//! The validated payout half of a [`Transaction`]: who receives the money,
//! from which account, over which channel, ordered by whom.
//!
//! Account numbers are parsed with their check digits ([`Clabe`], [`Iban`],
//! [`SwiftBic`]), so a mistyped CLABE is refused with its field path rather
//! than silently missing a blocklist entry, and every value is in the form
//! [`crate::blocklist::ListType::normalize`] gives a stored entry.

use super::{FieldError, Transaction, free_text, lower_token, optional};
use crate::blocklist::ListType;
use crate::normalize::{Clabe, Country, Iban, SwiftBic, clean_token};
use crate::wire::{Beneficiary, PayoutChannel, PayoutDetails, PayoutOrigin, PayoutRequest};

/// The transaction type of a payout that does not say.
pub const DEFAULT_PAYOUT_TRANSACTION_TYPE: &str = "payout";

/// The normalised payout fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PayoutInfo {
    /// Who receives the money.
    pub beneficiary: BeneficiaryInfo,
    /// The debited account.
    pub origin: OriginInfo,
    /// `spei`, `wire` or `api`: as sent, else inferred from `rail`.
    pub channel: Option<PayoutChannel>,
    /// The network, lower-cased, no whitespace, ≤ 32 characters: as sent,
    /// else the channel when it names a network (`spei`, `wire`).
    pub rail: Option<String>,
    /// Who ordered the payout, ≤ 128 characters, card numbers redacted.
    pub initiated_by: Option<String>,
    /// The integrator's own "never paid this beneficiary before".
    pub first_to_beneficiary: Option<bool>,
}

/// The normalised beneficiary. At least one of `id`, `clabe`, `iban` and
/// `account_hash` is present.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BeneficiaryInfo {
    /// Merchant's beneficiary id (no whitespace, ≤ 128 characters).
    pub id: Option<String>,
    /// Name, ≤ 256 characters, card numbers redacted.
    pub name: Option<String>,
    /// Country as sent; see [`BeneficiaryInfo::effective_country`].
    pub country: Option<Country>,
    /// CLABE with a verified check digit.
    pub clabe: Option<Clabe>,
    /// IBAN with verified layout and check digits.
    pub iban: Option<Iban>,
    /// Merchant's account hash, lower-cased (as `account_hash` blocklist entries).
    pub account_hash: Option<String>,
    /// SWIFT/BIC, 8 characters for a primary office.
    pub swift_bic: Option<SwiftBic>,
}

/// The normalised origin account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OriginInfo {
    /// Merchant's id of the debited account (no whitespace, ≤ 128 characters).
    pub account_id: Option<String>,
    /// Country of the debited account.
    pub country: Option<Country>,
}

impl BeneficiaryInfo {
    /// Where the money lands: the country sent, else the IBAN's country,
    /// else Mexico for a CLABE, else the SWIFT/BIC's country. Signals and
    /// rules use this, so a payout to an Iranian IBAN without a `country`
    /// is still seen as one.
    pub fn effective_country(&self) -> Option<Country> {
        self.country
            .or_else(|| self.iban.as_ref().and_then(|i| Country::parse(i.country_code()).ok()))
            .or_else(|| self.clabe.as_ref().and_then(|_| Country::parse("MX").ok()))
            .or_else(|| self.swift_bic.as_ref().map(SwiftBic::country))
    }

    /// The strongest identifier of the beneficiary — its account (CLABE,
    /// IBAN, account hash) before the merchant's id — as `(list type,
    /// normalised value)`. Known-beneficiary bookkeeping keys on it.
    pub fn identity(&self) -> Option<(ListType, &str)> {
        None.or_else(|| self.clabe.as_ref().map(|c| (ListType::Clabe, c.as_str())))
            .or_else(|| self.iban.as_ref().map(|i| (ListType::Iban, i.as_str())))
            .or_else(|| self.account_hash.as_deref().map(|h| (ListType::AccountHash, h)))
            .or_else(|| self.id.as_deref().map(|id| (ListType::BeneficiaryId, id)))
    }

    fn from_wire(b: &Beneficiary) -> Result<Self, FieldError> {
        let info = BeneficiaryInfo {
            id: optional("beneficiary.id", &b.id, |s| clean_token(s, 128))?,
            name: optional("beneficiary.name", &b.name, |s| free_text(s, 256))?,
            country: optional("beneficiary.country", &b.country, Country::parse)?,
            clabe: optional("beneficiary.clabe", &b.clabe, Clabe::parse)?,
            iban: optional("beneficiary.iban", &b.iban, Iban::parse)?,
            account_hash: optional("beneficiary.account_hash", &b.account_hash, |s| {
                ListType::AccountHash.normalize(s)
            })?,
            swift_bic: optional("beneficiary.swift_bic", &b.swift_bic, SwiftBic::parse)?,
        };
        if info.identity().is_none() {
            return Err(FieldError {
                field: "beneficiary".to_owned(),
                reason: "must carry at least one of id, clabe, iban or account_hash".to_owned(),
            });
        }
        Ok(info)
    }

    fn to_wire(&self) -> Beneficiary {
        Beneficiary {
            id: self.id.clone(),
            name: self.name.clone(),
            country: self.country.map(|c| c.as_str().to_owned()),
            clabe: self.clabe.as_ref().map(|c| c.as_str().to_owned()),
            iban: self.iban.as_ref().map(|i| i.as_str().to_owned()),
            account_hash: self.account_hash.clone(),
            swift_bic: self.swift_bic.as_ref().map(|b| b.as_str().to_owned()),
        }
    }
}

impl OriginInfo {
    fn from_wire(o: Option<&PayoutOrigin>) -> Result<Self, FieldError> {
        let Some(o) = o else { return Ok(Self::default()) };
        Ok(OriginInfo {
            account_id: optional("origin.account_id", &o.account_id, |s| clean_token(s, 128))?,
            country: optional("origin.country", &o.country, Country::parse)?,
        })
    }

    fn to_wire(&self) -> Option<PayoutOrigin> {
        let o = PayoutOrigin {
            account_id: self.account_id.clone(),
            country: self.country.map(|c| c.as_str().to_owned()),
        };
        (o != PayoutOrigin::default()).then_some(o)
    }
}

impl PayoutInfo {
    fn from_wire(req: &PayoutRequest) -> Result<Self, FieldError> {
        let beneficiary = BeneficiaryInfo::from_wire(&req.beneficiary)?;
        let origin = OriginInfo::from_wire(req.origin.as_ref())?;
        let d = req.payout.clone().unwrap_or_default();
        let rail = optional("payout.rail", &d.rail, |s| lower_token(s, 32))?;
        // The guides disagree on where `spei` goes (see `crate::wire::payout`):
        // each field falls back on the other so both spellings read alike.
        let channel = d.channel.or_else(|| rail.as_deref().and_then(PayoutChannel::parse));
        let rail = rail.or_else(|| channel.filter(|c| c.is_rail()).map(|c| c.as_str().to_owned()));
        Ok(PayoutInfo {
            beneficiary,
            origin,
            channel,
            rail,
            initiated_by: optional("payout.initiated_by", &d.initiated_by, |s| free_text(s, 128))?,
            first_to_beneficiary: d.first_to_beneficiary,
        })
    }

    fn to_wire(&self) -> Option<PayoutDetails> {
        let d = PayoutDetails {
            channel: self.channel,
            rail: self.rail.clone(),
            initiated_by: self.initiated_by.clone(),
            first_to_beneficiary: self.first_to_beneficiary,
        };
        (d != PayoutDetails::default()).then_some(d)
    }
}

impl Transaction {
    /// Validates and normalises a payout request; the first invalid field is
    /// reported with its dotted path (`beneficiary.clabe`). The result has
    /// `payout: Some(..)` and no pay-in fields (email, device, behaviour, …),
    /// so the one engine pipeline assesses it.
    pub fn from_payout_wire(req: &PayoutRequest) -> Result<Transaction, FieldError> {
        let (amount, amount_unit) = super::wire_amount(req.amount, &req.currency, req.amount_unit)?;
        let transaction_type = super::transaction_type(&req.transaction_type)?
            .unwrap_or_else(|| DEFAULT_PAYOUT_TRANSACTION_TYPE.to_owned());
        let token = |max: usize| move |s: &str| clean_token(s, max);
        Ok(Transaction {
            amount,
            amount_unit,
            transaction_type,
            customer_id: optional("customer_id", &req.customer_id, token(128))?,
            payment_id: optional("payment_id", &req.payment_id, token(128))?,
            idempotency_key: optional("idempotency_key", &req.idempotency_key, token(255))?,
            submerchant_id: optional("submerchant_id", &req.submerchant_id, token(128))?,
            payout: Some(PayoutInfo::from_wire(req)?),
            metadata: super::clean_metadata(req.metadata.as_ref())
                .map_err(|e| FieldError::new("metadata", e))?,
            email: None,
            phone: None,
            order_id: None,
            session_id: None,
            payment_method: Default::default(),
            device: Default::default(),
            behavior: Default::default(),
            billing: Default::default(),
            shipping: Default::default(),
        })
    }

    /// The serialisable view of a payout as received after normalisation —
    /// used for storage, like [`Transaction::to_wire`] for a pay-in. `None`
    /// for a pay-in.
    pub fn to_payout_wire(&self) -> Option<PayoutRequest> {
        let p = self.payout.as_ref()?;
        Some(PayoutRequest {
            amount: self.wire_amount_value(),
            currency: self.amount.currency().code().to_owned(),
            amount_unit: Some(self.amount_unit),
            transaction_type: Some(self.transaction_type.clone()),
            beneficiary: p.beneficiary.to_wire(),
            origin: p.origin.to_wire(),
            payout: p.to_wire(),
            idempotency_key: self.idempotency_key.clone(),
            payment_id: self.payment_id.clone(),
            customer_id: self.customer_id.clone(),
            submerchant_id: self.submerchant_id.clone(),
            metadata: (!self.metadata.is_empty()).then(|| self.metadata.clone()),
        })
    }
}

#[cfg(test)]
#[path = "payout_tests.rs"]
mod tests;
