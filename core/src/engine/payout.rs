//! The payout signals: a first or one-of-many new beneficiary, a high-risk
//! destination, a large cross-border amount, nobody accountable for it.
//! Their thresholds are the organisation's [`crate::policy::PayoutPolicy`].

use super::Collector;
use crate::beneficiaries::PayoutFacts;
use crate::normalize::Amount;
use crate::signals;
use crate::transaction::{PayoutInfo, Transaction};

/// Fires the payout signals of `p` (the payout part of `tx`).
pub(super) fn signals(
    c: &mut Collector<'_>,
    tx: &Transaction,
    p: &PayoutInfo,
    facts: Option<PayoutFacts>,
) {
    // Copied out so `c` stays free to fire.
    let policy: &crate::policy::Policy = c.policy;
    let policy = &policy.payout;

    // The integrator's flag or the caller's records: either one suffices,
    // since each only ever errs towards "known" (a missing flag, a record
    // kept elsewhere).
    let said_first = p.first_to_beneficiary == Some(true);
    let first = said_first || facts.and_then(|f| f.beneficiary_known) == Some(false);
    if first {
        let source = if said_first { "as the request says" } else { "no earlier payout on record" };
        c.fire(
            &signals::PAYOUT_FIRST_BENEFICIARY,
            format!("First payout from this origin account to this beneficiary ({source})"),
        );
    }
    if let Some(f) = facts
        && first
        && policy.new_beneficiary_limit > 0
        && f.new_beneficiaries_in_window >= policy.new_beneficiary_limit
    {
        c.fire(
            &signals::PAYOUT_NEW_BENEFICIARY_VELOCITY,
            format!(
                "{} new beneficiaries from this origin account in the last {} h before this one (limit {})",
                f.new_beneficiaries_in_window,
                policy.new_beneficiary_window_hours,
                policy.new_beneficiary_limit
            ),
        );
    }

    let to = p.beneficiary.effective_country();
    if let Some(country) = to
        && policy.is_high_risk(country)
    {
        c.fire(
            &signals::PAYOUT_HIGH_RISK_COUNTRY,
            format!(
                "Beneficiary country {} is on the high-risk jurisdiction list",
                country.as_str()
            ),
        );
    }

    let currency = tx.amount.currency();
    if let (Some(to), Some(from)) = (to, p.origin.country)
        && to != from
        && let Some(min) = policy.cross_border_threshold(currency)
        && tx.amount.minor() >= min
    {
        let min =
            Amount::from_minor(min, currency).map_or(min.to_string(), |a| a.to_major_string());
        c.fire(
            &signals::PAYOUT_CROSS_BORDER_HIGH_AMOUNT,
            format!(
                "Cross-border payout {} → {} of {} {code}, at or above {min} {code}",
                from.as_str(),
                to.as_str(),
                tx.amount.to_major_string(),
                code = currency.code()
            ),
        );
    }

    match p.initiated_by.as_deref() {
        None => c.fire(
            &signals::PAYOUT_UNATTRIBUTED_INITIATOR,
            "No initiated_by: nobody is accountable for the payout",
        ),
        // The description names the matching list entry, never free text.
        Some(by) => {
            if let Some(generic) = policy.generic_initiator(by) {
                let generic = generic.to_lowercase();
                c.fire(
                    &signals::PAYOUT_UNATTRIBUTED_INITIATOR,
                    format!(
                        "Generic initiator \"{generic}\": nobody is accountable for the payout"
                    ),
                );
            }
        }
    }
}
