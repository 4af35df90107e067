//! Stripe: `Stripe-Signature` verification and the event mapping of the
//! Stripe webhooks guide.
//!
//! | Stripe event | effect |
//! |---|---|
//! | `charge.succeeded` | `transaction.succeeded` for the transaction named by `metadata.clausum_session_id`, else by the payment intent (or charge) id sent to assess as `payment_id` |
//! | `payment_intent.payment_failed` | `transaction.failed`, matched the same way |
//! | `charge.dispute.created` | a case (`transferencia_no_autorizada`, priority from the amount as a `chargeback`) and `dispute.created` |
//! | `charge.dispute.updated` / `charge.dispute.closed` | `dispute.updated` / `dispute.resolved`, naming the dispute's case |
//! | `radar.early_fraud_warning.created` | a case (see [`warning_reason`]) |
//! | anything else | recorded as received, nothing else |

use clausum_core::{cases::FraudReason, webhook};
use poem::http::HeaderMap;
use serde_json::Value;

use super::{Dispute, Effect, Payment, PaymentRef, Provider, ProviderEvent, Warning, currency};

/// Seconds a `Stripe-Signature` timestamp may be from now (stripe-node's default).
pub const TOLERANCE_S: i64 = 300;

/// The Stripe provider.
#[derive(Debug, Clone, Copy)]
pub struct Stripe;

impl Provider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn label(&self) -> &'static str {
        "Stripe"
    }

    fn check_secret(&self, secret: &str) -> Result<(), String> {
        // Stripe's endpoint secrets all start `whsec_`; anything else is
        // most likely an API key pasted into the wrong field — which must
        // never be stored here.
        let ok_chars = secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !secret.starts_with("whsec_") || !(16..=256).contains(&secret.len()) || !ok_chars {
            return Err(
                "a Stripe webhook signing secret starts with `whsec_` (Stripe Dashboard → \
                        Developers → Webhooks → your endpoint → Signing secret)"
                    .into(),
            );
        }
        Ok(())
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8], secret: &str, now_s: i64) -> bool {
        let Some(header) = headers.get("stripe-signature").and_then(|v| v.to_str().ok()) else {
            return false;
        };
        webhook::verify_stripe(body, header, secret, now_s, TOLERANCE_S).is_ok()
    }

    fn parse(&self, body: &[u8]) -> Result<ProviderEvent, String> {
        let v: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON")?;
        let id = text(&v["id"]).ok_or("the event has no `id`")?;
        let event_type = text(&v["type"]).ok_or("the event has no `type`")?;
        if id.len() > 255 || event_type.len() > 255 {
            return Err("the event's `id` or `type` is too long".into());
        }
        let object = &v["data"]["object"];
        if !object.is_object() {
            return Err("the event has no `data.object`".into());
        }
        let effect = effect(&event_type, object);
        Ok(ProviderEvent { id, event_type, effect })
    }
}

fn effect(event_type: &str, o: &Value) -> Effect {
    match event_type {
        "charge.succeeded" => {
            let charge = text(&o["id"]);
            let intent = id_of(&o["payment_intent"]);
            Effect::Payment(Payment {
                succeeded: true,
                payment: payment_ref(o, [intent.clone(), charge.clone()]),
                provider_ids: named([("charge_id", charge), ("payment_intent_id", intent)]),
                amount_minor: o["amount"].as_i64(),
                currency: currency(o["currency"].as_str()),
                failure_code: None,
            })
        }
        "payment_intent.payment_failed" => {
            let intent = text(&o["id"]);
            let charge = id_of(&o["latest_charge"]);
            let error = &o["last_payment_error"];
            Effect::Payment(Payment {
                succeeded: false,
                payment: payment_ref(o, [intent.clone(), charge.clone()]),
                provider_ids: named([("payment_intent_id", intent), ("charge_id", charge)]),
                amount_minor: o["amount"].as_i64(),
                currency: currency(o["currency"].as_str()),
                failure_code: text(&error["decline_code"]).or_else(|| text(&error["code"])),
            })
        }
        "charge.dispute.created" | "charge.dispute.updated" | "charge.dispute.closed" => {
            let Some(id) = text(&o["id"]) else { return Effect::Ignored };
            let charge = id_of(&o["charge"]);
            let intent = id_of(&o["payment_intent"]);
            let dispute = Dispute {
                id,
                status: text(&o["status"]).unwrap_or_else(|| "unknown".into()),
                reason: text(&o["reason"]),
                amount_minor: o["amount"].as_i64(),
                currency: currency(o["currency"].as_str()),
                payment: payment_ref(&Value::Null, [intent.clone(), charge.clone()]),
                provider_ids: named([("charge_id", charge), ("payment_intent_id", intent)]),
            };
            match event_type {
                "charge.dispute.created" => Effect::DisputeOpened(dispute),
                closed => {
                    Effect::DisputeChanged { dispute, closed: closed == "charge.dispute.closed" }
                }
            }
        }
        "radar.early_fraud_warning.created" => {
            let Some(id) = text(&o["id"]) else { return Effect::Ignored };
            let charge = id_of(&o["charge"]);
            let intent = id_of(&o["payment_intent"]);
            let fraud_type = text(&o["fraud_type"]).unwrap_or_else(|| "misc".into());
            Effect::FraudWarning(Warning {
                id,
                reason: warning_reason(&fraud_type),
                fraud_type,
                payment: payment_ref(&Value::Null, [intent.clone(), charge.clone()]),
                provider_ids: named([("charge_id", charge), ("payment_intent_id", intent)]),
            })
        }
        _ => Effect::Ignored,
    }
}

