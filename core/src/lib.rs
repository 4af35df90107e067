//! # clausum-core
//!
//! The pure half of Clausum: everything that decides, and nothing that waits.
//! No I/O, no clocks, no randomness of its own — time and random bytes are
//! passed in — so the same code runs in the origin, at the edge and in the
//! browser (it builds for `wasm32-unknown-unknown`).
//!
//! # Layout
//!
//! - [`wire`]: the JSON request and response types of the Partner API, exactly
//!   as integrators send and receive them (raw, unvalidated).
//! - [`normalize`]: parse-don't-validate newtypes (email, card BIN, IP, CIDR,
//!   country, currency, amount, phone, CLABE, IBAN, SWIFT/BIC) and PAN
//!   redaction.
//! - [`transaction`]: a validated, normalised pay-in or payout request built
//!   from the wire type; everything downstream works on it.
//! - [`signals`]: the signal catalogue with default weights and descriptions.
//! - [`scoring`]: thresholds, per-organisation weights, and the score → decision map.
//! - [`blocklist`]: list types, severities, flow scopes and the in-memory index.
//! - [`velocity`]: exact sliding-window counters behind a store trait.
//! - [`history`]: payer history (earlier fraud, trusted returning payers, amount outliers).
//! - [`beneficiaries`]: which beneficiaries a payout's origin account paid
//!   before, and how many new ones lately (digests only).
//! - [`rules`]: the custom-rules language: lexer, parser, compiler, evaluator.
//! - [`policy`]: an organisation's thresholds, weights and limits.
//! - [`engine`]: puts it all together — one call, one assessment.
//! - [`keys`], [`session`]: API key and session id formats.
//! - [`catalog`]: the public assess catalogues, pay-in and payout (amount
//!   rules, field requirements by flow and segment, payout channels).
//! - [`ratelimit`]: exact sliding-window rate limiting arithmetic.
//! - [`synthetic`]: deterministic organisations and traffic for benchmarks.
//! - [`cases`]: case (expediente) lifecycle, priorities, incident types and
//!   reference numbers.
//! - [`roles`]: dashboard roles and their permission matrix.
//! - [`sdk`]: the browser SDK's device and behaviour signals, its
//!   fingerprint and automation tells, and how a session feeds assess.
//! - [`webhook`]: outbound webhook events, signatures (and Stripe's), SSRF
//!   destination rules and the delivery retry schedule.

pub mod beneficiaries;
pub mod blocklist;
pub mod cases;
pub mod catalog;
pub mod digest;
pub mod engine;
pub mod history;
pub mod keys;
pub mod mask;
pub mod normalize;
pub mod policy;
pub mod ratelimit;
pub mod roles;
pub mod rules;
pub mod scoring;
pub mod sdk;
pub mod session;
pub mod signals;
pub mod simulation;
pub mod synthetic;
pub mod transaction;
pub mod velocity;
pub mod webhook;
pub mod wire;
