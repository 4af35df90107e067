//! A server-side assess that names a browser session (`session_id`) gets
//! that session's device and behaviour signals.
//!
//! What the backend sent wins, field by field: it is the authoritative
//! caller (it may, for instance, know the device better than a tampered
//! page). The stored session only fills what the request left out.

use super::signals::SessionSignals;
use crate::wire::{AssessRequest, Behavior, Device};

/// Fills `req`'s missing device and behaviour fields from `session`.
/// Returns whether anything was filled.
pub fn merge_into(req: &mut AssessRequest, session: &SessionSignals) -> bool {
    let before = (req.device.clone(), req.behavior.clone());
    let d = &session.device;
    let device = req.device.get_or_insert_with(Device::default);
    fill(&mut device.fingerprint, non_empty(&d.fingerprint));
    fill(&mut device.user_agent, non_empty(&d.user_agent));
    fill(&mut device.timezone, non_empty(&d.timezone));
    if device.webdriver.is_none() {
        device.webdriver = Some(d.webdriver);
    }
    // The address the browser connected from, as the edge saw it: the
    // payer's own, where a backend's call would only show the backend's.
    fill(&mut device.ip, session.connection.as_ref().and_then(|c| c.client_ip.clone()));
    let b = &session.behavior;
    let behavior = req.behavior.get_or_insert_with(Behavior::default);
    fill(&mut behavior.session_duration_ms, Some(b.session_duration_ms));
    fill(&mut behavior.mouse_movements, Some(b.mouse_movements));
    fill(&mut behavior.keyboard_events, Some(b.key_presses));
    fill(&mut behavior.copy_paste_events, Some(b.copy_paste_events()));
    (req.device.clone(), req.behavior.clone()) != before
}

/// The session's signals in the assess request's own shape (`device`,
/// `behavior`): what the browser SDK puts in a pre-check and what
/// `getSession()` hands to a backend.
pub fn assess_fields(session: &SessionSignals) -> (Device, Behavior) {
    let mut req = AssessRequest::default();
    merge_into(&mut req, session);
    (req.device.unwrap_or_default(), req.behavior.unwrap_or_default())
}

fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::signals::{BehaviorSignals, DeviceSignals};

    fn session() -> SessionSignals {
        SessionSignals {
            session_id: "ps_1716998400000_a1b2c3d4e".into(),
            device: DeviceSignals {
                fingerprint: "fp_0123456789abcdef0123".into(),
                user_agent: "Mozilla/5.0 Chrome/120".into(),
                timezone: "America/Mexico_City".into(),
                webdriver: true,
                ..Default::default()
            },
            behavior: BehaviorSignals {
                session_duration_ms: 18_230,
                mouse_movements: 142,
                key_presses: 61,
                paste_events: 1,
                copy_events: 1,
                ..Default::default()
            },
            connection: None,
        }
    }

    #[test]
    fn an_empty_request_gets_everything() {
        let mut req =
            AssessRequest { amount: 1500.0, currency: "MXN".into(), ..Default::default() };
        assert!(merge_into(&mut req, &session()));
        let d = req.device.unwrap();
        assert_eq!(d.fingerprint.as_deref(), Some("fp_0123456789abcdef0123"));
        assert_eq!(d.timezone.as_deref(), Some("America/Mexico_City"));
        assert_eq!(d.webdriver, Some(true));
        assert_eq!(d.ip, None);
        let b = req.behavior.unwrap();
        assert_eq!(b.session_duration_ms, Some(18_230));
        assert_eq!(b.mouse_movements, Some(142));
        assert_eq!(b.keyboard_events, Some(61));
        assert_eq!(b.copy_paste_events, Some(2));
    }

    #[test]
    fn what_the_backend_sent_wins() {
        let mut req: AssessRequest = serde_json::from_str(
            r#"{"amount": 1, "currency": "MXN",
                "device": {"ip": "201.150.10.22", "fingerprint": "fp_own"},
                "behavior": {"mouse_movements": 3}}"#,
        )
        .unwrap();
        merge_into(&mut req, &session());
        let d = req.device.unwrap();
        assert_eq!(d.fingerprint.as_deref(), Some("fp_own"));
        assert_eq!(d.ip.as_deref(), Some("201.150.10.22"));
        assert_eq!(d.user_agent.as_deref(), Some("Mozilla/5.0 Chrome/120"));
        let b = req.behavior.unwrap();
        assert_eq!(b.mouse_movements, Some(3));
        assert_eq!(b.session_duration_ms, Some(18_230));
    }

    #[test]
    fn the_connection_the_edge_saw_gives_the_payer_ip_unless_the_backend_sent_one() {
        let mut s = session();
        s.connection = Some(crate::wire::edge::EdgeContext {
            client_ip: Some("189.203.4.7".into()),
            country: Some("MX".into()),
            ..Default::default()
        });
        let mut req =
            AssessRequest { amount: 1500.0, currency: "MXN".into(), ..Default::default() };
        assert!(merge_into(&mut req, &s));
        assert_eq!(req.device.unwrap().ip.as_deref(), Some("189.203.4.7"));
        let mut req: AssessRequest = serde_json::from_str(
            r#"{"amount": 1, "currency": "MXN", "device": {"ip": "201.150.10.22"}}"#,
        )
        .unwrap();
        merge_into(&mut req, &s);
        assert_eq!(req.device.unwrap().ip.as_deref(), Some("201.150.10.22"));
    }

    #[test]
    fn validation_names_the_field() {
        let mut s = session();
        assert_eq!(s.validate(), Ok(()));
        s.device.user_agent = "x".repeat(600);
        assert_eq!(s.validate().unwrap_err().0, "device.user_agent");
        s = session();
        s.device.fingerprint = "fp_nothex".into();
        assert_eq!(s.validate().unwrap_err().0, "device.fingerprint");
        s = session();
        s.behavior.pasted_fields = vec!["other".into(); 40];
        assert_eq!(s.validate().unwrap_err().0, "behavior.pasted_fields");
        s = session();
        s.session_id = "sess_1".into();
        assert_eq!(s.validate().unwrap_err().0, "session_id");
    }
}
