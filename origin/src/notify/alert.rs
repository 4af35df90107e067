//! What a `fraud.detected` alert email says, composed from the event.
//!
//! The message carries what the organisation needs to act and nothing a
//! mail server on the way should learn: the case reference and priority,
//! the reason, amount and currency, the transaction id and the path of the
//! case in the dashboard. The payer's email is masked (`t***@example.com`)
//! and no card data is included at all — not even the BIN or last four,
//! which the dashboard shows to those allowed to see them.

use clausum_core::{
    normalize::{Amount, Currency},
    webhook::EventType,
};
use serde_json::Value;

use crate::{api::common::new_id, store::OutboxEventRow};

/// A party of a fraud report's `notify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The merchant.
    Merchant,
    /// The acquirer.
    Acquirer,
    /// The card issuer.
    Issuer,
    /// Compliance.
    Compliance,
}

impl Party {
    /// Every party, in the order alerts are queued.
    pub const ALL: [Party; 4] =
        [Party::Merchant, Party::Acquirer, Party::Issuer, Party::Compliance];

    /// The wire name (`merchant`, …), as in `notify` and the settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Merchant => "merchant",
            Party::Acquirer => "acquirer",
            Party::Issuer => "issuer",
            Party::Compliance => "compliance",
        }
    }
}

/// The facts of a `fraud.detected` event an alert needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Parties flagged in `notify`, in [`Party::ALL`] order.
    pub parties: Vec<Party>,
    /// `case_…`.
    pub case_id: String,
    /// `CLM-…`.
    pub reference: String,
    /// Case priority.
    pub priority: String,
    /// Fraud reason.
    pub reason: String,
    /// `txn_…`.
    pub transaction_id: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO currency.
    pub currency: String,
}

/// A queued alert email, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEmail {
    /// `eml_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// The event.
    pub event_id: String,
    /// The party it alerts.
    pub party: String,
    /// Where it goes.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body_text: String,
    /// Unix ms (the event's time).
    pub created_at: i64,
}

/// Keeps the characters an identifier may have, so nothing from a payload
/// can break a header line.
fn token(v: &Value) -> String {
    v.as_str()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(80)
        .collect()
}

impl Alert {
    /// The alert of `e`, when it is a `fraud.detected` event that flags at
    /// least one party.
    pub fn of_event(e: &OutboxEventRow) -> Option<Alert> {
        if e.event_type != EventType::FraudDetected.as_str() {
            return None;
        }
        let data: Value = serde_json::from_str(&e.payload).ok()?;
        let parties: Vec<Party> = Party::ALL
            .into_iter()
            .filter(|p| data["notify"][p.as_str()].as_bool() == Some(true))
            .collect();
        if parties.is_empty() {
            return None;
        }
        Some(Alert {
            parties,
            case_id: token(&data["case"]["id"]),
            reference: token(&data["case"]["reference_number"]),
            priority: token(&data["case"]["priority"]),
            reason: token(&data["reason"]),
            transaction_id: token(&data["transaction"]["id"]),
            amount_minor: data["transaction"]["amount_minor"].as_i64().unwrap_or(0),
            currency: token(&data["transaction"]["currency"]),
        })
    }

    /// One email per recipient of each flagged party (`recipients` are
    /// `(party, email)`); an address listed for several flagged parties
    /// gets one, as the first of them.
    pub fn emails(
        &self,
        e: &OutboxEventRow,
        recipients: &[(String, String)],
        payer_email: Option<&str>,
    ) -> Vec<NewEmail> {
        let subject = self.subject();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for party in &self.parties {
            for (_, email) in recipients.iter().filter(|(p, _)| p == party.as_str()) {
                if !seen.insert(email.as_str()) {
                    continue;
                }
                out.push(NewEmail {
                    id: new_id("eml"),
                    organization_id: e.organization_id.clone(),
                    event_id: e.id.clone(),
                    party: party.as_str().to_owned(),
                    recipient: email.clone(),
                    subject: subject.clone(),
                    body_text: self.body(*party, payer_email),
                    created_at: e.created_at,
                });
            }
        }
        out
    }

    /// `[Clausum] Fraud detected: CLM-AB12CD (alta)`.
    pub fn subject(&self) -> String {
        format!("[Clausum] Fraud detected: {} ({})", self.reference, self.priority)
    }

