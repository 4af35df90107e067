//! Outbound webhooks: the event catalogue, the signature contract, the
//! destination (SSRF) rules and the delivery retry schedule — plus
//! verification of the Stripe webhooks Clausum receives.
//!
//! Everything here is pure: the origin's outbox worker passes the clock, the
//! random jitter and the resolved addresses in, and does the sending itself.
//!
//! - [`signature`]: `X-Clausum-Signature: t=<unix s>,v1=<hex>` signing and
//!   verification, with golden vectors shared with the npm verifier.
//! - [`secret`]: the `whsec_…` endpoint secret format.
//! - [`stripe`]: verification of Stripe's `Stripe-Signature` header.
//! - [`ssrf`]: which destinations may never be called, and strict URL checks.
//! - [`retry`]: the back-off schedule and `Retry-After` parsing.

pub mod golden;
pub mod retry;
pub mod secret;
pub mod signature;
pub mod ssrf;
pub mod stripe;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use golden::{GOLDEN, GoldenVector};
pub use retry::{next_attempt_delay_ms, retry_after_ms};
pub use secret::{SecretFormatError, WebhookSecret};
pub use signature::{DEFAULT_TOLERANCE_S, SignatureHeader, VerifyError, header, sign, verify};
pub use ssrf::{ParsedTarget, UrlError, check_url, forbidden_ip};
pub use stripe::{stripe_header, verify_stripe};

/// The events a webhook endpoint can subscribe to. The wire names are the
/// dotted strings of the public catalogue (`transaction.created`, …).
///
/// The public docs list eleven events; `endpoint.disabled` is ours, sent to
/// the organisation's other endpoints when one is disabled after sustained
/// delivery failures (as Svix's `EndpointDisabledEvent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
pub enum EventType {
    /// A transaction was assessed and recorded.
    #[serde(rename = "transaction.created")]
    #[cfg_attr(feature = "openapi", oai(rename = "transaction.created"))]
    TransactionCreated,
    /// A transaction was declined by a hard block.
    #[serde(rename = "transaction.blocked")]
    #[cfg_attr(feature = "openapi", oai(rename = "transaction.blocked"))]
    TransactionBlocked,
    /// The payment behind a transaction succeeded.
    #[serde(rename = "transaction.succeeded")]
    #[cfg_attr(feature = "openapi", oai(rename = "transaction.succeeded"))]
    TransactionSucceeded,
    /// The payment behind a transaction failed.
    #[serde(rename = "transaction.failed")]
    #[cfg_attr(feature = "openapi", oai(rename = "transaction.failed"))]
    TransactionFailed,
    /// Fraud was reported on a transaction.
    #[serde(rename = "fraud.detected")]
    #[cfg_attr(feature = "openapi", oai(rename = "fraud.detected"))]
    FraudDetected,
    /// A fraud report was confirmed.
    #[serde(rename = "fraud.confirmed")]
    #[cfg_attr(feature = "openapi", oai(rename = "fraud.confirmed"))]
    FraudConfirmed,
    /// A case (expediente) was opened.
    #[serde(rename = "case.created")]
    #[cfg_attr(feature = "openapi", oai(rename = "case.created"))]
    CaseCreated,
    /// A case changed status or content.
    #[serde(rename = "case.updated")]
    #[cfg_attr(feature = "openapi", oai(rename = "case.updated"))]
    CaseUpdated,
    /// A dispute (chargeback) was opened.
    #[serde(rename = "dispute.created")]
    #[cfg_attr(feature = "openapi", oai(rename = "dispute.created"))]
    DisputeCreated,
    /// A dispute changed status.
    #[serde(rename = "dispute.updated")]
    #[cfg_attr(feature = "openapi", oai(rename = "dispute.updated"))]
    DisputeUpdated,
    /// A dispute was closed.
    #[serde(rename = "dispute.resolved")]
    #[cfg_attr(feature = "openapi", oai(rename = "dispute.resolved"))]
    DisputeResolved,
    /// A webhook endpoint was disabled after sustained delivery failures.
    #[serde(rename = "endpoint.disabled")]
    #[cfg_attr(feature = "openapi", oai(rename = "endpoint.disabled"))]
    EndpointDisabled,
}

