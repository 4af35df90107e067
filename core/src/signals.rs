//! The signal catalogue: every built-in signal the engine can fire, with its
//! default weight and what it means.
//!
//! Weights are points added to the risk score (negative for trust signals).
//! An organisation overrides any of them by code (see
//! [`crate::scoring::WeightOverrides`]). Blocklist hits are weighted by the
//! entry's severity, so their overridable codes are `blocklist_flag` and
//! `blocklist_review`; a `block`-severity hit is a hard block and carries no
//! weight of its own (the score is forced to 100).

use serde::Serialize;

/// Broad families of signals, for documentation and dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A value matched one of the organisation's blocklists.
    Blocklist,
    /// Something about the email address.
    Email,
    /// How the payer behaved on the page, or signs of automation.
    Behavior,
    /// The amount itself.
    Amount,
    /// Countries that do not agree with each other.
    Geography,
    /// Too many transactions too fast.
    Velocity,
    /// What we know of this payer from earlier transactions.
    History,
    /// Fired by an operator's custom rule.
    Rule,
    /// Payouts only: the beneficiary, the destination, who ordered it.
    Payout,
}

/// A catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SignalDef {
    /// Stable code, as returned in `signals`.
    pub code: &'static str,
    /// Default weight.
    pub weight: i32,
    /// Family.
    pub category: Category,
    /// What it means, in one sentence.
    pub description: &'static str,
}

macro_rules! catalogue {
    ($($name:ident = ($code:literal, $weight:expr, $cat:ident, $desc:literal);)*) => {
        $(
            #[doc = $desc]
            pub const $name: SignalDef = SignalDef {
                code: $code, weight: $weight, category: Category::$cat, description: $desc,
            };
        )*
        /// Every built-in signal.
        pub const ALL: &[SignalDef] = &[$($name),*];
    };
}

catalogue! {
    BLOCKLIST_FLAG = ("blocklist_flag", 50, Blocklist,
        "A value matched a blocklist entry of severity flag (heavy weight).");
    BLOCKLIST_REVIEW = ("blocklist_review", 25, Blocklist,
        "A value matched a blocklist entry of severity review (moderate weight; routes to review).");
    DISPOSABLE_EMAIL = ("disposable_email", 20, Email,
        "The email belongs to a disposable (throwaway) provider.");
    RISKY_TLD = ("risky_tld", 10, Email,
        "The email domain uses a top-level domain common in fraud (.xyz, .top, .click, …).");
    SHORT_SESSION = ("short_session", 8, Behavior,
        "The payer spent very little time on the page before paying.");
    NO_MOUSE_MOVEMENT = ("no_mouse_movement", 10, Behavior,
        "No mouse movement was recorded during a desktop session.");
    COPY_PASTE = ("copy_paste", 12, Behavior,
        "Data was pasted into the checkout form (pasted card numbers are a fraud tell).");
    AUTOMATION_DETECTED = ("automation_detected", 45, Behavior,
        "The browser reported automation (navigator.webdriver) or a headless / scripted user agent.");
    AMOUNT_BELOW_MIN = ("amount_below_min", 15, Amount,
        "The amount is below the organisation's configured minimum (card-testing pattern).");
    AMOUNT_ABOVE_MAX = ("amount_above_max", 0, Amount,
        "The amount is above the organisation's configured maximum: hard block.");
    AMOUNT_OUTLIER = ("amount_outlier", 20, Amount,
        "The amount is far above this payer's (for a payout: this origin account's) usual amounts.");
    CARD_BILLING_COUNTRY_MISMATCH = ("card_billing_country_mismatch", 15, Geography,
        "The card's issuing country differs from the billing country.");
    IP_BILLING_COUNTRY_MISMATCH = ("ip_billing_country_mismatch", 12, Geography,
        "The IP address is located in a different country than the billing address.");
    IP_CARD_COUNTRY_MISMATCH = ("ip_card_country_mismatch", 12, Geography,
        "The IP address is located in a different country than the card's issuer.");
    SHIPPING_BILLING_COUNTRY_MISMATCH = ("shipping_billing_country_mismatch", 8, Geography,
        "Shipping and billing countries differ.");
    HIGH_VELOCITY = ("high_velocity", 35, Velocity,
        "Too many transactions from the same payer in a short window.");
    HIGH_AMOUNT_VELOCITY = ("high_amount_velocity", 25, Velocity,
        "Too much money from the same payer in the last 24 hours.");
    FRAUD_HISTORY = ("fraud_history", 60, History,
        "This email, card or device was involved in earlier confirmed fraud.");
    TRUSTED_PAYER = ("trusted_payer", -15, History,
        "A returning payer with several earlier approved transactions and no fraud (pay-ins only).");
    PAYOUT_FIRST_BENEFICIARY = ("payout_first_beneficiary", 15, Payout,
        "First payout from this origin account to this beneficiary.");
    PAYOUT_HIGH_RISK_COUNTRY = ("payout_high_risk_country", 30, Payout,
        "The beneficiary's country is on the high-risk jurisdiction list (FATF call for action and increased monitoring by default).");
    PAYOUT_CROSS_BORDER_HIGH_AMOUNT = ("payout_cross_border_high_amount", 20, Payout,
        "A cross-border payout (beneficiary country differs from the origin's) at or above the currency's threshold.");
    PAYOUT_UNATTRIBUTED_INITIATOR = ("payout_unattributed_initiator", 15, Payout,
        "Missing or generic initiator (system, api, admin, …): no person is accountable for the payout.");
    PAYOUT_NEW_BENEFICIARY_VELOCITY = ("payout_new_beneficiary_velocity", 30, Payout,
        "The origin account is paying yet another new beneficiary after several new ones in a short window.");
}

/// Looks a built-in signal up by code.
pub fn find(code: &str) -> Option<&'static SignalDef> {
    ALL.iter().find(|s| s.code == code)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_and_snake_case() {
        let mut seen = HashSet::new();
        for s in ALL {
            assert!(seen.insert(s.code), "duplicate code {}", s.code);
            assert!(s.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{}", s.code);
            assert!(!s.description.is_empty());
        }
    }

    #[test]
    fn weights_are_within_a_score() {
        for s in ALL {
            assert!(crate::scoring::WEIGHTS.contains(&s.weight), "{}", s.code);
        }
        assert_eq!(find("high_velocity").map(|s| s.weight), Some(35));
        assert_eq!(find("disposable_email").map(|s| s.weight), Some(20));
        assert!(find("nope").is_none());
    }

    #[test]
    fn payout_signals_are_catalogued() {
        let payout: Vec<_> =
            ALL.iter().filter(|s| s.category == Category::Payout).map(|s| s.code).collect();
        assert_eq!(
            payout,
            [
                "payout_first_beneficiary",
                "payout_high_risk_country",
                "payout_cross_border_high_amount",
                "payout_unattributed_initiator",
                "payout_new_beneficiary_velocity",
            ]
        );
        assert!(payout.iter().all(|c| c.starts_with("payout_")));
    }
}
