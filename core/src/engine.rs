//! The engine: one validated transaction in, one assessment out.
//!
//! The caller (origin, edge, simulation) gathers what needs state — the
//! velocity snapshot, the payer's history, the IP's country, a payout's
//! known-beneficiary facts — and the engine does the rest without I/O:
//! blocklists, built-in signals, custom rules, score and decision.
//!
//! Pay-ins and payouts go through the same pipeline. A payout's payer is
//! its origin account ([`Dimension::Account`]), so velocity and amount
//! history key on it; it carries no email, device or behaviour, and the
//! payout signals (`payout_*` in [`crate::signals`]) take their place.

use std::borrow::Cow;

use crate::beneficiaries::PayoutFacts;
use crate::blocklist::{
    BlocklistIndex, BlocklistLookup, Hit, ListType, Severity, index::more_severe,
};
use crate::catalog;
use crate::digest::{Digest, DigestKey};
use crate::history::{HistoryView, PayerKey};
use crate::normalize::Country;
use crate::policy::Policy;
use crate::rules::RuleSet;
use crate::scoring::{self, Decision};
use crate::signals::{self, SignalDef};
use crate::transaction::Transaction;
use crate::velocity::{Dimension, VelocityKey, VelocitySnapshot, Window};
use crate::wire::{FieldWarning, Flow, SignalDetail};

pub mod backtest;
mod decide;
mod facts;
mod payout;
pub mod prescreen;

pub use crate::beneficiaries::{PayoutKeys, payout_keys};
pub use decide::{Decided, apply_rules};
pub use facts::RequestFacts;

/// Everything an organisation configures that the engine reads, compiled
/// and indexed. Borrowed: the origin keeps the parts behind their own
/// locks (a blocklist edit must not copy a million-entry index).
#[derive(Debug, Clone, Copy)]
pub struct OrgConfig<'a> {
    /// Thresholds, weights, limits.
    pub policy: &'a Policy,
    /// Blocklist entries.
    pub blocklist: &'a BlocklistIndex,
    /// Active custom rules, in priority order.
    pub rules: &'a RuleSet,
}

/// The stateful context of one request, gathered by the caller.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Pay-in or payout: decides which blocklist entries apply (their
    /// `flow_scope`). Must be the transaction's [`Transaction::flow`].
    pub flow: Flow,
    /// Country of `device.ip`, when a geolocation database knows it.
    pub ip_country: Option<Country>,
    /// Earlier transactions of the payer's keys.
    pub velocity: &'a VelocitySnapshot,
    /// The payer's history.
    pub history: &'a HistoryView,
    /// Now, in unix milliseconds.
    pub now_ms: i64,
    /// What the caller knows of a payout's beneficiary (see
    /// [`crate::beneficiaries`]). `None` for pay-ins, or when not gathered:
    /// then only the request's own `first_to_beneficiary` can fire
    /// `payout_first_beneficiary`, and `payout_new_beneficiary_velocity` never fires.
    pub payout: Option<PayoutFacts>,
}

/// One fired signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// Signal code.
    pub code: Cow<'static, str>,
    /// Points added.
    pub weight: i32,
    /// Why it fired, for this request.
    pub description: String,
}

/// The engine's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The decision.
    pub decision: Decision,
    /// 0–100.
    pub risk_score: u8,
    /// Fired signals, in evaluation order.
    pub signals: Vec<Fired>,
    /// What forced a decline, if anything did.
    pub blocked_by: Option<String>,
    /// Recommended fields that were missing.
    pub field_warnings: Vec<FieldWarning>,
}

impl Assessment {
    /// Codes of the fired signals.
    pub fn signal_codes(&self) -> Vec<String> {
        self.signals.iter().map(|s| s.code.clone().into_owned()).collect()
    }

    /// The `signal_details` of the response.
    pub fn signal_details(&self) -> Vec<SignalDetail> {
        self.signals
            .iter()
            .map(|s| SignalDetail {
                code: s.code.clone().into_owned(),
                weight: s.weight,
                description: s.description.clone(),
            })
            .collect()
    }
}

