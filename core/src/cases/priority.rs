//! Case priority, and how a fraud report derives it from its reason and
//! amount ("priority derived from amount and reason", report-fraud guide).

use serde::{Deserialize, Serialize};

use super::FraudReason;
use crate::normalize::Currency;

/// How urgently a case needs attention. Ordered: `baja` < `media` < `alta`
/// < `urgente`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "lowercase"))]
pub enum Priority {
    /// Low.
    Baja,
    /// Normal.
    Media,
    /// High.
    Alta,
    /// Act now.
    Urgente,
}

/// Amount thresholds of one currency, in major units (pesos, reais, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PriorityThresholds {
    /// At or above this, the priority rises one level.
    pub high: u64,
    /// At or above this, the priority is `urgente`.
    pub urgent: u64,
}

const fn t(high: u64, urgent: u64) -> PriorityThresholds {
    PriorityThresholds { high, urgent }
}

/// Roughly the same money in each currency — about USD 1,000 / 10,000 at
/// 2025 rates, rounded to figures an analyst remembers — so a case's
/// priority does not depend on where it happened. High-inflation currencies
/// (ARS above all) drift and need revisiting; the origin publishes this
/// table through [`Priority::threshold_table`] so the docs cannot go stale.
const TABLE: [(&str, PriorityThresholds); 12] = [
    ("USD", t(1_000, 10_000)),
    ("EUR", t(1_000, 10_000)),
    ("GBP", t(1_000, 10_000)),
    ("CHF", t(1_000, 10_000)),
    ("CAD", t(1_000, 10_000)),
    ("MXN", t(20_000, 200_000)),
    ("BRL", t(5_000, 50_000)),
    ("PEN", t(4_000, 40_000)),
    ("CLP", t(1_000_000, 10_000_000)),
    ("COP", t(4_000_000, 40_000_000)),
    ("UYU", t(40_000, 400_000)),
    ("ARS", t(1_000_000, 10_000_000)),
];

impl Priority {
    /// Every priority, lowest first.
    pub const ALL: [Priority; 4] =
        [Priority::Baja, Priority::Media, Priority::Alta, Priority::Urgente];

    /// The wire name (`baja`, `media`, `alta`, `urgente`).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Baja => "baja",
            Priority::Media => "media",
            Priority::Alta => "alta",
            Priority::Urgente => "urgente",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The priority a reason starts from, before the amount is considered.
    /// Account takeover and identity theft mean a person's whole account or
    /// identity is compromised and the losses keep coming; friendly fraud
    /// costs one payment and harms nobody else.
    pub fn for_reason(reason: FraudReason) -> Priority {
        match reason {
            FraudReason::AccountTakeover | FraudReason::IdentityTheft => Priority::Alta,
            FraudReason::Chargeback | FraudReason::CardTesting | FraudReason::Other => {
                Priority::Media
            }
            FraudReason::FriendlyFraud => Priority::Baja,
        }
    }

    /// The priority of a case opened by a fraud report: the reason's base
    /// ([`Priority::for_reason`]), raised one level when the amount reaches
    /// the currency's `high` threshold, and `urgente` at its `urgent` one.
    ///
    /// `amount_minor` is in the currency's minor unit (centavos for MXN,
    /// pesos for CLP); its magnitude counts, so a negative amount from a
    /// confused client cannot lower the priority. An unknown currency code
    /// is read with two decimals against the USD figures.
    pub fn derive(reason: FraudReason, amount_minor: i64, currency: &str) -> Priority {
        let base = Priority::for_reason(reason);
        let parsed = Currency::parse(currency).ok();
        let limits = Priority::thresholds(currency);
        let scale = 10u128.pow(u32::from(parsed.map_or(2, Currency::exponent)));
        let amount = u128::from(amount_minor.unsigned_abs());
        if amount >= u128::from(limits.urgent) * scale {
            Priority::Urgente
        } else if amount >= u128::from(limits.high) * scale {
            base.raised()
        } else {
            base
        }
    }

