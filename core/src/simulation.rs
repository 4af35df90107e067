//! Simulation presets: ready-made requests an operator runs through the
//! live pipeline to see what their lists, rules and weights decide, without
//! moving money or counting anything.
//!
//! A preset is a request plus, for bursts, the earlier attempts the
//! simulation replays into a scratch velocity counter first (never into the
//! live one), so a preset shows the same signals a real burst would.

use serde::{Deserialize, Serialize};

use crate::wire::{
    AmountUnit, AssessRequest, Behavior, Beneficiary, Device, PaymentMethod, PayoutChannel,
    PayoutDetails, PayoutOrigin, PayoutRequest,
};

/// The pay-in presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum PayinPreset {
    /// A returning-looking payer on a normal checkout: small amount,
    /// unhurried session, mouse and keyboard activity.
    LowRisk,
    /// The same checkout for a large amount.
    HighAmount,
    /// An automated-looking session: webdriver flag, a two-second session,
    /// no mouse movement, pasted fields, a disposable email.
    SuspiciousDevice,
    /// Card testing: the same card tried [`CARD_TESTING_ATTEMPTS`] times
    /// for small amounts within a few minutes.
    CardTestingBurst,
}

/// Attempts in the card-testing burst, the simulated one included.
pub const CARD_TESTING_ATTEMPTS: u32 = 12;

/// An earlier attempt a preset replays into the scratch velocity counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlierAttempt {
    /// How long before the simulated request it happened.
    pub ms_before: i64,
    /// Its amount, in minor units.
    pub amount_minor: i64,
}

/// A preset's request and the attempts that precede it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The request to assess.
    pub request: AssessRequest,
    /// Earlier attempts with the same payer keys, oldest first.
    pub earlier: Vec<EarlierAttempt>,
}

impl PayinPreset {
    /// Every preset, in catalogue order.
    pub const ALL: [PayinPreset; 4] = [
        PayinPreset::LowRisk,
        PayinPreset::HighAmount,
        PayinPreset::SuspiciousDevice,
        PayinPreset::CardTestingBurst,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PayinPreset::LowRisk => "low_risk",
            PayinPreset::HighAmount => "high_amount",
            PayinPreset::SuspiciousDevice => "suspicious_device",
            PayinPreset::CardTestingBurst => "card_testing_burst",
        }
    }

    /// What it shows, in one sentence.
    pub fn description(self) -> &'static str {
        match self {
            PayinPreset::LowRisk => {
                "A small card payment from an unhurried, human-looking session."
            }
            PayinPreset::HighAmount => "The same checkout for MXN 95,000.00.",
            PayinPreset::SuspiciousDevice => {
                "An automated browser: webdriver, a 2-second session, no mouse, pasted fields, a disposable email."
            }
            PayinPreset::CardTestingBurst => {
                "The same card tried 12 times for small amounts within 6 minutes."
            }
        }
    }

    /// The preset's request and earlier attempts. Values are synthetic
    /// (documentation ranges: `example.com`, `203.0.113.0/24`).
    pub fn scenario(self) -> Scenario {
        let human = Behavior {
            session_duration_ms: Some(95_000),
            mouse_movements: Some(240),
            keyboard_events: Some(60),
            copy_paste_events: Some(0),
        };
        let checkout = |amount: f64| AssessRequest {
            amount,
            currency: "MXN".into(),
            email: Some("maria.lopez@example.com".into()),
            customer_id: Some("sim_customer_1".into()),
            order_id: Some("sim_order_1".into()),
            payment_method: Some(PaymentMethod {
                kind: Some("card".into()),
                card_bin: Some("411111".into()),
                card_last4: Some("1111".into()),
                card_country: Some("MX".into()),
                ..PaymentMethod::default()
            }),
            device: Some(Device {
                ip: Some("203.0.113.10".into()),
                fingerprint: Some("fp_sim_low_risk".into()),
                timezone: Some("America/Mexico_City".into()),
                ..Device::default()
            }),
            behavior: Some(human.clone()),
            ..AssessRequest::default()
        };
        match self {
            PayinPreset::LowRisk => Scenario { request: checkout(45_000.0), earlier: vec![] },
            PayinPreset::HighAmount => Scenario { request: checkout(9_500_000.0), earlier: vec![] },
            PayinPreset::SuspiciousDevice => {
                let mut r = checkout(120_000.0);
                r.email = Some("x8f2k@mailinator.com".into());
                r.device = Some(Device {
                    ip: Some("203.0.113.66".into()),
                    fingerprint: Some("fp_sim_headless".into()),
                    user_agent: Some("Mozilla/5.0 HeadlessChrome/120.0".into()),
                    webdriver: Some(true),
                    ..Device::default()
                });
                r.behavior = Some(Behavior {
                    session_duration_ms: Some(2_000),
                    mouse_movements: Some(0),
                    keyboard_events: Some(0),
                    copy_paste_events: Some(4),
                });
                Scenario { request: r, earlier: vec![] }
            }
            PayinPreset::CardTestingBurst => {
                let mut r = checkout(100.0);
                r.email = Some("buyer.4417@example.com".into());
                r.customer_id = None;
                r.order_id = None;
                if let Some(pm) = r.payment_method.as_mut() {
                    pm.card_last4 = Some("0019".into());
                }
                let earlier = (1..CARD_TESTING_ATTEMPTS)
                    .rev()
                    .map(|i| EarlierAttempt {
                        ms_before: i64::from(i) * 30_000,
                        amount_minor: 100 + i64::from(i),
                    })
                    .collect();
                Scenario { request: r, earlier }
            }
        }
    }
}