/// Collects signals while resolving each weight against the policy.
struct Collector<'p> {
    policy: &'p Policy,
    fired: Vec<Fired>,
}

impl Collector<'_> {
    fn fire(&mut self, def: &SignalDef, description: impl Into<String>) {
        let weight = self.policy.weights.weight(def.code, def.weight);
        self.fired.push(Fired {
            code: Cow::Borrowed(def.code),
            weight,
            description: description.into(),
        });
    }

    fn fired(&self, code: &str) -> bool {
        self.fired.iter().any(|f| f.code == code)
    }
}

/// Assesses one transaction.
pub fn assess(org: &OrgConfig<'_>, tx: &Transaction, ctx: &Context<'_>) -> Assessment {
    debug_assert_eq!(ctx.flow, tx.flow(), "the context's flow must be the transaction's");
    let policy = org.policy;
    let mut c = Collector { policy, fired: Vec::with_capacity(8) };
    let mut blocked_by: Option<String> = None;
    let mut floor = Decision::Approve;

    // 1. Blocklists: every list the request touches; the most severe hit per list.
    // The IP's canonical text is needed by blocklists and rules: format it once.
    let ip_text = tx.device.ip.as_ref().map(|ip| ip.to_string());
    for hit in blocklist_hits(org.blocklist, tx, ip_text.as_deref(), ctx) {
        let code = blocklist_code(hit.list_type);
        let weight = match hit.severity {
            Severity::Block => {
                blocked_by.get_or_insert_with(|| prescreen::blocked_by_text(&hit));
                prescreen::BLOCK_WEIGHT
            }
            Severity::Flag => severity_weight(policy, code, &signals::BLOCKLIST_FLAG),
            Severity::Review => {
                floor = floor.max(Decision::Review);
                severity_weight(policy, code, &signals::BLOCKLIST_REVIEW)
            }
        };
        c.fired.push(Fired {
            code: Cow::Borrowed(code),
            weight,
            description: prescreen::hit_description(&hit),
        });
    }

    // 2. Built-in signals. A payout has no payer email, browser or
    // addresses: the pay-in families are skipped rather than left to find
    // nothing, so no future pay-in signal fires on a payout by accident.
    let is_payout = tx.payout.is_some();
    if !is_payout {
        email_signals(&mut c, tx);
        behavior_signals(&mut c, tx, policy);
    }
    if amount_signals(&mut c, tx, policy, ctx) {
        blocked_by.get_or_insert_with(|| "amount_max".to_owned());
    }
    match &tx.payout {
        Some(p) => payout::signals(&mut c, tx, p, ctx.payout),
        None => geography_signals(&mut c, tx, ctx),
    }
    velocity_signals(&mut c, tx, policy, ctx);
    history_signals(&mut c, ctx, is_payout);

    // 3–4. Custom rules see the built-in score and signals; then decide.
    let builtin_score = scoring::score(c.fired.iter().map(|f| f.weight));
    let facts = RequestFacts::new(tx, ip_text.as_deref(), ctx, builtin_score, &c.fired);
    let (Decided { decision, risk_score, blocked_by }, by_rules) =
        apply_rules(policy, org.rules, &facts, &c.fired, floor, blocked_by);
    let mut fired = c.fired;
    fired.extend(by_rules);
    Assessment {
        decision,
        risk_score,
        signals: fired,
        blocked_by,
        field_warnings: catalog::field_warnings(policy.segment, tx),
    }
}

fn severity_weight(policy: &Policy, code: &str, def: &SignalDef) -> i32 {
    // A per-list override (`blocklist_email`) beats the per-severity one.
    policy
        .weights
        .0
        .get(code)
        .copied()
        .unwrap_or_else(|| policy.weights.weight(def.code, def.weight))
}