    /// The plain-text body: ASCII (for an ASCII payer address) in lines of
    /// at most 76 characters, so it travels as 7bit, readable as is.
    pub fn body(&self, party: Party, payer_email: Option<&str>) -> String {
        let amount = Currency::parse(&self.currency)
            .ok()
            .and_then(|c| Amount::from_minor(self.amount_minor, c).ok())
            .map_or_else(
                || format!("{} (minor units) {}", self.amount_minor, self.currency),
                |a| a.to_string(),
            );
        let payer =
            payer_email.map_or_else(|| "not recorded".to_owned(), clausum_core::mask::email);
        format!(
            "A fraud report was recorded and a case opened.\n\
             \n\
             Case:        {reference}\n\
             Priority:    {priority}\n\
             Reason:      {reason}\n\
             Amount:      {amount}\n\
             Transaction: {txn}\n\
             Payer:       {payer}\n\
             \n\
             Open the case in the dashboard:\n\
             /dashboard/cases/{case}\n\
             \n\
             You receive this alert as a {party} contact in this organisation's\n\
             notification settings in Clausum.\n",
            reference = self.reference,
            priority = self.priority,
            reason = self.reason,
            txn = self.transaction_id,
            case = self.case_id,
            party = party.as_str(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(notify: Value) -> OutboxEventRow {
        let data = serde_json::json!({
            "case": {"id": "case_1", "reference_number": "CLM-AB12CD", "priority": "alta"},
            "transaction": {"id": "txn_1", "amount_minor": 150_000, "currency": "MXN"},
            "reason": "chargeback",
            "notify": notify,
        });
        OutboxEventRow {
            id: "evt_1".into(),
            organization_id: "org_1".into(),
            event_type: "fraud.detected".into(),
            payload: data.to_string(),
            created_at: 7,
            request_id: None,
        }
    }

    #[test]
    fn only_flagged_parties_of_fraud_detected_alert() {
        assert!(Alert::of_event(&event(serde_json::json!({}))).is_none());
        assert!(Alert::of_event(&event(serde_json::json!({"merchant": false}))).is_none());
        let mut other = event(serde_json::json!({"merchant": true}));
        other.event_type = "case.created".into();
        assert!(Alert::of_event(&other).is_none());
        let a = Alert::of_event(&event(serde_json::json!({"compliance": true, "merchant": true})))
            .unwrap();
        assert_eq!(a.parties, [Party::Merchant, Party::Compliance]);
        assert_eq!(a.reference, "CLM-AB12CD");
    }

    #[test]
    fn one_email_per_recipient_of_flagged_parties() {
        let e = event(serde_json::json!({"merchant": true, "compliance": true}));
        let a = Alert::of_event(&e).unwrap();
        let recipients = [
            ("merchant".to_owned(), "ops@shop.example".to_owned()),
            ("issuer".to_owned(), "bank@issuer.example".to_owned()),
            ("compliance".to_owned(), "ops@shop.example".to_owned()),
            ("compliance".to_owned(), "cco@shop.example".to_owned()),
        ];
        let emails = a.emails(&e, &recipients, Some("tania@example.com"));
        let to: Vec<(&str, &str)> =
            emails.iter().map(|m| (m.party.as_str(), m.recipient.as_str())).collect();
        assert_eq!(to, [("merchant", "ops@shop.example"), ("compliance", "cco@shop.example")]);
        let m = &emails[0];
        assert_eq!(m.subject, "[Clausum] Fraud detected: CLM-AB12CD (alta)");
        assert!(m.body_text.contains("1500.00 MXN"), "{}", m.body_text);
        assert!(m.body_text.contains("t***@example.com"));
        assert!(!m.body_text.contains("tania"));
        assert!(m.body_text.contains("/dashboard/cases/case_1"));
        assert!(m.body_text.is_ascii());
    }

    #[test]
    fn payload_text_cannot_break_headers() {
        let mut e = event(serde_json::json!({"merchant": true}));
        e.payload = e.payload.replace("CLM-AB12CD", "CLM\\r\\nBcc: x@y.z");
        let a = Alert::of_event(&e).unwrap();
        assert_eq!(a.reference, "CLMBccxy.z");
    }

    #[test]
    fn body_lines_fit_7bit() {
        let long = format!("case_{}", "0".repeat(32));
        let e = event(serde_json::json!({"compliance": true}));
        let mut a = Alert::of_event(&e).unwrap();
        a.case_id = long.clone();
        a.transaction_id = format!("txn_{}", "0".repeat(32));
        let body = a.body(Party::Compliance, Some("someone@mail.example.com"));
        assert!(body.contains(&long));
        assert!(body.lines().all(|l| l.len() <= 76), "{body}");
    }

    #[test]
    fn masks_emails() {
        // The payer's address in an alert: as the dashboard masks it.
        let mask_email = clausum_core::mask::email;
        assert_eq!(mask_email("tania@example.com"), "t***@example.com");
        assert_eq!(mask_email("t@example.com"), "t***@example.com");
        assert_eq!(mask_email("ñu@example.com"), "ñ***@example.com");
    }
}