/// The fraud reason of the case an early fraud warning opens, from Stripe's
/// `fraud_type`:
/// - card data used without its owner — `made_with_lost_card`,
///   `made_with_stolen_card`, `made_with_counterfeit_card`,
///   `unauthorized_use_of_card` — is `card_testing`: of our reasons, the
///   one for stolen card data charged without consent (incident type
///   `transferencia_no_autorizada`);
/// - `fraudulent_card_application` — a card opened in someone else's name —
///   is `identity_theft` (`robo_identidad`);
/// - `card_never_received`, `misc` and anything new are `other` (`otro`).
pub fn warning_reason(fraud_type: &str) -> FraudReason {
    match fraud_type {
        "made_with_lost_card"
        | "made_with_stolen_card"
        | "made_with_counterfeit_card"
        | "unauthorized_use_of_card" => FraudReason::CardTesting,
        "fraudulent_card_application" => FraudReason::IdentityTheft,
        _ => FraudReason::Other,
    }
}

/// The payment: the session id from the object's metadata, and the ids.
fn payment_ref<const N: usize>(o: &Value, ids: [Option<String>; N]) -> PaymentRef {
    PaymentRef {
        session_id: text(&o["metadata"]["clausum_session_id"]),
        ids: ids.into_iter().flatten().collect(),
    }
}

fn named<const N: usize>(ids: [(&'static str, Option<String>); N]) -> Vec<(&'static str, String)> {
    ids.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect()
}

/// A non-empty, printable string of at most 255 characters.
fn text(v: &Value) -> Option<String> {
    let s = v.as_str()?.trim();
    (!s.is_empty() && s.len() <= 255 && !s.chars().any(char::is_control)).then(|| s.to_owned())
}

/// An id given as a string or as an expanded object with an `id`.
fn id_of(v: &Value) -> Option<String> {
    text(v).or_else(|| text(&v["id"]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> ProviderEvent {
        Stripe.parse(v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_succeeded_charge_names_its_session_and_ids() {
        let e = parse(json!({"id": "evt_1", "type": "charge.succeeded", "data": {"object": {
            "id": "ch_1", "payment_intent": "pi_1", "amount": 1500, "currency": "mxn",
            "metadata": {"clausum_session_id": "sess_1"}}}}));
        let Effect::Payment(p) = e.effect else { panic!("{e:?}") };
        assert!(p.succeeded);
        assert_eq!(p.payment.session_id.as_deref(), Some("sess_1"));
        assert_eq!(p.payment.ids, ["pi_1", "ch_1"]);
        assert_eq!((p.amount_minor, p.currency.as_deref()), (Some(1500), Some("MXN")));
    }

    #[test]
    fn disputes_and_warnings_map_as_documented() {
        let obj = json!({"id": "dp_1", "charge": {"id": "ch_1"}, "amount": 10, "currency": "usd",
                         "status": "lost", "reason": "fraudulent"});
        let created =
            parse(json!({"id": "e", "type": "charge.dispute.created", "data": {"object": obj}}));
        assert!(
            matches!(created.effect, Effect::DisputeOpened(ref d) if d.payment.ids == ["ch_1"])
        );
        let closed =
            parse(json!({"id": "e", "type": "charge.dispute.closed", "data": {"object": obj}}));
        assert!(matches!(closed.effect, Effect::DisputeChanged { closed: true, .. }));
        let updated =
            parse(json!({"id": "e", "type": "charge.dispute.updated", "data": {"object": obj}}));
        assert!(matches!(updated.effect, Effect::DisputeChanged { closed: false, .. }));
        assert_eq!(warning_reason("made_with_stolen_card"), FraudReason::CardTesting);
        assert_eq!(warning_reason("fraudulent_card_application"), FraudReason::IdentityTheft);
        assert_eq!(warning_reason("card_never_received"), FraudReason::Other);
        let other = parse(json!({"id": "e", "type": "customer.created", "data": {"object": {}}}));
        assert_eq!(other.effect, Effect::Ignored);
    }

    #[test]
    fn malformed_events_are_refused() {
        for bad in [
            json!({"type": "x", "data": {"object": {}}}),
            json!({"id": "e", "type": "x"}),
            json!([1]),
        ] {
            assert!(Stripe.parse(bad.to_string().as_bytes()).is_err(), "{bad}");
        }
        assert!(Stripe.parse(b"not json").is_err());
    }

    #[test]
    fn only_stripe_signing_secrets_are_stored() {
        assert!(Stripe.check_secret("whsec_0123456789abcdef").is_ok());
        for bad in ["sk_live_0123456789abcdef", "whsec_short", "whsec_with space 0123456", ""] {
            assert!(Stripe.check_secret(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn verification_needs_the_header_and_the_secret() {
        let body = br#"{"id":"evt_1"}"#;
        let now = 1_700_000_000;
        let mut headers = HeaderMap::new();
        assert!(!Stripe.verify(&headers, body, "whsec_x", now));
        let h = webhook::stripe_header(body, "whsec_x", now);
        headers.insert("stripe-signature", h.parse().unwrap());
        assert!(Stripe.verify(&headers, body, "whsec_x", now));
        assert!(!Stripe.verify(&headers, body, "whsec_y", now));
        assert!(!Stripe.verify(&headers, body, "whsec_x", now + TOLERANCE_S + 1));
    }
}