/// Signal code of a blocklist hit: `blocklist_<list type>`.
pub fn blocklist_code(list_type: ListType) -> &'static str {
    match list_type {
        ListType::Email => "blocklist_email",
        ListType::EmailDomain => "blocklist_email_domain",
        ListType::IpAddress => "blocklist_ip_address",
        ListType::IpRange => "blocklist_ip_range",
        ListType::DeviceFingerprint => "blocklist_device_fingerprint",
        ListType::CardBin => "blocklist_card_bin",
        ListType::CardHash => "blocklist_card_hash",
        ListType::Country => "blocklist_country",
        ListType::Phone => "blocklist_phone",
        ListType::CustomerId => "blocklist_customer_id",
        ListType::Clabe => "blocklist_clabe",
        ListType::Iban => "blocklist_iban",
        ListType::AccountHash => "blocklist_account_hash",
        ListType::SwiftBic => "blocklist_swift_bic",
        ListType::BeneficiaryId => "blocklist_beneficiary_id",
    }
}

/// Probes every list the request can touch; returns at most one hit per
/// list type, the most severe.
/// `ip` is the canonical text of `tx.device.ip`.
pub fn blocklist_hits<L: BlocklistLookup + ?Sized>(
    ix: &L,
    tx: &Transaction,
    ip: Option<&str>,
    ctx: &Context<'_>,
) -> Vec<Hit> {
    let (flow, now) = (ctx.flow, ctx.now_ms);
    let mut hits: Vec<Hit> = Vec::new();
    let mut push = |h: Option<Hit>| {
        let Some(h) = h else { return };
        match hits.iter_mut().find(|x| x.list_type == h.list_type) {
            Some(x) => *x = more_severe(Some(*x), Some(h)).expect("some"),
            None => hits.push(h),
        }
    };
    if ix.is_empty() {
        return hits;
    }
    if let Some(email) = &tx.email {
        push(ix.lookup(ListType::Email, email.as_str(), flow, now));
        for domain in email.domain_suffixes() {
            push(ix.lookup(ListType::EmailDomain, domain, flow, now));
        }
    }
    if let Some(text) = ip {
        push(ix.lookup(ListType::IpAddress, text, flow, now));
    }
    if let Some(addr) = &tx.device.ip {
        push(ix.lookup_ip_ranges(addr, flow, now));
    }
    if let Some(fp) = &tx.device.fingerprint {
        push(ix.lookup(ListType::DeviceFingerprint, fp, flow, now));
    }
    if let Some(bin) = &tx.payment_method.card_bin {
        push(ix.lookup(ListType::CardBin, bin.prefix6(), flow, now));
        if bin.len() == 8 {
            push(ix.lookup(ListType::CardBin, bin.as_str(), flow, now));
        }
    }
    if let Some(hash) = tx.metadata.get("card_hash").and_then(|v| v.as_str()) {
        push(ix.lookup(ListType::CardHash, &hash.trim().to_ascii_lowercase(), flow, now));
    }
    // A payout's beneficiary, before countries: the account is the more
    // specific `blocked_by`. Values are already in `ListType::normalize` form.
    let beneficiary = tx.payout.as_ref().map(|p| &p.beneficiary);
    if let Some(b) = beneficiary {
        if let Some(clabe) = &b.clabe {
            push(ix.lookup(ListType::Clabe, clabe.as_str(), flow, now));
        }
        if let Some(iban) = &b.iban {
            push(ix.lookup(ListType::Iban, iban.as_str(), flow, now));
        }
        if let Some(hash) = &b.account_hash {
            push(ix.lookup(ListType::AccountHash, hash, flow, now));
        }
        if let Some(bic) = &b.swift_bic {
            // A branch also hits its bank's primary-office entry, as an
            // 8-digit BIN hits its 6-digit prefix.
            push(ix.lookup(ListType::SwiftBic, bic.as_str(), flow, now));
            if bic.branch().is_some() {
                push(ix.lookup(ListType::SwiftBic, bic.primary_office(), flow, now));
            }
        }
        if let Some(id) = &b.id {
            push(ix.lookup(ListType::BeneficiaryId, id, flow, now));
        }
    }
    let beneficiary_country = beneficiary.and_then(|b| b.effective_country());
    for country in [
        tx.payment_method.card_country,
        tx.billing.country,
        tx.shipping.country,
        ctx.ip_country,
        beneficiary_country,
    ]
    .into_iter()
    .flatten()
    {
        push(ix.lookup(ListType::Country, country.as_str(), flow, now));
    }
    if let Some(phone) = &tx.phone {
        push(ix.lookup(ListType::Phone, phone.as_str(), flow, now));
    }
    if let Some(id) = &tx.customer_id {
        push(ix.lookup(ListType::CustomerId, id, flow, now));
    }
    hits
}

