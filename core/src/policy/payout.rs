//! The payout part of a policy: which beneficiary countries are high risk,
//! when a cross-border payout counts as large, which initiators are too
//! generic to attribute a payout to anyone, and how many new beneficiaries
//! an origin account may add in a window.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::VelocityLimits;
use crate::normalize::{Country, Currency};

/// The FATF's lists as of the plenary of 24 October 2025: the three
/// "high-risk jurisdictions subject to a call for action" (black list: KP,
/// IR, MM) and the twenty "jurisdictions under increased monitoring" (grey
/// list; Burkina Faso, Mozambique, Nigeria and South Africa left it at that
/// plenary). The FATF revises both three times a year (February, June,
/// October): organisations override the list in their policy, and this
/// default must be updated after each plenary.
pub const FATF_HIGH_RISK_COUNTRIES: &[&str] = &[
    // Call for action.
    "KP", "IR", "MM", //
    // Increased monitoring.
    "DZ", "AO", "BO", "BG", "CM", "CI", "CD", "HT", "KE", "LA", "LB", "MC", "NA", "NP", "SS", "SY",
    "VE", "VN", "VG", "YE",
];

/// Smallest cross-border payout (minor units) that fires
/// `payout_cross_border_high_amount`, by currency. USD 3,000.00 is the
/// US funds-transfer recordkeeping and "travel rule" threshold (31 CFR
/// 1010.410); EUR 3,000.00 and MXN 50,000.00 are about the same value
/// (MXN 50,000 ≈ USD 2,700 in 2025). Currencies not listed never fire
/// until the organisation sets a threshold for them.
pub const DEFAULT_CROSS_BORDER_MIN_MINOR: &[(&str, i64)] =
    &[("EUR", 300_000), ("MXN", 5_000_000), ("USD", 300_000)];

/// `initiated_by` values that name no one: service accounts, placeholders
/// and test values. Compared case-insensitively after trimming.
pub const DEFAULT_GENERIC_INITIATORS: &[&str] = &[
    "system",
    "api",
    "admin",
    "administrator",
    "root",
    "unknown",
    "n/a",
    "na",
    "none",
    "null",
    "test",
    "default",
    "automation",
    "service",
    "batch",
    "user",
];

/// New beneficiaries an origin account may add within the window before
/// the next one fires `payout_new_beneficiary_velocity`.
pub const DEFAULT_NEW_BENEFICIARY_LIMIT: u32 = 3;
/// The window of [`DEFAULT_NEW_BENEFICIARY_LIMIT`], in hours.
pub const DEFAULT_NEW_BENEFICIARY_WINDOW_HOURS: u32 = 24;

/// Most entries in each payout list (countries, currencies, initiators):
/// more than there are countries, so a real list always fits.
pub const MAX_LIST_LEN: usize = 300;

/// Longest generic-initiator entry, in characters.
pub const MAX_INITIATOR_LEN: usize = 64;
/// Longest new-beneficiary window: 30 days.
pub const MAX_NEW_BENEFICIARY_WINDOW_HOURS: u32 = 30 * 24;

/// Payout settings. Every field has a default, so a policy stored before
/// payouts existed (no `payout` key) reads as these defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PayoutPolicy {
    /// Beneficiary countries (ISO 3166-1 alpha-2) that fire
    /// `payout_high_risk_country`. Default: [`FATF_HIGH_RISK_COUNTRIES`].
    pub high_risk_countries: Vec<String>,
    /// Smallest cross-border amount per currency, in minor units, that fires
    /// `payout_cross_border_high_amount`. Default: [`DEFAULT_CROSS_BORDER_MIN_MINOR`].
    pub cross_border_min_minor: BTreeMap<String, i64>,
    /// `initiated_by` values that fire `payout_unattributed_initiator` like a
    /// missing one. Default: [`DEFAULT_GENERIC_INITIATORS`].
    pub generic_initiators: Vec<String>,
    /// Earlier new beneficiaries of one origin account within the window
    /// after which a payout to yet another new one fires
    /// `payout_new_beneficiary_velocity`; 0 disables the signal.
    pub new_beneficiary_limit: u32,
    /// The window the server counts new beneficiaries over, in hours (1–720).
    pub new_beneficiary_window_hours: u32,
    /// Velocity limits for payouts (counted per origin account); `None`
    /// applies the organisation's pay-in `velocity` limits.
    pub velocity: Option<VelocityLimits>,
}