/// The payout presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum PayoutPreset {
    /// A domestic SPEI transfer to a CLABE, attributed to an operator.
    DomesticSpei,
    /// A first wire to a beneficiary in a high-risk jurisdiction, above
    /// the cross-border threshold, started by a generic system user.
    FirstPayoutHighRiskCountry,
}

impl PayoutPreset {
    /// Every preset, in catalogue order.
    pub const ALL: [PayoutPreset; 2] =
        [PayoutPreset::DomesticSpei, PayoutPreset::FirstPayoutHighRiskCountry];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutPreset::DomesticSpei => "domestic_spei",
            PayoutPreset::FirstPayoutHighRiskCountry => "first_payout_high_risk_country",
        }
    }

    /// What it shows, in one sentence.
    pub fn description(self) -> &'static str {
        match self {
            PayoutPreset::DomesticSpei => {
                "MXN 2,500.00 by SPEI to a Mexican CLABE, started by a named operator."
            }
            PayoutPreset::FirstPayoutHighRiskCountry => {
                "A first USD 12,000.00 wire to a beneficiary in a FATF high-risk country, started by `system`."
            }
        }
    }

    /// The preset's request (synthetic accounts with valid check digits).
    pub fn request(self) -> PayoutRequest {
        match self {
            PayoutPreset::DomesticSpei => PayoutRequest {
                amount: 2_500.0,
                currency: "MXN".into(),
                amount_unit: Some(AmountUnit::Major),
                beneficiary: Beneficiary {
                    id: Some("sim_ben_mx".into()),
                    name: Some("Proveedora Simulada SA".into()),
                    country: Some("MX".into()),
                    clabe: Some("002010077777777771".into()),
                    ..Beneficiary::default()
                },
                origin: Some(PayoutOrigin {
                    account_id: Some("sim_acct_ops".into()),
                    country: Some("MX".into()),
                }),
                payout: Some(PayoutDetails {
                    channel: Some(PayoutChannel::Spei),
                    initiated_by: Some("tesoreria@bank.example".into()),
                    first_to_beneficiary: Some(false),
                    ..PayoutDetails::default()
                }),
                ..PayoutRequest::default()
            },
            PayoutPreset::FirstPayoutHighRiskCountry => PayoutRequest {
                amount: 12_000.0,
                currency: "USD".into(),
                amount_unit: Some(AmountUnit::Major),
                beneficiary: Beneficiary {
                    id: Some("sim_ben_offshore".into()),
                    name: Some("Offshore Trading Ltd".into()),
                    country: Some("KP".into()),
                    account_hash: Some("sim_hash_7f3a".into()),
                    ..Beneficiary::default()
                },
                origin: Some(PayoutOrigin {
                    account_id: Some("sim_acct_treasury".into()),
                    country: Some("MX".into()),
                }),
                payout: Some(PayoutDetails {
                    channel: Some(PayoutChannel::Wire),
                    initiated_by: Some("system".into()),
                    first_to_beneficiary: Some(true),
                    ..PayoutDetails::default()
                }),
                ..PayoutRequest::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::Transaction;

    #[test]
    fn every_preset_is_a_valid_request() {
        for p in PayinPreset::ALL {
            let s = p.scenario();
            Transaction::from_wire(&s.request).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            assert!(s.earlier.windows(2).all(|w| w[0].ms_before > w[1].ms_before), "{p:?}");
        }
    }

    #[test]
    fn wire_names_match_serde() {
        for p in PayinPreset::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        for p in PayoutPreset::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }

    #[test]
    fn every_payout_preset_is_a_valid_payout() {
        for p in PayoutPreset::ALL {
            let tx = Transaction::from_payout_wire(&p.request())
                .unwrap_or_else(|e| panic!("{p:?}: {e}"));
            assert!(tx.payout.is_some());
        }
    }

    #[test]
    fn the_burst_fits_in_ten_minutes() {
        let s = PayinPreset::CardTestingBurst.scenario();
        assert_eq!(s.earlier.len() as u32 + 1, CARD_TESTING_ATTEMPTS);
        assert!(s.earlier.iter().all(|a| a.ms_before < 10 * 60 * 1000));
    }
}