fn email_signals(c: &mut Collector<'_>, tx: &Transaction) {
    let Some(email) = &tx.email else { return };
    if email.is_disposable() {
        c.fire(
            &signals::DISPOSABLE_EMAIL,
            format!("{} is a disposable email provider", email.domain()),
        );
    }
    if email.has_risky_tld() {
        c.fire(&signals::RISKY_TLD, format!("Email uses the .{} top-level domain", email.tld()));
    }
}

/// User-agent fragments of headless browsers and HTTP libraries: a payer's
/// browser never sends them.
const AUTOMATION_UA_MARKERS: &[&str] = &[
    "headlesschrome",
    "phantomjs",
    "selenium",
    "puppeteer",
    "playwright",
    "python-requests",
    "python-urllib",
    "curl/",
    "wget/",
    "go-http-client",
    "scrapy",
    "httpclient",
];

fn behavior_signals(c: &mut Collector<'_>, tx: &Transaction, policy: &Policy) {
    let b = &tx.behavior;
    if let Some(ms) = b.session_duration_ms
        && ms < policy.behavior.short_session_ms
    {
        c.fire(
            &signals::SHORT_SESSION,
            format!("Session lasted {:.1} s before checkout", ms as f64 / 1000.0),
        );
    }
    let ua = tx.device.user_agent.as_deref().unwrap_or("").to_ascii_lowercase();
    let touch = ["mobi", "android", "iphone", "ipad"].iter().any(|m| ua.contains(m));
    if b.mouse_movements == Some(0) && b.session_duration_ms.is_some() && !touch {
        c.fire(&signals::NO_MOUSE_MOVEMENT, "No mouse movement during the session");
    }
    if let Some(n) = b.copy_paste_events.filter(|&n| n > 0) {
        c.fire(&signals::COPY_PASTE, format!("{n} copy/paste event(s) in the checkout form"));
    }
    if tx.device.webdriver == Some(true) {
        c.fire(&signals::AUTOMATION_DETECTED, "The browser reported navigator.webdriver = true");
    } else if let Some(m) = AUTOMATION_UA_MARKERS.iter().find(|m| ua.contains(*m)) {
        c.fire(&signals::AUTOMATION_DETECTED, format!("User agent of an automated client ({m})"));
    }
}

/// Fires amount signals; returns true when the amount is over the maximum (a hard block).
fn amount_signals(
    c: &mut Collector<'_>,
    tx: &Transaction,
    policy: &Policy,
    ctx: &Context<'_>,
) -> bool {
    let amount = tx.amount.minor();
    let mut over = false;
    if let Some(limits) = policy.amount_limits.get(tx.amount.currency().code()) {
        if limits.max_minor.is_some_and(|max| amount > max) {
            c.fire(&signals::AMOUNT_ABOVE_MAX, "Amount is above the configured maximum");
            over = true;
        }
        if limits.min_minor.is_some_and(|min| amount < min) {
            c.fire(&signals::AMOUNT_BELOW_MIN, "Amount is below the configured minimum");
        }
    }
    if ctx.history.is_amount_outlier(amount) {
        let mean = ctx.history.primary.map_or(0.0, |p| p.amount_mean);
        let whose = if tx.payout.is_some() { "origin account's" } else { "payer's" };
        c.fire(
            &signals::AMOUNT_OUTLIER,
            format!("Amount is {:.0}× this {whose} average", amount as f64 / mean.max(1.0)),
        );
    }
    over
}