    /// The thresholds [`Priority::derive`] applies to `currency` (any case);
    /// currencies without their own row use the USD figures.
    pub fn thresholds(currency: &str) -> PriorityThresholds {
        let code = currency.trim();
        TABLE
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(code))
            .map_or(TABLE[0].1, |(_, limits)| *limits)
    }

    /// Every currency with its own thresholds (USD first: the fallback), for
    /// the docs and the dashboard to publish.
    pub fn threshold_table() -> &'static [(&'static str, PriorityThresholds)] {
        &TABLE
    }

    /// One level up, saturating at `urgente`.
    fn raised(self) -> Priority {
        match self {
            Priority::Baja => Priority::Media,
            Priority::Media => Priority::Alta,
            Priority::Alta | Priority::Urgente => Priority::Urgente,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use FraudReason as R;
    use Priority as P;

    #[test]
    fn names_round_trip_and_order() {
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert!(Priority::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Priority::parse("high"), None);
    }

    #[test]
    fn base_priority_by_reason() {
        let got: Vec<_> = FraudReason::ALL.iter().map(|r| Priority::for_reason(*r)).collect();
        assert_eq!(got, [P::Media, P::Baja, P::Media, P::Alta, P::Alta, P::Media]);
    }

    #[test]
    fn amounts_raise_the_priority_per_currency() {
        // MXN has two decimals: 20,000.00 MXN is 2,000,000 centavos.
        assert_eq!(Priority::derive(R::Chargeback, 1_999_999, "MXN"), P::Media);
        assert_eq!(Priority::derive(R::Chargeback, 2_000_000, "MXN"), P::Alta);
        assert_eq!(Priority::derive(R::Chargeback, 19_999_999, "mxn"), P::Alta);
        assert_eq!(Priority::derive(R::Chargeback, 20_000_000, "MXN"), P::Urgente);
        // CLP has none: the thresholds are compared in whole pesos.
        assert_eq!(Priority::derive(R::FriendlyFraud, 999_999, "CLP"), P::Baja);
        assert_eq!(Priority::derive(R::FriendlyFraud, 1_000_000, "CLP"), P::Media);
        assert_eq!(Priority::derive(R::FriendlyFraud, 10_000_000, "CLP"), P::Urgente);
        // Alta is raised to urgente by the `high` threshold alone.
        assert_eq!(Priority::derive(R::AccountTakeover, 100_000, "USD"), P::Urgente);
        assert_eq!(Priority::derive(R::IdentityTheft, 99_999, "EUR"), P::Alta);
        assert_eq!(Priority::derive(R::CardTesting, 500_000, "BRL"), P::Alta);
        assert_eq!(Priority::derive(R::Other, 4_000_000_000, "COP"), P::Urgente);
        assert_eq!(Priority::derive(R::Other, -2_000_000, "MXN"), P::Alta);
        assert_eq!(Priority::derive(R::Chargeback, i64::MIN, "USD"), P::Urgente);
    }

    #[test]
    fn unknown_currencies_use_usd_figures() {
        assert_eq!(Priority::thresholds("XYZ"), Priority::thresholds("USD"));
        assert_eq!(
            Priority::thresholds(" pen "),
            PriorityThresholds { high: 4_000, urgent: 40_000 }
        );
        assert_eq!(Priority::derive(R::Chargeback, 100_000, "not a currency"), P::Alta);
        assert_eq!(Priority::derive(R::Chargeback, 99_999, "SEK"), P::Media);
        // JPY has no decimals, so USD figures are whole yen.
        assert_eq!(Priority::derive(R::Chargeback, 1_000, "JPY"), P::Alta);
    }

    #[test]
    fn table_is_consistent() {
        let table = Priority::threshold_table();
        assert_eq!(table[0].0, "USD");
        for (code, limits) in table {
            assert!(Currency::parse(code).is_ok(), "{code}");
            assert!(limits.high < limits.urgent, "{code}");
            assert_eq!(Priority::thresholds(code), *limits);
        }
    }

    proptest! {
        #[test]
        fn never_below_base_and_monotone(r in 0usize..6, a in any::<i64>(), b in any::<i64>(),
                                         cur in "USD|MXN|CLP|COP|JPY|KWD|XXX|") {
            let reason = FraudReason::ALL[r];
            let (lo, hi) = if a.unsigned_abs() <= b.unsigned_abs() { (a, b) } else { (b, a) };
            let p_lo = Priority::derive(reason, lo, &cur);
            prop_assert!(p_lo >= Priority::for_reason(reason));
            prop_assert!(Priority::derive(reason, hi, &cur) >= p_lo);
        }
    }
}
