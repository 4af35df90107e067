//! Payment-provider webhooks in: what a provider's event means to Clausum.
//!
//! Each provider is one module implementing [`Provider`] — how its
//! requests are authenticated, which secret format it issues, and how its
//! event body reads — and produces a provider-neutral [`Effect`]. Applying
//! an effect ([`apply`]) is the same for every provider: find the Clausum
//! transaction, open a case, link a dispute, announce the webhook events.
//! MercadoPago or Adyen would be one more module and one more entry in
//! [`PROVIDERS`] (and one more route in `api::providers`).

pub mod apply;
pub mod stripe;

use clausum_core::{cases::FraudReason, normalize::Currency};
use poem::http::HeaderMap;

/// One payment provider's webhook dialect.
pub trait Provider: Sync {
    /// The name stored with secrets and events, and used in paths (`stripe`).
    fn name(&self) -> &'static str;
    /// The provider's name for people (`Stripe`), in case titles.
    fn label(&self) -> &'static str;
    /// Checks a secret an admin pasted before it is stored; the error says
    /// what is wrong without echoing it.
    fn check_secret(&self, secret: &str) -> Result<(), String>;
    /// Whether the request is authentic: signed with `secret`, recently.
    /// Runs on the raw body, before anything parses it.
    fn verify(&self, headers: &HeaderMap, body: &[u8], secret: &str, now_s: i64) -> bool;
    /// Reads an authentic body.
    fn parse(&self, body: &[u8]) -> Result<ProviderEvent, String>;
}

/// Every supported provider.
pub static PROVIDERS: [&dyn Provider; 1] = [&stripe::Stripe];

/// A provider by name.
pub fn provider(name: &str) -> Option<&'static dyn Provider> {
    PROVIDERS.iter().copied().find(|p| p.name() == name)
}

/// A provider's event, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderEvent {
    /// The provider's event id (the idempotency key).
    pub id: String,
    /// The provider's event type.
    pub event_type: String,
    /// What it means.
    pub effect: Effect,
}

/// What a provider event asks of Clausum.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The payment behind a transaction succeeded (`transaction.succeeded`)
    /// or failed (`transaction.failed`).
    Payment(Payment),
    /// A dispute was opened: a case and `dispute.created`.
    DisputeOpened(Dispute),
    /// A dispute changed (`dispute.updated`) or was closed (`dispute.resolved`).
    DisputeChanged {
        /// The dispute as it is now.
        dispute: Dispute,
        /// Whether it is over.
        closed: bool,
    },
    /// The issuer warned of fraud on a payment: a case.
    FraudWarning(Warning),
    /// Nothing to do; recorded as received.
    Ignored,
}

/// Who the payment is, as the provider names it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PaymentRef {
    /// The assess session id the merchant passed along (Stripe metadata
    /// `clausum_session_id`): the surest link.
    pub session_id: Option<String>,
    /// The provider's payment ids, best first (Stripe: payment intent,
    /// then charge), matched against the `payment_id` sent to assess.
    pub ids: Vec<String>,
}

/// A payment outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    /// `true` for success, `false` for failure.
    pub succeeded: bool,
    /// The payment.
    pub payment: PaymentRef,
    /// The provider's ids, as named in the event's data (`charge_id`, …).
    pub provider_ids: Vec<(&'static str, String)>,
    /// Minor units.
    pub amount_minor: Option<i64>,
    /// ISO 4217, upper case, validated.
    pub currency: Option<String>,
    /// The provider's failure code, for failures.
    pub failure_code: Option<String>,
}

/// A dispute (chargeback).
#[derive(Debug, Clone, PartialEq)]
pub struct Dispute {
    /// The provider's dispute id.
    pub id: String,
    /// The provider's status (`needs_response`, `won`, `lost`, …).
    pub status: String,
    /// The provider's reason (`fraudulent`, …).
    pub reason: Option<String>,
    /// Minor units.
    pub amount_minor: Option<i64>,
    /// ISO 4217, upper case, validated.
    pub currency: Option<String>,
    /// The disputed payment.
    pub payment: PaymentRef,
    /// The provider's ids of the payment, as named in the event's data.
    pub provider_ids: Vec<(&'static str, String)>,
}

/// An early fraud warning.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// The provider's warning id.
    pub id: String,
    /// The provider's fraud type.
    pub fraud_type: String,
    /// The fraud reason the case is opened with.
    pub reason: FraudReason,
    /// The payment warned about.
    pub payment: PaymentRef,
    /// The provider's ids of the payment, as named in the event's data.
    pub provider_ids: Vec<(&'static str, String)>,
}

/// A provider's currency code (Stripe sends `usd`), upper-cased and
/// validated; `None` if it is not an ISO 4217 code we know.
pub fn currency(raw: Option<&str>) -> Option<String> {
    let code = raw?.trim().to_ascii_uppercase();
    Currency::parse(&code).ok().map(|c| c.code().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_upper_cased_and_validated() {
        assert_eq!(currency(Some("usd")).as_deref(), Some("USD"));
        assert_eq!(currency(Some("mxn")).as_deref(), Some("MXN"));
        assert_eq!(currency(Some("zzz")), None);
        assert_eq!(currency(None), None);
    }

    #[test]
    fn providers_are_found_by_name() {
        assert_eq!(provider("stripe").map(|p| p.name()), Some("stripe"));
        assert!(provider("paypal").is_none());
    }
}