fn geography_signals(c: &mut Collector<'_>, tx: &Transaction, ctx: &Context<'_>) {
    let card = tx.payment_method.card_country;
    let billing = tx.billing.country;
    let differ =
        |a: Option<Country>, b: Option<Country>| matches!((a, b), (Some(x), Some(y)) if x != y);
    if differ(card, billing) {
        c.fire(&signals::CARD_BILLING_COUNTRY_MISMATCH, pair("Card", card, "billing", billing));
    }
    if differ(ctx.ip_country, billing) {
        c.fire(
            &signals::IP_BILLING_COUNTRY_MISMATCH,
            pair("IP", ctx.ip_country, "billing", billing),
        );
    }
    if differ(ctx.ip_country, card) {
        c.fire(&signals::IP_CARD_COUNTRY_MISMATCH, pair("IP", ctx.ip_country, "card", card));
    }
    if differ(tx.shipping.country, billing) {
        c.fire(
            &signals::SHIPPING_BILLING_COUNTRY_MISMATCH,
            pair("Shipping", tx.shipping.country, "billing", billing),
        );
    }
}

fn pair(a: &str, x: Option<Country>, b: &str, y: Option<Country>) -> String {
    let s = |c: Option<Country>| match c {
        Some(c) => c.as_str().to_owned(),
        None => "?".to_owned(),
    };
    format!("{a} country {} differs from {b} country {}", s(x), s(y))
}

fn velocity_signals(c: &mut Collector<'_>, tx: &Transaction, policy: &Policy, ctx: &Context<'_>) {
    let limits = policy.velocity_limits(tx.payout.is_some());
    // The tightest breach wins the description: shortest window first.
    let mut breach: Option<(Dimension, Window, u32)> = None;
    let mut max_sum: i64 = 0;
    for dim in Dimension::ALL {
        let Some(stats) = ctx.velocity.get(dim) else {
            continue;
        };
        for (window, limit) in [
            (Window::TenMinutes, limits.count_10m),
            (Window::OneHour, limits.count_1h),
            (Window::OneDay, limits.count_24h),
        ] {
            let n = stats.get(window).count;
            if limit > 0 && n >= limit && breach.is_none_or(|(_, w, _)| window < w) {
                breach = Some((dim, window, n));
            }
        }
        max_sum = max_sum.max(stats.get(Window::OneDay).sum_minor);
    }
    if let Some((dim, window, n)) = breach {
        let span = match window {
            Window::TenMinutes => "10 minutes",
            Window::OneHour => "hour",
            Window::OneDay => "24 hours",
        };
        c.fire(
            &signals::HIGH_VELOCITY,
            format!("{} transactions in the last {span} from this {}", n + 1, dim.as_str()),
        );
    }
    if let Some(limit) = limits.sum_24h_minor
        && max_sum.saturating_add(tx.amount.minor()) > limit
    {
        c.fire(
            &signals::HIGH_AMOUNT_VELOCITY,
            "Amount in the last 24 hours is above the configured limit",
        );
    }
}

fn history_signals(c: &mut Collector<'_>, ctx: &Context<'_>, is_payout: bool) {
    let h = ctx.history;
    if let Some(dim) = h.fraud_on {
        c.fire(
            &signals::FRAUD_HISTORY,
            format!(
                "This {} was involved in {} earlier fraud report(s)",
                dim.as_str(),
                h.fraud_reports
            ),
        );
    } else if !is_payout && h.is_trusted(ctx.now_ms) && !c.fired("high_velocity") {
        // Not for payouts: their typical fraud is the takeover of a
        // long-standing account, whose history must earn no discount.
        let n = h.primary.map_or(0, |p| p.approved);
        c.fire(&signals::TRUSTED_PAYER, format!("Returning payer with {n} approved transactions"));
    }
}

/// The normalised values that identify a payer, borrowed from a
/// transaction or a stored row.
#[derive(Debug, Clone, Copy, Default)]
pub struct PayerIdentity<'a> {
    /// Normalised email.
    pub email: Option<&'a str>,
    /// Card BIN and last 4.
    pub card: Option<(&'a str, &'a str)>,
    /// Canonical IP address text.
    pub ip: Option<&'a str>,
    /// Device fingerprint.
    pub device: Option<&'a str>,
    /// Merchant customer id.
    pub customer: Option<&'a str>,
    /// A payout's origin account id.
    pub account: Option<&'a str>,
}

