//! Parse-don't-validate newtypes for everything an integrator sends us.
//!
//! Each type here can only be built through its `parse` (or `from_*`)
//! constructor, so holding one is proof the value is well formed and already
//! in canonical form (trimmed, case-folded, truncated CIDR, …). Downstream
//! code — blocklists, velocity keys, rules — therefore never re-validates and
//! never compares two spellings of the same thing.
//!
//! Every refusal is an [`Invalid`] whose message names the problem but never
//! repeats the value: a rejected field may be a card number or personal data,
//! and error messages end up in logs and API responses.

pub mod amount;
pub mod bic;
pub mod card;
pub mod clabe;
pub mod country;
pub mod currency;
pub mod email;
pub mod iban;
pub mod ip;
pub mod pan;
pub mod phone;
pub mod text;

use std::borrow::Cow;

pub use amount::{Amount, MAX_AMOUNT_MINOR};
pub use bic::SwiftBic;
pub use card::{CardBin, CardLast4};
pub use clabe::Clabe;
pub use country::Country;
pub use currency::Currency;
pub use email::{Email, EmailDomain, RISKY_TLDS};
pub use iban::Iban;
pub use ip::{IpAddress, IpRange, masked_bits};
pub use pan::{luhn_valid, redact_json, redact_pans};
pub use phone::Phone;
pub use text::{clean_text, clean_token};

/// Why a value was refused. The message never contains the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Invalid {
    /// Human-readable reason, e.g. "must be exactly 4 digits".
    pub reason: Cow<'static, str>,
}

impl Invalid {
    /// Builds an error from a reason. Callers must not interpolate the
    /// rejected value into `reason`.
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Invalid { reason: reason.into() }
    }
}