impl EventType {
    /// Every event, in catalogue order.
    pub const ALL: [EventType; 12] = [
        EventType::TransactionCreated,
        EventType::TransactionBlocked,
        EventType::TransactionSucceeded,
        EventType::TransactionFailed,
        EventType::FraudDetected,
        EventType::FraudConfirmed,
        EventType::CaseCreated,
        EventType::CaseUpdated,
        EventType::DisputeCreated,
        EventType::DisputeUpdated,
        EventType::DisputeResolved,
        EventType::EndpointDisabled,
    ];

    /// The wire name (`transaction.created`, …), as sent in `X-Clausum-Event`
    /// and the body's `event` field.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::TransactionCreated => "transaction.created",
            EventType::TransactionBlocked => "transaction.blocked",
            EventType::TransactionSucceeded => "transaction.succeeded",
            EventType::TransactionFailed => "transaction.failed",
            EventType::FraudDetected => "fraud.detected",
            EventType::FraudConfirmed => "fraud.confirmed",
            EventType::CaseCreated => "case.created",
            EventType::CaseUpdated => "case.updated",
            EventType::DisputeCreated => "dispute.created",
            EventType::DisputeUpdated => "dispute.updated",
            EventType::DisputeResolved => "dispute.resolved",
            EventType::EndpointDisabled => "endpoint.disabled",
        }
    }

    /// Parses a wire name (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// One line for the docs and the dashboard's subscription picker.
    pub fn description(self) -> &'static str {
        match self {
            EventType::TransactionCreated => "A transaction was assessed and recorded.",
            EventType::TransactionBlocked => "A transaction was declined by a hard block.",
            EventType::TransactionSucceeded => "The payment behind a transaction succeeded.",
            EventType::TransactionFailed => "The payment behind a transaction failed.",
            EventType::FraudDetected => "Fraud was reported on a transaction.",
            EventType::FraudConfirmed => "A fraud report was confirmed.",
            EventType::CaseCreated => "A case (expediente) was opened.",
            EventType::CaseUpdated => "A case changed status or content.",
            EventType::DisputeCreated => "A dispute (chargeback) was opened.",
            EventType::DisputeUpdated => "A dispute changed status.",
            EventType::DisputeResolved => "A dispute was closed.",
            EventType::EndpointDisabled => {
                "A webhook endpoint was disabled after sustained delivery failures."
            }
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_parse_and_serde() {
        for e in EventType::ALL {
            assert_eq!(EventType::parse(e.as_str()), Some(e));
            assert_eq!(e.to_string(), e.as_str());
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
            assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), e);
            assert!(e.description().ends_with('.'));
        }
    }

    #[test]
    fn catalogue_is_complete_and_unique() {
        let mut names: Vec<_> = EventType::ALL.iter().map(|e| e.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 12);
        // The eleven events of the public catalogue are all here.
        for documented in [
            "transaction.created",
            "transaction.blocked",
            "transaction.succeeded",
            "transaction.failed",
            "fraud.detected",
            "fraud.confirmed",
            "case.created",
            "case.updated",
            "dispute.created",
            "dispute.updated",
            "dispute.resolved",
        ] {
            assert!(EventType::parse(documented).is_some(), "{documented}");
        }
    }

    #[test]
    fn refuses_unknown_and_miscased_names() {
        for bad in ["", "Fraud.Detected", "fraud_detected", "fraud.detected ", "charge.succeeded"] {
            assert_eq!(EventType::parse(bad), None, "{bad:?}");
            assert!(serde_json::from_str::<EventType>(&format!("\"{bad}\"")).is_err());
        }
    }
}