impl<'a> PayerIdentity<'a> {
    /// The identity of a transaction; `ip` is its canonical text, which the
    /// caller owns (see [`crate::normalize::IpAddress`]'s `Display`).
    pub fn of(tx: &'a Transaction, ip: Option<&'a str>) -> Self {
        let pm = &tx.payment_method;
        PayerIdentity {
            email: tx.email.as_ref().map(|e| e.as_str()),
            card: pm
                .card_bin
                .as_ref()
                .zip(pm.card_last4.as_ref())
                .map(|(b, l)| (b.as_str(), l.as_str())),
            ip,
            device: tx.device.fingerprint.as_deref(),
            customer: tx.customer_id.as_deref(),
            account: tx.payout.as_ref().and_then(|p| p.origin.account_id.as_deref()),
        }
    }
}

/// The payer keys of an identity — one per dimension it carries, in
/// [`Dimension::ALL`] order — scoped to the organisation and digested.
/// Velocity and history are both kept under these.
pub fn payer_keys(key: &DigestKey, org_id: &str, who: &PayerIdentity<'_>) -> Vec<PayerKey> {
    let mut out = Vec::with_capacity(Dimension::ALL.len());
    let mut add = |dim: Dimension, parts: &[&[u8]]| {
        let mut all: Vec<&[u8]> = Vec::with_capacity(parts.len() + 1);
        all.push(org_id.as_bytes());
        all.extend_from_slice(parts);
        out.push((dim, key.digest(dim.as_str(), &all)));
    };
    if let Some(e) = who.email {
        add(Dimension::Email, &[e.as_bytes()]);
    }
    if let Some((bin, last4)) = who.card {
        add(Dimension::Card, &[bin.as_bytes(), last4.as_bytes()]);
    }
    if let Some(ip) = who.ip {
        add(Dimension::Ip, &[ip.as_bytes()]);
    }
    if let Some(fp) = who.device {
        add(Dimension::Device, &[fp.as_bytes()]);
    }
    if let Some(id) = who.customer {
        add(Dimension::Customer, &[id.as_bytes()]);
    }
    if let Some(account) = who.account {
        add(Dimension::Account, &[account.as_bytes()]);
    }
    out
}

/// The key whose history describes the payer: a payout's origin account,
/// else customer id, else email, else card. (A pay-in has no account key,
/// so its choice is unchanged.)
pub fn primary_key(keys: &[PayerKey]) -> Option<PayerKey> {
    [Dimension::Account, Dimension::Customer, Dimension::Email, Dimension::Card]
        .into_iter()
        .find_map(|d| keys.iter().find(|k| k.0 == d).copied())
}

/// Velocity keys from payer keys, counted across the whole organisation.
pub fn velocity_keys(keys: &[PayerKey]) -> Vec<VelocityKey> {
    keys.iter()
        .map(|&(dimension, digest): &(Dimension, Digest)| VelocityKey { dimension, digest })
        .collect()
}

/// The velocity keys of one transaction: its payer keys, each narrowed to
/// its PSP submerchant when the limits of its flow count submerchants apart
/// ([`crate::policy::VelocityLimits::per_submerchant`]). Payer history
/// stays organisation-wide either way: fraud at one submerchant is history
/// at all of them.
pub fn velocity_keys_for(
    key: &DigestKey,
    keys: &[PayerKey],
    policy: &Policy,
    payout: bool,
    submerchant: Option<&str>,
) -> Vec<VelocityKey> {
    match submerchant.filter(|_| policy.velocity_limits(payout).per_submerchant) {
        None => velocity_keys(keys),
        Some(sub) => keys
            .iter()
            .map(|&(dimension, digest)| VelocityKey {
                dimension,
                digest: key.digest("velocity_submerchant", &[&digest.0, sub.as_bytes()]),
            })
            .collect(),
    }
}

#[cfg(test)]
mod payout_tests;
#[cfg(test)]
mod tests;