impl Default for PayoutPolicy {
    fn default() -> Self {
        let strings = |s: &[&str]| s.iter().map(|&c| c.to_owned()).collect();
        PayoutPolicy {
            high_risk_countries: strings(FATF_HIGH_RISK_COUNTRIES),
            cross_border_min_minor: DEFAULT_CROSS_BORDER_MIN_MINOR
                .iter()
                .map(|&(c, v)| (c.to_owned(), v))
                .collect(),
            generic_initiators: strings(DEFAULT_GENERIC_INITIATORS),
            new_beneficiary_limit: DEFAULT_NEW_BENEFICIARY_LIMIT,
            new_beneficiary_window_hours: DEFAULT_NEW_BENEFICIARY_WINDOW_HOURS,
            velocity: None,
        }
    }
}

impl PayoutPolicy {
    /// The same settings with country and currency codes trimmed and upper
    /// case, as they are stored (the engine compares without case anyway).
    pub fn normalized(mut self) -> Self {
        for c in &mut self.high_risk_countries {
            *c = c.trim().to_ascii_uppercase();
        }
        self.cross_border_min_minor = std::mem::take(&mut self.cross_border_min_minor)
            .into_iter()
            .map(|(c, v)| (c.trim().to_ascii_uppercase(), v))
            .collect();
        self
    }

    /// Whether payouts to `country` are high risk.
    pub fn is_high_risk(&self, country: Country) -> bool {
        self.high_risk_countries.iter().any(|c| c.trim().eq_ignore_ascii_case(country.as_str()))
    }

    /// The cross-border threshold of a currency, in minor units.
    pub fn cross_border_threshold(&self, currency: Currency) -> Option<i64> {
        self.cross_border_min_minor
            .iter()
            .find(|(c, _)| c.trim().eq_ignore_ascii_case(currency.code()))
            .map(|(_, &v)| v)
    }

    /// The generic-initiator entry `initiated_by` matches, if it names no
    /// one in particular.
    pub fn generic_initiator(&self, initiated_by: &str) -> Option<&str> {
        let s = initiated_by.trim();
        self.generic_initiators.iter().map(|g| g.trim()).find(|g| g.eq_ignore_ascii_case(s))
    }

    /// The new-beneficiary window in milliseconds.
    pub fn new_beneficiary_window_ms(&self) -> i64 {
        i64::from(self.new_beneficiary_window_hours) * 3_600_000
    }

    /// Checks countries, currencies and limits; errors name the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.high_risk_countries.len() > MAX_LIST_LEN {
            return Err(format!("payout.high_risk_countries: at most {MAX_LIST_LEN} countries"));
        }
        if self.cross_border_min_minor.len() > MAX_LIST_LEN {
            return Err(format!(
                "payout.cross_border_min_minor: at most {MAX_LIST_LEN} currencies"
            ));
        }
        if self.generic_initiators.len() > MAX_LIST_LEN {
            return Err(format!("payout.generic_initiators: at most {MAX_LIST_LEN} entries"));
        }
        if self.generic_initiators.iter().any(|g| g.chars().count() > MAX_INITIATOR_LEN) {
            return Err(format!(
                "payout.generic_initiators: entries are at most {MAX_INITIATOR_LEN} characters"
            ));
        }
        for c in &self.high_risk_countries {
            Country::parse(c).map_err(|e| format!("payout.high_risk_countries: {e}"))?;
        }
        for (currency, v) in &self.cross_border_min_minor {
            Currency::parse(currency)
                .map_err(|e| format!("payout.cross_border_min_minor.{currency}: {e}"))?;
            if *v < 0 {
                return Err(format!("payout.cross_border_min_minor.{currency}: must be ≥ 0"));
            }
        }
        if self.generic_initiators.iter().any(|g| g.trim().is_empty()) {
            return Err("payout.generic_initiators: entries must not be blank".to_owned());
        }
        if self.new_beneficiary_limit > super::MAX_LIMIT_COUNT {
            return Err(format!(
                "payout.new_beneficiary_limit: must be between 0 and {}",
                super::MAX_LIMIT_COUNT
            ));
        }
        if !(1..=MAX_NEW_BENEFICIARY_WINDOW_HOURS).contains(&self.new_beneficiary_window_hours) {
            return Err(format!(
                "payout.new_beneficiary_window_hours: must be between 1 and {MAX_NEW_BENEFICIARY_WINDOW_HOURS}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stored_trimmed_and_upper_case() {
        let p = PayoutPolicy {
            high_risk_countries: vec![" ir".into(), "Kp".into()],
            cross_border_min_minor: [(" mxn ".to_owned(), 5)].into(),
            ..PayoutPolicy::default()
        }
        .normalized();
        assert_eq!(p.high_risk_countries, ["IR", "KP"]);
        assert_eq!(p.cross_border_min_minor.get("MXN"), Some(&5));
        assert_eq!(p.cross_border_min_minor.len(), 1);
    }

    #[test]
    fn defaults_are_valid_iso_codes() {
        let p = PayoutPolicy::default();
        assert!(p.validate().is_ok());
        assert_eq!(p.high_risk_countries.len(), 23);
        assert!(p.is_high_risk(Country::parse("IR").unwrap()));
        assert!(p.is_high_risk(Country::parse("vg").unwrap()));
        assert!(!p.is_high_risk(Country::parse("MX").unwrap()));
        // Delisted in October 2025.
        assert!(!p.is_high_risk(Country::parse("ZA").unwrap()));
        let mxn = Currency::parse("MXN").unwrap();
        assert_eq!(p.cross_border_threshold(mxn), Some(5_000_000));
        assert_eq!(p.cross_border_threshold(Currency::parse("JPY").unwrap()), None);
        assert_eq!(p.generic_initiator(" System "), Some("system"));
        assert_eq!(p.generic_initiator("N/A"), Some("n/a"));
        assert_eq!(p.generic_initiator("ops@bank.com"), None);
        assert_eq!(p.new_beneficiary_window_ms(), 86_400_000);
    }

    #[test]
    fn partial_settings_keep_the_other_defaults() {
        let p: PayoutPolicy =
            serde_json::from_str(r#"{"high_risk_countries": ["ru"], "new_beneficiary_limit": 5}"#)
                .unwrap();
        assert!(p.is_high_risk(Country::parse("RU").unwrap()));
        assert!(!p.is_high_risk(Country::parse("IR").unwrap()));
        assert_eq!(p.new_beneficiary_limit, 5);
        assert_eq!(p.generic_initiators, PayoutPolicy::default().generic_initiators);
        assert!(p.validate().is_ok());
    }

    #[test]
    fn bad_settings_are_refused_by_field() {
        let bad = |f: fn(&mut PayoutPolicy)| {
            let mut p = PayoutPolicy::default();
            f(&mut p);
            p.validate().unwrap_err()
        };
        assert!(
            bad(|p| p.high_risk_countries.push("XX".into()))
                .starts_with("payout.high_risk_countries")
        );
        assert!(
            bad(|p| {
                p.cross_border_min_minor.insert("ABC".into(), 1);
            })
            .contains("ABC")
        );
        assert!(
            bad(|p| {
                p.cross_border_min_minor.insert("USD".into(), -1);
            })
            .contains("≥ 0")
        );
        assert!(bad(|p| p.generic_initiators.push(" ".into())).contains("blank"));
        assert!(bad(|p| p.new_beneficiary_window_hours = 0).contains("window"));
        assert!(bad(|p| p.new_beneficiary_window_hours = 721).contains("window"));
    }
}
